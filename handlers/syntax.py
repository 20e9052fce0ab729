"""Commands as a member types them on each platform, so a reply built for Discord shows Discord's syntax.

Slack (and the console) take a line of text (`/re-remind weekdays 08:30 Europe/Paris`); Discord takes typed options
(`/re-remind weekdays time:08:30 zone:Europe/Paris`), which its adapter maps back to the same text. Handlers (and the
content) write every command in the text form, as inline code; `localized` rewrites each such command in a reply for
the member's platform (`dispatch` and `run_action` apply it, and the Discord renderer for replies built without an
invocation: reminder DMs, channel posts). `shown` rewrites one command: schedule phrases are read with the one
schedule grammar (`parse_when`), usage lines (with `[...]`, `|` or ` · `) become the platform's own. The option names
here are those of `bot/platforms/discord/commands.py` (tests/discord_platform/test_discord_syntax.py checks every
command a handler can show against the real command tree).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import get_args

from content.schema import AREAS, PromptKind
from handlers.schedule import EVERY_DAY, WEEKDAYS, WEEKENDS, PhraseError, When, parse_days, parse_when, tokens
from handlers.types import Reply

DISCORD_USAGE = {
    "re-faq": "/re-faq [topic:TOPIC or question]",
    "re-paper": "/re-paper [area:AREA] [paper:NAME] [next:True]",
    "re-prompt": "/re-prompt [kind:KIND] [area:AREA] [next:True]",
    "re-remind": "/re-remind daily|weekdays|weekends time:HH:MM [zone:ZONE] · days days:mon,wed,fri time:HH:MM "
    "[zone:ZONE] · list · off · pause [days:N] · resume · snooze [duration:1h] · zone zone:ZONE",
    "re-subscribe": "/re-subscribe time:HH:MM [zone:ZONE] [days:daily|weekdays|weekends|mon,wed,fri]",
    "re-track": "/re-track [track:TRACK]",
    "re-unsubscribe": "/re-unsubscribe",
    "re-help": "/re-help [command:COMMAND]",
    "re-admin report": "/re-admin report [period:30d]",
    "re-admin zone": "/re-admin zone zone:ZONE|off",
    "re-admin channel": "/re-admin channel channel:#channel [time:HH:MM] [zone:ZONE] [days:daily|weekdays] [off:True]",
    "re-review": "/re-review [action:now|list|on|off|quiet|forget|status] [value:ZONE, 23:00-07:30 or a card id]",
}
_NAMED_DAYS = {EVERY_DAY: "daily", WEEKDAYS: "weekdays", WEEKENDS: "weekends"}
# A command as inline code in a reply's Markdown: `/re-remind daily 09:00`.
_COMMAND_CODE = re.compile(r"`(/re-[a-z-]+(?: [^`\n]*)?)`")
# An option as Discord shows it ("time:", "[zone:"): a line with one is already in Discord's form.
_OPTION = re.compile(r"(?:^|[\s\[])[a-z]+:")
_USAGE = re.compile(r"[\[|]| · ")  # what only a usage line has: [optional] parts, alternatives, several forms


def days_word(days: frozenset[int]) -> str:
    """'daily', 'weekdays', 'weekends' or 'mon,wed,fri': what the grammar reads back."""
    return When(0, 0, days, None).phrase().split()[0]


def _schedule(command: str, phrase: str) -> str | None:
    try:
        when = parse_when(phrase.split())
    except PhraseError:
        return None
    time = f"time:{when.hour:02d}:{when.minute:02d}"
    zone = f" zone:{when.zone}" if when.zone else ""
    days = days_word(when.days)
    if command in ("re-subscribe", "re-admin channel"):
        return f"/{command} {time}{zone}" + ("" if when.days == EVERY_DAY else f" days:{days}")
    if when.days in _NAMED_DAYS:
        return f"/re-remind {days} {time}{zone}"
    return f"/re-remind days days:{days} {time}{zone}"


def _usage(line: str, command: str, word: str) -> str:
    """A usage line in Discord's form: each of several `/...` forms on its own, else the command's Discord usage."""
    parts = line.split(" · ")
    if len(parts) > 1 and all(p.startswith("/") for p in parts):
        return " · ".join(_discord(p) for p in parts)
    return DISCORD_USAGE.get(f"{command} {word}") or DISCORD_USAGE.get(command) or line


def _admin(word: str, tail: str, line: str) -> str:
    if word == "report":
        return f"/re-admin report period:{tail}" if tail else "/re-admin report"
    if word == "zone":
        return f"/re-admin zone zone:{tail}" if tail else "/re-admin zone"
    if word == "channel" and tail:
        channel, _, phrase = tail.partition(" ")
        first = f"/re-admin channel channel:{channel}"
        feed, _, schedule = phrase.strip().partition(" ")
        if not phrase.strip():
            return first
        if feed.lower() == "off":
            return f"{first} off:True"
        found = _schedule("re-admin channel", schedule if feed.lower() in ("papers", "paper") else phrase)
        return f"{first} {found.removeprefix('/re-admin channel ')}" if found else line
    return line


def _discord(line: str) -> str:
    line = line.strip()
    command, _, rest = line.lstrip("/").partition(" ")
    rest = rest.strip()
    word, _, tail = rest.partition(" ")
    low, tail = word.lower(), tail.strip()
    if _OPTION.search(rest):
        return line  # already Discord's form
    if _USAGE.search(rest):
        return _usage(line, command, low)
    if not rest or (command in ("re-paper", "re-prompt") and low == "today" and not tail):
        return f"/{command}"
    if command == "re-faq":
        return f"/re-faq topic:{rest}"
    if command == "re-help":
        return f"/re-help command:{rest}"
    if command == "re-track":
        return f"/re-track track:{rest}"
    if command == "re-paper":
        return "/re-paper next:True" if low == "next" else f"/re-paper {'area' if low in AREAS else 'paper'}:{rest}"
    if command == "re-prompt":
        kind = low in get_args(PromptKind)
        return "/re-prompt next:True" if low == "next" else f"/re-prompt {'kind' if kind else 'area'}:{rest}"
    if command == "re-review":
        return f"/re-review action:{low}" + (f" value:{tail}" if tail else "")
    if command == "re-admin":
        return _admin(low, tail, line)
    if command == "re-unsubscribe":
        return "/re-unsubscribe"  # Discord's takes no options: the channel's one feed
    if command == "re-remind":
        if low in ("list", "off", "resume") and not tail:
            return f"/re-remind {low}"
        if low == "pause":
            return f"/re-remind pause days:{tail.split()[0]}" if tail else "/re-remind pause"
        if low == "snooze":
            return f"/re-remind snooze duration:{tail}" if tail else "/re-remind snooze"
        if low == "zone" and tail:
            return f"/re-remind zone zone:{tail}"
        return _schedule(command, rest) or line
    if command == "re-subscribe":
        phrase = tail if low == "papers" else rest
        return _schedule(command, phrase) or line
    return line


def shown(line: str, platform: str) -> str:
    """`line` (a command in its text form) as a member on `platform` types it. A line already in the platform's
    form is returned as it is, so showing twice changes nothing."""
    return _discord(line) if platform == "discord" else line


def _code(markdown: str, platform: str) -> str:
    if "`/re-" not in markdown:
        return markdown
    return _COMMAND_CODE.sub(lambda m: f"`{shown(m.group(1), platform)}`", markdown)


def localized(reply: Reply, platform: str) -> Reply:
    """`reply` with every command it shows as inline code in `platform`'s syntax (unchanged outside Discord)."""
    if platform != "discord":
        return reply
    sections = tuple(
        replace(s, text=_code(s.text, platform), items=tuple(_code(i, platform) for i in s.items))
        for s in reply.sections
    )
    return replace(
        reply,
        title=_code(reply.title, platform) if reply.title else reply.title,
        sections=sections,
        context=tuple(_code(c, platform) for c in reply.context),
        followups=tuple(localized(f, platform) for f in reply.followups),
    )


def valid_days(text: str) -> bool:
    """Is `text` only days ('mon,wed,fri', 'mon-fri', 'weekends', 'monday to friday') in the schedule grammar?"""
    words = tokens(text)
    return bool(words) and all(parse_days(w) is not None for w in words)
