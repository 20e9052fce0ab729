"""Where re-bot keeps what it can rebuild (the content cache, sentence vectors): the operator's cache folder."""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/re-bot`, else `~/.cache/re-bot`."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "re-bot"
