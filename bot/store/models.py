"""SQLAlchemy 2 models of what must survive restarts: members' zones, schedules, the delivery outbox, progress.

Changing a model needs a new Alembic revision in `bot/store/migrations/versions/` (`re-bot db upgrade` applies it).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Id = BigInteger().with_variant(Integer, "sqlite")  # SQLite only autoincrements INTEGER PRIMARY KEY


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite stores naive text; PostgreSQL timestamptz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Member(Base):
    __tablename__ = "members"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tz: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Schedule(Base):
    """A recurring delivery: wall-clock time + IANA zone + days; `next_fire_at` is the only computed field."""

    __tablename__ = "schedules"
    __table_args__ = (
        UniqueConstraint("kind", "platform", "target", name="uq_schedules_target"),
        Index(
            "ix_schedules_due",
            "next_fire_at",
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
        Index(
            "ix_schedules_snooze",
            "snooze_at",
            postgresql_where=text("snooze_at IS NOT NULL"),
            sqlite_where=text("snooze_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # "reminder" | "channel-post" | "review"
    platform: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(64))  # member id (reminder) or channel id (channel post)
    workspace: Mapped[str | None] = mapped_column(String(64))
    days: Mapped[str] = mapped_column(String(32))  # "mon,tue,wed,thu,fri"
    hour: Mapped[int] = mapped_column(SmallInteger)
    minute: Mapped[int] = mapped_column(SmallInteger)
    zone: Mapped[str] = mapped_column(String(64))
    # "active" | "paused" | "idle" (a review schedule with nothing to send: reviews off, or no cards)
    status: Mapped[str] = mapped_column(String(16), default="active")
    pause_reason: Mapped[str | None] = mapped_column(String(300))
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_fire_at: Mapped[datetime] = mapped_column(UTCDateTime)
    snooze_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Delivery(Base):
    """The outbox: one row per (schedule, fire time), inserted in the transaction that advances the schedule."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("schedule_id", "fire_time", name="uq_deliveries_fire"),
        Index(
            "ix_deliveries_pending",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    fire_time: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16))
    platform: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(64))
    item: Mapped[str] = mapped_column(String(120))  # "paper:<id>" | "prompt:<id>" | "review:<ISO cut-off>"
    day: Mapped[date] = mapped_column(Date)  # local date of the fire, in the schedule's zone
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sent | failed | skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a sender holds it until then (wall clock)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # back-off after a transient failure
    last_error: Mapped[str | None] = mapped_column(String(500))
    message_id: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ChannelPaper(Base):
    """Papers posted in a channel in its current cycle: none repeats until the catalogue is exhausted."""

    __tablename__ = "channel_papers"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    channel: Mapped[str] = mapped_column(String(64), primary_key=True)
    paper_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProgressItem(Base):
    """A study step a member finished (pressed "Done" on)."""

    __tablename__ = "progress"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    item: Mapped[str] = mapped_column(String(120), primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    done_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReviewCard(Base):
    """A finished paper or implementation prompt as a spaced-repetition card, with its FSRS state."""

    __tablename__ = "review_cards"
    __table_args__ = (
        UniqueConstraint("platform", "user_id", "item", name="uq_review_cards_item"),
        Index("ix_review_cards_due", "platform", "user_id", "due"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))
    item: Mapped[str] = mapped_column(String(120))
    state: Mapped[int] = mapped_column(SmallInteger)  # fsrs.State: 1 learning, 2 review, 3 relearning
    step: Mapped[int | None] = mapped_column(SmallInteger)
    stability: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[float | None] = mapped_column(Float)
    due: Mapped[datetime] = mapped_column(UTCDateTime)
    last_review: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviews: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReviewMember(Base):
    """A member's review settings; no row means the defaults (on while they have a reminder, quiet 22:00-08:00)."""

    __tablename__ = "review_members"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    enabled: Mapped[bool | None] = mapped_column(Boolean)
    quiet_start: Mapped[int] = mapped_column(SmallInteger)  # minutes after local midnight
    quiet_end: Mapped[int] = mapped_column(SmallInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DmChannel(Base):
    """A member's DM channel with the bot (Discord): opened once, ever, then reused, so a daily fan-out costs one
    request per member instead of two (DM channel ids are stable per user)."""

    __tablename__ = "dm_channels"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FaqQuery(Base):
    """One `/re-faq` question for `re-bot report`: redacted text, the topic answered, the matcher's confidence.

    No member id is stored here or anywhere it could be joined to: see `FaqVote` for how votes stay one per member.
    """

    __tablename__ = "faq_queries"
    __table_args__ = (
        Index("ix_faq_queries_asked", "asked_at"),
        Index("ix_faq_queries_token", "token_hash", unique=True),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace: Mapped[str | None] = mapped_column(String(64))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    text: Mapped[str | None] = mapped_column(String(500))  # redacted; NULL when RE_BOT_QUERY_RETENTION_DAYS=0
    topic: Mapped[str | None] = mapped_column(String(80))
    nearest: Mapped[str] = mapped_column(String(300), default="")  # comma-separated topic ids, best first
    confidence: Mapped[float | None] = mapped_column(Float)
    token_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the buttons' token: how a press finds its row


class FaqVote(Base):
    """A member's "Helpful" / "Not what I asked" on one topic shown for one question; a second press updates it.

    The key's `voter` is HMAC-SHA256(token, "platform:user"), where `token` is a random secret that exists only in
    the answer's buttons (the database keeps its sha256, to find the question and to refuse made-up tokens). The
    same member pressing again gives the same voter, so the vote is replaced, never counted twice; but the database
    alone cannot tell whose vote it is, because testing a member id against `voter` needs the token it does not hold.
    (A plain salted hash of the member id would not do: with the salt in the same database, trying each member of
    the workspace would find the voter, and so who asked the question.)
    """

    __tablename__ = "faq_votes"

    query_id: Mapped[int] = mapped_column(ForeignKey("faq_queries.id", ondelete="CASCADE"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(80), primary_key=True)
    voter: Mapped[str] = mapped_column(String(64), primary_key=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    voted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Workspace(Base):
    """A Slack workspace or Discord server the deployment serves (or served): whether the bot is still in it, and the
    defaults its managers set. Rows appear on install / join and on the first default set; none is ever deleted, so
    `re-bot workspaces` can list removed ones with their paused schedules."""

    __tablename__ = "workspaces"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")  # "active" | "removed"
    default_zone: Mapped[str | None] = mapped_column(String(64))  # for members who have given none (Discord)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SharedPost(Base):
    """A private answer a member shared publicly ("Share in channel"), so a second press (after a restart, or on
    another replica) finds the post instead of posting it again. Rows are pruned after the share ledger's window."""

    __tablename__ = "shared_posts"
    __table_args__ = (Index("ix_shared_posts_at", "shared_at"),)

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the platform's share key
    link: Mapped[str | None] = mapped_column(String(500))  # the public post's permalink, when the platform gave one
    posted: Mapped[bool] = mapped_column(Boolean)  # False while the first press is still posting
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime)
