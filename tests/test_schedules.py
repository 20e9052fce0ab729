"""Reminders and subscriptions end to end on each backend: commands through `dispatch`, then ticks at frozen times."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fake_platform import FakePlatform, HttpSender
from sqlalchemy import func, select

from bot.platforms.console import ConsoleSender
from bot.schedule.dispatcher import Dispatcher, DispatchPolicy
from bot.schedule.outbox import BATCH, FIRST_BATCH, claim_due
from bot.schedule.ticker import Ticker
from bot.store.models import Delivery, Schedule
from handlers import Invocation, dispatch, run_action
from handlers.schedule import Rule
from handlers.store_api import CHANNEL_POST, REMINDER

T0 = datetime(2025, 1, 6, 6, 0, tzinfo=UTC)  # a Monday


def run(services, line: str, now: datetime = T0, *, user="U1", channel="C1", platform="console", tz=None,
        manage=True):  # fmt: skip
    command, _, text = line.lstrip("/").partition(" ")
    inv = Invocation(command=command, text=text, user=user, channel=channel, platform=platform, tz=tz,
                     can_manage_channel=manage, now=now)  # fmt: skip
    return dispatch(inv, services)


def press(services, action: str, value: str, now: datetime, *, user="U1", platform="console"):
    inv = Invocation(command="", user=user, platform=platform, now=now)
    return run_action(action, value, inv, services)


def text_of(reply) -> str:
    return "\n".join(
        [reply.title or "", *(s.text for s in reply.sections), *(i for s in reply.sections for i in s.items)]
    )


def ticker(store, content, senders=None, **kwargs) -> Ticker:
    policy = kwargs.pop("policy", DispatchPolicy(backoff_initial=0.01, backoff_max=0.05))
    return Ticker(store.sessions, content, senders or {"console": ConsoleSender()}, policy=policy, **kwargs)


def tick(t: Ticker, now: datetime):
    return asyncio.run(t.tick(now)).results


def test_daily_reminder_is_delivered_once_and_a_retick_is_idempotent(store, store_services, content):
    reply = run(store_services, "/re-remind daily 09:00 Europe/Berlin")
    assert not reply.error, text_of(reply)
    t = ticker(store, content)
    assert tick(t, datetime(2025, 1, 6, 7, 59, tzinfo=UTC)) == []
    sent = tick(t, datetime(2025, 1, 6, 8, 0, tzinfo=UTC))  # 09:00 CET
    assert [(r.kind, r.target, r.status) for r in sent] == [("reminder", "U1", "sent")]
    assert "Done" in sent[0].text and "Snooze 1h" in sent[0].text
    assert tick(t, datetime(2025, 1, 6, 8, 0, tzinfo=UTC)) == []
    assert tick(t, datetime(2025, 1, 6, 8, 30, tzinfo=UTC)) == []
    assert len(tick(t, datetime(2025, 1, 7, 8, 1, tzinfo=UTC))) == 1


def test_catch_up_window_late_within_3h_delivered_later_skipped(store, store_services, content):
    run(store_services, "/re-remind daily 09:00 UTC")
    t = ticker(store, content)
    sent = tick(t, datetime(2025, 1, 6, 11, 59, tzinfo=UTC))  # bot was down; 2h59m late
    assert [r.fire_time for r in sent] == [datetime(2025, 1, 6, 9, 0, tzinfo=UTC)]
    assert tick(t, datetime(2025, 1, 7, 12, 1, tzinfo=UTC)) == []  # 3h01m late: skipped
    assert store.api.get_schedule(REMINDER, "console", "U1").next_fire_at == datetime(2025, 1, 8, 9, tzinfo=UTC)
    sent = tick(t, datetime(2025, 1, 11, 10, 0, tzinfo=UTC))  # down for days: one catch-up only
    assert [r.fire_time for r in sent] == [datetime(2025, 1, 11, 9, 0, tzinfo=UTC)]


def test_weekdays_reminder_skips_weekends(store, store_services, content):
    run(store_services, "/re-remind weekdays 07:00 UTC")
    t = ticker(store, content)
    days = []
    for hours in range(0, 24 * 7, 1):
        days += [r.fire_time.strftime("%a") for r in tick(t, T0 + timedelta(hours=hours))]
    assert days == ["Mon", "Tue", "Wed", "Thu", "Fri"]


@pytest.mark.parametrize(
    ("zone", "start", "hm"),
    [("Europe/Berlin", (2025, 3, 29), "02:30"), ("Europe/Berlin", (2025, 10, 25), "02:30"),
     ("America/New_York", (2025, 3, 8), "02:30"), ("America/New_York", (2025, 11, 1), "01:30"),
     ("Australia/Sydney", (2025, 10, 4), "02:30"), ("Australia/Sydney", (2025, 4, 5), "02:30"),
     ("Asia/Kolkata", (2025, 3, 29), "09:00")],
)  # fmt: skip
def test_ticks_every_15_minutes_across_dst_claim_once_per_local_day(store, store_services, content, zone, start, hm):
    z = ZoneInfo(zone)
    begin = datetime(*start, 0, 0, tzinfo=z).astimezone(UTC)
    reply = run(store_services, f"/re-remind daily {hm} {zone}", now=begin)
    assert not reply.error
    for step in range(0, 3 * 24 * 4):  # three local days, a frozen clock moved 15 minutes at a time
        claim_due(store.sessions, content, begin + timedelta(minutes=15 * step), catchup=timedelta(hours=3))
    with store.sessions() as s:
        fired = list(s.scalars(select(Delivery.fire_time)))
    local_days = Counter(f.astimezone(z).date() for f in fired)
    assert len(fired) == 3 and set(local_days.values()) == {1}, fired
    assert all(f.astimezone(z).strftime("%H:%M") in (hm, "03:00") for f in fired)


def test_pause_for_days_then_resume(store, store_services, content):
    run(store_services, "/re-remind daily 09:00 UTC")
    reply = run(store_services, "/re-remind pause 2 days", now=T0)
    assert "Paused until" in text_of(reply)
    t = ticker(store, content)
    fired = []
    for day in range(4):
        fired += [r.fire_time.day for r in tick(t, datetime(2025, 1, 6 + day, 9, 0, tzinfo=UTC))]
    assert fired == [8, 9]  # the 6th and 7th were paused
    run(store_services, "/re-remind pause", now=datetime(2025, 1, 9, 10, tzinfo=UTC))
    assert tick(t, datetime(2025, 1, 10, 9, tzinfo=UTC)) == []
    assert "Paused" in text_of(run(store_services, "/re-remind list"))
    run(store_services, "/re-remind resume", now=datetime(2025, 1, 10, 10, tzinfo=UTC))
    assert [r.fire_time.day for r in tick(t, datetime(2025, 1, 11, 9, tzinfo=UTC))] == [11]


def test_snooze_button_brings_the_reminder_back_once_an_hour_later(store, store_services, content):
    run(store_services, "/re-remind daily 09:00 UTC")
    t = ticker(store, content)
    first = tick(t, datetime(2025, 1, 6, 9, 0, tzinfo=UTC))
    assert len(first) == 1
    reply = press(store_services, "remind.snooze", "1h", datetime(2025, 1, 6, 9, 5, tzinfo=UTC))
    assert not reply.error and "10:05" in text_of(reply)
    assert tick(t, datetime(2025, 1, 6, 10, 0, tzinfo=UTC)) == []
    again = tick(t, datetime(2025, 1, 6, 10, 5, tzinfo=UTC))
    assert [r.kind for r in again] == ["reminder"]
    assert tick(t, datetime(2025, 1, 6, 10, 6, tzinfo=UTC)) == []
    assert "not a snooze" in text_of(run(store_services, "/re-remind snooze 3 weeks"))


def test_done_button_records_progress_and_streak(store, store_services, content):
    run(store_services, "/re-remind daily 09:00 UTC")
    t = ticker(store, content)
    items = []
    for day in range(3):
        now = datetime(2025, 1, 6 + day, 9, 0, tzinfo=UTC)
        assert len([r for r in tick(t, now) if r.kind == "reminder"]) == 1  # (a finished paper also brings reviews)
        with store.sessions() as s:
            query = select(Delivery.item).where(Delivery.kind == "reminder").order_by(Delivery.id.desc())
            item = s.scalars(query).first()
        items.append(item)
        assert not press(store_services, "remind.done", item, now + timedelta(minutes=30)).error
    assert len(set(items)) == 3 and [i.split(":")[0] for i in items] == ["prompt", "prompt", "paper"]
    assert "Already recorded" in text_of(
        press(store_services, "remind.done", items[0], datetime(2025, 1, 8, 12, tzinfo=UTC))
    )
    progress = text_of(run(store_services, "/re-progress", now=datetime(2025, 1, 8, 20, tzinfo=UTC)))
    assert "**Streak:** 3 day(s)" in progress and "**papers:** 1" in progress and "**prompts:** 2" in progress
    assert press(store_services, "remind.done", "prompt:no-such-prompt", T0).error


def test_channel_papers_never_repeat_until_the_catalogue_is_exhausted(store, store_services, content):
    reply = run(store_services, "/re-subscribe papers 09:00 UTC", channel="C9")
    assert not reply.error and not reply.ephemeral
    t = ticker(store, content)
    n = len(content.papers)
    posted = []
    for day in range(n + 1):
        for r in tick(t, datetime(2025, 1, 6, 9, tzinfo=UTC) + timedelta(days=day)):
            with store.sessions() as s:
                posted.append(s.scalars(select(Delivery.item).where(Delivery.kind == CHANNEL_POST)
                                        .order_by(Delivery.id.desc())).first())  # fmt: skip
            assert r.kind == "channel-post" and "Study prompts" in r.text
    assert len(posted) == n + 1
    assert len(set(posted[:n])) == n  # every paper once
    assert posted[n] in posted[:n]  # then a new cycle


def test_subscription_show_and_unsubscribe_need_a_manager_to_change(store, store_services):
    assert "no subscription" in text_of(run(store_services, "/re-subscribe", channel="C2"))
    refused = run(store_services, "/re-subscribe papers 09:00 UTC", channel="C2", manage=False)
    assert refused.error and store.api.get_schedule(CHANNEL_POST, "console", "C2") is None
    run(store_services, "/re-subscribe papers 09:00 UTC weekdays", channel="C2")
    assert "weekdays at 09:00 (UTC)" in text_of(run(store_services, "/re-subscribe", channel="C2", manage=False))
    assert run(store_services, "/re-unsubscribe", channel="C2", manage=False).error
    run(store_services, "/re-unsubscribe", channel="C2")
    assert store.api.get_schedule(CHANNEL_POST, "console", "C2") is None


@pytest.mark.parametrize(
    "line",
    ["/re-remind daily 25:00 UTC", "/re-remind daily 09:00 Mars/Olympus", "/re-remind fortnightly 09:00 UTC",
     "/re-remind " + "x" * 3000, "/re-remind pause 9999 days", "/re-subscribe papers 24:30 UTC",
     "/re-subscribe papers 09:00 Atlantis/Nowhere", "/re-subscribe " + "papers " * 500, "/re-remind zone Nowhere/X"],
)  # fmt: skip
def test_bad_input_gets_a_helpful_reply_and_changes_nothing(store, store_services, line):
    before = run(store_services, "/re-remind daily 08:00 UTC")
    assert not before.error
    reply = run(store_services, line)
    assert reply.error and len(text_of(reply)) < 1000, text_of(reply)
    info = store.api.get_schedule(REMINDER, "console", "U1")
    assert (info.rule.hour, info.rule.zone, info.active) == (8, "UTC", True)
    assert store.api.get_schedule(CHANNEL_POST, "console", "C1") is None


def test_zone_is_asked_once_then_remembered(store, store_services):
    ask = run(store_services, "/re-remind daily 09:00", platform="discord")
    assert ask.error and "time zone" in text_of(ask)
    assert store.api.get_schedule(REMINDER, "discord", "U1") is None
    assert not run(store_services, "/re-remind daily 09:00 asia/kolkata", platform="discord").error
    reply = run(store_services, "/re-remind weekdays 10:00", platform="discord")
    assert "weekdays at 10:00 (Asia/Kolkata)" in text_of(reply)
    slack = run(store_services, "/re-remind daily 07:15", platform="slack", tz="America/New_York")
    assert "(America/New_York)" in text_of(slack)


def test_reminder_off_and_list(store, store_services):
    assert "no study reminder" in text_of(run(store_services, "/re-remind"))
    run(store_services, "/re-remind mon,wed,fri 6:30pm Europe/Paris")
    assert "Mon, Wed, Fri at 18:30 (Europe/Paris)" in text_of(run(store_services, "/re-remind list"))
    assert "is off" in text_of(run(store_services, "/re-remind off"))
    assert store.api.get_schedule(REMINDER, "console", "U1") is None


async def test_429_retry_after_is_honoured_and_nothing_is_lost_or_repeated(store, store_services, content):
    for i in range(12):
        run(store_services, "/re-remind daily 09:00 UTC", user=f"U{i}")
    fake = FakePlatform(rate=40, burst=2)
    runner, url = await fake.start()
    sender = HttpSender(url)
    try:
        report = await ticker(store, content, {"console": sender}).tick(datetime(2025, 1, 6, 9, tzinfo=UTC))
    finally:
        await sender.close()
        await runner.cleanup()
    assert [r.status for r in report.results] == ["sent"] * 12
    assert len(fake.received) == 12 and fake.duplicates() == 0
    assert fake.rejected_429 > 0  # the default console budget is faster than the fake: 429s happened and were honoured


async def test_transient_errors_are_retried_and_permanent_ones_pause_the_schedule(store, store_services, content):
    run(store_services, "/re-remind daily 09:00 UTC", user="U-flaky")
    run(store_services, "/re-remind daily 09:00 UTC", user="U-closed")
    fake = FakePlatform(closed={"U-closed"})
    fake.flaky["U-flaky"] = 2
    runner, url = await fake.start()
    sender = HttpSender(url)
    t = ticker(store, content, {"console": sender})
    try:
        report = await t.tick(datetime(2025, 1, 6, 9, tzinfo=UTC))
        again = await t.tick(datetime(2025, 1, 7, 9, tzinfo=UTC))
    finally:
        await sender.close()
        await runner.cleanup()
    status = {r.target: r.status for r in report.results}
    assert status == {"U-flaky": "sent", "U-closed": "failed"}
    assert [r.target for r in again.results] == ["U-flaky"]  # the paused schedule is not retried
    closed = store.api.get_schedule(REMINDER, "console", "U-closed")
    assert not closed.active and "cannot_dm_user" in closed.pause_reason
    assert "cannot_dm_user" in text_of(run(store_services, "/re-remind list", user="U-closed"))
    with store.sessions() as s:
        rows = {d.target: (d.status, d.attempts) for d in s.scalars(select(Delivery)) if d.fire_time.day == 6}
    assert rows["U-flaky"][0] == "sent" and rows["U-flaky"][1] == 3
    assert rows["U-closed"][0] == "failed"


async def test_transient_failures_beyond_one_lease_go_back_to_the_outbox(store, store_services, content):
    run(store_services, "/re-remind daily 09:00 UTC", user="U-down")
    fake = FakePlatform()
    fake.flaky["U-down"] = 5
    runner, url = await fake.start()
    sender = HttpSender(url)
    policy = DispatchPolicy(attempts_per_lease=2, backoff_initial=0.001, backoff_max=0.001)
    t = ticker(store, content, {"console": sender}, policy=policy)
    statuses = []
    try:
        for minute in range(4):
            report = await t.tick(datetime(2025, 1, 6, 9, minute, tzinfo=UTC))
            statuses += [r.status for r in report.results]
            await asyncio.sleep(0.01)  # let the back-off time pass
    finally:
        await sender.close()
        await runner.cleanup()
    assert statuses == ["retry", "retry", "sent"] and len(fake.received) == 1


def test_deleting_a_schedule_drops_its_pending_deliveries(store, store_services, content):
    run(store_services, "/re-remind daily 09:00 UTC")
    t = ticker(store, content, senders={})  # claim only: nothing can send
    tick(t, datetime(2025, 1, 6, 9, tzinfo=UTC))
    run(store_services, "/re-remind off")
    with store.sessions() as s:
        assert s.scalars(select(Delivery)).all() == [] and s.scalars(select(Schedule)).all() == []


async def test_sending_starts_after_the_first_claimed_batch_not_after_the_whole_claim(store, content, monkeypatch):
    """A fan-out's first lease takes its turn right after the claim's first (small) batch. Before, on SQLite, the
    lease polled for the database's write lock and lost to the claim's back-to-back batches until every due schedule
    was claimed, so no message left before the whole claim was done."""
    due = FIRST_BATCH + 2 * BATCH // 5
    for i in range(due):
        store.api.put_schedule(REMINDER, "console", f"U{i:04d}", Rule(9, 0, "UTC"), now=T0, created_by="U0")
    in_outbox_at_lease: list[int] = []
    lease = Dispatcher._lease

    def counting_lease(self, *args, **kwargs):
        with self.sessions() as session:
            in_outbox_at_lease.append(session.scalar(select(func.count()).select_from(Delivery)))
        return lease(self, *args, **kwargs)

    monkeypatch.setattr(Dispatcher, "_lease", counting_lease)
    report = await ticker(store, content).tick(datetime(2025, 1, 6, 9, tzinfo=UTC))
    assert in_outbox_at_lease[0] == FIRST_BATCH
    assert sorted(r.target for r in report.results if r.status == "sent") == [f"U{i:04d}" for i in range(due)]
