"""Fan-out: 5,000 due reminders through a local fake platform that allows RATE messages/s (429 + Retry-After beyond).

Prints one line: `fanout: N delivered, lost L, duplicates D, ratio R of the allowed rate` (goal R >= 0.95).
Run from the repository root: `.venv/bin/python bench/fanout.py`.
"""

from __future__ import annotations

import asyncio
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
sys.path.insert(0, str(ROOT / "tests"))  # the fake platform lives with the tests

from fake_platform import FakePlatform, HttpSender  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.schedule.dispatcher import Dispatcher, DispatchPolicy, RateBudget  # noqa: E402
from bot.schedule.outbox import claim_due  # noqa: E402
from bot.schedule.ticker import open_store  # noqa: E402
from content.loader import load_content  # noqa: E402

N = 5000
RATE = 250.0  # the fake platform's limit, messages per second
BURST = 10  # the platform tolerates short bursts
AT = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def seed(path: str) -> None:
    """N reminders due at AT, written straight to SQLite (seeding speed is not what is measured)."""
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    due, created = AT.strftime(fmt), (AT - timedelta(days=1)).strftime(fmt)
    conn = sqlite3.connect(path)
    conn.executemany(
        "INSERT INTO schedules (kind, platform, target, days, hour, minute, zone, status, next_fire_at, created_by,"
        " created_at, updated_at) VALUES ('reminder', 'console', ?, 'mon,tue,wed,thu,fri,sat,sun', 9, 0, 'UTC',"
        " 'active', ?, 'bench', ?, ?)",
        ((f"U{i:05d}", due, created, created) for i in range(N)),
    )
    conn.commit()
    conn.close()


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Settings(RE_BOT_DATABASE_URL=f"sqlite:///{tmp}/fanout.db"))
        seed(f"{tmp}/fanout.db")
        content = load_content()
        claim_due(store.sessions, content, AT, catchup=timedelta(hours=3))
        urls: multiprocessing.Queue = multiprocessing.Queue()
        platform = multiprocessing.Process(target=FakePlatform(rate=RATE, burst=BURST).serve_forever, args=(urls,))
        platform.start()
        url = urls.get(timeout=30)
        sender = HttpSender(url)
        policy = DispatchPolicy(concurrency=32)
        # The budget is the platform's published rate with half its burst: small bursts ride over event-loop
        # latency, and the platform's remaining burst allowance absorbs network jitter instead of answering 429.
        budget = RateBudget(RATE, burst=BURST // 2)
        dispatcher = Dispatcher(store.sessions, content, {"console": sender}, {"console": budget}, policy)  # fmt: skip
        start = time.perf_counter()
        results = await dispatcher.run(AT)
        elapsed = time.perf_counter() - start
        async with aiohttp.ClientSession() as http, http.get(f"{url}/stats") as r:
            stats = await r.json()
        await sender.close()
        platform.kill()
        platform.join()
    ratio = stats["received"] / elapsed / RATE
    print(f"fanout: {sum(r.status == 'sent' for r in results)} delivered, lost {N - stats['unique']}, duplicates "
          f"{stats['duplicates']}, ratio {ratio:.2f} of the allowed rate ({RATE:.0f}/s, {elapsed:.1f}s, "
          f"{stats['rejected_429']} answered 429; goal >= 0.95)")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
