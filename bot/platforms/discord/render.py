"""A `Reply` as Discord messages: embeds and buttons within Discord's limits.

The body goes in embed descriptions (Markdown, "discord" dialect), the small print in the footer (plain text: footers
show no Markdown), the sharer's credit in the message content. A body longer than one description is split at
section boundaries (then lines, then words) into several embeds; embeds are packed into as few messages as the
per-message limits allow, and the buttons ride on the last message.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import discord

from bot.markup import render
from handlers.syntax import localized
from handlers.types import Button, Reply

# https://discord.com/developers/docs/resources/message#embed-object-embed-limits and component limits
CONTENT = 2000
TITLE = 256
DESCRIPTION = 4096
FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
EMBED_TOTAL = 6000  # title + description + field names and values + footer + author, summed over a message
EMBEDS_PER_MESSAGE = 10
BUTTON_LABEL = 80
BUTTONS_PER_MESSAGE = 25  # 5 rows of 5
ROWS_PER_MESSAGE = 5
BUTTONS_PER_ROW = 5
CUSTOM_ID = 100

COLOUR = discord.Colour(0x5865F2)
ERROR_COLOUR = discord.Colour(0xED4245)
ELLIPSIS = "…"


@dataclass(frozen=True)
class DiscordMessage:
    """One message to send: content, embeds, and the platform-neutral buttons (made into components by `buttons`)."""

    content: str | None
    embeds: tuple[discord.Embed, ...]
    buttons: tuple[Button, ...] = ()
    rows: tuple[int, ...] = ()  # each button's action row, when set (a review card's ratings share one row)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def _split_long(block: str, limit: int) -> list[str]:
    """A block longer than `limit` cut at line breaks, then spaces, then anywhere; no piece exceeds `limit`."""
    pieces: list[str] = []
    rest = block
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _pack(blocks: list[str], limit: int, sep: str = "\n\n") -> list[str]:
    """Consecutive blocks joined with `sep` into as few chunks of at most `limit` characters as fit."""
    chunks: list[str] = []
    current = ""
    for block in blocks:
        for piece in _split_long(block, limit):
            candidate = f"{current}{sep}{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
            else:
                chunks.append(current)
                current = piece
    if current:
        chunks.append(current)
    return chunks


def body_blocks(reply: Reply) -> list[str]:
    """Each section as Discord Markdown: its paragraph, then its items as bullets."""
    blocks: list[str] = []
    for section in reply.sections:
        parts = []
        if section.text:
            parts.append(render(section.text, "discord"))
        parts += [f"• {render(item, 'discord')}" for item in section.items]
        text = "\n".join(p for p in parts if p)
        if text:
            blocks.append(text)
    return blocks


def _embed_size(embed: discord.Embed) -> int:
    return len(embed)  # discord.py sums exactly the fields Discord counts towards 6,000


def _row_chunks(reply: Reply) -> list[Reply]:
    """A reply whose sections carry their own buttons, cut into parts of at most five such sections (one action row
    each): the title stays on the first part, the small print and the reply's own buttons on the last."""
    parts: list[list] = [[]]
    rows = 0
    for section in reply.sections:
        if section.buttons and rows == ROWS_PER_MESSAGE:
            parts.append([])
            rows = 0
        parts[-1].append(section)
        rows += bool(section.buttons)
    last = len(parts) - 1
    return [
        replace(
            reply,
            sections=tuple(part),
            title=reply.title if i == 0 else None,
            shared_by=reply.shared_by if i == 0 else None,
            context=reply.context if i == last else (),
            buttons=reply.buttons if i == last else (),
        )
        for i, part in enumerate(parts)
    ]


