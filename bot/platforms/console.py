"""The console platform: slash-command lines in, readable terminal text (or JSON lines) out."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shlex
import textwrap
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from bot.markup import render
from bot.ops.observed import dispatch, run_action
from bot.schedule.delivery import Sent
from handlers import Button, Invocation, Reply, Services
from handlers.ids import MAX_ID_LENGTH, id_problem
from handlers.registry import closest_command
from handlers.safe_text import valid_text

log = logging.getLogger(__name__)

WIDTH = 88
DEFAULT_USER = "U-console"
DEFAULT_CHANNEL = "C-console"
DELIVERY_APOLOGY = (
    "(Sorry: scheduled reminders and posts could not be checked just now; the database did not answer. "
    "Your command still runs; they go out on a later line once it answers.)\n"
)
RULE = "-" * WIDTH + "\n"  # between replies when the output is read later (piped), not on a live terminal
HISTORY_FILE = ".re_bot_history"  # in the user's home: the console's line history
HISTORY_LENGTH = 1000


def _fill(text: str, initial_indent: str = "", subsequent_indent: str = "") -> str:
    """Wrapped to the console's width; never inside a word or at a hyphen, so `/re-remind` stays one piece."""
    return textwrap.fill(text, WIDTH, initial_indent=initial_indent, subsequent_indent=subsequent_indent,
                         break_long_words=False, break_on_hyphens=False)  # fmt: skip


def _wrap(text: str, indent: str = "") -> str:
    lines = []
    for line in text.splitlines():
        if not line.strip():
            lines.append("")
            continue
        bullet = line.lstrip()
        lead = line[: len(line) - len(bullet)]
        hang = lead + ("  " if bullet[:2] in ("• ",) or bullet[:1].isdigit() else "")
        lines.append(_fill(line, indent, indent + hang[len(lead) :] + lead))
    return "\n".join(lines)


def reply_buttons(reply: Reply) -> tuple[Button, ...]:
    """A reply's buttons (its sections' first) and its follow-ups', in the order `render_reply(numbered=True)` numbers
    them."""
    return (*reply.all_buttons, *(b for f in reply.followups for b in reply_buttons(f)))


def _button_line(buttons: tuple[Button, ...], numbered: bool, first: int) -> str:
    if numbered:
        shown = "   ".join(f"[{b.label}] :press {n}" for n, b in enumerate(buttons, first))
    else:
        shown = "  ".join(f"[{b.label}]" for b in buttons)
    return _fill(shown, "  ", "  ")


def render_reply(reply: Reply, numbered: bool = False, _first: int = 1) -> str:
    """A reply as terminal text: title underlined, wrapped paragraphs, bullets, small print, [buttons].

    With `numbered`, each button shows what to type to press it (`[Share in channel] :press 1`), numbered through the
    reply and its follow-ups (see `reply_buttons`)."""
    out: list[str] = []
    first = _first
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
            out += [_button_line(section.buttons, numbered, first), ""]
            first += len(section.buttons)
    small = list(reply.context)
    if reply.shared_by:
        small.insert(0, f"Shared by {reply.shared_by}")
    for line in small:
        out.append(_wrap(render(line, "plain"), "  "))
    if reply.buttons:
        out.append(_button_line(reply.buttons, numbered, first))
        first += len(reply.buttons)
    for followup in reply.followups:
        out += ["", "  ↳ " + render_reply(followup, numbered, first).replace("\n", "\n    ")]
        first += len(reply_buttons(followup))
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


