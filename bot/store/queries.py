"""The questions log (`handlers.store_api.QueryLog`) on SQLAlchemy: questions, votes, retention.

A question's feedback buttons carry `ref` = "<row id>.<token>", the token a fresh random secret. The row keeps only
sha256(token), so a press with a made-up token is refused; a vote's key holds HMAC(token, "platform:user"), so one
member's second press replaces their vote while the stored rows never name, nor let anyone test for, the member
(see `bot.store.models.FaqVote`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from bot.store.models import FaqQuery, FaqVote
from handlers.store_api import AskedQuestion, LoggedQuestion

TEXT_MAX = 500
# With RE_BOT_QUERY_RETENTION_DAYS=0 no text is stored; the text-free rows (counts only) are kept this long.
COUNTS_DAYS = 90


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _voter(token: str, platform: str, user: str) -> str:
    return hmac.new(token.encode(), f"{platform}:{user}".encode(), hashlib.sha256).hexdigest()


def parse_ref(ref: str) -> tuple[int, str] | None:
    row, _, token = ref.partition(".")
    return (int(row), token) if row.isdigit() and token else None


class QueryLogStore:
    """Mixed into `SqlStore`; needs `sessions` and `query_retention_days`."""

    sessions: sessionmaker[Session]
    query_retention_days: int

    def record_question(self, question: AskedQuestion, *, now: datetime) -> str:
        token = secrets.token_urlsafe(12)
        row = FaqQuery(
            platform=question.platform,
            workspace=question.workspace,
            asked_at=now,
            text=question.text[:TEXT_MAX] if self.query_retention_days > 0 else None,
            topic=question.topic,
            nearest=",".join(question.nearest),
            confidence=question.confidence,
            token_hash=_digest(token),
        )
        with self.sessions.begin() as session:
            session.add(row)
            session.flush()
            return f"{row.id}.{token}"

    def _question(self, session: Session, ref: str) -> FaqQuery | None:
        parsed = parse_ref(ref)
        if parsed is None:
            return None
        row = session.get(FaqQuery, parsed[0])
        if row is None or not hmac.compare_digest(row.token_hash, _digest(parsed[1])):
            return None
        return row

    def record_vote(self, ref: str, topic: str, platform: str, user: str, helpful: bool, *, now: datetime) -> bool:
        with self.sessions.begin() as session:
            row = self._question(session, ref)
            if row is None:
                return False
            values = {
                "query_id": row.id,
                "topic": topic,
                "voter": _voter(ref.partition(".")[2], platform, user),
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
        with self.sessions() as session:
            query = select(FaqQuery).where(FaqQuery.asked_at >= since).order_by(FaqQuery.id)
            if workspace is not None:
                query = query.where(FaqQuery.workspace == workspace)
            rows = session.scalars(query).all()
            votes: dict[int, list[tuple[str, bool]]] = {}
            if rows:
                vote_query = (
                    select(FaqVote.query_id, FaqVote.topic, FaqVote.helpful)
                    .join(FaqQuery, FaqQuery.id == FaqVote.query_id)
                    .where(FaqQuery.asked_at >= since)
                )
                if workspace is not None:
                    vote_query = vote_query.where(FaqQuery.workspace == workspace)
                for query_id, topic, helpful in session.execute(vote_query):
                    votes.setdefault(query_id, []).append((topic, helpful))
            return [
                LoggedQuestion(
                    text=row.text,
                    topic=row.topic,
                    nearest=tuple(t for t in row.nearest.split(",") if t),
                    confidence=row.confidence,
                    votes=tuple(votes.get(row.id, ())),
                )
                for row in rows
            ]

    def purge_questions(self, *, now: datetime) -> int:
        days = self.query_retention_days or COUNTS_DAYS
        cutoff = now - timedelta(days=days)
        with self.sessions.begin() as session:
            old = select(FaqQuery.id).where(FaqQuery.asked_at < cutoff)
            session.execute(delete(FaqVote).where(FaqVote.query_id.in_(old)))
            return session.execute(delete(FaqQuery).where(FaqQuery.asked_at < cutoff)).rowcount or 0
