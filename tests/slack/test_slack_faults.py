"""Slack delivery through its real failures, on SQLite and PostgreSQL: the real SlackSender and the real dispatcher
(a Ticker with `re-bot run`'s budgets) against the fake Web API.

A revoked token is the bot's fault: nothing is paused or failed, /readyz names it, one error is logged, and the day's
messages go out once the token works again. Only a member's or channel's own refusal pauses its schedule."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fake_slack import BOT_TOKEN, FakeSlack, Limits
from metrics_endpoint import MetricsEndpoint
from slack_harness import FAST_POLICY, make_services
from sqlalchemy import func, select

from bot.config import Settings
from bot.platforms.slack.client import make_client
from bot.platforms.slack.sender import SlackSender
from bot.runtime import Health
from bot.schedule.delivery import Sent
from bot.schedule.faults import PlatformFaults
from bot.schedule.outbox import held_counts
from bot.schedule.ticker import Ticker, budgets
from bot.store.models import Delivery, Schedule
from handlers.schedule import Rule
from handlers.store_api import CHANNEL_POST, REMINDER

DUE = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
TICK = DUE + timedelta(minutes=1)


@pytest.fixture
async def fake_api():
    fake = await FakeSlack().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def sender(fake_api):
    made = SlackSender(make_client(BOT_TOKEN, fake_api.api_url))
    yield made
    await made.close()


def ticker_for(store, sender, **settings) -> Ticker:
    made = Ticker(store.sessions, make_services().content, {"slack": sender}, policy=FAST_POLICY,
                  budgets=budgets(Settings(_env_file=None, **settings)))  # fmt: skip
    return made


def add(store, kind: str, target: str, workspace: str | None = "T0TEST") -> None:
    store.api.put_schedule(kind, "slack", target, Rule(9, 0, "UTC"), now=DUE - timedelta(hours=1), created_by="U0",
                           workspace=workspace)  # fmt: skip


def counts(store) -> dict[str, int]:
    with store.sessions() as session:
        rows = session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
        paused = session.scalar(select(func.count()).select_from(Schedule).where(Schedule.status == "paused"))
    return {**dict(rows.all()), "paused": paused or 0}


class Platform:
    """What /readyz reads of a platform: started, and the sender's faults."""

    name = "slack"

    def __init__(self, sender: SlackSender) -> None:
        self.sender = sender

    @property
    def ready(self) -> bool:
        return not self.sender.faults.active

    @property
    def problem(self) -> str | None:
        return self.sender.faults.problem()


async def test_token_revoked_mid_fan_out_pauses_nobody_and_the_day_arrives_once_it_works(
    store, fake_api, sender, caplog
):
    members = [f"U{i:03d}" for i in range(12)]
    for member in members:
        add(store, REMINDER, member)
    fake_api.fail("chat.postMessage", error="token_revoked", skip=3, times=10_000)
    ticker = ticker_for(store, sender)
    caplog.set_level(logging.ERROR)

    report = await ticker.tick(TICK)
    assert sum(r.status == "sent" for r in report.results) == 3
    assert {r.status for r in report.results} == {"sent", "held"}
    assert counts(store) == {"sent": 3, "pending": 9, "paused": 0}
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "token_revoked" in errors[0].getMessage()  # one error, not one per member
    assert "no schedule is paused" in errors[0].getMessage()

    health = Health(services=make_services(), platforms=[Platform(sender)], started=True)
    ready, checks = await health.readiness()
    assert not ready and "revoked the bot token (token_revoked)" in checks["platform:slack"]

    # Still revoked a minute later: auth.test says so, nothing is posted, nothing more is logged.
    fake_api.failures.clear()
    fake_api.revoked = True
    posts_before = len(fake_api.calls_to("chat.postMessage"))
    report = await ticker.tick(TICK + timedelta(minutes=1))
    assert [r.status for r in report.results] == [] and len(fake_api.calls_to("chat.postMessage")) == posts_before
    assert fake_api.calls_to("auth.test")
    assert counts(store) == {"sent": 3, "pending": 9, "paused": 0}
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1

    # The token works again (the workspace re-authorised the app): the day's messages go out, each once.
    fake_api.revoked = False
    report = await ticker.tick(TICK + timedelta(minutes=2))
    assert sum(r.status == "sent" for r in report.results) == 9
    assert counts(store) == {"sent": 12, "paused": 0}
    delivered = [c.args["channel"] for c in fake_api.calls_to("chat.postMessage") if c.ok]
    assert sorted(delivered) == members
    assert (await health.readiness())[0]


