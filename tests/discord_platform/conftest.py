"""Fixtures for the Discord tests: the fake Discord API, and discord.py's real client logged in against it."""

from __future__ import annotations

import discord
import pytest
from discord_fake import FakeDiscord
from discord_support import shared_services

from bot.discord_platform.client import ReBotClient


@pytest.fixture
async def fake_discord():
    fake = FakeDiscord()
    await fake.start()
    saved = discord.http.Route.BASE
    discord.http.Route.BASE = fake.base
    try:
        yield fake
    finally:
        discord.http.Route.BASE = saved
        await fake.close()


@pytest.fixture
async def client(fake_discord):
    bot = ReBotClient(shared_services())
    await bot.login("fake-token")
    try:
        yield bot
    finally:
        await bot.close()


@pytest.fixture
def fake_discord_thread():
    """The fake API on its own event loop in a thread, for code that runs `asyncio.run` itself (the CLI)."""
    import asyncio
    import threading

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def make() -> FakeDiscord:
        made = FakeDiscord()
        await made.start()
        return made

    fake = asyncio.run_coroutine_threadsafe(make(), loop).result(10)
    saved = discord.http.Route.BASE
    try:
        yield fake
    finally:
        discord.http.Route.BASE = saved
        asyncio.run_coroutine_threadsafe(fake.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
