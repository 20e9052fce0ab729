"""Every Discord interaction answered or deferred in time, whatever is slow: interactions as Discord sends them
through discord.py's real CommandTree, with a store that is slow (or held) on every call. Nothing here asserts on
wall-clock time: the slow store is far slower than the direct budget, and the tests check which path the answer
took (answered directly, or deferred and then edited in)."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace

import discord
import pytest
from discord_support import EPHEMERAL, MANAGE_CHANNELS, callback_of, feed, press, slash
from slow_store import SlowStore

from bot.platforms.discord.client import ReBotClient, intents
from handlers.store_api import CHANNEL_POST, REMINDER


@pytest.fixture
def slow_store(discord_store) -> SlowStore:
    return SlowStore(discord_store.api, delay=0.2)


@pytest.fixture
async def slow_bot(fake_discord, scheduling_services, slow_store):
    client = ReBotClient(replace(scheduling_services, store=slow_store))
    client.direct_budget = 0.05
    await client.login("fake-token")
    try:
        yield client
    finally:
        await client.close()


def original_edit(fake_discord, payload: dict) -> dict:
    [edit] = fake_discord.calls("PATCH", rf"/webhooks/\d+/{payload['token']}/messages/@original")
    return edit.json


async def test_a_slow_command_is_deferred_then_edited_in(slow_bot, fake_discord, discord_store):
    payload = slash("re-remind", {"time": "09:00", "zone": "Europe/Berlin"}, sub="daily")
    await feed(slow_bot, payload)
    deferred = callback_of(fake_discord, payload)
    assert deferred["type"] == 5  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
    assert deferred["data"]["flags"] & EPHEMERAL
    assert "Reminder set" in original_edit(fake_discord, payload)["embeds"][0]["title"]
    assert discord_store.api.get_schedule(REMINDER, "discord", payload["member"]["user"]["id"]) is not None


async def test_a_slow_public_answer_replaces_the_private_deferral_with_a_public_post(slow_bot, fake_discord):
    payload = slash("re-subscribe", {"time": "09:00", "zone": "UTC"}, permissions=MANAGE_CHANNELS)
    await feed(slow_bot, payload)
    assert callback_of(fake_discord, payload)["type"] == 5
    assert fake_discord.calls("DELETE", rf"/webhooks/\d+/{payload['token']}/messages/@original")
    [post] = fake_discord.calls("POST", rf"/webhooks/\d+/{payload['token']}")
    assert not (post.json.get("flags") or 0) & EPHEMERAL
    assert post.json["embeds"][0]["title"] == "Subscribed"


async def test_a_slow_button_defers_the_update_of_its_message(slow_bot, fake_discord):
    await feed(slow_bot, slash("re-remind", {"time": "09:00", "zone": "UTC"}, sub="daily"))
    payload = press("re:remind.pause:", ephemeral=True)
    await feed(slow_bot, payload)
    assert callback_of(fake_discord, payload)["type"] == 6  # DEFERRED_UPDATE_MESSAGE
    assert "paused" in original_edit(fake_discord, payload)["embeds"][0]["title"].lower()


async def test_a_quick_command_is_answered_directly(bot, fake_discord):
    payload = slash("re-remind", {"time": "09:00", "zone": "Europe/Berlin"}, sub="daily")
    await feed(bot, payload)
    assert callback_of(fake_discord, payload)["type"] == 4


async def test_other_members_are_answered_while_a_handler_waits_on_the_database(
    fake_discord, scheduling_services, discord_store
):
    gate = threading.Event()
    held = SlowStore(discord_store.api, gate=gate)
    client = ReBotClient(replace(scheduling_services, store=held))
    await client.login("fake-token")
    try:
        waiting = slash("re-progress")
        client._connection.parse_interaction_create(waiting)  # type: ignore[arg-type]
        while not held.entered.is_set():
            await asyncio.sleep(0.005)
        quick = slash("re-help")  # no store: answered directly while the other handler waits
        client._connection.parse_interaction_create(quick)  # type: ignore[arg-type]
        answered = await fake_discord.wait_for("POST", rf"/interactions/{quick['id']}/{quick['token']}/callback")
        assert answered[0].json["type"] == 4
        deferred = await fake_discord.wait_for("POST", rf"/interactions/{waiting['id']}/{waiting['token']}/callback")
        assert deferred[0].json["type"] == 5, "the held command was deferred in time, with its handler still waiting"
    finally:
        gate.set()
    await fake_discord.wait_for("PATCH", rf"/webhooks/\d+/{waiting['token']}/messages/@original")
    await client.close()


async def test_subscribe_where_the_bot_cannot_post_names_the_missing_permission(bot, fake_discord, discord_store):
    payload = slash("re-subscribe", {"time": "09:00", "zone": "UTC"}, permissions=MANAGE_CHANNELS)
    payload["app_permissions"] = str(discord.Permissions(view_channel=True, embed_links=True).value)
    await feed(bot, payload)
    data = callback_of(fake_discord, payload)["data"]
    assert data["flags"] & EPHEMERAL
    assert "missing the **Send Messages** permission" in data["embeds"][0]["description"]
    assert discord_store.api.get_schedule(CHANNEL_POST, "discord", payload["channel_id"]) is None


async def test_a_refusal_uses_discords_words(bot, fake_discord):
    payload = slash("re-subscribe", {"time": "09:00", "zone": "UTC"})  # a member without Manage Channels
    await feed(bot, payload)
    content = callback_of(fake_discord, payload)["data"]["content"]
    assert "Manage Channels" in content and "workspace" not in content


def test_the_client_asks_only_for_the_guilds_intent():
    assert intents() == discord.Intents(guilds=True)
    assert not intents().messages and not intents().message_content and not intents().members