@pytest.mark.parametrize("error", ["invalid_auth", "account_inactive", "not_authed", "token_revoked"])
async def test_each_bot_token_error_holds_slack_and_pauses_nothing(store, fake_api, sender, error):
    add(store, REMINDER, "U1")
    add(store, CHANNEL_POST, "C1")
    fake_api.fail("chat.postMessage", error=error, times=10)
    report = await ticker_for(store, sender).tick(TICK)
    assert {r.status for r in report.results} == {"held"}
    assert counts(store) == {"pending": 2, "paused": 0}
    assert error in (sender.faults.problem() or "")


async def test_not_in_channel_pauses_only_that_subscription_and_says_to_invite(store, fake_api, sender):
    add(store, CHANNEL_POST, "C1")
    add(store, CHANNEL_POST, "C2")
    fake_api.fail("chat.postMessage", error="not_in_channel", channel="C1")
    report = await ticker_for(store, sender).tick(TICK)
    assert sorted((r.target, r.status) for r in report.results) == [("C1", "failed"), ("C2", "sent")]
    info = store.api.get_schedule(CHANNEL_POST, "slack", "C1")
    assert not info.active and "/invite" in info.pause_reason
    assert store.api.get_schedule(CHANNEL_POST, "slack", "C2").active
    assert not sender.faults.active


async def test_one_http_session_for_every_post(fake_api, sender):
    """slack_sdk without `session=` opens a session (a new connection, a TLS handshake) per call; ours keeps one."""
    reply = make_services().content.papers[0]
    from handlers.papers import paper_reply

    for i in range(5):
        await sender.send(f"U{i}", paper_reply(reply), kind="reminder", nonce=f"n{i}")
    await sender.check(None)
    peers = {c.peer for c in fake_api.calls}
    assert len(fake_api.calls) == 6 and len(peers) == 1


async def test_a_workspace_429_holds_every_slack_send_and_lowers_the_adaptive_rate(store, fake_api, sender):
    fake_api.limits = Limits(rate=1000, burst=1000)  # generous: only the forced 429 below limits
    for i in range(4):
        add(store, REMINDER, f"U{i}")
    fake_api.fail("chat.postMessage", status=429, retry_after=1, skip=1)
    ticker = ticker_for(store, sender)
    budget = ticker.dispatcher.budgets["slack"]
    before = budget.rate
    report = await ticker.tick(TICK)
    assert sorted(r.status for r in report.results) == ["sent"] * 4
    calls = fake_api.calls_to("chat.postMessage")
    limited = next(c for c in calls if not c.ok)
    retried = [c for c in calls if c.ok and c.args["channel"] == limited.args["channel"]]
    assert len(calls) == 5 and len(retried) == 1 and retried[0].at - limited.at >= 0.9
    # Posts already on their way when the 429 came land; none starts during the Retry-After.
    assert not [c for c in calls if 0.1 < c.at - limited.at < 0.9]
    assert budget.rate < before


async def test_an_operator_cap_is_the_ceiling(store, fake_api, sender):
    ticker = ticker_for(store, sender, RE_BOT_RATE_SLACK=3)
    budget = ticker.dispatcher.budgets["slack"]
    for _ in range(100):
        budget.succeeded()
    assert budget.rate == 3


def test_slack_rate_defaults_adapt_without_a_cap():
    slack = budgets(Settings(_env_file=None))["slack"]
    assert slack.adaptive is not None and slack.adaptive.ceiling >= 1000 and slack.rate == 20
    policy = replace(FAST_POLICY)
    assert policy.target_wait_max > 0


async def held(endpoint: MetricsEndpoint, reason: str = "token_revoked") -> float | None:
    return await endpoint.sample("re_bot_deliveries_held", platform="slack", reason=reason)


