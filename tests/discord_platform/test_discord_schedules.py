"""/re-remind, /re-subscribe, /re-unsubscribe and /re-progress as Discord sends them, through discord.py's real
CommandTree, against the real handlers and the real store (SQLite in a temp folder), every REST call at the fake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from discord_support import (
    CHANNEL_ID,
    EPHEMERAL,
    MANAGE_CHANNELS,
    MEMBER_ID,
    NOW,
    autocomplete,
    callback_of,
    feed,
    slash,
)

from bot.platforms.discord.reminders import CLOSED_DMS_NOTICE, WELCOME
from bot.platforms.discord.sender import CLOSED_DMS
from handlers.schedule import EVERY_DAY, WEEKDAYS, Rule
from handlers.store_api import CHANNEL_POST, REMINDER

MEMBER = str(MEMBER_ID)
CHANNEL = str(CHANNEL_ID)


async def ask(bot, fake, name: str, options: dict | None = None, **kwargs) -> dict:
    """Run one slash command; the message data Discord was sent in answer."""
    payload = slash(name, options, **kwargs)
    await feed(bot, payload)
    return callback_of(fake, payload)["data"]


def text(data: dict) -> str:
    return "\n".join(f"{e.get('title', '')}\n{e.get('description', '')}" for e in data.get("embeds", []))


def reminder(store):
    return store.api.get_schedule(REMINDER, "discord", MEMBER)


def welcome_dms(fake) -> list:
    """The first DMs Discord accepted."""
    return [
        r
        for r in fake.calls("POST", r"/channels/\d+/messages")
        if r.status == 200 and r.json["embeds"] and r.json["embeds"][0].get("title") == WELCOME.title
    ]


async def test_remind_without_a_zone_asks_once_then_remembers_it(bot, fake_discord, discord_store):
    data = await ask(bot, fake_discord, "re-remind", {"time": "09:30"}, sub="daily")
    assert "Which time zone" in text(data) and data["flags"] & EPHEMERAL
    assert reminder(discord_store) is None
    assert not fake_discord.calls("POST", "/users/@me/channels")  # nothing set, so no DM check

    data = await ask(bot, fake_discord, "re-remind", {"time": "09:30", "zone": "Europe/Berlin"}, sub="daily")
    assert "Reminder set" in text(data) and "every day at 09:30 (Europe/Berlin)" in text(data)
    info = reminder(discord_store)
    assert info.rule == Rule(9, 30, "Europe/Berlin", EVERY_DAY)
    assert info.next_fire_at == datetime(2026, 3, 11, 8, 30, tzinfo=UTC)  # 09:30 CET, tomorrow (it is 10:00 there)
    assert discord_store.api.member_zone("discord", MEMBER) == "Europe/Berlin"

    # Asked once: from now on the saved zone is used.
    data = await ask(bot, fake_discord, "re-remind", {"time": "7am"}, sub="weekdays")
    assert "weekdays at 07:00 (Europe/Berlin)" in text(data)
    assert reminder(discord_store).rule == Rule(7, 0, "Europe/Berlin", WEEKDAYS)

    data = await ask(bot, fake_discord, "re-remind", {"zone": "America/New_York"}, sub="zone")
    assert "Your zone is now America/New_York" in text(data)
    assert reminder(discord_store).rule == Rule(7, 0, "America/New_York", WEEKDAYS)
    assert "weekdays at 07:00 (America/New_York)" in text(await ask(bot, fake_discord, "re-remind", sub="list"))


async def test_remind_sub_commands_change_the_store(bot, fake_discord, discord_store, clock):
    await ask(bot, fake_discord, "re-remind", {"time": "18:30", "zone": "Asia/Kolkata"}, sub="daily")
    assert reminder(discord_store).active

    data = await ask(bot, fake_discord, "re-remind", {"days": 3}, sub="pause")
    assert "Reminder paused" in text(data)
    assert reminder(discord_store).paused_until == NOW + timedelta(days=3)

    await ask(bot, fake_discord, "re-remind", sub="pause")
    info = reminder(discord_store)
    assert not info.active and info.pause_reason == "paused by you"
    assert "**Paused**: paused by you" in text(await ask(bot, fake_discord, "re-remind", sub="list"))

    data = await ask(bot, fake_discord, "re-remind", sub="resume")
    assert "Reminder resumed" in text(data) and reminder(discord_store).active

    data = await ask(bot, fake_discord, "re-remind", {"duration": "30m"}, sub="snooze")
    assert "Snoozed" in text(data)
    assert reminder(discord_store).snooze_at == NOW + timedelta(minutes=30)

    data = await ask(bot, fake_discord, "re-remind", sub="off")
    assert "Your study reminder is off" in text(data) and reminder(discord_store) is None
    assert "You have no study reminder" in text(await ask(bot, fake_discord, "re-remind", sub="list"))
    assert "no reminder to resume" in text(await ask(bot, fake_discord, "re-remind", sub="resume"))


@pytest.mark.parametrize(
    ("sub", "options", "expected"),
    [
        ("daily", {"time": "25:00", "zone": "UTC"}, "25:00"),
        ("daily", {"time": "09:00", "zone": "Mars/Olympus_Mons"}, "time zone"),
        ("weekdays", {"time": "x" * 3000, "zone": "UTC"}, "characters"),
        ("zone", {"zone": "Nowhere"}, "I don't know the time zone"),
    ],
)
async def test_bad_input_gets_a_private_helpful_answer_and_changes_nothing(
    bot, fake_discord, discord_store, sub, options, expected
):
    data = await ask(bot, fake_discord, "re-remind", options, sub=sub)
    assert expected in text(data) and data["flags"] & EPHEMERAL
    assert reminder(discord_store) is None
    assert discord_store.api.member_zone("discord", MEMBER) is None
    assert not fake_discord.calls("POST", "/users/@me/channels")


@pytest.mark.parametrize("sub", ["daily", "weekdays", "zone"])
async def test_zone_autocomplete_through_the_tree(bot, fake_discord, sub):
    options = {"zone": "kolk"} if sub == "zone" else {"time": "09:00", "zone": "kolk"}
    payload = autocomplete("re-remind", options, focused="zone", sub=sub)
    await feed(bot, payload)
    body = callback_of(fake_discord, payload)
    assert body["type"] == 8
    assert body["data"]["choices"][0] == {"name": "Asia/Kolkata", "value": "Asia/Kolkata"}


async def test_setting_a_reminder_sends_a_first_dm(bot, fake_discord, discord_store):
    await ask(bot, fake_discord, "re-remind", {"time": "09:00", "zone": "UTC"}, sub="daily")
    (dm,) = welcome_dms(fake_discord)
    assert fake_discord.calls("POST", "/users/@me/channels")[0].json == {"recipient_id": MEMBER_ID}
    assert dm.json["allowed_mentions"] == {"parse": []} and dm.json["enforce_nonce"] is True
    assert reminder(discord_store).active


async def test_closed_dms_are_told_once_in_the_channel_and_the_reminder_paused(bot, fake_discord, discord_store):
    fake_discord.closed_dms.add(MEMBER_ID)
    payload = slash("re-remind", {"time": "09:00", "zone": "Europe/Berlin"}, sub="weekdays")
    await feed(bot, payload)
    assert "Reminder set" in text(callback_of(fake_discord, payload)["data"])
    (notice,) = fake_discord.calls("POST", rf"/webhooks/\d+/{payload['token']}")
    assert notice.json["flags"] & EPHEMERAL and notice.json["content"] == CLOSED_DMS_NOTICE
    assert notice.json["allowed_mentions"] == {"parse": []}
    assert len(fake_discord.calls("POST", r"/channels/\d+/messages")) == 1  # the one refused DM, never retried

    info = reminder(discord_store)
    assert not info.active and info.pause_reason == CLOSED_DMS
    listed = await ask(bot, fake_discord, "re-remind", sub="list")
    assert "**Paused**: Discord would not deliver the reminder" in text(listed) and "50007" in text(listed)

    # Resuming with DMs still closed says so again at once; after opening them, resuming works.
    payload = slash("re-remind", sub="resume")
    await feed(bot, payload)
    assert fake_discord.calls("POST", rf"/webhooks/\d+/{payload['token']}")[0].json["content"] == CLOSED_DMS_NOTICE
    assert not reminder(discord_store).active

    fake_discord.closed_dms.discard(MEMBER_ID)
    payload = slash("re-remind", sub="resume")
    await feed(bot, payload)
    assert not fake_discord.calls("POST", rf"/webhooks/\d+/{payload['token']}")
    assert len(welcome_dms(fake_discord)) == 1  # the DM check on resume, now delivered
    assert reminder(discord_store).active


async def test_resume_after_a_pause_by_the_member_sends_no_dm(bot, fake_discord, discord_store):
    await ask(bot, fake_discord, "re-remind", {"time": "09:00", "zone": "UTC"}, sub="daily")
    await ask(bot, fake_discord, "re-remind", sub="pause")
    await ask(bot, fake_discord, "re-remind", sub="resume")
    assert len(welcome_dms(fake_discord)) == 1  # only the one when it was set


async def test_subscribe_show_and_unsubscribe_by_a_channel_manager(bot, fake_discord, discord_store):
    def subscription():
        return discord_store.api.get_schedule(CHANNEL_POST, "discord", CHANNEL)

    data = await ask(bot, fake_discord, "re-subscribe", permissions=MANAGE_CHANNELS)
    assert "This channel has no subscription" in text(data)

    options = {"time": "08:30", "zone": "Asia/Kolkata", "days": "weekdays"}
    data = await ask(bot, fake_discord, "re-subscribe", options, permissions=MANAGE_CHANNELS)
    assert "Subscribed" in text(data) and "weekdays at 08:30 (Asia/Kolkata)" in text(data)
    assert not (data.get("flags") or 0) & EPHEMERAL  # the channel sees that it is subscribed
    info = subscription()
    assert info.rule == Rule(8, 30, "Asia/Kolkata", WEEKDAYS) and info.active

    data = await ask(bot, fake_discord, "re-subscribe", permissions=MANAGE_CHANNELS)
    assert "The paper of the day is posted here weekdays at 08:30 (Asia/Kolkata)" in text(data)

    # Without a zone: the manager's saved zone, else the question.
    data = await ask(bot, fake_discord, "re-subscribe", {"time": "10:00"}, permissions=MANAGE_CHANNELS)
    assert "Which time zone" in text(data)
    await ask(bot, fake_discord, "re-remind", {"zone": "Europe/Paris"}, sub="zone")
    await ask(bot, fake_discord, "re-subscribe", {"time": "10:00"}, permissions=MANAGE_CHANNELS)
    assert subscription().rule == Rule(10, 0, "Europe/Paris", EVERY_DAY)

    data = await ask(bot, fake_discord, "re-unsubscribe", permissions=MANAGE_CHANNELS)
    assert "no longer gets the paper of the day" in text(data) and subscription() is None


async def test_members_who_cannot_manage_the_channel_change_nothing(bot, fake_discord, discord_store):
    await ask(bot, fake_discord, "re-subscribe", {"time": "09:00", "zone": "UTC"}, permissions=MANAGE_CHANNELS)
    data = await ask(bot, fake_discord, "re-subscribe", {"time": "11:00", "zone": "UTC"})
    assert "Manage Channels" in data["content"] and data["flags"] & EPHEMERAL
    data = await ask(bot, fake_discord, "re-unsubscribe")
    assert "Manage Channels" in data["content"]
    assert discord_store.api.get_schedule(CHANNEL_POST, "discord", CHANNEL).rule == Rule(9, 0, "UTC", EVERY_DAY)


async def test_progress_before_anything_is_done(bot, fake_discord):
    data = await ask(bot, fake_discord, "re-progress")
    assert "Nothing recorded yet" in text(data) and data["flags"] & EPHEMERAL
