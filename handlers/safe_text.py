"""Neutralise member text before echoing it back: no live mentions, no markup, bounded length."""

from __future__ import annotations

import re

_ZWSP = "\u200b"
_MARKUP = re.compile(r"([\\*_~`|>\[\]()#])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def valid_text(text: str) -> str:
    """`text` with nothing that is not valid Unicode: bytes that were not UTF-8 (carried as lone surrogates, as Python
    reads them from argv and, in UTF-8 mode, standard input) and stray surrogates become U+FFFD.

    Without this, echoing such text writes the raw bytes back out (invalid UTF-8) or fails to encode at all."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a surrogate that does not stand for a byte (e.g. JSON's "\ud800")
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def quote(text: str, limit: int = 80) -> str:
    """Member text made inert for every platform, shortened to `limit` characters.

    `@everyone`/`@here`/`@channel` get a zero-width space after the `@`; Slack's `<!here>`/`<@U1>` lose their angle
    brackets; Markdown punctuation is backslash-escaped so it shows as typed and cannot style or link.
    """
    text = _CONTROL.sub(" ", valid_text(text)).replace("\n", " ").strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    text = text.replace("<", "‹").replace(">", "›")
    text = text.replace("@", "@" + _ZWSP)
    return _MARKUP.sub(r"\\\1", text)


def shorten(text: str, limit: int) -> str:
    """`text` cut at a word boundary to at most `limit` characters, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-") + "…"