def _with_rows(messages: list[DiscordMessage], part: Reply, before: int) -> list[DiscordMessage]:
    """The part's section buttons on its last message, one action row per section. Buttons sit below the text on
    Discord, so their labels carry the section's number among those with buttons (`before` came in earlier parts),
    which is the card number the review handler writes."""
    buttons: list[Button] = []
    rows: list[int] = []
    for row, section in enumerate(s for s in part.sections if s.buttons):
        number = before + row + 1
        for button in section.buttons[:BUTTONS_PER_ROW]:
            if len(button_id(button)) <= CUSTOM_ID:
                buttons.append(replace(button, label=clip(f"{number} · {button.label}", BUTTON_LABEL)))
                rows.append(row)
    used = len(set(rows))
    for i, button in enumerate(b for b in part.buttons if len(button_id(b)) <= CUSTOM_ID):
        row = used + i // BUTTONS_PER_ROW
        if row >= ROWS_PER_MESSAGE:
            break
        buttons.append(button)
        rows.append(row)
    last = messages[-1]
    messages[-1] = DiscordMessage(last.content, last.embeds, tuple(buttons), tuple(rows))
    return messages


def render_reply(reply: Reply) -> list[DiscordMessage]:
    """The reply as one or more Discord messages, each within every Discord limit. Commands it shows are in
    Discord's syntax, whoever built it (a handler for an interaction already did; a reminder DM has not)."""
    reply = localized(reply, "discord")
    if any(section.buttons for section in reply.sections):
        messages: list[DiscordMessage] = []
        before = 0
        for part in _row_chunks(reply):
            plain = replace(part, sections=tuple(replace(s, buttons=()) for s in part.sections), buttons=())
            messages += _with_rows(_render_plain(plain), part, before)
            before += sum(1 for s in part.sections if s.buttons)
        return messages
    return _render_plain(reply)


def _render_plain(reply: Reply) -> list[DiscordMessage]:
    colour = ERROR_COLOUR if reply.error else COLOUR
    title = clip(render(reply.title, "plain"), TITLE) if reply.title else None
    footer = clip("\n".join(render(line, "plain") for line in reply.context), FOOTER) if reply.context else None
    # Leave room in the first and last embeds for the title and footer, so each embed stays under 6,000 in total.
    chunks = _pack(body_blocks(reply), DESCRIPTION) or [""]
    embeds = [discord.Embed(description=chunk or None, colour=colour) for chunk in chunks]
    if title:
        embeds[0].title = title
    if footer:
        if _embed_size(embeds[-1]) + len(footer) > EMBED_TOTAL:
            embeds.append(discord.Embed(colour=colour))
        embeds[-1].set_footer(text=footer)
    embeds = [e for e in embeds if _embed_size(e) > 0]

    content = clip(f"Shared by <@{reply.shared_by}>", CONTENT) if reply.shared_by else None
    if not embeds and not content:
        content = "(nothing to show)"

    messages: list[list[discord.Embed]] = [[]]
    size = 0
    for embed in embeds:
        n = _embed_size(embed)
        if messages[-1] and (len(messages[-1]) >= EMBEDS_PER_MESSAGE or size + n > EMBED_TOTAL):
            messages.append([])
            size = 0
        messages[-1].append(embed)
        size += n
    buttons = tuple(b for b in reply.buttons if len(button_id(b)) <= CUSTOM_ID)[:BUTTONS_PER_MESSAGE]
    out = [DiscordMessage(content=content if i == 0 else None, embeds=tuple(m)) for i, m in enumerate(messages)]
    out[-1] = DiscordMessage(content=out[-1].content, embeds=out[-1].embeds, buttons=buttons)
    return out


def render_all(reply: Reply) -> list[DiscordMessage]:
    """The reply and its follow-ups (e.g. a paper's study prompts), in order."""
    messages = render_reply(reply)
    for followup in reply.followups:
        messages += render_all(followup)
    return messages


# The custom_id format shared with `buttons.ActionButton`: "re:<action>:<value>", at most 100 characters.
CUSTOM_ID_PREFIX = "re"


def button_id(button: Button) -> str:
    return f"{CUSTOM_ID_PREFIX}:{button.action}:{button.value}"
