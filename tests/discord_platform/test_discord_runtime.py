"""The Discord platform inside `re-bot run`: readiness, graceful shutdown, and what it counts in the metrics."""

from __future__ import annotations

from discord_support import EPHEMERAL, callback_of, feed, shared_services, slash

from bot.ops.metrics import REGISTRY
from bot.platforms.discord.client import DiscordPlatform
from bot.platforms.discord.interactions import RESTARTING
from bot.platforms.discord.sender import DiscordSender
from handlers.types import Reply, Section


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_commands_and_button_presses_are_counted(client, fake_discord):
    labels = {"platform": "discord", "command": "re-faq", "outcome": "ok"}
    before = sample("re_bot_commands_total", **labels)
    await feed(client, slash("re-faq", {"topic": "phd"}))
    assert sample("re_bot_commands_total", **labels) == before + 1


async def test_rate_limit_waits_are_counted(client, fake_discord):
    before = sample("re_bot_rate_limit_waits_total", platform="discord")
    fake_discord.rate_limit("POST", r"/channels/\d+/messages", retry_after=0.01)
    reply = Reply(command="re-paper", sections=(Section(text="x"),), ephemeral=False)
    await DiscordSender(client).send("823456789012345678", reply, kind="channel-post", nonce="n")
    assert sample("re_bot_rate_limit_waits_total", platform="discord") == before + 1


async def test_after_shutdown_begins_members_are_asked_to_try_again(client, fake_discord):
    await client.inflight.drain()
    payload = slash("re-faq", {"topic": "phd"})
    await feed(client, payload)
    data = callback_of(fake_discord, payload)["data"]
    assert data["content"] == RESTARTING and data["flags"] & EPHEMERAL


async def test_platform_is_ready_only_once_connected_and_stops_cleanly(fake_discord):
    platform = DiscordPlatform("fake.token.value", shared_services(), api_url=fake_discord.base)
    assert not platform.ready
    await platform.start()  # logs in; the fake has no gateway, so READY never comes
    assert not platform.ready
    await platform.stop()
    assert platform.client.is_closed() and not platform.client.inflight.accepting


async def test_stop_is_bounded_when_the_gateway_task_does_not_end(fake_discord, monkeypatch):
    import asyncio

    from bot.platforms.discord import client as client_module

    monkeypatch.setattr(client_module, "GATEWAY_STOP_SECONDS", 0.05)
    platform = DiscordPlatform("fake.token.value", shared_services(), api_url=fake_discord.base)
    await platform.client.login("fake.token.value")
    platform._task = asyncio.create_task(asyncio.Event().wait())  # a connect loop that never returns by itself
    await asyncio.wait_for(platform.stop(), timeout=5)
    assert platform._task.cancelled() and platform.client.is_closed()
