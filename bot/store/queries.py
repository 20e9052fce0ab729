"""The questions log (`handlers.store_api.QueryLog`) on SQLAlchemy: questions, votes, retention.

A question's feedback buttons carry `ref`, a fresh random token. The row keeps only sha256(token), so a press with a
made-up token is refused; a vote's key holds HMAC(token, "platform:user"), so one member's second press replaces
their vote while the stored rows never name, nor let anyone test for, the member (see `bot.store.models.FaqVote`).

Because the ref is made here, not by the database, answering never waits for the insert: questions are written in
batches by one background thread (`QuestionWriter`), and every read (a vote, the report, the retention purge) first
waits for what is still queued, so nothing reads around an unwritten question.
"""

from __future__ import annotations

import atexit
import hashlib
import hmac
import logging
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from bot.store.models import FaqQuery, FaqVote
from handlers.store_api import AskedQuestion, LoggedQuestion

log = logging.getLogger(__name__)

TEXT_MAX = 500
BATCH_WAIT = 0.05  # seconds a queued question waits for others to share its insert
# With RE_BOT_QUERY_RETENTION_DAYS=0 no text is stored; the text-free rows (counts only) are kept this long.
COUNTS_DAYS = 90


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _voter(token: str, platform: str, user: str) -> str:
    return hmac.new(token.encode(), f"{platform}:{user}".encode(), hashlib.sha256).hexdigest()


class QuestionWriter:
    """Inserts queued question rows in batches on one worker thread; `flush()` waits until all queued are written.

    A failed batch is logged by its error's type only (the statement's parameters hold the questions) and dropped:
    the log is for statistics, and a member's answer never waits for it."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._rows: list[dict[str, Any]] = []
        self._scheduled = False
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="re-bot-questions")
        atexit.register(self.flush)

    def add(self, row: dict[str, Any]) -> None:
        with self._lock:
            self._rows.append(row)
            if self._scheduled:  # a drain is queued and will take this row too: under load, one insert per batch
                return
            self._scheduled = True
        self._executor.submit(self._drain, BATCH_WAIT)

    def _drain(self, wait: float = 0.0) -> None:
        if wait:  # let a burst of questions gather into one insert: one transaction, less work beside the event loop
            time.sleep(wait)
        with self._lock:
            rows, self._rows, self._scheduled = self._rows, [], False
        if not rows:
            return  # an earlier drain took them
        try:
            with self.sessions.begin() as session:
                session.execute(insert(FaqQuery), rows)
        except Exception as exc:
            log.error("could not write %d /re-faq question(s) to the log (%s)", len(rows), type(exc).__name__)

    def flush(self) -> None:
        """Return once every question queued so far is written (the single worker runs tasks in order)."""
        try:
            self._executor.submit(self._drain).result()
        except RuntimeError:  # the executor is shut down (interpreter exit): write what is left here
            self._drain()


class QueryLogStore:
    """Mixed into `SqlStore`; needs `sessions` and `query_retention_days`."""

    sessions: sessionmaker[Session]
    query_retention_days: int
    _writer: QuestionWriter | None = None

    @property
    def question_writer(self) -> QuestionWriter:
        if self._writer is None:
            self._writer = QuestionWriter(self.sessions)
        return self._writer

    def record_question(self, question: AskedQuestion, *, now: datetime) -> str:
        token = secrets.token_urlsafe(16)
        self.question_writer.add(
            {
                "platform": question.platform,
                "workspace": question.workspace,
                "asked_at": now,
                "text": question.text[:TEXT_MAX] if self.query_retention_days > 0 else None,
                "topic": question.topic,
                "nearest": ",".join(question.nearest),
                "confidence": question.confidence,
                "token_hash": _digest(token),
            }
        )
        return token

    def _question(self, session: Session, ref: str) -> FaqQuery | None:
        if not ref:
            return None
        self.question_writer.flush()
        return session.scalars(select(FaqQuery).where(FaqQuery.token_hash == _digest(ref))).one_or_none()

    def record_vote(self, ref: str, topic: str, platform: str, user: str, helpful: bool, *, now: datetime) -> bool:
        with self.sessions.begin() as session:
            row = self._question(session, ref)
            if row is None:
                return False
            values = {
                "query_id": row.id,
                "topic": topic,
                "voter": _voter(ref, platform, user),
                "helpful": helpful,
                "voted_at": now,
            }
            # One statement, atomic on both backends: two presses at once end as one vote (the later one).
            dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
            stmt = dialect.insert(FaqVote).values(**values)
            stmt = stmt.on_conflict_do_update(
                index_elements=["query_id", "topic", "voter"],
                set_={"helpful": stmt.excluded.helpful, "voted_at": stmt.excluded.voted_at},
            )
            session.execute(stmt)
            return True

    def question_nearest(self, ref: str) -> tuple[str, ...] | None:
        with self.sessions() as session:
            row = self._question(session, ref)
            return tuple(t for t in row.nearest.split(",") if t) if row is not None else None

    def logged_questions(self, *, since: datetime, workspace: str | None = None) -> list[LoggedQuestion]:
        self.question_writer.flush()
        scope = [FaqQuery.asked_at >= since, *([FaqQuery.workspace == workspace] if workspace is not None else [])]
        with self.sessions() as session:
            votes: dict[int, list[tuple[str, bool]]] = {}
            vote_rows = session.execute(
                select(FaqVote.query_id, FaqVote.topic, FaqVote.helpful)
                .join(FaqQuery, FaqQuery.id == FaqVote.query_id)
                .where(*scope)
            )
            for query_id, topic, helpful in vote_rows:
                votes.setdefault(query_id, []).append((topic, helpful))
            rows = session.execute(
                select(FaqQuery.id, FaqQuery.text, FaqQuery.topic, FaqQuery.nearest, FaqQuery.confidence)
                .where(*scope)
                .order_by(FaqQuery.id)
            )
            return [
                LoggedQuestion(
                    text=text,
                    topic=topic,
                    nearest=tuple(t for t in nearest.split(",") if t),
                    confidence=confidence,
                    votes=tuple(votes.get(row_id, ())),
                )
                for row_id, text, topic, nearest, confidence in rows
            ]

    def purge_questions(self, *, now: datetime) -> int:
        days = self.query_retention_days or COUNTS_DAYS
        cutoff = now - timedelta(days=days)
        self.question_writer.flush()
        with self.sessions.begin() as session:
            old = select(FaqQuery.id).where(FaqQuery.asked_at < cutoff)
            session.execute(delete(FaqVote).where(FaqVote.query_id.in_(old)))
            return session.execute(delete(FaqQuery).where(FaqQuery.asked_at < cutoff)).rowcount or 0
