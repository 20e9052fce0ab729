"""Review cards end to end on each backend: Done -> card, the daily review DM through the outbox, ratings by FSRS.

Frozen clocks throughout: commands and buttons through `dispatch` / `run_action` with `now=`, ticks at chosen instants.
FSRS expectations are computed here with the `fsrs` library itself, never copied from the bot.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fake_platform import FakePlatform, HttpSender
from fsrs import Card, Rating, Scheduler
from sqlalchemy import select
from test_schedules import press, run, text_of, tick, ticker

from bot.store.models import Delivery
from handlers.review_clock import is_quiet, parse_quiet
from handlers.store_api import REVIEW

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 1, 10, 18, 0, tzinfo=UTC)  # a Saturday evening in Berlin; DST starts there on 29 March 2026


def fsrs_scheduler() -> Scheduler:
    """What the bot promises: whole-day intervals (no minute-long learning steps) and no random fuzz."""
    return Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)


def papers(content, n: int) -> list[str]:
    return [f"paper:{p.id}" for p in content.papers[:n]]


def review_schedule(store, user="U1"):
    return store.api.get_schedule(REVIEW, "console", user)


def card_of(store, item: str, user="U1"):
    return next(c for c in store.api.cards("console", user) if c.item == item)


@pytest.mark.parametrize(
    "ratings",
    [
        ["good"] * 6,
        ["again", "good", "good", "again", "good"],
        ["hard", "hard", "good", "easy"],
        ["easy", "again", "hard", "good", "easy", "again"],
    ],
)
def test_ratings_schedule_the_card_exactly_as_fsrs_does(store, store_services, content, ratings):
    item = papers(content, 1)[0]
    assert not press(store_services, "remind.done", item, T0).error
    expected = Card(card_id=1, due=T0)
    scheduler = fsrs_scheduler()
    now = T0 + timedelta(hours=14)
    for name in ratings:
        reply = press(store_services, f"review.{name}", item, now)
        assert not reply.error, text_of(reply)
        expected, _ = scheduler.review_card(expected, Rating[name.capitalize()], review_datetime=now)
        card = card_of(store, item)
        assert card.due == expected.due and card.state == expected.state
        assert card.stability == pytest.approx(expected.stability) and card.difficulty == pytest.approx(
            expected.difficulty
        )
        assert "Answer:" in text_of(reply)
        now = expected.due + timedelta(hours=1)  # reviewed an hour after it fell due


def test_a_card_is_rated_once_per_due_date_a_second_press_only_shows_the_answer(store, store_services, content):
    item = papers(content, 1)[0]
    press(store_services, "remind.done", item, T0)
    first = press(store_services, "review.good", item, T0 + timedelta(hours=1))
    due = card_of(store, item).due
    again = press(store_services, "review.again", item, T0 + timedelta(hours=1, minutes=1))
    assert card_of(store, item).due == due and card_of(store, item).reviews == 1
    assert text_of(again).startswith("Already rated") and "Answer:" in text_of(again)
    assert text_of(first).startswith("Good: next review")


def test_ten_papers_rated_good_come_back_at_growing_fsrs_intervals_each_local_morning_across_dst(
    store, store_services, content
):
    """The issue's goal: 10 papers done, every review rated Good; the DMs follow FSRS's own schedule, each at 08:00
    Berlin time (the end of the default quiet hours) before and after the clocks change, one per due date."""
    run(store_services, "/re-remind daily 19:00 Europe/Berlin", now=T0)
    items = papers(content, 10)
    for item in items:
        assert not press(store_services, "remind.done", item, T0).error
    t = ticker(store, content)
    scheduler = fsrs_scheduler()
    expected_card = Card(card_id=1, due=T0)
    expected_dm = datetime(2026, 1, 11, 8, 0, tzinfo=BERLIN)  # the morning after: the cards are due at once
    dms = []
    while len(dms) < 7:
        info = review_schedule(store)
        assert info.active and info.next_fire_at == expected_dm.astimezone(UTC)
        fire = info.next_fire_at
        assert not [r for r in tick(t, fire - timedelta(minutes=1)) if r.kind == "review"]
        sent = [r for r in tick(t, fire) if r.kind == "review"]
        assert [(r.status, r.fire_time) for r in sent] == [("sent", fire)]
        assert sent[0].text.startswith("Time to review: 10 cards")
        dms.append(fire)
        rated = fire + timedelta(minutes=7)
        for item in items:
            assert press(store_services, "review.good", item, rated).title.startswith("Good: next review")
        expected_card, _ = scheduler.review_card(expected_card, Rating.Good, review_datetime=rated)
        # the same due date is never sent twice, however often the bot ticks that day
        for later in (fire, fire + timedelta(hours=1), fire + timedelta(hours=14)):
            assert not [r for r in tick(t, later) if r.kind == "review"]
        due_day = expected_card.due.astimezone(BERLIN).date()
        expected_dm = datetime(due_day.year, due_day.month, due_day.day, 8, 0, tzinfo=BERLIN)
    local = [d.astimezone(BERLIN) for d in dms]
    assert all((d.hour, d.minute) == (8, 0) for d in local)
    assert {d.utcoffset() for d in local} == {timedelta(hours=1), timedelta(hours=2)}  # both sides of the DST change
    gaps = [(b.date() - a.date()).days for a, b in itertools.pairwise(local)]
    assert gaps == sorted(gaps) and gaps[-1] > gaps[0]  # growing intervals
    with store.sessions() as s:
        fires = Counter(d.day for d in s.scalars(select(Delivery).where(Delivery.kind == "review")))
    assert max(fires.values()) == 1 and len(fires) == 7


def test_review_dm_bundles_every_card_due_that_day_in_one_dm(store, store_services, content):
    run(store_services, "/re-remind daily 19:00 UTC", now=T0)
    a, b, c = papers(content, 3)
    press(store_services, "remind.done", a, T0)
    press(store_services, "remind.done", b, T0 + timedelta(hours=3))  # 21:00 the same day
    t = ticker(store, content)
    first = [r for r in tick(t, datetime(2026, 1, 11, 8, tzinfo=UTC)) if r.kind == "review"]
    assert len(first) == 1 and first[0].text.startswith("Time to review: 2 cards")
    press(store_services, "remind.done", c, T0 + timedelta(days=1, hours=3))  # the next evening
    second = [r for r in tick(t, datetime(2026, 1, 12, 8, tzinfo=UTC)) if r.kind == "review"]
    assert len(second) == 1 and second[0].text.startswith("Time to review: 3 cards")  # unrated ones stay due


def test_cards_rated_with_the_command_before_the_dm_leave_nothing_to_send(store, store_services, content):
    run(store_services, "/re-remind daily 19:00 UTC", now=T0)
    item = papers(content, 1)[0]
    press(store_services, "remind.done", item, T0)
    shown = run(store_services, "/re-review", now=T0 + timedelta(hours=1))
    assert [b.action for s in shown.sections for b in s.buttons] == [
        "review.again", "review.hard", "review.good", "review.easy"
    ]  # fmt: skip
    press(store_services, "review.good", item, T0 + timedelta(hours=1))
    t = ticker(store, content)
    assert not [r for r in tick(t, datetime(2026, 1, 11, 8, tzinfo=UTC)) if r.kind == "review"]
    assert review_schedule(store).next_fire_at.date() > datetime(2026, 1, 11).date()


def test_quiet_hours_move_the_dm_and_nothing_is_sent_inside_them(store, store_services, content):
    run(store_services, "/re-remind daily 19:00 Europe/Berlin", now=T0)
    press(store_services, "remind.done", papers(content, 1)[0], T0)
    reply = run(store_services, "/re-review quiet 23:00-07:30", now=T0)
    assert not reply.error and "07:30" in text_of(reply)
    assert review_schedule(store).next_fire_at == datetime(2026, 1, 11, 7, 30, tzinfo=BERLIN)
    # awake only 07:30-09:00: a DM missed while the bot was down is not caught up once the quiet hours began
    run(store_services, "/re-review quiet 09:00-07:30", now=T0)
    t = ticker(store, content)
    assert not [r for r in tick(t, datetime(2026, 1, 11, 9, 30, tzinfo=BERLIN)) if r.kind == "review"]
    assert review_schedule(store).next_fire_at == datetime(2026, 1, 12, 7, 30, tzinfo=BERLIN)
    sent = [r for r in tick(t, datetime(2026, 1, 12, 8, 45, tzinfo=BERLIN)) if r.kind == "review"]  # late, awake
    assert [r.fire_time for r in sent] == [datetime(2026, 1, 12, 7, 30, tzinfo=BERLIN)]


@pytest.mark.parametrize("text", ["quiet", "quiet 8-9", "quiet 07:00-07:00", "quiet 25:00-07:00", "fly", "x" * 500])
def test_bad_review_input_gets_a_helpful_reply(store, store_services, text):
    reply = run(store_services, f"/re-review {text}", now=T0)
    assert reply.error and text_of(reply).strip()


def test_quiet_hours_parse_and_wrap_midnight():
    assert parse_quiet("23:00-07:30") == (23 * 60, 7 * 60 + 30)
    assert parse_quiet("10pm - 6am") == (22 * 60, 6 * 60)
    assert is_quiet(datetime(2026, 1, 1, 23, 30, tzinfo=UTC), (22 * 60, 8 * 60), "UTC")
    assert is_quiet(datetime(2026, 1, 1, 7, 59, tzinfo=UTC), (22 * 60, 8 * 60), "UTC")
    assert not is_quiet(datetime(2026, 1, 1, 8, 0, tzinfo=UTC), (22 * 60, 8 * 60), "UTC")
    assert is_quiet(datetime(2026, 1, 1, 3, 0, tzinfo=UTC), (60, 6 * 60), "UTC")
    assert not is_quiet(datetime(2026, 1, 1, 23, 0, tzinfo=UTC), (60, 6 * 60), "UTC")


def test_without_a_reminder_reviews_come_only_after_review_on(store, store_services, content):
    item = papers(content, 1)[0]
    done = press(store_services, "remind.done", item, T0)  # e.g. from /re-track, with no reminder set
    assert "/re-review on" in text_of(done)
    t = ticker(store, content)
    assert tick(t, datetime(2026, 1, 11, 12, tzinfo=UTC)) == []
    assert "off" in text_of(run(store_services, "/re-review status", now=T0))
    asked = run(store_services, "/re-review on", now=T0)  # the console knows no zone for U1 yet
    assert asked.error and "time zone" in text_of(asked)
    on = run(store_services, "/re-review on America/New_York", now=datetime(2026, 1, 11, 12, tzinfo=UTC))
    assert not on.error and "on" in text_of(on)
    sent = tick(t, datetime(2026, 1, 12, 8, tzinfo=ZoneInfo("America/New_York")))
    assert [(r.kind, r.target) for r in sent] == [("review", "U1")]
    run(store_services, "/re-review off", now=datetime(2026, 1, 12, 14, tzinfo=UTC))
    assert tick(t, datetime(2026, 1, 13, 8, tzinfo=ZoneInfo("America/New_York"))) == []


def test_turning_the_reminder_off_stops_default_reviews(store, store_services, content):
    run(store_services, "/re-remind daily 19:00 UTC", now=T0)
    press(store_services, "remind.done", papers(content, 1)[0], T0)
    run(store_services, "/re-remind off", now=T0)
    assert tick(ticker(store, content), datetime(2026, 1, 11, 8, tzinfo=UTC)) == []


def test_list_forget_and_progress_show_cards_and_retention(store, store_services, content):
    run(store_services, "/re-remind daily 19:00 UTC", now=T0)
    a, b = papers(content, 2)
    press(store_services, "remind.done", a, T0)
    press(store_services, "remind.done", b, T0)
    press(store_services, "review.good", a, T0 + timedelta(hours=14))
    later = T0 + timedelta(days=2)
    listed = text_of(run(store_services, "/re-review list", now=later))
    assert "2 card(s)" in listed and "Estimated retention" in listed and "not reviewed yet" in listed
    progress = text_of(run(store_services, "/re-progress", now=later))
    assert "Cards learned:** 1 of 2" in progress and "estimated retention:** 9" in progress
    a_id = a.partition(":")[2]
    assert not run(store_services, f"/re-review forget {a_id}", now=later).error
    assert run(store_services, f"/re-review forget {a_id}", now=later).error
    assert [c.item for c in store.api.cards("console", "U1")] == [b]


def test_an_implementation_prompt_with_a_recall_item_becomes_a_card_others_do_not(store, store_services, content):
    with_recall = next(p for p in content.prompts if p.recall)
    without = next(p for p in content.prompts if not p.recall)
    press(store_services, "remind.done", f"prompt:{with_recall.id}", T0)
    press(store_services, "remind.done", f"prompt:{without.id}", T0)
    assert [c.item for c in store.api.cards("console", "U1")] == [f"prompt:{with_recall.id}"]


async def test_a_closed_dm_pauses_reviews_with_the_reason_until_review_on(store, store_services, content):
    run(store_services, "/re-remind daily 19:00 UTC", now=T0, user="U-closed")
    press(store_services, "remind.done", papers(content, 1)[0], T0, user="U-closed")
    fake = FakePlatform(closed={"U-closed"})
    runner, url = await fake.start()
    sender = HttpSender(url)
    try:
        report = await ticker(store, content, {"console": sender}).tick(datetime(2026, 1, 11, 8, tzinfo=UTC))
    finally:
        await sender.close()
        await runner.cleanup()
    assert [(r.kind, r.status) for r in report.results] == [("review", "failed")]
    info = review_schedule(store, "U-closed")
    assert not info.active and "cannot_dm_user" in info.pause_reason
    assert "cannot_dm_user" in text_of(run(store_services, "/re-review status", now=T0, user="U-closed"))
    press(store_services, "remind.done", papers(content, 2)[1], T0 + timedelta(days=1), user="U-closed")
    assert not review_schedule(store, "U-closed").active  # a new card does not resume it
    run(store_services, "/re-review on", now=T0 + timedelta(days=1), user="U-closed")
    assert review_schedule(store, "U-closed").active


def test_concurrent_tickers_send_one_review_dm(store, store_services, content):
    run(store_services, "/re-remind daily 19:00 UTC", now=T0)
    press(store_services, "remind.done", papers(content, 1)[0], T0)
    at = datetime(2026, 1, 11, 8, tzinfo=UTC)

    async def both():
        return await asyncio.gather(ticker(store, content).tick(at), ticker(store, content).tick(at))

    reports = asyncio.run(both())
    reviews = [r for rep in reports for r in rep.results if r.kind == "review" and r.status == "sent"]
    assert len(reviews) == 1


def test_the_review_schedule_carries_the_reminders_workspace(store, store_services, content):
    """Multi-workspace Slack sends, fault holds and uninstall pauses go by the schedule's workspace."""
    from handlers import Invocation, dispatch

    inv = Invocation(command="re-remind", text="daily 09:00 Europe/Berlin", user="U1", channel="C1",
                     platform="console", workspace="T-ONE", now=T0)  # fmt: skip
    assert not dispatch(inv, store_services).error
    press(store_services, "remind.done", papers(content, 1)[0], T0)
    from bot.store.models import Schedule

    with store.sessions() as session:
        assert session.scalars(select(Schedule.workspace).where(Schedule.kind == REVIEW)).all() == ["T-ONE"]
