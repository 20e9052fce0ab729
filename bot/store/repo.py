"""`SqlStore`: the handlers' `ScheduleStore` on SQLAlchemy. Short transactions; every write commits at once."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.store.models import DmChannel, Member, ProgressItem, Schedule
from bot.store.queries import QueryLogStore
from bot.store.workspaces import Workspaces
from handlers.schedule import Rule, next_fire_time
from handlers.store_api import Done, ScheduleInfo, ScheduleKind


def schedule_info(row: Schedule) -> ScheduleInfo:
    return ScheduleInfo(
        kind=row.kind,  # type: ignore[arg-type]
        platform=row.platform,
        target=row.target,
        rule=Rule.from_stored(row.hour, row.minute, row.zone, row.days),
        active=row.status == "active",
        next_fire_at=row.next_fire_at,
        pause_reason=row.pause_reason,
        paused_until=row.paused_until,
        snooze_at=row.snooze_at,
    )


def rule_of(row: Schedule) -> Rule:
    return Rule.from_stored(row.hour, row.minute, row.zone, row.days)


class SqlStore(QueryLogStore):
    def __init__(self, sessions: sessionmaker[Session], *, query_retention_days: int = 90) -> None:
        self.sessions = sessions
        self.query_retention_days = query_retention_days
        self.workspaces = Workspaces(sessions)

    @property
    def engine(self) -> Engine:
        return self.sessions.kw["bind"]

    def workspace_zone(self, platform: str, workspace: str) -> str | None:
        return self.workspaces.default_zone(platform, workspace)

    def set_workspace_zone(self, platform: str, workspace: str, zone: str | None, *, now: datetime) -> None:
        self.workspaces.set_default_zone(platform, workspace, zone, now=now)

    def _find(self, session: Session, kind: str, platform: str, target: str) -> Schedule | None:
        query = select(Schedule).where(Schedule.kind == kind, Schedule.platform == platform, Schedule.target == target)
        return session.scalars(query.with_for_update()).one_or_none()

    def member_zone(self, platform: str, user: str) -> str | None:
        with self.sessions() as session:
            return session.scalar(select(Member.tz).where(Member.platform == platform, Member.user_id == user))

    def set_member_zone(self, platform: str, user: str, zone: str, *, now: datetime) -> None:
        with self.sessions.begin() as session:
            member = session.get(Member, (platform, user), with_for_update=True)
            if member is None:
                session.add(Member(platform=platform, user_id=user, tz=zone, updated_at=now))
            else:
                member.tz = zone
                member.updated_at = now

    def get_schedule(self, kind: ScheduleKind, platform: str, target: str) -> ScheduleInfo | None:
        with self.sessions() as session:
            row = self._find(session, kind, platform, target)
            return schedule_info(row) if row else None

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
        for _ in range(3):  # two members creating the same channel's subscription at once: the loser updates
            try:
                with self.sessions.begin() as session:
                    row = self._find(session, kind, platform, target)
                    if row is None:
                        row = Schedule(
                            kind=kind, platform=platform, target=target, created_by=created_by, created_at=now
                        )
                        session.add(row)
                    row.workspace = workspace or row.workspace
                    row.days, row.hour, row.minute, row.zone = rule.days_spec, rule.hour, rule.minute, rule.zone
                    row.status, row.pause_reason, row.paused_until, row.snooze_at = "active", None, None, None
                    row.next_fire_at = next_fire_time(rule, now)
                    row.updated_at = now
                    session.flush()
                    return schedule_info(row)
            except IntegrityError:
                continue
        raise RuntimeError(f"could not save the {kind} schedule for {platform}:{target}")

    def delete_schedule(self, kind: ScheduleKind, platform: str, target: str) -> bool:
        with self.sessions.begin() as session:
            result = session.execute(
                delete(Schedule).where(Schedule.kind == kind, Schedule.platform == platform, Schedule.target == target)
            )
            return bool(result.rowcount)

    def pause_schedule(
        self, kind: ScheduleKind, platform: str, target: str, *, now: datetime, until: datetime | None, reason: str
    ) -> ScheduleInfo | None:
        with self.sessions.begin() as session:
            row = self._find(session, kind, platform, target)
            if row is None:
                return None
            if until is None:
                row.status, row.pause_reason, row.paused_until = "paused", reason, None
            else:  # stays active; simply nothing fires before `until`
                row.status, row.pause_reason, row.paused_until = "active", None, until
                row.next_fire_at = next_fire_time(rule_of(row), until)
            row.snooze_at = None
            row.updated_at = now
            return schedule_info(row)

    def resume_schedule(self, kind: ScheduleKind, platform: str, target: str, *, now: datetime) -> ScheduleInfo | None:
        with self.sessions.begin() as session:
            row = self._find(session, kind, platform, target)
            if row is None:
                return None
            row.status, row.pause_reason, row.paused_until = "active", None, None
            row.next_fire_at = next_fire_time(rule_of(row), now)
            row.updated_at = now
            return schedule_info(row)

    def snooze(self, kind: ScheduleKind, platform: str, target: str, *, at: datetime) -> ScheduleInfo | None:
        with self.sessions.begin() as session:
            row = self._find(session, kind, platform, target)
            if row is None:
                return None
            row.snooze_at = at
            return schedule_info(row)

    def record_done(self, platform: str, user: str, item: str, day: date, *, now: datetime) -> bool:
        try:
            with self.sessions.begin() as session:
                if session.get(ProgressItem, (platform, user, item)) is not None:
                    return False
                session.add(ProgressItem(platform=platform, user_id=user, item=item, day=day, done_at=now))
            return True
        except IntegrityError:  # pressed twice at once
            return False

    def done_items(self, platform: str, user: str) -> list[Done]:
        with self.sessions() as session:
            rows = session.execute(
                select(ProgressItem.item, ProgressItem.day).where(
                    ProgressItem.platform == platform, ProgressItem.user_id == user
                )
            )
            return [Done(item=item, day=day) for item, day in rows]

    # -- platform bookkeeping (not part of the handlers' ScheduleStore) ----------------------------------------------

    def dm_channel(self, platform: str, user: str) -> str | None:
        """The member's stored DM channel id, if the bot ever opened one."""
        with self.sessions() as session:
            row = session.get(DmChannel, (platform, user))
            return row.channel_id if row is not None else None

    def remember_dm_channel(self, platform: str, user: str, channel: str, *, now: datetime) -> None:
        try:
            with self.sessions.begin() as session:
                session.merge(DmChannel(platform=platform, user_id=user, channel_id=channel, opened_at=now))
        except IntegrityError:  # stored by another process at the same moment: the same id, stable per member
            pass
