"""Commands as a member types them on each platform, so a reply built for Discord shows Discord's syntax.

Slack (and the console) take a line of text (`/re-remind weekdays 08:30 Europe/Paris`); Discord takes typed options
(`/re-remind weekdays time:08:30 zone:Europe/Paris`), which its adapter maps back to the same text. Handlers write
their examples and hints in the text form; `shown` rewrites one for the member's platform, reading schedule phrases
with the one schedule grammar (`parse_when`), and `usage` gives each command's usage line on that platform. The option
names here are those of `bot/platforms/discord/commands.py` (tests/discord_platform/test_discord_syntax.py checks
them against the real command tree).
"""

from __future__ import annotations

from typing import get_args

from content.schema import AREAS, PromptKind
from handlers.schedule import EVERY_DAY, WEEKDAYS, WEEKENDS, PhraseError, When, parse_days, parse_when, tokens

DISCORD_USAGE = {
    "re-faq": "/re-faq [topic:TOPIC or question]",
    "re-paper": "/re-paper [area:AREA] [paper:NAME] [next:True]",
    "re-prompt": "/re-prompt [kind:KIND] [area:AREA] [next:True]",
    "re-remind": "/re-remind daily|weekdays|weekends time:HH:MM [zone:ZONE] · days days:mon,wed,fri time:HH:MM "
    "[zone:ZONE] · list · off · pause [days:N] · resume · snooze [duration:1h] · zone zone:ZONE",
    "re-subscribe": "/re-subscribe time:HH:MM [zone:ZONE] [days:daily|weekdays|weekends|mon,wed,fri]",
    "re-track": "/re-track [track:TRACK]",
    "re-help": "/re-help [command:COMMAND]",
    "re-admin": "/re-admin report [period:30d]",
    "re-review": "/re-review [action:now|list|on|off|quiet|forget|status] [value:ZONE, 23:00-07:30 or a card id]",
}
_NAMED_DAYS = {EVERY_DAY: "daily", WEEKDAYS: "weekdays", WEEKENDS: "weekends"}


def usage(command: str, platform: str, default: str) -> str:
    return DISCORD_USAGE.get(command, default) if platform == "discord" else default


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
    if command == "re-subscribe":
        return f"/re-subscribe {time}{zone}" + ("" if when.days == EVERY_DAY else f" days:{days}")
    if when.days in _NAMED_DAYS:
        return f"/re-remind {days} {time}{zone}"
    return f"/re-remind days days:{days} {time}{zone}"


def _discord(line: str) -> str:
    command, _, rest = line.strip().lstrip("/").partition(" ")
    rest = rest.strip()
    word, _, tail = rest.partition(" ")
    low, tail = word.lower(), tail.strip()
    if not rest:
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
    if command == "re-admin" and low == "report":
        return f"/re-admin report period:{tail}" if tail else "/re-admin report"
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
    """`line` (a command in its text form) as a member on `platform` types it."""
    return _discord(line) if platform == "discord" else line


def valid_days(text: str) -> bool:
    """Is `text` only days ('mon,wed,fri', 'mon-fri', 'weekends', 'monday to friday') in the schedule grammar?"""
    words = tokens(text)
    return bool(words) and all(parse_days(w) is not None for w in words)
