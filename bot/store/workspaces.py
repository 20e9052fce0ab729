"""The workspaces and servers a deployment serves, and what their lifecycle does to schedules.

When a community removes the bot (Slack `app_uninstalled` / `tokens_revoked`, Discord guild remove), its schedules
are kept but paused with a reason that says so, and what is already in the outbox for them is skipped, so nothing
keeps firing at a workspace that no longer has the bot. Installing or adding the bot again resumes exactly the
schedules that removal paused; those a member or a delivery failure paused stay paused.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.store.models import Delivery, Schedule, Workspace
from handlers.schedule import Rule, next_fire_time
from handlers.store_api import CHANNEL_DELETED, CHANNEL_POST, REMINDER, REMOVED_REASONS

__all__ = ["CHANNEL_DELETED", "REMOVED_REASONS", "WorkspaceSummary", "Workspaces"]


@dataclass(frozen=True)
class WorkspaceSummary:
    platform: str
    workspace: str
    name: str | None
    status: str  # "active" | "removed" | "unknown" (schedules name it, no install or join was recorded)
    reminders: int
    subscriptions: int
    paused: int  # of those, how many are paused (for any reason)

    def as_json(self) -> dict[str, object]:
        return {
            "platform": self.platform,
            "workspace": self.workspace,
            "name": self.name,
            "status": self.status,
            "reminders": self.reminders,
            "subscriptions": self.subscriptions,
            "paused": self.paused,
        }


def _skip_pending(session: Session, schedule_ids: list[int], reason: str) -> None:
    if schedule_ids:
        session.execute(
            update(Delivery)
            .where(Delivery.schedule_id.in_(schedule_ids), Delivery.status == "pending")
            .values(status="skipped", last_error=reason[:500])
        )


class Workspaces:
    """Lifecycle and defaults of workspaces (Slack team ids, Discord guild ids); short transactions, sync (callers on
    the event loop use `asyncio.to_thread`)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def _row(self, session: Session, platform: str, workspace: str, now: datetime) -> Workspace:
        row = session.get(Workspace, (platform, workspace), with_for_update=True)
        if row is None:
            row = Workspace(platform=platform, workspace_id=workspace, status="active", changed_at=now)
            session.add(row)
        return row

    def removed(
        self, platform: str, workspace: str, *, now: datetime, kinds: Collection[str] = (REMINDER, CHANNEL_POST)
    ) -> int:
        """The bot left `workspace`: pause its active schedules of `kinds` with the removal reason and skip what is
        pending for them. Returns how many schedules were paused."""
        reason = REMOVED_REASONS[platform]
        with self.sessions.begin() as session:
            row = self._row(session, platform, workspace, now)
            row.status, row.changed_at = "removed", now
            rows = list(
                session.scalars(
                    select(Schedule)
                    .where(Schedule.platform == platform, Schedule.workspace == workspace)
                    .where(Schedule.kind.in_(list(kinds)), Schedule.status == "active")
                    .with_for_update()
                )
            )
            for schedule in rows:
                schedule.status, schedule.pause_reason, schedule.snooze_at = "paused", reason, None
                schedule.updated_at = now
            _skip_pending(session, [s.id for s in rows], reason)
            return len(rows)

    def installed(self, platform: str, workspace: str, *, now: datetime, name: str | None = None) -> int:
        """The bot is (again) in `workspace`: mark it active and resume the schedules its removal paused. Returns
        how many were resumed."""
        reason = REMOVED_REASONS[platform]
        with self.sessions.begin() as session:
            row = self._row(session, platform, workspace, now)
            if row.status != "active" or (name and row.name != name):
                row.changed_at = now
            row.status = "active"
            row.name = name or row.name
            rows = list(
                session.scalars(
                    select(Schedule)
                    .where(Schedule.platform == platform, Schedule.workspace == workspace)
                    .where(Schedule.status == "paused", Schedule.pause_reason == reason)
                    .with_for_update()
                )
            )
            for schedule in rows:
                start = max(now, schedule.paused_until) if schedule.paused_until else now
                rule = Rule.from_stored(schedule.hour, schedule.minute, schedule.zone, schedule.days)
                schedule.status, schedule.pause_reason = "active", None
                schedule.next_fire_at = next_fire_time(rule, start)
                schedule.updated_at = now
            return len(rows)

    def reconcile(
        self, platform: str, present: Collection[str], *, now: datetime, kinds: Collection[str] = (CHANNEL_POST,)
    ) -> list[str]:
        """The bot is in exactly `present` (Discord's READY lists every server): each one recorded as active but not
        there removed the bot while it was offline. Marks those removed (see `removed`); returns their ids."""
        with self.sessions() as session:
            active = set(
                session.scalars(
                    select(Workspace.workspace_id).where(Workspace.platform == platform, Workspace.status == "active")
                )
            )
        gone = sorted(active - set(present))
        for workspace in gone:
            self.removed(platform, workspace, now=now, kinds=kinds)
        return gone

    def channel_gone(self, platform: str, channel: str, *, now: datetime, reason: str = CHANNEL_DELETED) -> bool:
        """The channel was deleted: pause its subscription at once (instead of waiting for a failed post)."""
        with self.sessions.begin() as session:
            schedule = session.scalars(
                select(Schedule)
                .where(Schedule.kind == CHANNEL_POST, Schedule.platform == platform, Schedule.target == channel)
                .with_for_update()
            ).one_or_none()
            if schedule is None:
                return False
            schedule.status, schedule.pause_reason, schedule.snooze_at = "paused", reason, None
            schedule.updated_at = now
            _skip_pending(session, [schedule.id], reason)
            return True

    def of_target(self, platform: str, kind: str, target: str) -> str | None:
        """The workspace a schedule's target belongs to (a Slack channel or member id is unique to its workspace), as
        the schedule records it (a review schedule records its member's reminder's: `repo.refresh_review`)."""
        with self.sessions() as session:
            return session.scalar(
                select(Schedule.workspace).where(
                    Schedule.platform == platform, Schedule.kind == kind, Schedule.target == target
                )
            )

    def status(self, platform: str, workspace: str) -> str | None:
        with self.sessions() as session:
            return session.scalar(
                select(Workspace.status).where(Workspace.platform == platform, Workspace.workspace_id == workspace)
            )

    def default_zone(self, platform: str, workspace: str) -> str | None:
        with self.sessions() as session:
            return session.scalar(
                select(Workspace.default_zone).where(
                    Workspace.platform == platform, Workspace.workspace_id == workspace
                )
            )

    def set_default_zone(self, platform: str, workspace: str, zone: str | None, *, now: datetime) -> None:
        with self.sessions.begin() as session:
            row = self._row(session, platform, workspace, now)
            row.default_zone, row.changed_at = zone, now

    def summary(self) -> list[WorkspaceSummary]:
        """Every workspace with a row or a schedule: counts of reminders and subscriptions, and its status."""
        with self.sessions() as session:
            counts = session.execute(
                select(
                    Schedule.platform,
                    Schedule.workspace,
                    func.sum(case((Schedule.kind == REMINDER, 1), else_=0)),
                    func.sum(case((Schedule.kind == CHANNEL_POST, 1), else_=0)),
                    func.sum(case((Schedule.status == "paused", 1), else_=0)),
                )
                .where(Schedule.workspace.is_not(None))
                .group_by(Schedule.platform, Schedule.workspace)
            ).all()
            rows = {(w.platform, w.workspace_id): w for w in session.scalars(select(Workspace))}
        found: dict[tuple[str, str], WorkspaceSummary] = {}
        for platform, workspace, reminders, subscriptions, paused in counts:
            row = rows.get((platform, workspace))
            found[(platform, workspace)] = WorkspaceSummary(
                platform, workspace, row.name if row else None, row.status if row else "unknown",
                int(reminders or 0), int(subscriptions or 0), int(paused or 0),
            )  # fmt: skip
        for key, row in rows.items():
            if key not in found:
                found[key] = WorkspaceSummary(row.platform, row.workspace_id, row.name, row.status, 0, 0, 0)
        return [found[k] for k in sorted(found)]
