"""The `/re-remind` and `/re-subscribe` grammar as members type it: the phrasings people use are accepted, zone
abbreviations and cities get the IANA name to use, member text in errors is inert, a destructive command refuses what
it does not understand. Handler cases run through `dispatch` on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_schedules import run, text_of

from handlers.schedule import EVERY_DAY, WEEKDAYS, WEEKENDS, PhraseError, When, parse_when, tokens
from handlers.store_api import CHANNEL_POST, REMINDER
from handlers.zones import suggest_zones

T0 = datetime(2025, 1, 6, 6, 0, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("every day at 9", (9, 0, EVERY_DAY, None)),
        ("9 am", (9, 0, EVERY_DAY, None)),
        ("9:00 AM", (9, 0, EVERY_DAY, None)),
        ("6:15 p.m.", (18, 15, EVERY_DAY, None)),
        ("mon-fri 8", (8, 0, WEEKDAYS, None)),
        ("0900", (9, 0, EVERY_DAY, None)),
        ("2130 weekends", (21, 30, WEEKENDS, None)),
        ("21h", (21, 0, EVERY_DAY, None)),
        ("9h30 europe/paris", (9, 30, EVERY_DAY, "Europe/Paris")),
        ("monday to friday at 7 UTC", (7, 0, WEEKDAYS, "UTC")),
        ("mon – fri 7:45", (7, 45, WEEKDAYS, None)),
        ("mon, wed, fri 18.30", (18, 30, frozenset({0, 2, 4}), None)),
        ("tuesdays and thursdays at noon", (12, 0, frozenset({1, 3}), None)),
        ("at 9 o'clock on weekdays", (9, 0, WEEKDAYS, None)),
        ("daily 09:00 Europe/Berlin", (9, 0, EVERY_DAY, "Europe/Berlin")),  # the contract's forms still parse
        ("weekdays 6:30pm", (18, 30, WEEKDAYS, None)),
    ],
)
def test_phrases_people_type_are_accepted(phrase, expected):
    when = parse_when(phrase.split())
    assert (when.hour, when.minute, when.days, when.zone) == expected
    assert parse_when(when.phrase().split()) == when  # the canonical phrase reads back the same


@pytest.mark.parametrize(
    ("phrase", "zone"),
    [
        ("9am CET", "Europe/Berlin"),
        ("9am EST", "America/New_York"),
        ("weekdays 9 PST", "America/Los_Angeles"),
        ("9 GMT+2", "Africa/Johannesburg"),
        ("9 UTC+5:30", "Asia/Kolkata"),
        ("9 berlin", "Europe/Berlin"),
        ("9 new york", "America/New_York"),
        ("9 Berln", "Europe/Berlin"),
        ("9 europe/berln", "Europe/Berlin"),
        ("9 bangalore", "Asia/Kolkata"),
    ],
)
def test_abbreviations_offsets_and_cities_get_the_iana_zone_to_use(phrase, zone):
    with pytest.raises(PhraseError) as raised:
        parse_when(phrase.split())
    assert "did you mean" in str(raised.value) and f"`{zone}`" in str(raised.value)
    assert raised.value.suggestion is not None and raised.value.suggestion.zone == zone


def test_offset_suggestions_put_the_all_year_zone_first_and_the_fixed_zone_last():
    assert suggest_zones("GMT+2")[-1] == "Etc/GMT-2"  # IANA's fixed zones flip the sign
    assert suggest_zones("utc-5")[:2] == ("America/New_York", "America/Chicago")  # EST (winter) before CDT (summer)
    assert suggest_zones("please") == suggest_zones("tomorrow") == ()


@pytest.mark.parametrize(
    ("phrase", "says"),
    [
        ("9 tomorrow", "I don't understand “tomorrow”"),
        ("9am 10am", "one time"),
        ("9 10", "one time"),
        ("25", "not an hour"),
        ("weekdays 2400", "the hour is 0 to 23"),
        ("13pm", "1 to 12"),
        ("daily", "Say when"),
        ("9 Mars/Olympus", "I don't know the time zone"),
    ],
)
def test_what_is_not_a_schedule_says_why(phrase, says):
    with pytest.raises(PhraseError, match=says):
        parse_when(phrase.split())


def test_tokens_join_the_words_of_one_token():
    assert tokens("9 a.m. Monday  through  Friday") == ["9am", "Monday-Friday"]
    assert tokens(["mon,", "wed", "9:00", "PM"]) == ["mon", "wed", "9:00pm"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_phrase_parser_and_zone_suggestions_never_crash(text):
    with contextlib.suppress(PhraseError):
        when = parse_when(text.split())
        assert isinstance(when, When)
    assert isinstance(suggest_zones(text), tuple)


# ------------------------------------------------------------------------------------------- handlers, both stores


def test_remind_accepts_the_new_phrasings_and_subscribe_uses_the_same_parser(store_services):
    reply = run(store_services, "/re-remind every day at 9 Europe/Berlin")
    assert not reply.error and "every day at 09:00 (Europe/Berlin)" in text_of(reply)
    reply = run(store_services, "/re-remind mon-fri 8")  # the zone given before is remembered
    assert "weekdays at 08:00 (Europe/Berlin)" in text_of(reply)
    reply = run(store_services, "/re-subscribe papers 9:00 AM UTC mon to fri", channel="C9")
    assert not reply.error and "weekdays at 09:00 (UTC)" in text_of(reply)
    info = store_services.store.get_schedule(CHANNEL_POST, "console", "C9")
    assert (info.rule.hour, info.rule.days) == (9, WEEKDAYS)


def test_a_zone_abbreviation_gets_the_corrected_command(store_services):
    reply = run(store_services, "/re-remind weekdays 9am CET")
    assert reply.error
    assert "did you mean `Europe/Berlin`" in text_of(reply)
    assert "Try `/re-remind weekdays 09:00 Europe/Berlin`" in text_of(reply)
    assert store_services.store.get_schedule(REMINDER, "console", "U1") is None
    reply = run(store_services, "/re-subscribe papers 0900 berlin")
    assert "Try `/re-subscribe papers daily 09:00 Europe/Berlin`" in text_of(reply)


def test_remind_zone_without_a_zone_gets_usage_and_a_city_gets_its_zone(store_services):
    reply = run(store_services, "/re-remind zone")
    assert reply.error and "/re-remind zone Europe/Berlin" in text_of(reply) and "“”" not in text_of(reply)
    reply = run(store_services, "/re-remind zone berlin")
    assert reply.error and "Try `/re-remind zone Europe/Berlin`" in text_of(reply)
    reply = run(store_services, "/re-remind zone PST")
    assert "America/Los_Angeles" in text_of(reply)
    assert not run(store_services, "/re-remind zone europe/berlin").error


def test_member_text_in_schedule_errors_is_inert(store_services):
    for line in (
        "/re-remind [click](https://evil.example) 9am",
        "/re-subscribe papers [click](https://evil.example) 9",
    ):
        text = text_of(run(store_services, line))
        assert "[click](https" not in text and "\\[click\\]" in text
    text = text_of(run(store_services, "/re-remind 9am <!here> @everyone"))
    assert "<!here>" not in text
    text = text_of(run(store_services, "/re-remind 9am zz<@U123>"))
    assert "<@U123>" not in text


def test_unsubscribe_refuses_words_it_does_not_understand(store_services):
    assert not run(store_services, "/re-subscribe papers 09:00 UTC").error
    reply = run(store_services, "/re-unsubscribe now please")
    assert reply.error and "nothing was changed" in text_of(reply)
    assert store_services.store.get_schedule(CHANNEL_POST, "console", "C1") is not None
    assert not run(store_services, "/re-unsubscribe papers").error
    assert store_services.store.get_schedule(CHANNEL_POST, "console", "C1") is None


def test_list_does_not_show_a_pause_or_snooze_that_is_over(store_services):
    run(store_services, "/re-remind daily 09:00 UTC")
    assert "Paused until" in text_of(run(store_services, "/re-remind pause 2 days"))
    run(store_services, "/re-remind snooze 1h")
    later = T0 + timedelta(days=3)
    shown = text_of(run(store_services, "/re-remind list", later))
    assert "Paused until" not in shown and "Snoozed" not in shown and "Next:" in shown


def test_a_snooze_into_the_repeated_hour_says_which_one(store_services):
    run(store_services, "/re-remind daily 09:00 Europe/Berlin")
    # Sunday 27 Oct 2024, Berlin falls back at 03:00 CEST to 02:00 CET: 02:40 happens twice.
    first = datetime(2024, 10, 27, 0, 10, tzinfo=UTC)  # 02:10 CEST
    reply = run(store_services, "/re-remind snooze 30m", first)
    assert "02:40 (the first 02:40 that day, UTC+02:00)" in text_of(reply)
    second = datetime(2024, 10, 27, 1, 10, tzinfo=UTC)  # 02:10 CET
    reply = run(store_services, "/re-remind snooze 30m", second)
    assert "02:40 (the second 02:40 that day, UTC+01:00)" in text_of(reply)
    reply = run(store_services, "/re-remind snooze 30m", datetime(2024, 10, 28, 8, 0, tzinfo=UTC))
    assert "that day" not in text_of(reply)


def test_echoed_markup_is_no_link_on_slack_or_discord(store_services):
    from bot.markup import render

    reply = run(store_services, "/re-remind [click](https://evil.example) 9am")
    slack = " ".join(render(s.text, "slack") for s in reply.sections)
    discord = " ".join(render(s.text, "discord") for s in reply.sections)
    assert "|click>" not in slack and "<https://evil.example" not in slack  # Slack links only as <url|text>
    assert "[click](" not in discord and "\\[click\\](https://evil.example)" in discord
    assert render("`[x](y)` and [x](https://a.example)", "discord") == "`[x](y)` and [x](https://a.example)"
