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
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from handlers.safe_text import quote
from handlers.zones import looks_like_zone, parse_zone, place_zone, suggest_zones

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
#
# The one grammar of `/re-remind` and `/re-subscribe` (and of the text the Discord options are turned into):
#
#     PHRASE = { DAYS | TIME | ZONE | filler }        in any order, one TIME, at most one ZONE
#     TIME   = 09:00 | 9:30 | 18.30 | 21h | 9h30 | 0900 | 9am | 9 am | 9:00 AM | 6.15 p.m. | noon | midnight
#              | a bare hour 0-23 ("at 9", "mon-fri 8")
#     DAYS   = daily | every day | weekdays | weekends | mon,wed,fri | mon-fri | mon to fri | tuesday | mondays
#     ZONE   = an IANA name (case-insensitive) | UTC | GMT
#     filler = at on every each day in and o'clock
#
# Abbreviations, offsets and cities (CET, GMT+2, berlin) are refused with the IANA zone to use instead.


class PhraseError(ValueError):
    """Member input that is not a schedule; the message says what was wrong and how to write it.

    `suggestion`, when set, is the schedule the member most likely meant (e.g. with `Europe/Berlin` for `CET`)."""

    def __init__(self, message: str, suggestion: When | None = None) -> None:
        super().__init__(message)
        self.suggestion = suggestion


_CLOCK = re.compile(r"^([0-9]{1,2})(?:[:.h]([0-9]{2}))?(h)?(am|pm)?$")
_COMPACT = re.compile(r"^([0-9]{1,2})([0-9]{2})(am|pm)?$")  # 0900, 2130, 930am
_DAY_WORDS = {
    "daily": EVERY_DAY, "everyday": EVERY_DAY, "weekdays": WEEKDAYS, "weekday": WEEKDAYS, "workdays": WEEKDAYS,
    "weekends": WEEKENDS, "weekend": WEEKENDS,
}  # fmt: skip
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_FILLERS = frozenset({"at", "on", "every", "each", "day", "in", "and", "o'clock", "oclock", "o’clock"})
_DAY_RE = r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*"
# Phrases of several words that are one token of the grammar: "9 am", "9:00 A.M.", "mon - fri", "monday to friday".
_JOIN_HALF = re.compile(r"([0-9])\s+([ap])\.?\s?m\b\.?", re.IGNORECASE)
_HALF = re.compile(r"([0-9])([ap])\.?\s?m\b\.?", re.IGNORECASE)
_JOIN_RANGE = re.compile(rf"\b({_DAY_RE})\s*(?:-|to|through|thru|till|until)\s*({_DAY_RE})\b", re.IGNORECASE)


def _hour_minute(hour: int, minute: int, half: str, word: str) -> tuple[int, int]:
    if half:
        if not 1 <= hour <= 12:
            raise PhraseError(f"“{quote(word, 20)}” is not a time: with am/pm the hour is 1 to 12.")
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23:
        raise PhraseError(f"“{quote(word, 20)}” is not a time: the hour is 0 to 23 (24-hour clock, e.g. 18:30).")
    if minute > 59:
        raise PhraseError(f"“{quote(word, 20)}” is not a time: the minutes are 00 to 59.")
    return hour, minute


def parse_time(word: str) -> tuple[int, int] | None:
    """'09:00', '9:30', '18.30', '21h', '0900', '9am', '9 am', '6:15 p.m.', 'noon' -> (hour, minute); None when it is
    no time. A bare number ('9') is not a time on its own: `parse_when` reads it as the hour.

    Raises PhraseError for a time-shaped word with an impossible value (hour 25, minute 61, 13pm)."""
    w = _HALF.sub(lambda m: m.group(1) + m.group(2).lower() + "m", word.strip()).lower().replace(" ", "")
    if w in ("noon", "midday"):
        return 12, 0
    if w == "midnight":
        return 0, 0
    if m := _CLOCK.match(w):
        if m.group(2) is None and m.group(3) is None and m.group(4) is None:
            return None  # a bare number
        return _hour_minute(int(m.group(1)), int(m.group(2) or 0), m.group(4) or "", word)
    if m := _COMPACT.match(w):
        return _hour_minute(int(m.group(1)), int(m.group(2)), m.group(3) or "", word)
    return None


def _day(word: str) -> int | None:
    for i, full in enumerate(_FULL_DAYS):
        if len(word) >= 3 and full.startswith(word):
            return i
    return None


