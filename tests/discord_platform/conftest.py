"""Fixtures for the Discord tests: the fake Discord API, discord.py's real client logged in against it, and the real
scheduling store (SQLite in a temp folder) with a frozen clock for the reminder, subscription and delivery tests."""

from __future__ import annotations

from dataclasses import replace

import discord
import pytest
from discord_fake import FakeDiscord
from discord_support import Clock, shared_services

from bot.config import Settings
from bot.platforms.discord.client import ReBotClient
from bot.schedule.ticker import Ticker, open_store
from handlers import Services


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


# Tests read the interaction's direct answer. On a loaded machine (CI shares two cores) a command can take longer than
# the production budget of 0.5 s and be deferred instead; the deadline tests set their own small budget.
TEST_DIRECT_BUDGET = 10.0


@pytest.fixture
async def client(fake_discord):
    bot = ReBotClient(shared_services())
    bot.direct_budget = TEST_DIRECT_BUDGET
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


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def discord_store(tmp_path):
    """The store `re-bot run` opens, migrated, on SQLite in this test's temp folder."""
    store = open_store(Settings(RE_BOT_DATABASE_URL=f"sqlite:///{tmp_path}/re-bot.db"))
    yield store
    store.engine.dispose()


@pytest.fixture
def scheduling_services(discord_store, clock) -> Services:
    """The real handlers' services with the real store and the frozen clock."""
    return replace(shared_services(), store=discord_store.api, clock=clock)


@pytest.fixture
async def bot(fake_discord, scheduling_services):
    """The Discord client as `re-bot run` builds it, with the store: commands, buttons, and the sender."""
    client = ReBotClient(scheduling_services)
    client.direct_budget = TEST_DIRECT_BUDGET
    await client.login("fake-token")
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
def ticker(discord_store, bot) -> Ticker:
    """The scheduler's tick as `re-bot run` builds it, delivering through the client's `DiscordSender`; quick
    back-off, so retries in tests take milliseconds."""
    made = Ticker.from_settings(Settings(), discord_store, bot.services.content, {"discord": bot.sender})
    made.policy = replace(made.policy, backoff_initial=0.01, backoff_max=0.05)
    return made