def first_line(exc: BaseException) -> str:
    """An exception as one short line for an operator: its type and the first line of its message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class ConsoleSender:
    """The console platform's delivery: prints a scheduled post or reminder (or, with `out=None`, only records it;
    `re-bot tick --json` prints its own JSON lines)."""

    platform = "console"

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out
        self.lock = threading.Lock()
        # (kind, target, reply) since the last `take()`; bounded, as nothing takes them in `re-bot tick --json`.
        self._delivered: deque[tuple[str, str, Reply]] = deque(maxlen=1000)

    async def send(self, target: str, reply: Reply, *, kind: str, nonce: str) -> Sent:
        with self.lock:
            if self.out is not None:
                what = {"reminder": "reminder for", "review": "reviews for"}.get(kind, "post in")
                self.out.write(f"\n[{what} {target}]\n{render_reply(reply)}")
                self.out.flush()
            else:
                self._delivered.append((kind, target, reply))
        return Sent(message_id=nonce)

    def take(self) -> list[tuple[str, str, Reply]]:
        """What was delivered (when recording) since the last call: a console session shows it, buttons numbered."""
        with self.lock:
            delivered = list(self._delivered)
            self._delivered.clear()
        return delivered


_DELIVERED = {"reminder": "Reminder for", "review": "Reviews for"}  # how a delivery is headed, by kind


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
    sender: ConsoleSender | None = None  # the ticker's console sender (recording): what it delivered is printed
    _tick_lock: threading.Lock = field(default_factory=threading.Lock)
    buttons: tuple[Button, ...] = ()  # the last reply's buttons: what `:press N` presses

    def deliver_due(self) -> str | None:
        """Run a console tick at the current time; the scheduled posts and reminders it delivered, as text."""
        if self.ticker is None or self.sender is None or self.as_json:
            return None
        with self._tick_lock:
            asyncio.run(self.ticker.tick(self.services.clock()))
            # Numbered like a reply, so `:press N` presses a reminder's Done.
            shown: list[str] = []
            buttons: list[Button] = []
            for kind, target, reply in self.sender.take():
                heading = f"[{_DELIVERED.get(kind, 'Scheduled post in')} {target}]"
                shown.append(f"{heading}\n{render_reply(reply, numbered=True, _first=len(buttons) + 1)}")
                buttons += reply_buttons(reply)
            if buttons:
                self.buttons = tuple(buttons)
        return "\n".join(shown) + "\n" if shown else None

    def deliver_due_or_apologise(self) -> str | None:
        """`deliver_due`, but a failing database costs this line's deliveries only, never the session: what was due
        stays due (the outbox is transactional) and a later pass delivers it."""
        try:
            return self.deliver_due()
        except Exception as exc:
            log.warning("the delivery pass failed: %s", first_line(exc))
            return DELIVERY_APOLOGY

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
            first, _, rest = line.partition(" ")
            meant = closest_command(first) if first.lower().startswith("re") else None
            example = f"/{meant} {rest}".rstrip() if meant else "/re-faq phd"
            return self._emit_text(f"Commands start with a slash, e.g. {example}. Type /re-help for the list.\n")
        command, _, text = line[1:].partition(" ")
        return self.emit(dispatch(self.invocation(command, text.strip()), self.services))

    def emit(self, reply: Reply) -> str:
        self.buttons = reply_buttons(reply)
        if self.as_json:
            return json.dumps(reply_json(reply), ensure_ascii=False) + "\n"
        return render_reply(reply, numbered=True)

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
        if name in ("user", "channel") and len(args) == 1 and (problem := id_problem(args[0])):
            return self._emit_text(
                f"(:{name} not changed: that id {problem}; ids are at most {MAX_ID_LENGTH} characters, without NUL)\n"
            )
        if name == "user" and len(args) == 1:
            self.user = args[0]
            return None if self.as_json else f"(acting as member {self.user})\n"
        if name == "channel" and len(args) == 1:
            self.channel = args[0]
            return None if self.as_json else f"(in channel {self.channel})\n"
        if name == "tz" and len(args) == 1:
            self.tz = args[0]
            return None if self.as_json else f"(member time zone {self.tz})\n"
        if name == "press" and len(args) == 1 and args[0].isascii() and args[0].isdigit():
            number = int(args[0])
            if not 1 <= number <= len(self.buttons):
                have = f"1 to {len(self.buttons)}" if self.buttons else "none"
                return self._emit_text(f"There is no button {number} on the last reply (its buttons: {have}).\n")
            button = self.buttons[number - 1]
            return self.emit(run_action(button.action, button.value, self.invocation("", ""), self.services))
        if name == "press" and 1 <= len(args) <= 2:
            inv = self.invocation("", "")
            return self.emit(run_action(args[0], args[1] if len(args) > 1 else "", inv, self.services))
        return self._emit_text(
            "Console commands: ':user ID', ':channel ID', ':tz ZONE', ':press N' (button N of the last reply), "
            "':press ACTION [VALUE]'.\n"
        )

    def run(self, lines: Iterable[str], out: TextIO, prompt: str = "", *, interactive: bool = False) -> None:
        """Answer each line on `out`. `prompt` is written before each line; a `LineEditor` prompts by itself, so its
        lines come with `interactive=True` and no prompt. Read later (piped, not JSON), replies are set apart by a rule.
        """
        interactive = interactive or bool(prompt)
        shown = 0
        if prompt:
            out.write(prompt)
            out.flush()
        for line in lines:
            for text in (self.deliver_due_or_apologise(), self.handle_line(line)):
                if not text:
                    continue
                if shown and not interactive and not self.as_json:
                    out.write(RULE)
                out.write(text + "\n" if interactive and not self.as_json else text)
                shown += 1
            if prompt:
                out.write(prompt)
            out.flush()
        if prompt:
            out.write("\n")


class LineEditor:
    """The console on a terminal: line editing and history (readline, saved in the user's home), Ctrl-C clears the
    line being typed instead of quitting, Ctrl-D quits, and a delivery printed while the member types brings the
    prompt and their half-typed line back."""

    def __init__(self, prompt: str, out: TextIO, history: Path | None = None) -> None:
        self.prompt, self.out, self.history = prompt, out, history
        try:
            import readline  # not on every platform (Windows); plain input() then
        except ImportError:  # pragma: no cover - CPython on Linux and macOS has it
            readline = None  # type: ignore[assignment]
        self.readline = readline
        if readline is not None and history is not None:
            readline.set_history_length(HISTORY_LENGTH)
            with contextlib.suppress(OSError):  # no history yet, or not readable: start without one
                readline.read_history_file(history)

    @staticmethod
    def default_history() -> Path | None:
        """`~/.re_bot_history` when there is a home folder, else None (no history kept)."""
        try:
            home = Path.home()
        except (RuntimeError, KeyError):
            return None
        return home / HISTORY_FILE if home.is_dir() else None

    def lines(self) -> Iterator[str]:
        """The member's lines until Ctrl-D (end of input)."""
        while True:
            try:
                line = input(self.prompt)
            except KeyboardInterrupt:  # Ctrl-C: drop what was typed, start a fresh line, as a shell does
                self.out.write("^C\n")
                self.out.flush()
                continue
            except EOFError:
                self.out.write("\n")
                self.out.flush()
                return
            yield line

    def interject(self, text: str) -> None:
        """Print `text` (a scheduled delivery) above the line being typed, then show the prompt and that line again."""
        typed = self.readline.get_line_buffer() if self.readline is not None else ""
        self.out.write("\r\n" + text.rstrip("\n") + "\n\n" + self.prompt + typed)
        self.out.flush()

    def save(self) -> None:
        if self.readline is not None and self.history is not None:
            with contextlib.suppress(OSError):  # a read-only home: the session worked, only its history is lost
                self.readline.write_history_file(self.history)
