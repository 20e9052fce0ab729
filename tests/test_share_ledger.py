"""The share ledger in the database: "Share in channel" posts once across a restart (a new ledger over the same
database), under presses at once (threads and replicas racing on the key), and a failed or stalled post can be
retried. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import sessionmaker

from bot.platforms.share_ledger import STALLED_SECONDS, ShareLedger, StoredShareLedger, digest, ledger_for
from bot.schedule.ticker import Store
from bot.store.models import SharedPost
from bot.store.shares import SharedPosts

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
KEY = ("slack", "T1", "C1", "1700000000.000001", "faq.share", "phd")
LINK = "https://example.slack.com/archives/C1/p1700000000000100"


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def restarted(store: Store, clock: Clock) -> ShareLedger:
    """A new process's ledger: nothing in memory, the same database."""
    return ledger_for(store.api, clock)


def rows(store: Store) -> int:
    with store.api.sessions() as session:
        return session.scalar(select(func.count()).select_from(SharedPost)) or 0


async def test_without_a_database_the_ledger_is_in_memory():
    ledger = ledger_for(None, Clock())
    assert type(ledger) is ShareLedger
    assert await ledger.begin(KEY) is None
    assert await ledger.begin(KEY) is not None


async def test_a_press_after_a_restart_finds_the_post(store: Store):
    clock = Clock()
    first = ledger_for(store.api, clock)
    assert isinstance(first, StoredShareLedger)
    assert await first.begin(KEY) is None
    await first.finish(KEY, LINK)
    again = await first.begin(KEY)  # a double click: from this process's memory
    assert again is not None and again.link == LINK

    clock.now += timedelta(hours=5)
    earlier = await restarted(store, clock).begin(KEY)
    assert earlier is not None and earlier.posted and earlier.link == LINK
    assert await restarted(store, clock).begin(("slack", "T1", "C1", "other", "faq.share", "phd")) is None


async def test_the_stored_key_names_no_member_or_channel(store: Store):
    ledger = ledger_for(store.api, Clock())
    await ledger.begin(KEY)
    with store.api.sessions() as session:
        [key] = session.scalars(select(SharedPost.key)).all()
    assert key == digest(KEY) and "C1" not in key and len(key) == 64


async def test_a_failed_post_is_dropped_so_the_next_press_posts(store: Store):
    clock = Clock()
    ledger = ledger_for(store.api, clock)
    assert await ledger.begin(KEY) is None
    await ledger.abandon(KEY)
    assert rows(store) == 0
    assert await restarted(store, clock).begin(KEY) is None


async def test_a_post_that_never_finished_is_taken_over_only_once_stalled(store: Store):
    clock = Clock()
    assert await ledger_for(store.api, clock).begin(KEY) is None  # the process dies before the post is out
    clock.now += timedelta(seconds=STALLED_SECONDS / 2)
    pending = await restarted(store, clock).begin(KEY)
    assert pending is not None and not pending.posted, "maybe still posting: not posted twice"
    clock.now += timedelta(seconds=STALLED_SECONDS)
    assert await restarted(store, clock).begin(KEY) is None


async def test_after_the_window_a_share_counts_as_new_and_old_rows_are_pruned(store: Store):
    clock = Clock()
    ledger = ledger_for(store.api, clock)
    for i in range(3):
        key = (*KEY[:-1], f"topic-{i}")
        assert await ledger.begin(key) is None
        await ledger.finish(key, None)
    clock.now += timedelta(hours=25)
    later = restarted(store, clock)
    assert await later.begin(KEY) is None  # its first claim prunes what is past the 24 h window
    assert rows(store) == 1


@pytest.mark.parametrize("presses", [2, 8])
def test_presses_at_once_claim_the_key_exactly_once(store: Store, presses: int):
    """Threads on separate connections released together, as two replicas (or two workers) would press."""
    posts = SharedPosts(store.api.sessions)
    barrier = threading.Barrier(presses)
    results: list[object] = []
    lock = threading.Lock()

    def press() -> None:
        barrier.wait()
        found = posts.claim(digest(KEY), now=T0, expired=T0 - timedelta(days=1), stalled=T0 - timedelta(minutes=5))
        with lock:
            results.append(found)

    threads = [threading.Thread(target=press) for _ in range(presses)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == presses
    assert sum(r is None for r in results) == 1
    assert rows(store) == 1


async def test_replicas_pressing_at_once_post_once(store: Store):
    clock = Clock()
    replicas = [ledger_for(store.api, clock) for _ in range(4)]
    found = await asyncio.gather(*(r.begin(KEY) for r in replicas))
    assert sum(f is None for f in found) == 1


async def test_a_database_that_does_not_answer_falls_back_to_this_process_memory(caplog):
    """Port 1 refuses connections: the press still posts, and a double click is still caught."""
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1})
    ledger = StoredShareLedger(SharedPosts(sessionmaker(engine)), Clock())
    assert await ledger.begin(KEY) is None
    assert await ledger.begin(KEY) is not None
    await ledger.finish(KEY, LINK)
    assert "could not check the share ledger" in caplog.text
    engine.dispose()
