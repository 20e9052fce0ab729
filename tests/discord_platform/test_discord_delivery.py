"""Scheduled delivery on Discord end to end: reminders and subscriptions set through interactions, a tick of the
scheduler (`now` passed in) through the dispatcher and the `DiscordSender`, every message at the fake Discord API."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from discord_support import CHANNEL_ID, EPHEMERAL, MANAGE_CHANNELS, MEMBER_ID, callback_of, feed, press, slash
from sqlalchemy import select

from bot.config import Settings
from bot.platforms.discord.client import ReBotClient
from bot.platforms.discord.reminders import WELCOME
from bot.platforms.discord.sender import CLOSED_DMS, message_nonce
from bot.schedule.ticker import Ticker
from bot.store.models import Delivery
from handlers.schedule import Rule
from handlers.store_api import CHANNEL_POST, REMINDER

MEMBER = str(MEMBER_ID)
CHANNEL = str(CHANNEL_ID)
FIRE = datetime(2026, 3, 10, 9, 15, tzinfo=UTC)  # 10:15 in Berlin (CET)
TICK = FIRE + timedelta(minutes=1)
REMINDER_TITLE = "Your study reminder: today's step"


async def command(bot, name: str, options: dict | None = None, **kwargs) -> None:
    await feed(bot, slash(name, options, **kwargs))


async def set_reminder(bot, time_: str = "10:15") -> None:
    await command(bot, "re-remind", {"time": time_, "zone": "Europe/Berlin"}, sub="daily")


async def subscribe(bot, time_: str = "10:15") -> None:
    await command(bot, "re-subscribe", {"time": time_, "zone": "Europe/Berlin"}, permissions=MANAGE_CHANNELS)


def deliveries(store) -> list[Delivery]:
    with store.sessions() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def posts(fake, channel: int | str | None = None, *, accepted: bool = True) -> list:
    """Messages posted (Discord accepted them, unless `accepted` is False), leaving out the first-DM checks."""
    path = rf"/channels/{channel}/messages" if channel is not None else r"/channels/\d+/messages"

    def first_dm(r) -> bool:
        return bool(r.json["embeds"]) and r.json["embeds"][0].get("title") == WELCOME.title

    return [r for r in fake.calls("POST", path) if (r.status == 200 or not accepted) and not first_dm(r)]


def dm_channel(fake) -> int:
    return int(fake.calls("POST", "/users/@me/channels")[0].response["id"])


def custom_ids(message: dict) -> list[str]:
    return [c["custom_id"] for row in message.get("components", []) for c in row["components"]]


async def test_a_reminder_and_a_channel_post_land_once_each_with_nonces(bot, fake_discord, discord_store, ticker):
    await set_reminder(bot)
    await subscribe(bot)
    assert (await ticker.tick(FIRE - timedelta(minutes=1))).results == []

    report = await ticker.tick(TICK)
    assert sorted((r.kind, r.target, r.status) for r in report.results) == [
        ("channel-post", CHANNEL, "sent"),
        ("reminder", MEMBER, "sent"),
    ]
    rows = {row.kind: row for row in deliveries(discord_store)}
    assert all(row.status == "sent" and row.message_id for row in rows.values())

    (dm,) = posts(fake_discord, dm_channel(fake_discord))
    assert dm.json["embeds"][0]["title"] == REMINDER_TITLE
    assert dm.json["nonce"] == message_nonce(f"re-{rows[REMINDER].id}", 0) and dm.json["enforce_nonce"] is True
    assert dm.json["allowed_mentions"] == {"parse": []}
    item = rows[REMINDER].item
    assert custom_ids(dm.json) == [f"re:remind.done:{item}", "re:remind.snooze:1h"]

    (post,) = posts(fake_discord, CHANNEL_ID)
    assert post.json["embeds"][0]["title"] == "Paper of the day"
    assert post.json["nonce"] == message_nonce(f"re-{rows[CHANNEL_POST].id}", 0) and post.json["enforce_nonce"]
    assert not (post.json.get("flags") or 0) & EPHEMERAL
    # The paper's study prompts: a thread on the post, each message with its own nonce from the same delivery.
    (thread,) = fake_discord.calls("POST", rf"/channels/{CHANNEL_ID}/messages/{post.response['id']}/threads")
    (prompts,) = posts(fake_discord, thread.response["id"])
    assert prompts.json["embeds"][0]["title"] == "Study prompts"
    assert prompts.json["nonce"] == message_nonce(f"re-{rows[CHANNEL_POST].id}", 1)

    before = len(fake_discord.requests)
    assert (await ticker.tick(TICK)).results == []
    assert (await ticker.tick(TICK + timedelta(minutes=30))).results == []
    assert len(fake_discord.requests) == before  # a re-tick sends nothing

    report = await ticker.tick(TICK + timedelta(days=1))
    assert len(report.results) == 2 and len(posts(fake_discord)) == 6  # tomorrow: a DM, a post, its prompts


@pytest.mark.parametrize("long", [False, True], ids=["discord.py-retries", "dispatcher-holds-the-budget"])
async def test_a_429_is_honoured_and_the_dm_lands_once(bot, fake_discord, discord_store, ticker, long):
    await set_reminder(bot)
    dm = dm_channel(fake_discord)
    fake_discord.rate_limit("POST", rf"/channels/{dm}/messages", retry_after=0.2)
    if long:
        # A wait longer than discord.py sleeps through inside a request (30 s in production) comes back to the
        # dispatcher, which holds the whole Discord budget for the Retry-After and sends again.
        bot.http.max_ratelimit_timeout = 0.05
    report = await ticker.tick(TICK)
    assert [r.status for r in report.results] == ["sent"]
    tries = posts(fake_discord, dm, accepted=False)
    assert [r.status for r in tries] == [429, 200]
    assert tries[0].json["nonce"] == tries[1].json["nonce"]
    assert tries[1].at - tries[0].at >= 0.2 * 0.9  # waited (at least) the Retry-After before trying again


async def test_closed_dms_at_delivery_pause_the_reminder_with_the_reason(bot, fake_discord, discord_store, ticker):
    await set_reminder(bot)
    fake_discord.closed_dms.add(MEMBER_ID)  # closed after the reminder was set
    report = await ticker.tick(TICK)
    (result,) = report.results
    assert result.status == "failed" and "50007" in result.error
    assert len(posts(fake_discord, accepted=False)) == 1  # refused once, not retried
    info = discord_store.api.get_schedule(REMINDER, "discord", MEMBER)
    assert not info.active and info.pause_reason == CLOSED_DMS
    payload = slash("re-remind", sub="list")
    await feed(bot, payload)
    listed = callback_of(fake_discord, payload)["data"]["embeds"][0]["description"]
    assert "**Paused**: Discord would not deliver" in listed
    assert (await ticker.tick(TICK + timedelta(days=1))).results == []


async def test_a_deleted_channel_pauses_the_subscription(bot, fake_discord, discord_store, ticker):
    await subscribe(bot)
    fake_discord.gone_channels.add(CHANNEL_ID)
    (result,) = (await ticker.tick(TICK)).results
    assert result.status == "failed" and "10003" in result.error
    info = discord_store.api.get_schedule(CHANNEL_POST, "discord", CHANNEL)
    assert not info.active and "no longer exists" in info.pause_reason
    assert len(fake_discord.calls("POST", rf"/channels/{CHANNEL_ID}/messages")) == 1
    assert (await ticker.tick(TICK + timedelta(days=1))).results == []


async def test_reminder_buttons_work_after_a_restart(bot, fake_discord, discord_store, ticker, clock):
    """Done and Snooze 1h on a reminder DM sent by one process, pressed after a restart, change the store."""
    await set_reminder(bot)
    await ticker.tick(TICK)
    (dm,) = posts(fake_discord, dm_channel(fake_discord))
    message = {"embeds": dm.json["embeds"], "components": dm.json["components"]}
    await bot.close()

    restarted = ReBotClient(bot.services)
    await restarted.login("fake-token")
    try:
        clock.now = TICK + timedelta(minutes=5)
        done_id, snooze_id = custom_ids(dm.json)
        pressed = press(done_id, message=message, ephemeral=False, guild=False)
        await feed(restarted, pressed)
        answer = callback_of(fake_discord, pressed)
        assert answer["type"] == 4 and answer["data"]["flags"] & EPHEMERAL  # the DM itself stays as it was
        assert "Nice work, recorded" in answer["data"]["embeds"][0]["description"]
        (done,) = discord_store.api.done_items("discord", MEMBER)
        assert done.item == done_id.removeprefix("re:remind.done:") and done.day == TICK.date()

        again = press(done_id, message=message, ephemeral=False, guild=False)
        await feed(restarted, again)
        assert "Already recorded" in callback_of(fake_discord, again)["data"]["embeds"][0]["description"]

        progress = slash("re-progress", guild=False)
        await feed(restarted, progress)
        assert "**Streak:** 1 day(s)" in callback_of(fake_discord, progress)["data"]["embeds"][0]["description"]

        snoozed = press(snooze_id, message=message, ephemeral=False, guild=False)
        await feed(restarted, snoozed)
        assert "Snoozed" in callback_of(fake_discord, snoozed)["data"]["embeds"][0]["title"]
        assert discord_store.api.get_schedule(REMINDER, "discord", MEMBER).snooze_at == clock.now + timedelta(hours=1)

        # The snoozed repeat arrives by DM from the restarted process, carrying the member's next step.
        ticker.senders = {"discord": restarted.sender}
        ticker._dispatcher = None
        report = await ticker.tick(clock.now + timedelta(hours=1, minutes=1))
        assert [(r.kind, r.status) for r in report.results] == [("reminder", "sent")]
        repeat = posts(fake_discord, dm_channel(fake_discord))[-1]
        assert custom_ids(repeat.json)[0] != done_id  # the finished step is not offered again
    finally:
        await restarted.close()


async def test_many_due_dms_are_paced_within_the_discord_budget(bot, fake_discord, discord_store):
    """RE_BOT_RATE_DISCORD=10 (bursts of 10): 25 due DMs cannot all leave at once; the last one leaves no earlier
    than (25 - 10) / 10 = 1.5 s after the tick starts. Only a lower bound is checked: a slow machine cannot fail it."""
    members = [str(MEMBER_ID + 1 + i) for i in range(25)]
    for member in members:
        discord_store.api.put_schedule(
            REMINDER, "discord", member, Rule(10, 15, "Europe/Berlin"), now=FIRE - timedelta(hours=1), created_by=member
        )
    settings = Settings(RE_BOT_RATE_DISCORD=10)
    ticker = Ticker.from_settings(settings, discord_store, bot.services.content, {"discord": bot.sender})
    ticker.policy = replace(ticker.policy, concurrency=32)  # more workers than the budget allows at once

    started = time.monotonic()
    report = await ticker.tick(TICK)
    assert sorted(r.target for r in report.results if r.status == "sent") == sorted(members)
    sent = posts(fake_discord)
    assert len(sent) == len(members) and len({r.json["nonce"] for r in sent}) == len(members)
    assert max(r.at for r in sent) - started >= (len(members) - 10) / 10 * 0.9
    assert len(fake_discord.calls("POST", "/users/@me/channels")) == len(members)  # each DM opened once, paced too
