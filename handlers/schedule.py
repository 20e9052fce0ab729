"""Recurring schedules: local wall-clock time + IANA zone + days, the one next-fire-time rule, and the phrase parser.

A schedule is stored as the member wrote it ("09:00 Europe/Berlin on weekdays"), never as a UTC offset. Fire
instants come from APScheduler's `CronTrigger` in the schedule's zone, normalised for DST so that every local day
fires at most once:
- a local time that does not exist that day (spring forward) fires once, at the first valid instant after it: the
  end of the gap (02:30 in Berlin on the last Sunday of March fires at 03:00 CEST);
- a local time that occurs twice (fall back) fires once, at its first occurrence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from apscheduler.triggers.cron import CronTrigger

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EVERY_DAY = frozenset(range(7))
WEEKDAYS = frozenset(range(5))
WEEKENDS = frozenset({5, 6})
MAX_PHRASE = 200  # longer text is not a schedule; refuse it without parsing


@dataclass(frozen=True)
class Rule:
    """Fire at hour:minute local time in `zone` on `days` (0 = Monday)."""

    hour: int
    minute: int
    zone: str
    days: frozenset[int] = EVERY_DAY

    @property
    def days_spec(self) -> str:
        """Canonical, stored form of the days: 'mon,tue,wed' (also APScheduler's day_of_week syntax)."""
        return ",".join(DAY_NAMES[d] for d in sorted(self.days))

    @classmethod
    def from_stored(cls, hour: int, minute: int, zone: str, days_spec: str) -> Rule:
        return cls(hour, minute, zone, frozenset(DAY_NAMES.index(d) for d in days_spec.split(",")))

    def describe(self) -> str:
        """'weekdays at 09:00 (Europe/Berlin)', as members read it."""
        return f"{describe_days(self.days)} at {self.hour:02d}:{self.minute:02d} ({self.zone})"


def describe_days(days: frozenset[int]) -> str:
    if days == EVERY_DAY:
        return "every day"
    if days == WEEKDAYS:
        return "weekdays"
    if days == WEEKENDS:
        return "weekends"
    return ", ".join(DAY_NAMES[d].capitalize() for d in sorted(days))


@lru_cache(maxsize=512)
def _trigger(rule: Rule) -> CronTrigger:
    return CronTrigger(day_of_week=rule.days_spec, hour=rule.hour, minute=rule.minute, timezone=ZoneInfo(rule.zone))


def _gap_end(instant: datetime, zone: ZoneInfo, hour: int, minute: int) -> datetime:
    """The first instant whose local wall time on that date is at or after hour:minute (the end of a DST gap)."""
    local_day = instant.astimezone(zone).date()
    wanted = datetime(local_day.year, local_day.month, local_day.day, hour, minute)

    def reached(t: datetime) -> bool:
        return t.astimezone(zone).replace(tzinfo=None) >= wanted

    lo, hi = instant - timedelta(hours=3), instant  # gaps are at most 2 hours; `instant` is past the gap
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        lo, hi = (lo, mid) if reached(mid) else (mid, hi)
    return hi.replace(microsecond=0)


def next_fire_time(rule: Rule, after: datetime) -> datetime:
    """The first fire instant of `rule` strictly after `after` (aware), in UTC. The one next-fire-time rule."""
    zone = ZoneInfo(rule.zone)
    trigger = _trigger(rule)
    probe = after.astimezone(UTC)
    for _ in range(16):  # a few DST skips at most; the bound only guards against a trigger bug looping forever
        candidate = trigger.get_next_fire_time(None, probe + timedelta(microseconds=1))
        if candidate is None:  # pragma: no cover - a CronTrigger without end date always has a next time
            raise ValueError(f"rule {rule} never fires")
        instant = candidate.astimezone(UTC)
        local = instant.astimezone(zone)
        if (local.hour, local.minute) != (rule.hour, rule.minute):
            fire = _gap_end(instant, zone, rule.hour, rule.minute)  # the wall time does not exist that day
        elif local.fold == 1 and local.replace(fold=0).astimezone(UTC) != instant:
            probe = instant  # the second occurrence of a repeated wall time: that day already fired
            continue
        else:
            fire = instant
        if fire > after:
            return fire
        probe = instant
    raise ValueError(f"no fire time found for {rule} after {after}")  # pragma: no cover


@dataclass(frozen=True)
class FirePlan:
    """What a tick does with one due schedule: deliver for `fire` (None: too late, skip) and move on to `next_fire`."""

    fire: datetime | None
    next_fire: datetime


def plan_due(rule: Rule, scheduled: datetime, now: datetime, catchup: timedelta) -> FirePlan:
    """Catch-up rule for a schedule whose stored next fire `scheduled` is <= `now`.

    Only the latest fire at or before `now` may be delivered, and only if it is at most `catchup` late: a bot that was
    down for three days sends one reminder, not three. Earlier missed fires are skipped.
    """
    fire = scheduled
    if now - fire > catchup:  # jump close to now instead of walking every missed day
        fire = next_fire_time(rule, max(scheduled, now - catchup) - timedelta(microseconds=1))
    latest: datetime | None = None
    while fire <= now:
        latest = fire
        fire = next_fire_time(rule, fire)
    if latest is not None and now - latest > catchup:
        latest = None
    return FirePlan(latest, fire)


# ---------------------------------------------------------------------------------------------- parsing


class PhraseError(ValueError):
    """Member input that is not a schedule; the message says what was wrong and how to write it."""


@lru_cache(maxsize=1)
def _zones_by_lower() -> dict[str, str]:
    names = {z for z in available_timezones() if "/" in z or z in ("UTC", "GMT")}
    return {z.lower(): z for z in names}


def parse_zone(word: str) -> str | None:
    """The canonical IANA name for `word` (case-insensitive), or None when it is not a zone."""
    return _zones_by_lower().get(word.strip().lower())


def looks_like_zone(word: str) -> bool:
    return "/" in word or word.upper() in ("UTC", "GMT")


_TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?$")
_DAY_WORDS = {
    "daily": EVERY_DAY, "everyday": EVERY_DAY, "weekdays": WEEKDAYS, "weekday": WEEKDAYS, "workdays": WEEKDAYS,
    "weekends": WEEKENDS, "weekend": WEEKENDS,
}  # fmt: skip
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_time(word: str) -> tuple[int, int] | None:
    """'09:00', '9:30', '18.30', '9am', '6:15pm', 'noon', 'midnight' -> (hour, minute); None when it is no time.

    Raises PhraseError for a time-shaped word with an impossible value (hour 25, minute 61, 13pm)."""
    w = word.strip().lower()
    if w in ("noon", "midday"):
        return 12, 0
    if w == "midnight":
        return 0, 0
    m = _TIME.match(w)
    if not m or (m.group(2) is None and m.group(3) is None):
        return None
    hour, minute, half = int(m.group(1)), int(m.group(2) or 0), (m.group(3) or "").replace(".", "")
    if half:
        if not 1 <= hour <= 12:
            raise PhraseError(f"“{word}” is not a time: with am/pm the hour is 1 to 12.")
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23:
        raise PhraseError(f"“{word}” is not a time: the hour is 0 to 23 (24-hour clock, e.g. 18:30).")
    if minute > 59:
        raise PhraseError(f"“{word}” is not a time: the minutes are 00 to 59.")
    return hour, minute


def _day(word: str) -> int | None:
    for i, full in enumerate(_FULL_DAYS):
        if len(word) >= 3 and full.startswith(word):
            return i
    return None


def parse_days(word: str) -> frozenset[int] | None:
    """'daily', 'weekdays', 'mon,wed,fri', 'mon-fri', 'tuesday' -> day set; None when the word is not days."""
    w = word.strip().lower().rstrip(",")
    if w in _DAY_WORDS:
        return _DAY_WORDS[w]
    days: set[int] = set()
    for part in filter(None, w.split(",")):
        first, _, last = part.partition("-")
        a = _day(first.removesuffix("s"))
        b = _day(last.removesuffix("s")) if last else a
        if a is None or b is None:
            return None
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return frozenset(days) or None


@dataclass(frozen=True)
class When:
    """A parsed schedule phrase; `zone` is None when the member did not name one."""

    hour: int
    minute: int
    days: frozenset[int]
    zone: str | None


def parse_when(words: list[str], default_days: frozenset[int] = EVERY_DAY) -> When:
    """Parse the words of '[days] TIME [ZONE]' in any order ('9am mon,wed,fri Europe/Paris', 'every day 18:30')."""
    time: tuple[int, int] | None = None
    days: set[int] = set()
    zone: str | None = None
    for raw in words:
        word = raw.strip()
        if not word or word.lower() in ("at", "on", "every", "day", "in", "and"):
            continue
        if (t := parse_time(word)) is not None:
            if time is not None:
                raise PhraseError("Give one time, e.g. `09:00` or `6:30pm`.")
            time = t
        elif (d := parse_days(word)) is not None:
            days |= d
        elif (z := parse_zone(word)) is not None:
            zone = z
        elif looks_like_zone(word):
            raise PhraseError(f"I don't know the time zone “{word}”. Use an IANA name such as `Europe/Berlin`.")
        else:
            raise PhraseError(f"I don't understand “{word}” here.")
    if time is None:
        raise PhraseError("Say when, e.g. `09:00`, `9am` or `18:30`.")
    return When(time[0], time[1], frozenset(days) or default_days, zone)
