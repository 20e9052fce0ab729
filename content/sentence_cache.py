"""Sentence vectors remembered between runs: each text is run through the model once per machine.

Encoding every example question of the content takes the model about 90 s on two cores; a member's question
takes about 50 ms. So the vectors of texts already seen are kept in memory for the process and in one file in the cache
folder (`sentence-vectors-<model>.npz`), keyed by a hash of the text: an edited or added question costs one
encoding, an unchanged one nothing, whichever content folder or overlay it comes from. A missing, unreadable or
foreign file is rebuilt; a folder that cannot be written only costs the time.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from content import sentence_model

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

# Texts encoded between checks for a stop and writes of the file: a few seconds of work, kept if the process stops.
_CHUNK = 128
MAX_REMEMBERED = 50_000  # texts kept in the file (about 150 MB at most); beyond it the oldest go first
_memory: dict[str, np.ndarray] = {}  # text hash -> vector, for every SentenceVectors in the process
_loaded: set[Path] = set()  # cache files already merged into _memory
_lock = threading.Lock()


def _key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class SentenceVectors:
    """`of(texts)`: their vectors from the model, through the memory and the cache file in `cache_dir`."""

    def __init__(self, cache_dir: Path | None) -> None:
        self.cache_dir = cache_dir
        self.file = cache_dir / f"sentence-vectors-{sentence_model.MODEL_ID}.npz" if cache_dir else None

    def of(self, texts: list[str], stop: threading.Event | None = None) -> np.ndarray | None:
        """One unit-length row per text, or None without a usable model, or when `stop` was set before every text
        had its vector (those made so far are kept, in memory and in the file)."""
        import numpy as np

        if stop is not None and stop.is_set():  # not even the model's load
            return None
        model = sentence_model.model(self.cache_dir)
        if model is None:
            return None
        keys = [_key(t) for t in texts]
        with _lock:
            self._read()
            missing = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in _memory))
            for start in range(0, len(missing), _CHUNK):
                if stop is not None and stop.is_set():
                    return None
                chunk = missing[start : start + _CHUNK]
                for text, vector in zip(chunk, model.encode(chunk), strict=True):
                    _memory[_key(text)] = vector
                self._write()
            if not keys:
                return np.zeros((0, sentence_model.DIMENSIONS), dtype=np.float32)
            return np.stack([_memory[k] for k in keys])

    @staticmethod
    def known(text: str) -> np.ndarray | None:
        """The vector of a text this process already made or read (an example question), else None."""
        return _memory.get(_key(text))

    def _read(self) -> None:
        import numpy as np

        if self.file is None or self.file in _loaded:
            return
        _loaded.add(self.file)
        try:
            with np.load(self.file, allow_pickle=False) as stored:
                keys, vectors = stored["keys"], stored["vectors"]
            if vectors.shape != (len(keys), sentence_model.DIMENSIONS):
                raise ValueError(f"shape {vectors.shape}")
        except FileNotFoundError:
            return
        except Exception as exc:  # truncated, foreign, damaged: rebuilt as questions come
            log.debug("sentence vectors: %s unusable (%s); rebuilding", self.file, exc)
            return
        for key, vector in zip(keys.tolist(), vectors.astype(np.float32), strict=True):
            _memory.setdefault(key, vector)

    def _write(self) -> None:
        import numpy as np

        if self.file is None:
            return
        while len(_memory) > MAX_REMEMBERED:
            del _memory[next(iter(_memory))]
        try:
            self.file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.file.parent, prefix=".sentence-vectors-", suffix=".npz")
            try:
                with os.fdopen(fd, "wb") as f:
                    np.savez(f, keys=np.array(list(_memory)), vectors=np.stack(list(_memory.values())))
                os.replace(tmp, self.file)
            except BaseException:
                os.unlink(tmp)
                raise
        except Exception as exc:  # read-only or full disk: only the time is lost
            log.debug("sentence vectors: not stored in %s (%s)", self.file, exc)
