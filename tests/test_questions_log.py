"""The questions log on SQLite and PostgreSQL: votes one per member, no member id stored, retention on time, and
report counts exact under concurrent presses."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from bot.config import Settings
from bot.platforms.console import ConsoleSender
from bot.schedule.ticker import Store, Ticker
from content import Content
from handlers import Invocation, Services, dispatch, run_action
from handlers.report import build_report
from handlers.store_api import AskedQuestion

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=365)


@pytest.fixture
def log_store(store: Store) -> Iterator[Store]:
    keep = store.api.query_retention_days
    yield store
    store.api.query_retention_days = keep


def asked(text: str = "when is the reading group", topic: str | None = None, **kw) -> AskedQuestion:
    fields = {"platform": "slack", "workspace": "T1", "text": text, "topic": topic,
              "nearest": ("papers", "learning"), "confidence": 0.8} | kw  # fmt: skip
    return AskedQuestion(**fields)


def all_stored_text(store: Store) -> str:
    with store.engine.connect() as conn:
        rows = [*conn.execute(text("SELECT * FROM faq_queries")), *conn.execute(text("SELECT * FROM faq_votes"))]
    return " ".join(str(v) for row in rows for v in row)


def test_question_and_votes_round_trip(log_store: Store) -> None:
    log = log_store.api
    ref = log.record_question(asked(), now=NOW)
    assert log.question_nearest(ref) == ("papers", "learning")
    assert log.record_vote(ref, "papers", "slack", "U1", True, now=NOW)
    assert log.record_vote(ref, "papers", "slack", "U1", False, now=NOW)  # changed their mind: replaces
    assert log.record_vote(ref, "papers", "slack", "U2", True, now=NOW)
    [row] = log.logged_questions(since=LONG_AGO)
    assert row.text == "when is the reading group" and row.topic is None and row.confidence == pytest.approx(0.8)
    assert sorted(row.votes) == [("papers", False), ("papers", True)]
    assert "U1" not in all_stored_text(log_store) and "U2" not in all_stored_text(log_store)


def test_forged_or_unknown_refs_are_refused(log_store: Store) -> None:
    log = log_store.api
    ref = log.record_question(asked(), now=NOW)
    for bad in ("madeuptoken", ref[:-1], ref + "x", "", ref.upper()):
        assert log.record_vote(bad, "papers", "slack", "U1", True, now=NOW) is False
        assert log.question_nearest(bad) is None
    assert log.logged_questions(since=LONG_AGO)[0].votes == ()


def test_workspace_and_since_filters(log_store: Store) -> None:
    log = log_store.api
    log.record_question(asked("old one"), now=NOW - timedelta(days=40))
    log.record_question(asked("here"), now=NOW)
    log.record_question(asked("elsewhere", workspace="T2"), now=NOW)
    assert [q.text for q in log.logged_questions(since=NOW - timedelta(days=30))] == ["here", "elsewhere"]
    assert [q.text for q in log.logged_questions(since=NOW - timedelta(days=30), workspace="T1")] == ["here"]


def test_retention_deletes_on_time(log_store: Store) -> None:
    log = log_store.api
    log.query_retention_days = 30
    ref = log.record_question(asked("kept a month"), now=NOW)
    log.record_vote(ref, "papers", "discord", "42", True, now=NOW)
    assert log.purge_questions(now=NOW + timedelta(days=30)) == 0  # exactly 30 days: still kept
    assert len(log.logged_questions(since=LONG_AGO)) == 1
    assert log.purge_questions(now=NOW + timedelta(days=30, seconds=1)) == 1
    assert log.logged_questions(since=LONG_AGO) == []
    with log_store.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM faq_votes")).scalar() == 0


def test_zero_retention_keeps_counts_not_text(log_store: Store) -> None:
    log = log_store.api
    log.query_retention_days = 0
    ref = log.record_question(asked("my secret question", topic="phd"), now=NOW)
    log.record_vote(ref, "phd", "slack", "U1", False, now=NOW)
    [row] = log.logged_questions(since=LONG_AGO)
    assert row.text is None and row.topic == "phd"
    assert "secret" not in all_stored_text(log_store)
    report = build_report([row], since=LONG_AGO)
    assert report.topics["phd"].not_helpful == 1 and report.unanswered_without_text == 1


def test_the_scheduler_tick_deletes_old_questions(log_store: Store, content: Content, tmp_path) -> None:
    log_store.api.query_retention_days = 7
    log_store.api.record_question(asked("a week old"), now=NOW)
    settings = Settings(RE_BOT_DATABASE_URL="sqlite://", RE_BOT_QUERY_RETENTION_DAYS=7)
    ticker = Ticker.from_settings(settings, log_store, content, {"console": ConsoleSender()})

    asyncio.run(ticker.tick(NOW + timedelta(days=6)))
    assert len(log_store.api.logged_questions(since=LONG_AGO)) == 1
    asyncio.run(ticker.tick(NOW + timedelta(days=8)))
    assert log_store.api.logged_questions(since=LONG_AGO) == []


def test_report_counts_exact_under_concurrent_presses(log_store: Store, content: Content) -> None:
    """40 members press on one answer at once, each several times (double clicks included, from two threads at
    once); the report counts each member's last vote once."""
    services = Services.from_content(content, store=log_store.api, clock=lambda: NOW)
    reply = dispatch(Invocation("re-faq", "do I need a PhD to be a research engineer", platform="slack",
                                workspace="T1"), services)  # fmt: skip
    [helpful] = [b for b in reply.buttons if b.action == "faq.helpful"]
    [miss] = [b for b in reply.buttons if b.action == "faq.miss"]
    members = [f"U{i:03d}" for i in range(40)]
    final = {m: (i % 3 != 0) for i, m in enumerate(members)}  # True: ends on Helpful
    start = threading.Barrier(8)

    def press(chunk: list[str]) -> None:
        start.wait()
        for member in chunk:
            inv = Invocation("re-faq", platform="slack", user=member, workspace="T1")
            run_action("faq.miss" if final[member] else "faq.helpful", miss.value, inv, services)
            last = helpful if final[member] else miss
            run_action(last.action, last.value, inv, services)

    chunks = [members[i::4] for i in range(4)]
    threads = [threading.Thread(target=press, args=(c,)) for c in chunks + chunks]  # every member twice at once
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = build_report(log_store.api.logged_questions(since=LONG_AGO), since=LONG_AGO)
    assert report.questions == 1 and report.answered == 1
    counts = report.topics[reply.topic]
    assert (counts.asked, counts.helpful, counts.not_helpful) == (1, sum(final.values()), 40 - sum(final.values()))
