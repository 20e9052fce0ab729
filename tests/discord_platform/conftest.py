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