async def test_deliveries_a_revoked_token_holds_are_counted_in_metrics_until_it_works(store, fake_api, sender):
    """re_bot_deliveries_held, read from the real /metrics: what the fault holds once it trips, more as later passes
    claim more, 0 once the token works again."""
    for i in range(5):
        add(store, REMINDER, f"U{i}")
    fake_api.fail("chat.postMessage", error="token_revoked", skip=2, times=10_000)
    ticker = ticker_for(store, sender)
    async with MetricsEndpoint() as endpoint:
        await ticker.tick(TICK)
        assert await held(endpoint) == 3

        # Still revoked when two more members' 09:02 reminders are claimed: they are held too.
        fake_api.failures.clear()
        fake_api.revoked = True
        for member in ("U5", "U6"):
            store.api.put_schedule(REMINDER, "slack", member, Rule(9, 2, "UTC"), now=DUE, created_by="U0",
                                   workspace="T0TEST")  # fmt: skip
        report = await ticker.tick(TICK + timedelta(minutes=1))
        assert report.claimed == 2 and await held(endpoint) == 5

        fake_api.revoked = False
        report = await ticker.tick(TICK + timedelta(minutes=2))
        assert sum(r.status == "sent" for r in report.results) == 5
        assert await held(endpoint) == 0


class GatedSender:
    """A console sender whose sends wait until the test opens the gate: it keeps a tick's run going."""

    platform = "console"

    def __init__(self) -> None:
        self.gate = asyncio.Event()

    async def send(self, target: str, reply, *, kind: str, nonce: str) -> Sent:
        await self.gate.wait()
        return Sent(nonce)


async def test_the_held_count_follows_a_fault_as_it_trips_not_only_when_the_pass_ends(store, fake_api, sender):
    for i in range(4):
        add(store, REMINDER, f"U{i}")
    store.api.put_schedule(REMINDER, "console", "C-member", Rule(9, 0, "UTC"), now=DUE - timedelta(hours=1),
                           created_by="U0")  # fmt: skip
    fake_api.fail("chat.postMessage", error="invalid_auth", skip=1, times=10_000)
    console = GatedSender()
    ticker = Ticker(store.sessions, make_services().content, {"slack": sender, "console": console}, policy=FAST_POLICY,
                    budgets=budgets(Settings(_env_file=None)))  # fmt: skip
    async with MetricsEndpoint() as endpoint:
        tick = asyncio.create_task(ticker.tick(TICK))
        for _ in range(1000):  # the console delivery keeps the pass going: the count comes from the fault tripping
            if await held(endpoint, "invalid_auth") == 3:
                break
            assert not tick.done()
            await asyncio.sleep(0.01)
        assert await held(endpoint, "invalid_auth") == 3
        console.gate.set()
        report = await tick
        assert sorted(r.status for r in report.results) == ["held", "held", "held", "sent", "sent"]

        # The token works again: the fault clears at the next pass and the count drops to 0.
        fake_api.failures.clear()
        await ticker.tick(TICK + timedelta(minutes=1))
        assert await held(endpoint, "invalid_auth") == 0


async def test_a_workspaces_revoked_token_holds_only_that_workspaces_deliveries(store):
    """Slack in many workspaces: each token is its own fault, and each holds only its workspace's deliveries."""
    for i, workspace in enumerate(["T1", "T1", "T2", None]):
        add(store, REMINDER, f"U{i}", workspace=workspace)
    await Ticker(store.sessions, make_services().content, {}).tick(TICK)  # claim only: nothing can send
    faults = PlatformFaults("slack")
    faults.trip("revoked", "T1", now=TICK, code="token_revoked")
    faults.trip("expired", "T3", now=TICK, code="token_expired")
    assert held_counts(store.sessions, "slack", faults.active) == {"token_revoked": 2, "token_expired": 0}
    faults.trip("refused", None, now=TICK, code="http_401")  # the whole platform: every delivery, once
    assert held_counts(store.sessions, "slack", faults.active) == {"http_401": 4}
    assert held_counts(store.sessions, "discord", faults.active) == {"http_401": 0}
