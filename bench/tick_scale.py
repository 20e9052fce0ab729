"""Tick cost against table size: a tick with 1,000 due among 10k and among 1M stored schedules, and peak RSS.

Prints one line: `tick_scale: ...` with the ratio of the two tick times (goal <= 2) and peak RSS (goal < 200 MB).
Uses SQLite in a temp folder (the default store); seeding is written straight to SQLite and not measured.
Run from the repository root: `.venv/bin/python bench/tick_scale.py`.
"""

from __future__ import annotations

import asyncio
import resource
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere
sys.path.insert(0, str(ROOT / "tests"))  # the fake platform lives with the tests

from bot.config import Settings  # noqa: E402
from bot.platforms.console import ConsoleSender  # noqa: E402
from bot.schedule.ticker import Ticker, open_store  # noqa: E402
from content.loader import load_content  # noqa: E402

DUE = 1000
SIZES = (10_000, 1_000_000)
AT = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
FMT = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's SQLite DATETIME storage format


def seed(path: str, total: int) -> None:
    """`total` schedules: DUE due at AT, the rest spread over the next day's minutes (not due)."""
    due, created = AT.strftime(FMT), (AT - timedelta(days=1)).strftime(FMT)
    later = [(AT + timedelta(minutes=1 + m)).strftime(FMT) for m in range(24 * 60 - 1)]

    def rows():
        for i in range(total):
            when = due if i < DUE else later[i % len(later)]
            yield f"U{i:07d}", (i % 24), when, created, created

    conn = sqlite3.connect(path)
    conn.executemany(
        "INSERT INTO schedules (kind, platform, target, days, hour, minute, zone, status, next_fire_at, created_by,"
        " created_at, updated_at) VALUES ('reminder', 'console', ?, 'mon,tue,wed,thu,fri,sat,sun', ?, 0, 'UTC',"
        " 'active', ?, 'bench', ?, ?)",
        rows(),
    )
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def one(total: int, content) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/scale.db"
        store = open_store(Settings(RE_BOT_DATABASE_URL=url))
        seed(f"{tmp}/scale.db", total)
        ticker = Ticker(store.sessions, content, {"console": ConsoleSender()})
        start = time.perf_counter()
        report = asyncio.run(ticker.tick(AT))
        elapsed = time.perf_counter() - start
        assert report.claimed == DUE and sum(r.status == "sent" for r in report.results) == DUE, report
        store.engine.dispose()
        return elapsed


def main() -> None:
    content = load_content()
    small, large = (one(n, content) for n in SIZES)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"tick_scale: {DUE} due at 10k schedules {small:.2f}s, at 1M {large:.2f}s, ratio {large / small:.2f} "
          f"(goal <= 2), peak RSS {rss_mb:.0f} MB (goal < 200)")  # fmt: skip


if __name__ == "__main__":
    main()
