"""The console platform: slash-command lines in, readable terminal text (or JSON lines) out."""

from __future__ import annotations

import asyncio
import json
import shlex
import textwrap
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from bot.markup import render
from bot.ops.observed import dispatch, run_action
from bot.schedule.delivery import Sent
from handlers import Invocation, Reply, Services
from handlers.safe_text import valid_text

WIDTH = 88
DEFAULT_USER = "U-console"
DEFAULT_CHANNEL = "C-console"


def _wrap(text: str, indent: str = "") -> str:
    lines = []
    for line in text.splitlines():
        if not line.strip():
            lines.append("")
            continue
        bullet = line.lstrip()
        lead = line[: len(line) - len(bullet)]
        hang = lead + ("  " if bullet[:2] in ("• ",) or bullet[:1].isdigit() else "")
        lines.append(
            textwrap.fill(line, WIDTH, initial_indent=indent, subsequent_indent=indent + hang[len(lead) :] + lead)
        )
    return "\n".join(lines)


def _button_line(buttons) -> str:
    return textwrap.fill("  ".join(f"[{b.label}]" for b in buttons), WIDTH, initial_indent="  ", subsequent_indent="  ",
                         break_long_words=False, break_on_hyphens=False)  # fmt: skip


def render_reply(reply: Reply) -> str:
    """A reply as terminal text: title underlined, wrapped paragraphs, bullets, small print, [buttons]."""
    out: list[str] = []
    if reply.title:
        out += [reply.title, "=" * min(len(reply.title), WIDTH), ""]
    for section in reply.sections:
        if section.text:
            out += [_wrap(render(section.text, "plain")), ""]
        for item in section.items:
            out.append(_wrap("  • " + render(item, "plain")))
        if section.items:
            out.append("")
        if section.buttons:
            out += [_button_line(section.buttons), ""]
    small = list(reply.context)
    if reply.shared_by:
        small.insert(0, f"Shared by {reply.shared_by}")
    for line in small:
        out.append(_wrap(render(line, "plain"), "  "))
    if reply.buttons:
        out.append(_button_line(reply.buttons))
    for followup in reply.followups:
        out += ["", "  ↳ " + render_reply(followup).replace("\n", "\n    ")]
    return "\n".join(out).rstrip() + "\n"


def reply_json(reply: Reply) -> dict[str, object]:
    return {
        "command": reply.command,
        "text": render_reply(reply),
        "ephemeral": reply.ephemeral,
        "topic": reply.topic,
        "paper": reply.paper,
        "suggestions": list(reply.suggestions),
        "error": reply.error,
        "buttons": [{"label": b.label, "action": b.action, "value": b.value} for b in reply.all_buttons],
    }


class ConsoleSender:
    """The console platform's delivery: prints a scheduled post or reminder (or, with `out=None`, only records it;
    `re-bot tick --json` prints its own JSON lines)."""

    platform = "console"

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out
        self.lock = threading.Lock()

    async def send(self, target: str, reply: Reply, *, kind: str, nonce: str) -> Sent:
        if self.out is not None:
            what = {"reminder": "reminder for", "review": "reviews for"}.get(kind, "post in")
            with self.lock:
                self.out.write(f"\n[{what} {target}]\n{render_reply(reply)}")
                self.out.flush()
        return Sent(message_id=nonce)


def member_input(stream: TextIO) -> TextIO:
    """Standard input made safe to read whatever bytes arrive: bytes that are not UTF-8 are kept as surrogates (then
    shown as U+FFFD by `valid_text`) instead of ending the session with a UnicodeDecodeError."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="surrogateescape")
    return stream


@dataclass
class ConsoleSession:
    """State of one console or `ask -` session: who is acting, in which channel."""

    services: Services
    user: str = DEFAULT_USER
    channel: str = DEFAULT_CHANNEL
    as_json: bool = False
    tz: str | None = None
    ticker: Any = None  # a console-only `bot.schedule.ticker.Ticker`: scheduled posts due are printed between lines
    _tick_lock: threading.Lock = field(default_factory=threading.Lock)

    def deliver_due(self) -> str | None:
        """Run a console tick at the current time; the scheduled posts and reminders it delivered, as text."""
        if self.ticker is None or self.as_json:
            return None
        with self._tick_lock:
            report = asyncio.run(self.ticker.tick(self.services.clock()))
        shown = []
        for result in report.results:
            if result.status == "sent":
                what = {"reminder": "Reminder for", "review": "Reviews for"}.get(result.kind, "Scheduled post in")
                shown.append(f"[{what} {result.target}]\n{result.text}")
        return "\n".join(shown) + "\n" if shown else None

    def invocation(self, command: str, text: str) -> Invocation:
        # The console is the operator's own terminal: the acting member may manage every channel.
        return Invocation(
            command=command,
            text=text,
            user=self.user,
            channel=self.channel,
            platform="console",
            tz=self.tz,
            can_manage_channel=True,
            workspace_admin=True,
        )

    def handle_line(self, line: str) -> str | None:
        """The output for one input line (None when the line prints nothing)."""
        line = valid_text(line).strip()
        if not line or line.startswith("#"):
            return None
        if line.startswith(":"):
            return self._meta(line)
        if not line.startswith("/"):
            return self._emit_text("Commands start with a slash, e.g. /re-faq phd. Type /re-help for the list.\n")
        command, _, text = line[1:].partition(" ")
        return self.emit(dispatch(self.invocation(command, text.strip()), self.services))

    def emit(self, reply: Reply) -> str:
        return json.dumps(reply_json(reply), ensure_ascii=False) + "\n" if self.as_json else render_reply(reply)

    def _emit_text(self, text: str) -> str:
        if self.as_json:
            return json.dumps({"command": None, "text": text, "error": True}) + "\n"
        return text

    def _meta(self, line: str) -> str | None:
        try:
            words = shlex.split(line[1:])
        except ValueError:
            words = line[1:].split()
        name, args = (words[0].lower(), words[1:]) if words else ("", [])
        if name == "user" and len(args) == 1:
            self.user = args[0]
            return None if self.as_json else f"(acting as member {self.user})\n"
        if name == "channel" and len(args) == 1:
            self.channel = args[0]
            return None if self.as_json else f"(in channel {self.channel})\n"
        if name == "tz" and len(args) == 1:
            self.tz = args[0]
            return None if self.as_json else f"(member time zone {self.tz})\n"
        if name == "press" and 1 <= len(args) <= 2:
            inv = self.invocation("", "")
            return self.emit(run_action(args[0], args[1] if len(args) > 1 else "", inv, self.services))
        return self._emit_text(
            "Console commands: ':user ID', ':channel ID', ':tz ZONE', ':press ACTION [VALUE]' (a button).\n"
        )

    def run(self, lines: Iterable[str], out: TextIO, prompt: str = "") -> None:
        if prompt:
            out.write(prompt)
            out.flush()
        for line in lines:
            if due := self.deliver_due():
                out.write(due + "\n")
            result = self.handle_line(line)
            if result:
                out.write(result if self.as_json or not prompt else result + "\n")
            if prompt:
                out.write(prompt)
            out.flush()
        if prompt:
            out.write("\n")
