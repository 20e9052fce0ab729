"""When review DMs go out: once a day, when the member's quiet hours end, on days with a card due.

A member's review schedule is an ordinary daily `Rule` at the end of their quiet hours (08:00 by default) in their
zone, so it has the reminders' DST rules. Its next fire is the first one on or after the local date of the member's
earliest due card, and after the last review DM, so a due date never gets two DMs.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from handlers.schedule import PhraseError, Rule, next_fire_time, parse_time

DEFAULT_QUIET = (22 * 60, 8 * 60)  # 22:00-08:00 local: minutes after midnight
TICK = timedelta(microseconds=1)


def review_rule(quiet: tuple[int, int], zone: str) -> Rule:
    """The daily review time: the end of the quiet hours."""
    return Rule(quiet[1] // 60, quiet[1] % 60, zone)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def day_end(instant: datetime, zone: str) -> datetime:
    """The first instant of the local day after `instant`'s: cards due before it are due "that day"."""
    tz = ZoneInfo(zone)
    return local_midnight(instant.astimezone(tz).date() + timedelta(days=1), tz)


def review_fire_time(rule: Rule, earliest_due: datetime, not_before: datetime) -> datetime:
    """The first review DM at or after `not_before` on a local date on or after `earliest_due`'s."""
    tz = ZoneInfo(rule.zone)
    due_day = local_midnight(earliest_due.astimezone(tz).date(), tz)
    return next_fire_time(rule, max(not_before, due_day) - TICK)


def is_quiet(instant: datetime, quiet: tuple[int, int], zone: str) -> bool:
    """Is `instant` inside the quiet hours (which may wrap midnight, 22:00-08:00, or not, 01:00-06:00)?"""
    local = instant.astimezone(ZoneInfo(zone))
    minute = local.hour * 60 + local.minute
    start, end = quiet
    return start <= minute < end if start < end else minute >= start or minute < end


def parse_quiet(text: str) -> tuple[int, int] | None:
    """'23:00-07:30' -> (1380, 450); None when it is not two different times joined by '-'."""
    first, sep, last = text.replace(" ", "").partition("-")
    if not sep:
        return None
    try:
        a, b = parse_time(first), parse_time(last)
    except PhraseError:
        return None
    if a is None or b is None or a == b:
        return None
    return a[0] * 60 + a[1], b[0] * 60 + b[1]


def fmt_minutes(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