def parse_days(word: str) -> frozenset[int] | None:
    """'daily', 'weekdays', 'mon,wed,fri', 'mon-fri', 'tuesday' -> day set; None when the word is not days."""
    w = word.strip().lower().replace("–", "-").strip(",")
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

    def phrase(self) -> str:
        """The canonical words for this schedule, which `parse_when` reads back: 'weekdays 09:00 Europe/Berlin'."""
        days = {EVERY_DAY: "daily", WEEKDAYS: "weekdays", WEEKENDS: "weekends"}.get(self.days)
        words = [days or ",".join(DAY_NAMES[d] for d in sorted(self.days)), f"{self.hour:02d}:{self.minute:02d}"]
        return " ".join(words + ([self.zone] if self.zone else []))


def tokens(words: list[str] | str) -> list[str]:
    """The grammar's tokens: words, with '9 am' / '9:00 A.M.' and 'mon - fri' / 'monday to friday' made one word."""
    text = words if isinstance(words, str) else " ".join(words)
    text = text.replace("–", "-").replace("—", "-")
    text = _JOIN_HALF.sub(lambda m: m.group(1) + m.group(2).lower() + "m", text)
    text = _JOIN_RANGE.sub(r"\1-\2", text)
    return [t.strip(",;") for t in text.split() if t.strip(",;")]


def zone_problem(word: str) -> tuple[str, tuple[str, ...]]:
    """What to tell a member whose `word` is not an IANA zone: a message naming it, and the zones to suggest."""
    shown = quote(word, 40)
    zones = suggest_zones(word)
    if not zones:
        return f"I don't know the time zone “{shown}”. Use an IANA name such as `Europe/Berlin`.", ()
    names = ", ".join(f"`{z}`" for z in zones[:-1]) + (" or " if len(zones) > 1 else "") + f"`{zones[-1]}`"
    why = (
        " Abbreviations and UTC offsets change with daylight saving; an IANA zone keeps your local time all year."
        if looks_like_zone(word) and "/" not in word
        else ""
    )
    return f"“{shown}” is not an IANA time zone name: did you mean {names}?{why}", zones


def parse_when(words: list[str], default_days: frozenset[int] = EVERY_DAY) -> When:
    """Parse the words of '[days] TIME [ZONE]' in any order ('9am mon,wed,fri Europe/Paris', 'every day at 9')."""
    items = tokens(words)
    time: tuple[int, int] | None = None
    hour_only: int | None = None
    days: set[int] = set()
    zone: str | None = None
    zone_error: tuple[str, str] | None = None  # (message, the zone suggested)
    i = 0
    while i < len(items):
        word, low = items[i], items[i].lower()
        i += 1
        if low in _FILLERS:
            continue
        if (t := parse_time(word)) is not None:
            if time is not None:
                raise PhraseError("Give one time, e.g. `09:00` or `6:30pm`.")
            time = t
        elif re.fullmatch(r"[0-9]{1,2}", low):
            if hour_only is not None:
                raise PhraseError("Give one time, e.g. `09:00` or `6:30pm`.")
            hour_only = int(low)
            if hour_only > 23:
                raise PhraseError(f"“{low}” is not an hour: the hour is 0 to 23 (24-hour clock, e.g. 18:30).")
        elif (d := parse_days(word)) is not None:
            days |= d
        elif (z := parse_zone(word)) is not None:
            zone = z
        else:
            pair = f"{word} {items[i]}" if i < len(items) else ""
            if pair and place_zone(pair):  # two words naming one place: "new york"
                word, i = pair, i + 1
            message, zones = zone_problem(word)
            if not zones and not looks_like_zone(word):
                raise PhraseError(f"I don't understand “{quote(word, 40)}” here.")
            if not zones:
                raise PhraseError(message)
            zone_error = zone_error or (message, zones[0])
    if time is not None and hour_only is not None:
        raise PhraseError("Give one time, e.g. `09:00` or `6:30pm`.")
    if time is None and hour_only is not None:
        time = (hour_only, 0)
    if zone_error is not None:
        fixed = When(time[0], time[1], frozenset(days) or default_days, zone_error[1]) if time else None
        raise PhraseError(zone_error[0], suggestion=fixed)
    if time is None:
        raise PhraseError("Say when, e.g. `09:00`, `9am` or `18:30`.")
    return When(time[0], time[1], frozenset(days) or default_days, zone)
