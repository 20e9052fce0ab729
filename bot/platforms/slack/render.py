"""A `Reply` as Slack Block Kit, within Slack's limits: header, mrkdwn sections, context line, buttons.

Every limit Slack enforces on what we send lives here, so a long answer degrades (split sections, a "does not fit"
note) instead of Slack rejecting the whole message with `invalid_blocks`.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Any

from bot.markup import render
from handlers.types import Button, Reply, Section

HEADER_MAX = 150  # header block: plain text
SECTION_MAX = 3000  # section block: mrkdwn text
CONTEXT_TEXT_MAX = 2000  # one context element (Slack allows 3,000 per text object; keep room)
CONTEXT_ELEMENTS_MAX = 10
BUTTON_LABEL_MAX = 75
BUTTON_VALUE_MAX = 2000
ACTION_ID_MAX = 255
ACTIONS_ELEMENTS_MAX = 25
MESSAGE_BLOCKS_MAX = 50
HOME_BLOCKS_MAX = 100
FALLBACK_TEXT_MAX = 3000  # the notification text; Slack truncates at 40,000 but shows far less

ACTION_SEPARATOR = "#"  # action_id = "<action>#<index>": ids must be unique per message, actions may repeat
TRUNCATED_NOTE = "_…the rest does not fit in one Slack message._"
_MEMBER_ID = re.compile(r"^[UW][A-Z0-9]+$")

Block = dict[str, Any]


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def escape(text: str) -> str:
    """Plain text made safe for mrkdwn: Slack reads `<...>` as links and mentions and `&` as an entity."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def action_name(action_id: str) -> str:
    """The registered action name back from a button's action_id."""
    return action_id.partition(ACTION_SEPARATOR)[0]


def split_mrkdwn(text: str, limit: int = SECTION_MAX) -> list[str]:
    """Pieces of at most `limit` characters, cut at line breaks (then spaces) so links and bold stay whole."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # one line longer than a section: cut at the last space that fits
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            head, line = line[:cut], line[cut:].lstrip()
            if current:
                pieces.append(current)
                current = ""
            pieces.append(head)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        pieces.append(current)
    return [p for p in pieces if p.strip()]


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _button(button: Button, index: int) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": truncate(button.label, BUTTON_LABEL_MAX) or "…", "emoji": True},
        "action_id": truncate(f"{button.action}{ACTION_SEPARATOR}{index}", ACTION_ID_MAX),
        "value": button.value[:BUTTON_VALUE_MAX],
    }
    if button.style in ("primary", "danger"):
        element["style"] = button.style
    return element


def credit(user: str) -> str:
    """Who shared a reply: a mention of a real member id, otherwise inert text."""
    return f"<@{user}>" if _MEMBER_ID.match(user) else escape(user)


ROW_BLOCK_PREFIX = "re-row-"  # a section's own buttons (a review card's ratings), right below it


def _body(reply: Reply) -> list[Block]:
    try:
        return list(_body_cached(reply.sections))
    except TypeError:  # unhashable parts: render without the cache
        return list(_body_cached.__wrapped__(reply.sections))


@lru_cache(maxsize=512)
def _body_cached(sections: tuple[Section, ...]) -> tuple[Block, ...]:
    """The body's blocks, cached apart from the whole reply: an FAQ answer's buttons carry a per-question ref (so the
    whole reply never repeats) while its body, the costly Markdown rendering, repeats a lot."""
    blocks: list[Block] = []
    index = 0  # action ids number every button of the message, sections' first
    for row, section in enumerate(sections):
        parts = [render(section.text, "slack")] if section.text else []
        parts += ["• " + render(item, "slack") for item in section.items]
        text = "\n".join(p for p in parts if p)
        blocks += [_section(piece) for piece in split_mrkdwn(text)]
        if section.buttons:
            elements = [_button(b, index + i) for i, b in enumerate(section.buttons[:ACTIONS_ELEMENTS_MAX])]
            blocks.append({"type": "actions", "block_id": f"{ROW_BLOCK_PREFIX}{row}", "elements": elements})
            index += len(section.buttons)
    return tuple(blocks)


def _context(reply: Reply) -> list[Block]:
    try:
        return list(_context_cached(reply.context, reply.shared_by))
    except TypeError:  # unhashable parts: render without the cache
        return list(_context_cached.__wrapped__(reply.context, reply.shared_by))


@lru_cache(maxsize=512)
def _context_cached(context: tuple[str, ...], shared_by: str | None) -> tuple[Block, ...]:
    lines = [f"Shared by {credit(shared_by)}"] if shared_by else []
    lines += [render(line, "slack") for line in context]
    elements = [{"type": "mrkdwn", "text": truncate(line, CONTEXT_TEXT_MAX)} for line in lines if line.strip()]
    return tuple(
        {"type": "context", "elements": elements[i : i + CONTEXT_ELEMENTS_MAX]}
        for i in range(0, len(elements), CONTEXT_ELEMENTS_MAX)
    )


def _actions(reply: Reply) -> list[Block]:
    first = sum(len(s.buttons) for s in reply.sections)
    elements = [_button(b, first + i) for i, b in enumerate(reply.buttons)]
    return [
        {"type": "actions", "elements": elements[i : i + ACTIONS_ELEMENTS_MAX]}
        for i in range(0, len(elements), ACTIONS_ELEMENTS_MAX)
    ]


@lru_cache(maxsize=512)
def _blocks_cached(reply: Reply, max_blocks: int) -> tuple[Block, ...]:
    head = (
        [{"type": "header", "text": {"type": "plain_text", "text": truncate(reply.title, HEADER_MAX)}}]
        if reply.title
        else []
    )
    tail = _context(reply) + _actions(reply)
    body = _body(reply)
    room = max_blocks - len(head) - len(tail)
    if len(body) > room:
        body = [*body[: max(room - 1, 0)], _section(TRUNCATED_NOTE)]
    blocks = (head + body + tail)[:max_blocks]
    return tuple(blocks)


def reply_blocks(reply: Reply, max_blocks: int = MESSAGE_BLOCKS_MAX) -> list[dict[str, Any]]:
    """The blocks of one message (followups are separate messages). Cached, as content replies repeat a lot: the
    block dicts are shared between calls, so callers must not change them (bolt and slack_sdk only read them)."""
    try:
        hash(reply)
    except TypeError:  # a reply built with unhashable parts (a list somewhere): render without the cache
        return list(_blocks_cached.__wrapped__(reply, max_blocks))
    return list(_blocks_cached(reply, max_blocks))


def fallback_text(reply: Reply) -> str:
    """The message's notification text (shown where blocks are not), as mrkdwn without live mentions."""
    if reply.title and reply.title.strip():
        return truncate(escape(reply.title.strip()), FALLBACK_TEXT_MAX)
    for section in reply.sections:
        text = render(section.text, "slack") if section.text else ""
        if not text and section.items:
            text = render(section.items[0], "slack")
        if text.strip():
            return truncate(text, FALLBACK_TEXT_MAX)
    return "re-bot"


