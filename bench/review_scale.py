"""Review pass cost against the number of cards stored: the same 1,000 members due among 100k and among 500k cards.

10,000 members with 50 cards each is 500k cards; the small store is 2,000 members with 50 each. In both, 1,000
members' review DMs are due at the instant of the pass, each holding 5 due cards (the rest of their cards and every
other member's are due later). The pass is the real tick: claiming due review schedules into the outbox (with their
members' card dates and quiet hours), then the dispatcher building each DM from the member's due cards and sending it
(console sender). Prints one line: `review_scale: ...` with the ratio of the two pass times (goal <= 2: the cost
follows what is due, not what is stored). SQLite in a temp folder; seeding is written straight to SQLite, unmeasured.
Run from the repository root: `.venv/bin/python bench/review_scale.py`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere

from bot.config import Settings  # noqa: E402
from bot.platforms.console import ConsoleSender  # noqa: E402
from bot.schedule.ticker import Ticker, open_store  # noqa: E402
from content.loader import load_content  # noqa: E402

DUE_MEMBERS = 1000
CARDS_EACH = 50
DUE_CARDS_EACH = 5
SIZES = (2_000, 10_000)  # members: 100k and 500k cards
AT = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)  # 08:00 UTC: the default end of quiet hours, members in UTC
FMT = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's SQLite DATETIME storage format


def seed(path: str, members: int, items: list[str]) -> None:
    created = (AT - timedelta(days=30)).strftime(FMT)
    due_now = (AT - timedelta(hours=2)).strftime(FMT)
    later = [(AT + timedelta(days=1 + d, hours=1)).strftime(FMT) for d in range(60)]
    fires = [(AT + timedelta(days=1 + d)).strftime(FMT) for d in range(60)]

    def schedules():
        for m in range(members):
            fire = AT.strftime(FMT) if m < DUE_MEMBERS else fires[m % len(fires)]
            yield f"U{m:07d}", fire, created, created

    def cards():
        for m in range(members):
            for c in range(CARDS_EACH):
                due = due_now if m < DUE_MEMBERS and c < DUE_CARDS_EACH else later[(m + c) % len(later)]
                yield f"U{m:07d}", items[c], due, created, created

    conn = sqlite3.connect(path)
    conn.executemany(
        "INSERT INTO schedules (kind, platform, target, days, hour, minute, zone, status, next_fire_at, created_by,"
        " created_at, updated_at) VALUES ('review', 'console', ?, 'mon,tue,wed,thu,fri,sat,sun', 8, 0, 'UTC',"
        " 'active', ?, 'bench', ?, ?)",
        schedules(),
    )
    conn.executemany(
        "INSERT INTO review_cards (platform, user_id, item, state, step, stability, difficulty, due, last_review,"
        " reviews, created_at) VALUES ('console', ?, ?, 2, NULL, 5.0, 5.0, ?, ?, 1, ?)",
        cards(),
    )
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def one(members: int, content) -> float:
    items = [f"paper:{p.id}" for p in content.papers[:CARDS_EACH]]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/reviews.db"
        store = open_store(Settings(_env_file=None, RE_BOT_DATABASE_URL=url))
        seed(f"{tmp}/reviews.db", members, items)
        ticker = Ticker(store.sessions, content, {"console": ConsoleSender()})
        start = time.perf_counter()
        report = asyncio.run(ticker.tick(AT))
        elapsed = time.perf_counter() - start
        sent = [r for r in report.results if r.status == "sent"]
        assert report.claimed == DUE_MEMBERS and len(sent) == DUE_MEMBERS, report.claimed
        assert all(r.text.startswith(f"Time to review: {DUE_CARDS_EACH} cards") for r in sent)
        store.engine.dispose()
        return elapsed


def main() -> None:
    content = load_content()
    small, large = (one(n, content) for n in SIZES)
    cards = [n * CARDS_EACH for n in SIZES]
    print(f"review_scale: {DUE_MEMBERS} review DMs due ({DUE_CARDS_EACH} cards each) at {cards[0] // 1000}k cards "
          f"{small:.2f}s, at {cards[1] // 1000}k {large:.2f}s, ratio {large / small:.2f} (goal <= 2)")  # fmt: skip


if __name__ == "__main__":
    main()
