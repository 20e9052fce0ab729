"""Content Markdown (CommonMark) rendered for each platform's dialect, via markdown-it-py's token stream.

Slack's mrkdwn is not Markdown (`*bold*`, `_italic_`, `<url|text>`, `&<>` escaped); Discord takes Markdown with
masked links; a terminal gets plain text with bullets and `text (url)` links.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token

Dialect = Literal["plain", "slack", "discord"]
_LINK_SCHEMES = ("https://", "http://", "mailto:")


@dataclass(frozen=True)
class _Style:
    bold: str
    italic: str
    bullet: str


_STYLES: dict[Dialect, _Style] = {
    "plain": _Style(bold="", italic="", bullet="•"),
    "slack": _Style(bold="*", italic="_", bullet="•"),
    "discord": _Style(bold="**", italic="*", bullet="•"),
}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False})


def _escape(text: str, dialect: Dialect) -> str:
    if dialect == "slack":
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if dialect == "discord":
        # Literal brackets stay literal: text that reads `[click](https://...)` must not become a masked link.
        return text.replace("[", "\\[").replace("]", "\\]")
    return text


def _inline(tokens: list[Token], dialect: Dialect) -> str:
    style = _STYLES[dialect]
    out: list[str] = []
    links: list[str] = []
    for tok in tokens:
        t = tok.type
        if t == "text":
            out.append(_escape(tok.content, dialect))
        elif t == "code_inline":
            code = _escape(tok.content, "slack") if dialect == "slack" else tok.content  # no escapes inside code
            out.append(f"`{code}`" if dialect != "plain" else code)
        elif t in ("strong_open", "strong_close"):
            out.append(style.bold)
        elif t in ("em_open", "em_close"):
            out.append(style.italic)
        elif t == "softbreak":
            out.append(" " if dialect == "plain" else "\n")
        elif t == "hardbreak":
            out.append("\n")
        elif t == "link_open":
            href = str(tok.attrs.get("href", ""))
            # Only web and mail links become links: `[x](!channel)` would otherwise be Slack's `<!channel|x>`,
            # a live @channel mention. Anything else shows its text only.
            href = href if href.lower().startswith(_LINK_SCHEMES) else ""
            links.append(href)
            if href:
                out.append({"slack": f"<{href}|", "discord": "[", "plain": ""}[dialect])
        elif t == "link_close":
            href = links.pop() if links else ""
            if href:
                out.append({"slack": ">", "discord": f"]({href})", "plain": f" ({href})"}[dialect])
        elif t == "image" or t in ("html_inline",):
            out.append(_escape(tok.content, dialect))
    return "".join(out)


def render(markdown: str, dialect: Dialect) -> str:
    """Markdown as the platform shows it. Blocks are separated by one blank line; list items by newlines."""
    tokens = _parser().parse(markdown)
    blocks: list[str] = []
    prefixes: list[str] = []  # one per open list: "•" or the next number
    counters: list[int] = []
    style = _STYLES[dialect]
    for tok in tokens:
        if tok.type == "bullet_list_open":
            prefixes.append(style.bullet)
            counters.append(0)
        elif tok.type == "ordered_list_open":
            prefixes.append("#")
            counters.append(int(tok.attrs.get("start", 1) or 1) - 1)
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            prefixes.pop()
            counters.pop()
        elif tok.type == "list_item_open":
            counters[-1] += 1
        elif tok.type == "inline":
            text = _inline(tok.children or [], dialect)
            if prefixes:
                marker = f"{counters[-1]}." if prefixes[-1] == "#" else prefixes[-1]
                indent = "  " * (len(prefixes) - 1)
                blocks.append(f"{indent}{marker} {text}")
            else:
                blocks.append(text)
        elif tok.type in ("fence", "code_block"):
            code = tok.content.rstrip("\n")
            blocks.append(code if dialect == "plain" else f"```\n{code}\n```")
        elif tok.type == "paragraph_close" and not prefixes:
            blocks.append("")
    text = "\n".join(blocks)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()
