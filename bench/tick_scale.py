"""Tick cost against table size: a tick with 1,000 due among 10k and among 1M stored schedules, on SQLite and on
PostgreSQL, and peak RSS.

Prints one line: `tick_scale: ...` with, per database, the two tick times and their ratio (goal <= 2), and peak RSS
(goal < 200 MB). SQLite lives in a temp folder; PostgreSQL is the server at RE_BOT_BENCH_PG (default
postgresql+psycopg://postgres@127.0.0.1:5432/test), in a private database created and dropped by the run (skipped,
and said so, when it does not answer). Seeding is not measured: SQLite rows are written straight to the file,
PostgreSQL's with one INSERT ... SELECT over generate_series.
Run from the repository root: `.venv/bin/python bench/tick_scale.py`.
"""

from __future__ import annotations

import asyncio
import os
import resource
import secrets
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.platforms.console import ConsoleSender  # noqa: E402
from bot.schedule.ticker import Store, Ticker, open_store  # noqa: E402
from content.loader import load_content  # noqa: E402

DUE = 1000
SIZES = (10_000, 1_000_000)
AT = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
FMT = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's SQLite DATETIME storage format
PG = os.environ.get("RE_BOT_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def seed_sqlite(path: str, total: int) -> None:
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


def seed_postgres(store: Store, total: int) -> None:
    """The same rows as `seed_sqlite`, in one statement (a million single inserts would take minutes here)."""
    with store.engine.begin() as conn:
        conn.execute(text("TRUNCATE deliveries, schedules RESTART IDENTITY CASCADE"))
        conn.execute(
            text(
                "INSERT INTO schedules (kind, platform, target, days, hour, minute, zone, status, next_fire_at,"
                " created_by, created_at, updated_at)"
                " SELECT 'reminder', 'console', 'U' || lpad(i::text, 7, '0'), 'mon,tue,wed,thu,fri,sat,sun', i % 24, 0,"
                " 'UTC', 'active',"
                " CASE WHEN i < :due THEN CAST(:at AS timestamptz)"
                "      ELSE CAST(:at AS timestamptz) + ((1 + i % 1439) * interval '1 minute') END,"
                " 'bench', CAST(:at AS timestamptz) - interval '1 day', CAST(:at AS timestamptz) - interval '1 day'"
                " FROM generate_series(0, :total - 1) AS i"
            ),
            {"due": DUE, "at": AT, "total": total},
        )
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE schedules"))


def timed_tick(store: Store, content) -> float:
    ticker = Ticker(store.sessions, content, {"console": ConsoleSender()})
    start = time.perf_counter()
    report = asyncio.run(ticker.tick(AT))
    elapsed = time.perf_counter() - start
    assert report.claimed == DUE and sum(r.status == "sent" for r in report.results) == DUE, report
    return elapsed


def sqlite_times(content) -> list[float]:
    times = []
    for total in SIZES:
        with tempfile.TemporaryDirectory() as tmp:
            store = open_store(Settings(_env_file=None, RE_BOT_DATABASE_URL=f"sqlite:///{tmp}/scale.db"))
            seed_sqlite(f"{tmp}/scale.db", total)
            times.append(timed_tick(store, content))
            store.engine.dispose()
    return times


def postgres_times(content) -> list[float] | str:
    import psycopg

    admin = make_url(PG)
    name = f"re_bot_bench_{secrets.token_hex(4)}"
    try:
        conn = psycopg.connect(host=admin.host, port=admin.port, user=admin.username, dbname=admin.database,
                               autocommit=True, connect_timeout=3)  # fmt: skip
    except psycopg.Error as exc:
        return f"PostgreSQL not measured ({type(exc).__name__})"
    conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = admin.set(database=name).render_as_string(hide_password=False)
        store = open_store(Settings(_env_file=None, RE_BOT_DATABASE_URL=url))
        times = []
        for total in SIZES:
            seed_postgres(store, total)
            times.append(timed_tick(store, content))
        store.engine.dispose()
        return times
    finally:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


def main() -> None:
    content = load_content()
    parts = []
    for label, times in (("SQLite", sqlite_times(content)), ("PostgreSQL", postgres_times(content))):
        if isinstance(times, str):
            parts.append(times)
            continue
        small, large = times
        parts.append(f"{label} {small:.2f}s at 10k, {large:.2f}s at 1M, ratio {large / small:.2f}")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"tick_scale: {DUE} due; {'; '.join(parts)} (goal <= 2); peak RSS {rss_mb:.0f} MB (goal < 200)")


if __name__ == "__main__":
    main()