def message(reply: Reply) -> dict[str, Any]:
    """Keyword arguments for `chat.postMessage`, `ack` and `respond`: text + blocks, never unfurling links."""
    payload: dict[str, Any] = {"text": fallback_text(reply), "unfurl_links": False, "unfurl_media": False}
    blocks = reply_blocks(reply)
    if blocks:  # Slack rejects an empty block list; the text alone is a valid message
        payload["blocks"] = blocks
    return payload


STATUS_BLOCK_ID = "re-bot-status"  # prefix of the line a button press adds to the message it was pressed on


def is_status_block(block: Block) -> bool:
    block_id = block.get("block_id")
    return isinstance(block_id, str) and block_id.startswith(STATUS_BLOCK_ID)


def status_block(reply: Reply) -> Block:
    """A button's result as one context line ("*Done* · Nice work, recorded. ..."), to add to a message in place.

    Its block_id is new whenever its text is: Slack wants a changed block to come with a new block_id on an update
    (a client may keep showing the old content of a block whose id it already has)."""
    parts = [render(s.text, "slack") for s in reply.sections if s.text]
    title = f"*{escape(reply.title.strip())}*" if reply.title and reply.title.strip() else ""
    text = truncate(" · ".join(p for p in (title, " ".join(parts)) if p) or "Done.", CONTEXT_TEXT_MAX)
    block_id = f"{STATUS_BLOCK_ID}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"
    return {"type": "context", "block_id": block_id, "elements": [{"type": "mrkdwn", "text": text}]}


def updated_message(
    original: dict[str, Any], result: Reply, *, keep_buttons: bool, row: str | None = None
) -> dict[str, Any] | None:
    """The message a button was pressed on, with the button's result as its status line (replacing an earlier one)
    and, unless `keep_buttons`, without its buttons. With `row` (the block id of a section's own buttons, such as a
    review card's ratings), only that row is replaced by the result, under its section. None when the original's
    blocks are not usable."""
    blocks = original.get("blocks")
    if not isinstance(blocks, list) or not blocks or not all(isinstance(b, dict) for b in blocks):
        return None
    if row is not None:
        if not any(b.get("block_id") == row for b in blocks):
            return None
        status = {**status_block(result), "block_id": f"{STATUS_BLOCK_ID}-{row}"}
        kept = [status if b.get("block_id") == row else b for b in blocks]
    else:
        kept = [b for b in blocks if not is_status_block(b) and (keep_buttons or b.get("type") != "actions")]
        kept = [*kept[: MESSAGE_BLOCKS_MAX - 1], status_block(result)]
    text = original.get("text")
    return {"text": text if isinstance(text, str) and text else fallback_text(result), "blocks": kept,
            "unfurl_links": False, "unfurl_media": False}  # fmt: skip
