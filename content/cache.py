"""A disk cache of what start-up builds from the content: the loaded `Content` and its `TopicMatcher`.

Loading and validating the YAML and Markdown (about 0.5 s) and building the matcher's indexes (about 0.9 s, mostly
stemming) dominate a cold `re-bot ask`; unpickling the result takes a few tens of milliseconds. The cache key is a
hash of every file in the content folders, of the content package's own code (loader, schema, matcher) and of the
Python and library versions, so an edited file, an upgraded library or a changed matcher builds afresh. Entries are
written atomically (temporary file, then rename); a missing, unreadable or stale entry is rebuilt, and a cache folder
that cannot be written only costs the time, never an error. Delete the folder at any time.

The folder is the operator's own (created 0700): pickles are only ever read from there, like Python's __pycache__.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from content.loader import load_content
from content.schema import Content
from content.search import TopicMatcher

log = logging.getLogger(__name__)

T = TypeVar("T")

# Bump when what is cached changes shape in a way the hashed sources do not show.
CACHE_VERSION = 1
STALE_AFTER = 30 * 86400  # seconds: an entry not rewritten for this long belongs to a folder no longer used
_PACKAGE = Path(__file__).resolve().parent  # the packaged content and the code that loads and indexes it
# What the cached objects are made of; all imported anyway when they are unpickled.
_LIBRARIES = ("pydantic", "pydantic_core", "rapidfuzz", "snowballstemmer", "spellchecker", "markdown_it", "yaml")
_SKIP = ("__pycache__", ".pyc")


def _files(folder: Path) -> Iterable[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not any(part in _SKIP for part in path.parts) and path.suffix not in _SKIP:
            yield path


def _versions() -> str:
    """Python's and the libraries' versions (the module's own `__version__`: reading package metadata costs 0.1 s)."""
    out = [sys.version, str(CACHE_VERSION)]
    for name in _LIBRARIES:
        module = importlib.import_module(name)
        version = getattr(module, "__version__", None)
        if version is None and getattr(module, "__file__", None):  # snowballstemmer has none: its file's hash
            version = hashlib.sha256(Path(module.__file__).read_bytes()).hexdigest()[:16]
        out.append(f"{name}={version}")
    return ";".join(out)


def cache_key(folders: Iterable[Path], namespace: str) -> str:
    """A hash of every file in `folders` (names and bytes) and of the Python and library versions."""
    digest = hashlib.sha256(f"{namespace}\0{_versions()}".encode())
    for folder in (f.resolve() for f in folders):
        digest.update(f"\0folder\0{folder}".encode())
        for path in _files(folder):
            digest.update(f"\0{path.relative_to(folder).as_posix()}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def cached(namespace: str, folders: Iterable[Path], build: Callable[[], T], cache_dir: Path | None) -> T:
    """`build()`'s result, from `cache_dir` when an entry for these folders exists, else built and stored there.

    `build` raising (invalid content) stores nothing. `cache_dir=None` turns the cache off."""
    if cache_dir is None:
        return build()
    folders = list(folders)
    try:
        key = cache_key(folders, namespace)
    except OSError as exc:  # a file vanished while hashing: build from what is there now
        log.debug("content cache: cannot hash the content (%s); building", exc)
        return build()
    # Entries of one set of folders share a prefix, so a newer one replaces the older without touching the entries of
    # other folders (a test's copy of the content, a deployment's RE_BOT_CONTENT_DIR).
    where = hashlib.sha256("\0".join(str(f.resolve()) for f in folders).encode()).hexdigest()[:12]
    entry = cache_dir / f"{namespace}-{where}-{key}.pickle"
    try:
        with entry.open("rb") as f:
            return pickle.load(f)
    except FileNotFoundError:
        pass
    except Exception as exc:  # truncated, from another version of a class, unreadable: rebuild over it
        log.debug("content cache: %s unusable (%s); rebuilding", entry, type(exc).__name__)
    value = build()
    _store(cache_dir, entry, namespace, value)
    return value


def _store(cache_dir: Path, entry: Path, namespace: str, value: object) -> None:
    try:
        cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=f".{namespace}-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, entry)
        except BaseException:
            os.unlink(tmp)
            raise
        prefix = entry.name.rsplit("-", 1)[0]
        stale = time.time() - STALE_AFTER
        for old in cache_dir.glob(f"{namespace}-*.pickle"):
            # The same folders' earlier content is never read again; other folders' entries go when long unused.
            if old != entry and (old.name.startswith(prefix + "-") or old.stat().st_mtime < stale):
                old.unlink(missing_ok=True)
    except Exception as exc:  # read-only home, full disk, a value that does not pickle: only the time is lost
        log.debug("content cache: not stored in %s (%s)", cache_dir, exc)


def load_indexed(
    directory: str | os.PathLike[str] | None, extra: str | os.PathLike[str] | None, cache_dir: Path | None
) -> tuple[Content, TopicMatcher]:
    """The content (with `extra` merged over it) and its matcher, from the cache when these files were seen before.

    Invalid content raises `ContentError` exactly as `load_content` does (and is never cached)."""

    def build() -> tuple[Content, TopicMatcher]:
        content = load_content(directory, extra)
        return content, TopicMatcher(content, cache_dir or False)

    folders = [_PACKAGE, *(Path(f) for f in (directory, extra) if f)]
    return cached("content", folders, build, cache_dir)
