"""`SharedPosts`: the database half of the share ledger ("Share in channel" posts once, across restarts and replicas).

A press claims its key with one statement: an insert that, on a conflict with a live row, changes nothing and returns
nothing (the key's primary-key index decides, on SQLite and PostgreSQL alike, so of two presses at once exactly one
claims). A row past the ledger's window, or one whose first press never finished posting (the process died mid-post),
is taken over by the same statement. Short transactions, sync: callers on the event loop run these off it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from bot.store.models import SharedPost

LINK_MAX = 500


@dataclass
class Shared:
    """An earlier share of a key."""

    link: str | None = None  # the public post's permalink, when the platform gave one
    posted: bool = False  # False while the first press is still posting


class SharedPosts:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        dialect = sessions.kw["bind"].dialect.name
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert

    def claim(self, key: str, *, now: datetime, expired: datetime, stalled: datetime) -> Shared | None:
        """None when this caller now holds `key` (no live share of it); else the earlier share. A row shared before
        `expired`, or still unposted since before `stalled`, counts as no share."""
        fresh = {"link": None, "posted": False, "shared_at": now}
        insert = self._insert(SharedPost).values(key=key, **fresh)
        takeover = (SharedPost.shared_at < expired) | (~SharedPost.posted & (SharedPost.shared_at < stalled))
        claim = insert.on_conflict_do_update(index_elements=[SharedPost.key], set_=fresh, where=takeover)
        for _ in range(2):  # the row seen in conflict may be gone before it is read (its press failed): claim again
            with self.sessions.begin() as session:
                if session.execute(claim.returning(SharedPost.key)).first() is not None:
                    return None
                row = session.execute(select(SharedPost.link, SharedPost.posted).where(SharedPost.key == key)).first()
            if row is not None:
                return Shared(link=row.link, posted=row.posted)
        return Shared()  # claimed and dropped twice meanwhile: someone else is on it

    def finish(self, key: str, link: str | None) -> None:
        with self.sessions.begin() as session:
            link = link if link is None or len(link) <= LINK_MAX else None
            session.execute(update(SharedPost).where(SharedPost.key == key).values(link=link, posted=True))

    def abandon(self, key: str) -> None:
        """The post failed: drop the claim, so a press once the cause is fixed posts."""
        with self.sessions.begin() as session:
            session.execute(delete(SharedPost).where(SharedPost.key == key, ~SharedPost.posted))

    def prune(self, before: datetime) -> int:
        with self.sessions.begin() as session:
            return session.execute(delete(SharedPost).where(SharedPost.shared_at < before)).rowcount or 0
