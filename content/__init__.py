"""The shared content layer: FAQ answers, papers, study prompts and tracks, with their loader and search.

Imports nothing from `handlers` or `bot`.
"""

from content.loader import ContentError, load_content, packaged_content_dir
from content.schema import Content, FaqEntry, Paper, Prompt, Track

__all__ = [
    "Content",
    "ContentError",
    "FaqEntry",
    "Paper",
    "Prompt",
    "Track",
    "load_content",
    "packaged_content_dir",
]
