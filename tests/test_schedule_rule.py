"""The next-fire-time rule and the phrase parser, with frozen clocks around DST changes."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.schedule import (
    EVERY_DAY,
    WEEKDAYS,
    PhraseError,
    Rule,
    next_fire_time,
    parse_days,
    parse_time,
    parse_when,
    plan_due,
)


def local(zone: str, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone), fold=fold)


def fires(rule: Rule, start: datetime, n: int) -> list[datetime]:
    out, t = [], start
    for _ in range(n):
        t = next_fire_time(rule, t)
        out.append(t)
    return out


def wall(instants: list[datetime], zone: str) -> list[str]:
    return [t.astimezone(ZoneInfo(zone)).strftime("%m-%d %H:%M %Z") for t in instants]


# Spring forward: the local time does not exist that day -> fires once, at the end of the gap.
@pytest.mark.parametrize(
    ("zone", "day_before", "hm", "expected"),
    [
        ("Europe/Berlin", (2024, 3, 30), (2, 30), ["03-30 02:30 CET", "03-31 03:00 CEST", "04-01 02:30 CEST"]),
        ("America/New_York", (2024, 3, 9), (2, 15), ["03-09 02:15 EST", "03-10 03:00 EDT", "03-11 02:15 EDT"]),
        ("Australia/Sydney", (2024, 10, 5), (2, 30), ["10-05 02:30 AEST", "10-06 03:00 AEDT", "10-07 02:30 AEDT"]),
    ],
)
def test_nonexistent_local_time_fires_once_at_the_end_of_the_gap(zone, day_before, hm, expected):
    rule = Rule(hm[0], hm[1], zone)
    assert wall(fires(rule, local(zone, *day_before, 0, 0), 3), zone) == expected


# Fall back: the local time occurs twice -> fires once, at the first occurrence.
@pytest.mark.parametrize(
    ("zone", "day_before", "hm", "expected"),
    [
        ("Europe/Berlin", (2024, 10, 26), (2, 30), ["10-26 02:30 CEST", "10-27 02:30 CEST", "10-28 02:30 CET"]),
        ("America/New_York", (2024, 11, 2), (1, 30), ["11-02 01:30 EDT", "11-03 01:30 EDT", "11-04 01:30 EST"]),
        ("Australia/Sydney", (2024, 4, 6), (2, 30), ["04-06 02:30 AEDT", "04-07 02:30 AEDT", "04-08 02:30 AEST"]),
    ],
)
def test_repeated_local_time_fires_once(zone, day_before, hm, expected):
    rule = Rule(hm[0], hm[1], zone)
    assert wall(fires(rule, local(zone, *day_before, 0, 0), 3), zone) == expected


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata"])
def test_a_year_of_daily_fires_keeps_local_wall_time_and_one_per_day(zone):
    rule = Rule(9, 0, zone)
    year = fires(rule, local(zone, 2024, 1, 1, 0, 0), 366)
    local_days = [t.astimezone(ZoneInfo(zone)).date() for t in year]
    assert len(set(local_days)) == 366
    assert {t.astimezone(ZoneInfo(zone)).strftime("%H:%M") for t in year} == {"09:00"}


def test_kolkata_has_a_fixed_half_hour_offset_all_year():
    rule = Rule(9, 0, "Asia/Kolkata")
    year = fires(rule, local("Asia/Kolkata", 2024, 1, 1, 0, 0), 366)
    assert {t.astimezone(UTC).strftime("%H:%M") for t in year} == {"03:30"}


def test_weekdays_skip_the_weekend():
    rule = Rule(8, 30, "Europe/Berlin", WEEKDAYS)
    got = fires(rule, local("Europe/Berlin", 2024, 3, 29, 9, 0), 3)  # Friday after the fire
    assert wall(got, "Europe/Berlin") == ["04-01 08:30 CEST", "04-02 08:30 CEST", "04-03 08:30 CEST"]


def test_next_fire_is_strictly_after():
    rule = Rule(9, 0, "UTC")
    at = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    assert next_fire_time(rule, at) == at + timedelta(days=1)
    assert next_fire_time(rule, at - timedelta(microseconds=1)) == at


def test_catch_up_delivers_the_latest_missed_fire_within_the_window_once():
    rule = Rule(9, 0, "UTC")
    scheduled = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    window = timedelta(hours=3)
    plan = plan_due(rule, scheduled, scheduled + timedelta(hours=2, minutes=59), window)
    assert plan.fire == scheduled and plan.next_fire == scheduled + timedelta(days=1)
    plan = plan_due(rule, scheduled, scheduled + timedelta(hours=3, minutes=1), window)
    assert plan.fire is None and plan.next_fire == scheduled + timedelta(days=1)
    # down for three days, back 1 hour after the fourth fire: only that one is delivered
    plan = plan_due(rule, scheduled, scheduled + timedelta(days=3, hours=1), window)
    assert plan.fire == scheduled + timedelta(days=3) and plan.next_fire == scheduled + timedelta(days=4)


@pytest.mark.parametrize(
    ("word", "expected"),
    [("09:00", (9, 0)), ("9:30", (9, 30)), ("18.30", (18, 30)), ("9am", (9, 0)), ("6:15pm", (18, 15)),
     ("12am", (0, 0)), ("12pm", (12, 0)), ("noon", (12, 0)), ("weekdays", None), ("9", None)],
)  # fmt: skip
def test_parse_time(word, expected):
    assert parse_time(word) == expected


@pytest.mark.parametrize("word", ["25:00", "24:00", "9:61", "13pm", "0am"])
def test_impossible_times_say_why(word):
    with pytest.raises(PhraseError):
        parse_time(word)


def test_parse_days_and_phrases():
    assert parse_days("mon,wed,fri") == frozenset({0, 2, 4})
    assert parse_days("mon-fri") == WEEKDAYS
    assert parse_days("fri-mon") == frozenset({4, 5, 6, 0})
    assert parse_days("tuesday") == frozenset({1})
    assert parse_days("weekly") is None
    when = parse_when("9am mon,wed,fri europe/paris".split())
    assert (when.hour, when.minute, when.days, when.zone) == (9, 0, frozenset({0, 2, 4}), "Europe/Paris")
    assert parse_when(["daily", "18:30"]).days == EVERY_DAY
    for bad in (["daily", "25:00"], ["daily", "09:00", "Mars/Olympus"], ["fortnightly", "09:00"], ["daily"]):
        with pytest.raises(PhraseError):
            parse_when(bad)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=20), max_size=6))
def test_parser_never_crashes(words):
    with contextlib.suppress(PhraseError):
        parse_when(words)
