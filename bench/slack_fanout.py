"""Slack fan-out: 2,000 due reminder DMs through `Ticker.tick` (what `re-bot run` and `re-bot tick` run) and the real
SlackSender, with default settings, to the fake Slack Web API in another process enforcing Slack's documented limits:
a workspace rate of 100 posts/s with bursts of 20 and about 1 post/s per channel, 429 + Retry-After beyond.
Then the bot token is revoked mid-fan-out of another day's 500 DMs (due 09:00); a pass at 10:00 finds it still
refused, and it works again at 11:50, ten minutes before that day's catch-up window (RE_BOT_CATCHUP_HOURS, 3 h) closes.

Prints one line: delivered, lost, duplicates, the ratio of the allowed rate (posts accepted over the time the
platform allowed: burst + rate x seconds, from the tick's start to its end; goal >= 0.90), and the revoked-token
day: schedules paused, deliveries failed, messages that arrived, and how many of them within the catch-up window
(goals 0, 0, all, all). Run from the repository root: `.venv/bin/python bench/slack_fanout.py`.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere
sys.path.insert(0, str(ROOT / "tests" / "slack"))  # the fake Slack API lives with the tests

from _timeline import SimClock, counts, hours_minutes, sent_within  # noqa: E402
from fake_slack import BOT_TOKEN, FakeSlack, Limits  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.platforms.slack.client import make_client  # noqa: E402
from bot.platforms.slack.sender import SlackSender  # noqa: E402
from bot.schedule.ticker import Ticker, open_store  # noqa: E402
from content.loader import load_content  # noqa: E402

N = 2000
NEXT_DAY = 500
RATE, BURST = 100.0, 20  # the workspace's limit the fake enforces
AT = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
FMT = "%Y-%m-%d %H:%M:%S.%f"
WORKS_AGAIN = timedelta(hours=2, minutes=50)  # after the fan-out began: ten minutes before the catch-up window closes


def serve_fake(urls) -> None:
    async def main() -> None:
        fake = await FakeSlack(limits=Limits(rate=RATE, burst=BURST), record=False).start()
        urls.put(fake.url)
        await asyncio.Event().wait()

    asyncio.run(main())


def seed(path: str, count: int, offset: int, due: datetime) -> None:
    """`count` daily reminders due at `due`, written straight to SQLite (seeding is not what is measured)."""
    when, created = due.strftime(FMT), (due - timedelta(days=1)).strftime(FMT)
    conn = sqlite3.connect(path)
    conn.executemany(
        "INSERT INTO schedules (kind, platform, target, workspace, days, hour, minute, zone, status, next_fire_at,"
        " created_by, created_at, updated_at) VALUES ('reminder', 'slack', ?, 'T0TEST',"
        " 'mon,tue,wed,thu,fri,sat,sun', 9, 0, 'UTC', 'active', ?, 'bench', ?, ?)",
        ((f"U{offset + i:06d}", when, created, created) for i in range(count)),
    )
    conn.commit()
    conn.close()


async def fake_call(http: aiohttp.ClientSession, url: str, control: dict | None = None) -> dict:
    if control is not None:
        async with http.post(f"{url}/_fake/control", json=control) as r:
            return await r.json()
    async with http.get(f"{url}/_fake/stats") as r:
        return await r.json()


def open_bench_store(folder: str, name: str, url: str):
    settings = Settings(_env_file=None, RE_BOT_DATABASE_URL=f"sqlite:///{folder}/{name}", SLACK_API_URL=f"{url}/api/")
    return settings, open_store(settings)


async def main() -> None:
    logging.disable(logging.CRITICAL)  # one summary line; the bot's logs are not what is measured
    urls: multiprocessing.Queue = multiprocessing.Queue()
    fake = multiprocessing.Process(target=serve_fake, args=(urls,), daemon=True)
    fake.start()
    url = urls.get(timeout=30)
    content = load_content()
    with tempfile.TemporaryDirectory() as tmp:
        async with aiohttp.ClientSession() as http:
            # Day one: 2,000 DMs with default settings.
            settings, store = open_bench_store(tmp, "a.db", url)
            seed(f"{tmp}/a.db", N, 0, AT)
            sender = SlackSender(make_client(BOT_TOKEN, settings.slack_api_url))
            ticker = Ticker.from_settings(settings, store, content, {"slack": sender})
            started = time.perf_counter()
            report = await ticker.tick(AT + timedelta(minutes=1))
            elapsed = time.perf_counter() - started
            stats = await fake_call(http, url)
            rate = ticker.dispatcher.budgets["slack"].rate
            await sender.close()
            store.engine.dispose()

            # Another workspace day: 500 DMs, the token revoked after 200 of them, working again at 11:50.
            await fake_call(http, url, {"reset": True, "revoke_after": 200})
            settings, store = open_bench_store(tmp, "b.db", url)
            seed(f"{tmp}/b.db", NEXT_DAY, N, AT)
            sender = SlackSender(make_client(BOT_TOKEN, settings.slack_api_url))
            clock = SimClock(AT + timedelta(minutes=1))
            ticker = Ticker.from_settings(settings, store, content, {"slack": sender}, wall_clock=clock)
            await ticker.tick(clock.now)
            waited = counts(store)[2]
            clock.set(AT + timedelta(hours=1))
            await ticker.tick(clock.now)  # still revoked: auth.test says so, nothing is sent
            await fake_call(http, url, {"revoked": False})
            clock.set(AT + WORKS_AGAIN)
            await ticker.tick(clock.now)
            final = await fake_call(http, url)
            paused, failed, _ = counts(store)
            catchup = timedelta(hours=settings.catchup_hours)
            within = sent_within(store, AT, catchup)
            await sender.close()
            store.engine.dispose()
    fake.kill()
    delivered = sum(r.status == "sent" for r in report.results)
    allowed = BURST + RATE * elapsed
    print(f"slack_fanout: {delivered} delivered, lost {N - stats['unique']}, duplicates {stats['duplicates']}, "
          f"ratio {stats['accepted'] / allowed:.2f} of the allowed rate ({RATE:.0f}/s burst {BURST}, {elapsed:.1f}s, "
          f"{stats['rejected_429']} answered 429, budget settled at {rate:.0f}/s; goal >= 0.90); token revoked "
          f"mid-fan-out of {NEXT_DAY}: {paused} paused, {failed} failed, {waited} waited, {final['unique']}/{NEXT_DAY} "
          f"arrived, {within}/{NEXT_DAY} within the {hours_minutes(catchup)} catch-up window (the token worked again "
          f"{hours_minutes(WORKS_AGAIN)} after they were due; goal: all), duplicates "
          f"{final['duplicates']}")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
