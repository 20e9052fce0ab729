"""The bot's life in servers through discord.py's real gateway event dispatch (GUILD_CREATE, GUILD_DELETE,
CHANNEL_DELETE payloads as the gateway sends them), and `/re-admin zone|channel` through the real CommandTree, on the
real store, with every REST call at the fake API."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import discord
from discord_support import CHANNEL_ID, GUILD_ID, MANAGE_CHANNELS, MEMBER_ID, NOW, callback_of, feed, slash

from bot.store.workspaces import CHANNEL_DELETED, REMOVED_REASONS
from handlers.store_api import CHANNEL_POST, REMINDER

OTHER_CHANNEL = 800000000000000099
MANAGE_GUILD = discord.Permissions(manage_guild=True).value


def channel_json(channel_id: int, name: str) -> dict[str, Any]:
    return {"id": str(channel_id), "type": 0, "guild_id": str(GUILD_ID), "name": name, "position": 0,
            "permission_overwrites": [], "nsfw": False, "parent_id": None, "flags": 0}  # fmt: skip


def guild_create() -> dict[str, Any]:
    """GUILD_CREATE as the gateway sends it when the bot joins a server (https://discord.com/developers/docs/events/
    gateway-events#guild-create): a guild object with its channels; no `unavailable` key on a join."""
    return {
        "id": str(GUILD_ID), "name": "Study group", "owner_id": "1", "icon": None, "splash": None,
        "discovery_splash": None, "afk_channel_id": None, "afk_timeout": 300, "verification_level": 0,
        "default_message_notifications": 0, "explicit_content_filter": 0, "roles": [], "emojis": [], "stickers": [],
        "features": [], "mfa_level": 0, "system_channel_id": None, "system_channel_flags": 0, "rules_channel_id": None,
        "vanity_url_code": None, "description": None, "banner": None, "premium_tier": 0, "preferred_locale": "en-US",
        "public_updates_channel_id": None, "nsfw_level": 0, "premium_progress_bar_enabled": False,
        "joined_at": "2026-03-10T09:00:00.000000+00:00", "large": False, "member_count": 2, "members": [],
        "voice_states": [], "presences": [], "threads": [], "stage_instances": [], "guild_scheduled_events": [],
        "channels": [channel_json(CHANNEL_ID, "study-group"), channel_json(OTHER_CHANNEL, "papers")],
    }  # fmt: skip


async def gateway(bot: discord.Client, event: str, data: dict[str, Any]) -> None:
    """Hand one gateway DISPATCH to discord.py's parser, and wait for the `on_*` handlers it scheduled."""
    getattr(bot._connection, f"parse_{event.lower()}")(data)
    await settle()


async def settle() -> None:
    """Wait for the `on_*` event handlers discord.py scheduled."""
    for _ in range(50):
        pending = [t for t in asyncio.all_tasks() if t.get_name().startswith("discord.py: on_") and not t.done()]
        if not pending:
            return
        await asyncio.wait(pending, timeout=10)


async def ask(bot, fake, name: str, options: dict | None = None, **kwargs) -> str:
    payload = slash(name, options, **kwargs)
    await feed(bot, payload)
    data = callback_of(fake, payload)["data"]
    embeds = data.get("embeds") or []
    return (data.get("content") or "") + "\n".join(f"{e.get('title', '')}\n{e.get('description', '')}" for e in embeds)


def schedule(store, kind: str, target: object):
    return store.api.get_schedule(kind, "discord", str(target))


async def test_removal_pauses_subscriptions_keeps_dm_reminders_and_rejoin_resumes(
    bot, fake_discord, discord_store, clock
):
    await gateway(bot, "GUILD_CREATE", guild_create())
    assert discord_store.api.workspaces.status("discord", str(GUILD_ID)) == "active"
    reply = await ask(bot, fake_discord, "re-subscribe", {"time": "09:00", "zone": "UTC"}, permissions=MANAGE_CHANNELS)
    assert "Subscribed" in reply
    await ask(bot, fake_discord, "re-remind", {"time": "08:00", "zone": "UTC"}, sub="daily")

    await gateway(bot, "GUILD_DELETE", {"id": str(GUILD_ID)})  # removed: no `unavailable` key
    post = schedule(discord_store, CHANNEL_POST, CHANNEL_ID)
    assert not post.active and post.pause_reason == REMOVED_REASONS["discord"]
    assert schedule(discord_store, REMINDER, MEMBER_ID).active  # a DM reminder is not tied to the server
    assert discord_store.api.workspaces.status("discord", str(GUILD_ID)) == "removed"

    clock.now = NOW + timedelta(days=2)
    await gateway(bot, "GUILD_CREATE", guild_create())
    post = schedule(discord_store, CHANNEL_POST, CHANNEL_ID)
    assert post.active and post.pause_reason is None and post.next_fire_at > clock.now
    assert discord_store.api.workspaces.status("discord", str(GUILD_ID)) == "active"


async def test_an_outage_is_not_a_removal(bot, fake_discord, discord_store):
    await gateway(bot, "GUILD_CREATE", guild_create())
    await ask(bot, fake_discord, "re-subscribe", {"time": "09:00", "zone": "UTC"}, permissions=MANAGE_CHANNELS)
    await gateway(bot, "GUILD_DELETE", {"id": str(GUILD_ID), "unavailable": True})
    assert schedule(discord_store, CHANNEL_POST, CHANNEL_ID).active


async def test_a_deleted_channel_pauses_its_subscription_at_once(bot, fake_discord, discord_store):
    await gateway(bot, "GUILD_CREATE", guild_create())
    await ask(bot, fake_discord, "re-subscribe", {"time": "09:00", "zone": "UTC"}, permissions=MANAGE_CHANNELS)
    await gateway(bot, "CHANNEL_DELETE", channel_json(CHANNEL_ID, "study-group"))
    post = schedule(discord_store, CHANNEL_POST, CHANNEL_ID)
    assert not post.active and post.pause_reason == CHANNEL_DELETED
    # Re-adding the bot does not resume a subscription whose channel is gone.
    await gateway(bot, "GUILD_CREATE", guild_create())
    assert not schedule(discord_store, CHANNEL_POST, CHANNEL_ID).active


async def test_admin_zone_and_channel_for_server_managers_only(bot, fake_discord, discord_store):
    await gateway(bot, "GUILD_CREATE", guild_create())  # the guilds intent keeps the server's channels cached
    refused = await ask(bot, fake_discord, "re-admin", {"zone": "Europe/Berlin"}, sub="zone")
    assert "manage the server" in refused
    assert discord_store.api.workspace_zone("discord", str(GUILD_ID)) is None

    done = await ask(bot, fake_discord, "re-admin", {"zone": "Europe/Berlin"}, sub="zone", permissions=MANAGE_GUILD)
    assert "Europe/Berlin" in done
    assert discord_store.api.workspace_zone("discord", str(GUILD_ID)) == "Europe/Berlin"
    # A member who never gave a zone gets the server's default instead of being asked.
    reply = await ask(bot, fake_discord, "re-remind", {"time": "07:30"}, sub="daily")
    assert "Which time zone" not in reply
    assert schedule(discord_store, REMINDER, MEMBER_ID).rule.zone == "Europe/Berlin"

    options = {"channel": str(OTHER_CHANNEL), "time": "10:00", "days": "weekdays"}
    payload = slash("re-admin", options, sub="channel", permissions=MANAGE_GUILD)
    payload["data"]["options"][0]["options"][0]["type"] = 7  # CHANNEL option
    payload["data"]["resolved"] = {"channels": {str(OTHER_CHANNEL): {**channel_json(OTHER_CHANNEL, "papers"),
                                                                      "permissions": str(MANAGE_GUILD)}}}  # fmt: skip
    await feed(bot, payload)
    answer = callback_of(fake_discord, payload)["data"]
    assert answer["flags"] & 64, answer  # private to the manager
    post = schedule(discord_store, CHANNEL_POST, OTHER_CHANNEL)
    assert post is not None and post.active
    assert (post.rule.hour, post.rule.minute, post.rule.zone) == (10, 0, "Europe/Berlin")
    assert schedule(discord_store, CHANNEL_POST, CHANNEL_ID) is None  # not the channel the command was typed in
    assert post.next_fire_at > datetime(2026, 3, 10, tzinfo=post.next_fire_at.tzinfo)


async def test_at_ready_servers_gone_while_offline_pause_their_subscriptions(bot, fake_discord, discord_store):
    await gateway(bot, "GUILD_CREATE", guild_create())
    await ask(bot, fake_discord, "re-subscribe", {"time": "09:00", "zone": "UTC"}, permissions=MANAGE_CHANNELS)
    discord_store.api.workspaces.installed("discord", "42", now=NOW)  # a server that removed the bot meanwhile
    bot.dispatch("ready")  # what discord.py does once every shard has received READY and its servers
    await settle()
    assert discord_store.api.workspaces.status("discord", "42") == "removed"
    assert discord_store.api.workspaces.status("discord", str(GUILD_ID)) == "active"
    assert schedule(discord_store, CHANNEL_POST, CHANNEL_ID).active
