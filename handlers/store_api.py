"""What the reminder, subscription and progress handlers need from storage, as a Protocol.

Handlers see only this interface (through `Services.store`); `bot.store.SqlStore` implements it with SQLAlchemy.
Every method that changes a schedule takes `now`, so the next fire instant is computed from the caller's clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol

from handlers.schedule import Rule

ScheduleKind = Literal["reminder", "channel-post", "review"]
REMINDER: ScheduleKind = "reminder"
CHANNEL_POST: ScheduleKind = "channel-post"
REVIEW: ScheduleKind = "review"  # a member's daily review DM; the store keeps it in step with their cards
# Pause reasons members see (`/re-remind list`, `/re-subscribe`) when a community removed the bot; installing or
# adding it again resumes exactly the schedules paused with them.
REMOVED_REASONS = {
    "slack": "the app was removed from this workspace",
    "discord": "the bot was removed from this server",
}
CHANNEL_DELETED = "the channel was deleted"


@dataclass(frozen=True)
class ScheduleInfo:
    kind: ScheduleKind
    platform: str
    target: str  # member id (reminder) or channel id (channel post)
    rule: Rule
    active: bool  # False: paused until resumed (by the member, or after a permanent delivery failure)
    next_fire_at: datetime  # UTC
    pause_reason: str | None = None
    paused_until: datetime | None = None  # a "pause N days" in force
    snooze_at: datetime | None = None  # a one-off repeat of the reminder


@dataclass(frozen=True)
class Done:
    item: str  # "prompt:<id>" or "paper:<id>"
    day: date  # the member's local date when they pressed "Done"


@dataclass(frozen=True)
class CardInfo:
    """A member's review card: the item it asks about and its FSRS state (`fsrs.Card`'s fields)."""

    item: str  # "paper:<id>" | "prompt:<id>"
    due: datetime
    state: int
    step: int | None
    stability: float | None
    difficulty: float | None
    last_review: datetime | None
    reviews: int  # ratings so far; the card asks its recall questions in turn


@dataclass(frozen=True)
class ReviewPrefs:
    enabled: bool | None  # None: on while the member has a study reminder
    quiet_start: int  # minutes after local midnight; no review DM from then...
    quiet_end: int  # ...until then, when the day's review DM goes out


class ScheduleStore(Protocol):
    def member_zone(self, platform: str, user: str) -> str | None: ...

    def set_member_zone(self, platform: str, user: str, zone: str, *, now: datetime) -> None: ...

    def workspace_zone(self, platform: str, workspace: str) -> str | None:
        """The zone a workspace's managers set for members who have given none (`/re-admin zone`)."""
        ...

    def set_workspace_zone(self, platform: str, workspace: str, zone: str | None, *, now: datetime) -> None: ...

    def get_schedule(self, kind: ScheduleKind, platform: str, target: str) -> ScheduleInfo | None: ...

    def put_schedule(
        self,
        kind: ScheduleKind,
        platform: str,
        target: str,
        rule: Rule,
        *,
        now: datetime,
        created_by: str,
        workspace: str | None = None,
    ) -> ScheduleInfo:
        """Create or replace the schedule (active, next fire after `now`)."""
        ...

    def delete_schedule(self, kind: ScheduleKind, platform: str, target: str) -> bool: ...

    def pause_schedule(
        self, kind: ScheduleKind, platform: str, target: str, *, now: datetime, until: datetime | None, reason: str
    ) -> ScheduleInfo | None:
        """Pause until `until` (then it resumes by itself) or, with None, until resumed."""
        ...

    def resume_schedule(
        self, kind: ScheduleKind, platform: str, target: str, *, now: datetime
    ) -> ScheduleInfo | None: ...

    def snooze(self, kind: ScheduleKind, platform: str, target: str, *, at: datetime) -> ScheduleInfo | None: ...

    def record_done(self, platform: str, user: str, item: str, day: date, *, now: datetime) -> bool:
        """Record a finished study step; False when it was already recorded."""
        ...

    def done_items(self, platform: str, user: str) -> list[Done]: ...

    # -- review cards (spaced repetition) -------------------------------------------------------------------------
    # Every change to a member's cards or review settings also moves their review schedule (kind REVIEW) to the
    # first review time on or after their earliest due card, in the same transaction.

    def add_card(self, platform: str, user: str, item: str, *, now: datetime) -> bool:
        """A new card for `item`, due now; False when the member already has one."""
        ...

    def cards(self, platform: str, user: str) -> list[CardInfo]: ...

    def rate_card(
        self, platform: str, user: str, item: str, update: Callable[[CardInfo], CardInfo | None], *, now: datetime
    ) -> tuple[CardInfo, CardInfo | None] | None:
        """Apply `update` to the card under a row lock (two presses at once rate once): (before, after), after None
        when `update` declined; None when there is no such card."""
        ...

    def forget_card(self, platform: str, user: str, item: str, *, now: datetime) -> bool: ...

    def review_prefs(self, platform: str, user: str) -> ReviewPrefs: ...

    def set_review_prefs(
        self,
        platform: str,
        user: str,
        *,
        now: datetime,
        enabled: bool | None = None,
        quiet: tuple[int, int] | None = None,
        zone: str | None = None,
    ) -> ReviewPrefs:
        """Change what is given; `enabled=True` also resumes a review schedule paused by a delivery failure."""
        ...


@dataclass(frozen=True)
class AskedQuestion:
    """One `/re-faq` question as the questions log keeps it: the text already redacted, no member id."""

    platform: str
    workspace: str | None
    text: str  # redacted (handlers.redact); the store drops it when RE_BOT_QUERY_RETENTION_DAYS is 0
    topic: str | None  # the topic answered, None when only suggestions (or nothing) were offered
    nearest: tuple[str, ...]  # the matcher's best topics, best first (the suggestions when there was no answer)
    confidence: float | None  # the matcher's score for the best topic; None for an exact id or alias


@dataclass(frozen=True)
class LoggedQuestion:
    """A logged question for the report, with its votes as (topic, helpful) pairs, one per member and topic."""

    text: str | None  # None once past retention, or when no text is kept
    topic: str | None
    nearest: tuple[str, ...]
    confidence: float | None
    votes: tuple[tuple[str, bool], ...]


class QueryLog(Protocol):
    """The questions log behind `re-bot report`. `ref` is the opaque handle the answer's feedback buttons carry."""

    def record_question(self, question: AskedQuestion, *, now: datetime) -> str: ...

    def record_vote(self, ref: str, topic: str, platform: str, user: str, helpful: bool, *, now: datetime) -> bool:
        """Record (or change) this member's vote on `topic` for the question `ref`; False for an unknown ref."""
        ...

    def question_nearest(self, ref: str) -> tuple[str, ...] | None: ...

    def logged_questions(self, *, since: datetime, workspace: str | None = None) -> list[LoggedQuestion]: ...

    def purge_questions(self, *, now: datetime) -> int:
        """Delete the questions older than the retention period; the number deleted."""
        ...
