"""Discord fan-out: 1,000 due reminder DMs through `Ticker.tick` (what `re-bot run` and `re-bot tick` run), the real
DiscordSender and discord.py's real HTTP client, to the fake Discord API in another process enforcing Discord's
documented limits: 50 requests/s global (429 with `"global": true`), per-channel buckets announced with
X-RateLimit-* headers.

Day one opens every DM channel (two requests per member); day two, in a new process (a new client), is measured:
DM channels come from the store, so it is one request per member, and one member's DM answers a `shared` 429 with
retry_after 600, which must delay only that member. Day three: the bot token is reset mid-fan-out of the 09:00 DMs
(401); a pass at 10:00 finds it still refused, and it works again at 11:50, ten minutes before the day's catch-up
window (RE_BOT_CATCHUP_HOURS, 3 h) closes.

Prints one line: day two's delivered, lost, duplicates, DM channels opened again (goal 0), the ratio of the 50/s
global limit (messages accepted / seconds from the tick's start to its end / 50; goal >= 0.90), the shared-429 member
and the others, and day three's paused, failed and arrived counts, and how many of the day's messages (but the
shared-429 member's) arrived within the catch-up window (goals 0, 0, all, all).
Run from the repository root: `.venv/bin/python bench/discord_fanout.py`.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import sqlite3
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere
sys.path.insert(0, str(ROOT / "tests" / "discord_platform"))  # the fake Discord API lives with the tests

import discord  # noqa: E402
from _timeline import SimClock, counts, hours_minutes, sent_within  # noqa: E402
from discord_fake import FakeDiscord  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.platforms.discord.client import ReBotClient  # noqa: E402
from bot.schedule.ticker import Ticker, open_store  # noqa: E402
from bot.store.models import DmChannel  # noqa: E402
from content.loader import load_content  # noqa: E402
from handlers import Services  # noqa: E402

N = 1000
GLOBAL = 50.0
AT = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
FMT = "%Y-%m-%d %H:%M:%S.%f"
FIRST_MEMBER = 830000000000000000
WORKS_AGAIN = timedelta(hours=2, minutes=50)  # after the fan-out began: ten minutes before the catch-up window closes


def serve_fake(urls) -> None:
    async def main() -> None:
        fake = FakeDiscord(enforce_limits=True, record=False)
        await fake.start()
        urls.put(fake.base)
        await asyncio.Event().wait()

    asyncio.run(main())


def seed(path: str) -> None:
    """N daily reminders due at AT, written straight to SQLite (seeding is not what is measured)."""
    when, created = AT.strftime(FMT), (AT - timedelta(days=1)).strftime(FMT)
    conn = sqlite3.connect(path)
    conn.executemany(
        "INSERT INTO schedules (kind, platform, target, days, hour, minute, zone, status, next_fire_at, created_by,"
        " created_at, updated_at) VALUES ('reminder', 'discord', ?, 'mon,tue,wed,thu,fri,sat,sun', 9, 0, 'UTC',"
        " 'active', ?, 'bench', ?, ?)",
        ((str(FIRST_MEMBER + i), when, created, created) for i in range(N)),
    )
    conn.commit()
    conn.close()


async def fake_call(http: aiohttp.ClientSession, base: str, control: dict | None = None) -> dict:
    root = base.removesuffix("/api/v10")
    if control is not None:
        async with http.post(f"{root}/_fake/control", json=control) as r:
            return await r.json(content_type=None)
    async with http.get(f"{root}/_fake/stats") as r:
        return await r.json(content_type=None)


async def one_day(store, services: Services, settings: Settings, day: int, clock: SimClock):
    """One scheduler pass `day` days after AT, in a new process's client (nothing remembered in memory). The caller
    closes the client."""
    clock.set(AT + timedelta(days=day, minutes=1))
    client = ReBotClient(services)
    await client.login("bench-token")
    ticker = Ticker.from_settings(settings, store, services.content, {"discord": client.sender}, wall_clock=clock)
    started = time.perf_counter()
    report = await ticker.tick(clock.now)
    return report, time.perf_counter() - started, ticker, client


async def main() -> None:
    logging.disable(logging.CRITICAL)  # one summary line; the bot's logs are not what is measured
    urls: multiprocessing.Queue = multiprocessing.Queue()
    fake = multiprocessing.Process(target=serve_fake, args=(urls,), daemon=True)
    fake.start()
    base = urls.get(timeout=30)
    discord.http.Route.BASE = base
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, RE_BOT_DATABASE_URL=f"sqlite:///{tmp}/discord.db")
        store = open_store(settings)
        seed(f"{tmp}/discord.db")
        clock = SimClock(AT)
        services = replace(Services.from_content(load_content()), store=store.api, clock=clock)
        async with aiohttp.ClientSession() as http:
            await (await one_day(store, services, settings, 0, clock))[3].close()
            opened_day_one = (await fake_call(http, base))["dm_opens"]
            with store.sessions() as session:
                slow_member, slow_dm = session.execute(select(DmChannel.user_id, DmChannel.channel_id).limit(1)).one()
            shared = {"method": "POST", "path": f"/channels/{slow_dm}/messages", "retry_after": 600, "scope": "shared"}
            await fake_call(http, base, {"rate_limit": {**shared, "times": 100}})
            before = await fake_call(http, base)
            report, elapsed, _, client = await one_day(store, services, settings, 1, clock)
            await client.close()
            after = await fake_call(http, base)

            # Day three: the token is reset after 300 DMs; it works again at 11:50.
            await fake_call(http, base, {"revoke_after": after["accepted"] + 300})
            _, _, ticker, client = await one_day(store, services, settings, 2, clock)
            waited = counts(store, leave_out=slow_member)[2]
            clock.set(AT + timedelta(days=2, hours=1))
            await ticker.tick(clock.now)  # still refused: GET /users/@me says so, nothing is sent
            await fake_call(http, base, {"token_revoked": False})
            clock.set(AT + timedelta(days=2) + WORKS_AGAIN)
            again = await ticker.tick(clock.now)
            await client.close()
            paused, failed, pending = counts(store, leave_out=slow_member)
            catchup = timedelta(hours=settings.catchup_hours)
            within = sent_within(store, AT + timedelta(days=2), catchup, leave_out=slow_member)
        store.engine.dispose()
    fake.kill()
    accepted = after["accepted"] - before["accepted"]
    unique = after["unique"] - before["unique"]
    others = [r for r in report.results if r.target != slow_member]
    slow = [r.status for r in report.results if r.target == slow_member]
    arrived = sum(r.status == "sent" for r in again.results)
    print(f"discord_fanout: day two {sum(r.status == 'sent' for r in report.results)} delivered, "
          f"lost {N - 1 - sum(r.status == 'sent' for r in others)}, duplicates {after['duplicates']}, DM channels "
          f"opened again {after['dm_opens'] - opened_day_one}, ratio {accepted / elapsed / GLOBAL:.2f} of the 50/s "
          f"global limit ({elapsed:.1f}s, {after['global_429s']} global 429s; goal >= 0.90); shared-429 member "
          f"{'/'.join(slow)} while {sum(r.status == 'sent' for r in others)}/{N - 1} others got theirs; token reset "
          f"mid-fan-out: {paused} paused, {failed} failed, {waited} waited, {arrived}/{waited} arrived once it "
          f"worked again, {within}/{N - 1} of the day's within the {hours_minutes(catchup)} catch-up window (the "
          f"token worked again {hours_minutes(WORKS_AGAIN)} after they were due; goal: all), {pending} still "
          f"pending")  # fmt: skip
    assert unique >= 0


if __name__ == "__main__":
    asyncio.run(main())
