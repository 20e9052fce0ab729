"""What the reminder, subscription and progress handlers need from storage, as a Protocol.

Handlers see only this interface (through `Services.store`); `bot.store.SqlStore` implements it with SQLAlchemy.
Every method that changes a schedule takes `now`, so the next fire instant is computed from the caller's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol

from handlers.schedule import Rule

ScheduleKind = Literal["reminder", "channel-post"]
REMINDER: ScheduleKind = "reminder"
CHANNEL_POST: ScheduleKind = "channel-post"


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
