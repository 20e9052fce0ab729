"""Discord delivery through its real failures, on SQLite and PostgreSQL: the real DiscordSender (discord.py's real
HTTP client) and the real dispatcher against the fake Discord API and gateway.

Who waits is decided by the fault's owner: a 401 or a dead gateway holds the platform and pauses nobody; a shared
429 on one member's DM delays only that member; closed DMs, a deleted channel or missing access pause only that
schedule, each saying why; failing to thread a post after it went out never fails the post."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from discord_support import Clock, shared_services
from metrics_endpoint import MetricsEndpoint
from sqlalchemy import func, select

from bot.config import Settings
from bot.platforms.discord.client import DiscordPlatform, ReBotClient
from bot.platforms.discord.sender import CLOSED_DMS
from bot.runtime import Health, build_web_app, healthz
from bot.schedule.ticker import Ticker
from bot.store.models import Delivery, DmChannel, Schedule
from handlers.schedule import Rule
from handlers.store_api import CHANNEL_POST, REMINDER

DUE = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
TICK = DUE + timedelta(minutes=1)
CHANNEL = 810000000000000001
MEMBERS = [str(820000000000000000 + i) for i in range(6)]


@pytest.fixture
def services(store):
    return replace(shared_services(), store=store.api, clock=Clock(TICK))


@pytest.fixture
async def client(fake_discord, services):
    made = ReBotClient(services)
    await made.login("fake-token")
    yield made
    await made.close()


def ticker_for(store, client) -> Ticker:
    made = Ticker.from_settings(Settings(_env_file=None), store, shared_services().content, {"discord": client.sender})
    made.policy = replace(made.policy, backoff_initial=0.01, backoff_max=0.05)
    return made


def add(store, kind: str, target: str) -> None:
    store.api.put_schedule(kind, "discord", target, Rule(9, 0, "UTC"), now=DUE - timedelta(hours=1), created_by="1")


def counts(store) -> dict[str, int]:
    with store.sessions() as session:
        rows = session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
        paused = session.scalar(select(func.count()).select_from(Schedule).where(Schedule.status == "paused"))
    return {**dict(rows.all()), "paused": paused or 0}


def accepted(fake, path: str = r"/channels/\d+/messages") -> list:
    return [r for r in fake.calls("POST", path) if r.status == 200]


async def test_a_401_holds_discord_pauses_nobody_and_resumes_when_the_token_works(store, fake_discord, client, caplog):
    for member in MEMBERS:
        add(store, REMINDER, member)
    add(store, CHANNEL_POST, str(CHANNEL))
    fake_discord.token_revoked = True
    ticker = ticker_for(store, client)
    caplog.set_level(logging.ERROR)
    async with MetricsEndpoint() as endpoint:

        async def held() -> float | None:
            return await endpoint.sample("re_bot_deliveries_held", platform="discord", reason="unauthorized")

        report = await ticker.tick(TICK)
        assert {r.status for r in report.results} == {"held"}
        assert counts(store) == {"pending": 7, "paused": 0}
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("bot")]
        assert len(errors) == 1 and "401" in errors[0] and "DISCORD_TOKEN" in errors[0]
        assert "401" in (client.sender.faults.problem() or "")
        assert await held() == 7  # /metrics counts what the fault holds

        report = await ticker.tick(TICK + timedelta(minutes=1))  # still refused: checked once, nothing sent
        assert report.results == [] and fake_discord.calls("GET", "/users/@me")[-1].status == 401
        assert await held() == 7

        fake_discord.token_revoked = False
        report = await ticker.tick(TICK + timedelta(minutes=2))
        assert sorted(r.status for r in report.results) == ["sent"] * 7
        assert counts(store) == {"sent": 7, "paused": 0}
        assert not client.sender.faults.active
        assert await held() == 0


async def test_a_shared_429_on_one_members_dm_delays_only_that_member(store, fake_discord, client):
    for member in MEMBERS:
        add(store, REMINDER, member)
    slow = MEMBERS[2]
    dm = await client.sender.dm_channel(int(slow))
    fake_discord.rate_limit("POST", rf"/channels/{dm}/messages", retry_after=600, scope="shared")
    ticker = ticker_for(store, client)

    started = asyncio.get_running_loop().time()
    report = await ticker.tick(TICK)
    assert asyncio.get_running_loop().time() - started < 10  # nobody waited the 600 s
    assert sorted((r.target == slow, r.status) for r in report.results) == [(False, "sent")] * 5 + [(True, "retry")]
    with store.sessions() as session:
        row = session.scalars(select(Delivery).where(Delivery.target == slow)).one()
    assert row.status == "pending" and row.attempts == 0  # a rate limit uses up no attempt
    assert row.next_attempt_at is not None and row.next_attempt_at >= datetime.now(UTC) + timedelta(seconds=590)
    assert counts(store)["paused"] == 0
    assert not ticker.dispatcher.budgets["discord"]._held_until  # the platform was never held


async def test_a_long_global_429_holds_the_whole_platform(store, fake_discord, client):
    for member in MEMBERS[:2]:
        add(store, REMINDER, member)
    client.http.max_ratelimit_timeout = 0.05  # so a 0.5 s one comes back to the dispatcher instead of discord.py
    fake_discord.rate_limit("POST", r"/channels/\d+/messages", retry_after=0.5, scope="global")
    report = await ticker_for(store, client).tick(TICK)
    assert sorted(r.status for r in report.results) == ["sent", "sent"]
    tries = fake_discord.calls("POST", r"/channels/\d+/messages")
    limited = next(r for r in tries if r.status == 429)
    late = [r for r in tries if r.status == 200 and r.at > limited.at + 0.1]
    assert late and all(r.at - limited.at >= 0.45 for r in late)


async def test_40003_is_pacing_slow_down_and_retry(store, fake_discord, client):
    add(store, REMINDER, MEMBERS[0])
    fake_discord.fail("POST", "/users/@me/channels", 403, {"message": "You are opening direct messages too fast",
                                                              "code": 40003})  # fmt: skip
    ticker = ticker_for(store, client)
    before = client.sender.dm_opens.rate
    report = await ticker.tick(TICK)
    assert [r.status for r in report.results] == ["sent"]  # waited its turn, then went out
    first, second = fake_discord.calls("POST", "/users/@me/channels")
    assert first.status == 403 and second.status == 200 and second.at - first.at >= 2 * 0.9
    assert client.sender.dm_opens.rate == before / 2  # DM opens slowed down
    assert counts(store) == {"sent": 1, "paused": 0}


@pytest.mark.parametrize(("code", "words"), [(50001, "View Channel"), (50013, "Embed Links")])
async def test_missing_access_pauses_the_subscription_naming_the_permission(store, fake_discord, client, code, words):
    add(store, CHANNEL_POST, str(CHANNEL))
    add(store, REMINDER, MEMBERS[0])
    fake_discord.fail("POST", f"/channels/{CHANNEL}/messages", 403, {"message": "Missing", "code": code})
    report = await ticker_for(store, client).tick(TICK)
    assert sorted((r.kind, r.status) for r in report.results) == [("channel-post", "failed"), ("reminder", "sent")]
    info = store.api.get_schedule(CHANNEL_POST, "discord", str(CHANNEL))
    assert not info.active and str(code) in info.pause_reason and words in info.pause_reason
    assert store.api.get_schedule(REMINDER, "discord", MEMBERS[0]).active


async def test_closed_dms_and_a_deleted_channel_pause_only_their_own_schedules(store, fake_discord, client):
    add(store, CHANNEL_POST, str(CHANNEL))
    for member in MEMBERS[:2]:
        add(store, REMINDER, member)
    fake_discord.closed_dms.add(int(MEMBERS[0]))
    fake_discord.gone_channels.add(CHANNEL)
    report = await ticker_for(store, client).tick(TICK)
    assert sorted((r.target, r.status) for r in report.results) == sorted(
        [(str(CHANNEL), "failed"), (MEMBERS[0], "failed"), (MEMBERS[1], "sent")]
    )
    assert store.api.get_schedule(REMINDER, "discord", MEMBERS[0]).pause_reason == CLOSED_DMS
    assert "10003" in store.api.get_schedule(CHANNEL_POST, "discord", str(CHANNEL)).pause_reason
    assert store.api.get_schedule(REMINDER, "discord", MEMBERS[1]).active


@pytest.mark.parametrize("code", [160004, 160006, 50024])
async def test_a_failed_start_thread_never_fails_the_post(store, fake_discord, client, code):
    add(store, CHANNEL_POST, str(CHANNEL))
    fake_discord.thread_error = code
    (result,) = (await ticker_for(store, client).tick(TICK)).results
    assert result.status == "sent"
    assert store.api.get_schedule(CHANNEL_POST, "discord", str(CHANNEL)).active
    post, prompts = accepted(fake_discord)
    assert post.json["embeds"][0]["title"] == "Paper of the day"
    if code == 160004:  # the thread exists (an earlier try made it): the prompts go into it (its id is the post's)
        assert prompts.path == f"/channels/{post.response['id']}/messages"
    else:  # no thread possible: the prompts answer the post in the channel
        assert prompts.path == f"/channels/{CHANNEL}/messages"
        assert str(prompts.json["message_reference"]["message_id"]) == post.response["id"]


async def test_prompts_failing_after_the_post_went_out_leave_it_delivered(store, fake_discord, client):
    add(store, CHANNEL_POST, str(CHANNEL))
    fake_discord.fail("POST", r"/channels/\d+/messages/\d+/threads", 503, times=10)
    (result,) = (await ticker_for(store, client).tick(TICK)).results
    assert result.status == "sent" and counts(store) == {"sent": 1, "paused": 0}


async def test_a_dm_channel_is_opened_once_per_member_ever(store, fake_discord, services):
    for member in MEMBERS:
        add(store, REMINDER, member)
    for day in range(3):  # three days, each in a new process (a new client: nothing remembered in memory)
        client = ReBotClient(services)
        await client.login("fake-token")
        try:
            report = await ticker_for(store, client).tick(TICK + timedelta(days=day))
        finally:
            await client.close()
        assert sorted(r.status for r in report.results) == ["sent"] * len(MEMBERS)
    assert len(fake_discord.calls("POST", "/users/@me/channels")) == len(MEMBERS)
    with store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DmChannel)) == len(MEMBERS)
    assert len(accepted(fake_discord)) == 3 * len(MEMBERS)


@pytest.mark.parametrize("code", [4004, 4014])
async def test_a_fatal_gateway_close_ends_discord_visibly(store, fake_discord, services, code, caplog):
    add(store, REMINDER, MEMBERS[0])
    fake_discord.gateway_close = code
    platform = DiscordPlatform("fake-token", services, api_url=fake_discord.base)
    app = build_web_app(Health(services=services, platforms=[platform], started=True))
    caplog.set_level(logging.ERROR)
    await platform.start()
    try:
        for _ in range(500):
            if platform.fatal:
                break
            await asyncio.sleep(0.01)
        assert platform.fatal and str(code) in platform.fatal
        errors = [r.getMessage() for r in caplog.records if r.name.startswith("bot")]
        assert any("ended for good" in e and str(code) in e for e in errors)
        ready, checks = await _readiness(app)
        assert not ready and str(code) in checks["platform:discord"]
        response = await healthz(_request(app))
        assert response.status == 503
        ticker = ticker_for(store, platform.client)
        report = await ticker.tick(TICK)
        assert report.claimed == 0 and report.results == []  # no Discord rows claimed, none sent
        assert store.api.get_schedule(REMINDER, "discord", MEMBERS[0]).active
    finally:
        await platform.stop()


async def _readiness(app):
    from bot.runtime import HEALTH

    return await app[HEALTH].readiness()


def _request(app):
    from aiohttp.test_utils import make_mocked_request

    return make_mocked_request("GET", "/healthz", app=app)


async def test_a_healthy_gateway_is_ready(store, fake_discord, services):
    platform = DiscordPlatform("fake-token", services, api_url=fake_discord.base)
    await platform.start()
    try:
        for _ in range(500):
            if platform.ready:
                break
            await asyncio.sleep(0.01)
        assert platform.ready and platform.fatal is None and platform.problem is None
    finally:
        await platform.stop()
    assert platform.fatal is None  # a clean stop is not a failure
