"""Several processes ticking one database, and a process killed with SIGKILL mid-delivery: nothing lost, nothing
repeated (except what the README says can repeat: a message the platform accepted just before the kill)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fake_platform import FakePlatform
from sqlalchemy import func, select

from bot.store.models import Delivery
from handlers.schedule import Rule
from handlers.store_api import REMINDER

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2025, 1, 6, 6, 0, tzinfo=UTC)


def seed(store, n: int, times: list[tuple[int, int]]) -> None:
    for i in range(n):
        hour, minute = times[i % len(times)]
        store.api.put_schedule(REMINDER, "console", f"U{i:04d}", Rule(hour, minute, "UTC"), now=T0, created_by="t")


def url_of(store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


async def worker(store, fake_url: str, *ats: datetime, lease: float = 120, concurrency: int = 8):
    return await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "tests" / "tick_worker.py"), url_of(store), fake_url, *(a.isoformat() for a in ats),
        "--lease", str(lease), "--concurrency", str(concurrency), cwd=ROOT,
    )  # fmt: skip


def pending(store) -> int:
    with store.sessions() as s:
        return s.scalar(select(func.count()).select_from(Delivery).where(Delivery.status != "sent"))


async def test_three_processes_ticking_one_database_deliver_each_exactly_once(store):
    times = [(9, 0), (9, 1), (9, 2)]
    seed(store, 150, times)
    fake = FakePlatform()
    runner, url = await fake.start()
    ats = [datetime(2025, 1, 6, h, m, tzinfo=UTC) for h, m in times]
    try:
        procs = [await worker(store, url, *ats) for _ in range(3)]
        codes = [await p.wait() for p in procs]
    finally:
        await runner.cleanup()
    assert codes == [0, 0, 0]
    assert fake.duplicates() == 0
    assert len({r["nonce"] for r in fake.received}) == 150 and len(fake.received) == 150
    assert pending(store) == 0


async def test_kill_9_mid_delivery_then_restart_loses_nothing(store):
    seed(store, 24, [(9, 0)])
    fake = FakePlatform(delay=0.2)  # a slow platform: the kill lands while sends are in flight
    runner, url = await fake.start()
    at = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    try:
        victim = await worker(store, url, at, lease=1.0, concurrency=4)
        while len(fake.received) < 6:
            await asyncio.sleep(0.02)
        os.kill(victim.pid, signal.SIGKILL)
        assert await victim.wait() == -signal.SIGKILL
        assert pending(store) > 0  # the kill really left work behind
        await asyncio.sleep(1.2)  # the dead process's leases expire
        survivor = await worker(store, url, at, lease=1.0, concurrency=4)
        assert await survivor.wait() == 0
    finally:
        await runner.cleanup()
    nonces = {r["nonce"] for r in fake.received}
    assert len(nonces) == 24  # nothing lost
    # At most the sends in flight at the kill plus those whose result was being written (see README).
    assert fake.duplicates() <= 2 * 4
    assert pending(store) == 0


def test_catch_up_window_applies_to_a_late_restart(store, content):
    """A delivery claimed but never sent is not sent once it is more than the catch-up window late."""
    from bot.platforms.console import ConsoleSender
    from bot.schedule.ticker import Ticker

    seed(store, 1, [(9, 0)])
    asyncio.run(Ticker(store.sessions, content, {}).tick(datetime(2025, 1, 6, 9, 0, tzinfo=UTC)))  # claim only
    late = asyncio.run(Ticker(store.sessions, content, {"console": ConsoleSender()}).tick(
        datetime(2025, 1, 6, 9, 0, tzinfo=UTC) + timedelta(hours=3, minutes=1)))  # fmt: skip
    assert [r.status for r in late.results] == ["skipped"]
