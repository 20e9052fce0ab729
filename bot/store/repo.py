"""`SqlStore`: the handlers' `ScheduleStore` on SQLAlchemy. Short transactions; every write commits at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.store.models import Delivery, DmChannel, Member, ProgressItem, ReviewCard, ReviewMember, Schedule
from bot.store.queries import QueryLogStore
from bot.store.workspaces import Workspaces
from handlers.review_clock import DEFAULT_QUIET, TICK, review_fire_time, review_rule
from handlers.schedule import Rule, next_fire_time
from handlers.store_api import (
    REMINDER,
    REVIEW,
    CardInfo,
    Done,
    ReviewPrefs,
    ScheduleInfo,
    ScheduleKind,
)


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


def card_info(row: ReviewCard) -> CardInfo:
    return CardInfo(
        item=row.item,
        due=row.due,
        state=row.state,
        step=row.step,
        stability=row.stability,
        difficulty=row.difficulty,
        last_review=row.last_review,
        reviews=row.reviews,
    )


def prefs_of(row: ReviewMember | None) -> ReviewPrefs:
    if row is None:
        return ReviewPrefs(enabled=None, quiet_start=DEFAULT_QUIET[0], quiet_end=DEFAULT_QUIET[1])
    return ReviewPrefs(enabled=row.enabled, quiet_start=row.quiet_start, quiet_end=row.quiet_end)


def _card_query(platform: str, user: str):
    return select(ReviewCard).where(ReviewCard.platform == platform, ReviewCard.user_id == user)


def review_zone(session: Session, platform: str, user: str) -> str:
    """Reviews follow the member's reminder zone, else the zone they gave, else UTC."""
    zone = session.scalar(
        select(Schedule.zone).where(Schedule.kind == REMINDER, Schedule.platform == platform, Schedule.target == user)
    )
    return zone or session.scalar(select(Member.tz).where(Member.platform == platform, Member.user_id == user)) or "UTC"


def refresh_review(session: Session, platform: str, user: str, now: datetime, *, resume: bool = False) -> None:
    """Move the member's review schedule to the first review time on or after their earliest due card, and after
    the last review DM (a due date never gets two); idle when reviews are off or there is no card. A schedule paused
    by a delivery failure stays paused unless `resume`."""
    prefs_row = session.get(ReviewMember, (platform, user))
    prefs = prefs_of(prefs_row)
    query = select(Schedule).where(Schedule.kind == REVIEW, Schedule.platform == platform, Schedule.target == user)
    row = session.scalars(query.with_for_update()).one_or_none()
    reminder = session.execute(
        select(Schedule.id, Schedule.workspace).where(
            Schedule.kind == REMINDER, Schedule.platform == platform, Schedule.target == user
        )
    ).one_or_none()
    enabled = prefs.enabled if prefs.enabled is not None else reminder is not None
    earliest = session.scalar(
        select(func.min(ReviewCard.due)).where(ReviewCard.platform == platform, ReviewCard.user_id == user)
    )
    if not enabled or earliest is None:
        if row is not None and row.status != "paused":
            row.status, row.updated_at = "idle", now
        return
    if earliest.tzinfo is None:  # SQLite's MIN() bypasses the column type
        earliest = datetime.fromisoformat(str(earliest)).replace(tzinfo=now.tzinfo)
    rule = review_rule((prefs.quiet_start, prefs.quiet_end), review_zone(session, platform, user))
    not_before = now
    if row is None:
        row = Schedule(kind=REVIEW, platform=platform, target=user, created_by=user, created_at=now)
        session.add(row)
    else:
        last = session.scalar(select(func.max(Delivery.fire_time)).where(Delivery.schedule_id == row.id))
        if last is not None:
            if last.tzinfo is None:
                last = datetime.fromisoformat(str(last)).replace(tzinfo=now.tzinfo)
            not_before = max(now, last + TICK)
    if reminder is not None and reminder.workspace:
        # The review DM goes out with the same workspace's token (and pauses with it on uninstall) as the reminder.
        row.workspace = reminder.workspace
    row.days, row.hour, row.minute, row.zone = rule.days_spec, rule.hour, rule.minute, rule.zone
    row.next_fire_at = review_fire_time(rule, earliest, not_before)
    if row.status != "paused" or resume:
        row.status, row.pause_reason = "active", None
    row.updated_at = now


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
            session.flush()
            if session.scalar(select(func.count()).select_from(ReviewCard).where(
                    ReviewCard.platform == platform, ReviewCard.user_id == user)):  # fmt: skip
                refresh_review(session, platform, user, now)

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
                    if kind == REMINDER:  # reviews follow the reminder's zone, and are on by default with one
                        refresh_review(session, platform, target, now)
                    return schedule_info(row)
            except IntegrityError:
                continue
        raise RuntimeError(f"could not save the {kind} schedule for {platform}:{target}")

    def delete_schedule(self, kind: ScheduleKind, platform: str, target: str) -> bool:
        with self.sessions.begin() as session:
            result = session.execute(
                delete(Schedule).where(Schedule.kind == kind, Schedule.platform == platform, Schedule.target == target)
            )
            if kind == REMINDER and prefs_of(session.get(ReviewMember, (platform, target))).enabled is None:
                session.execute(  # reviews were on only because of the reminder
                    update(Schedule)
                    .where(Schedule.kind == REVIEW, Schedule.platform == platform, Schedule.target == target)
                    .where(Schedule.status == "active")
                    .values(status="idle")
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

    # -- review cards ---------------------------------------------------------------------------------------------

    def add_card(self, platform: str, user: str, item: str, *, now: datetime) -> bool:
        try:
            with self.sessions.begin() as session:
                found = session.scalar(_card_query(platform, user).where(ReviewCard.item == item))
                if found is not None:
                    return False
                card = ReviewCard(platform=platform, user_id=user, item=item, state=1, step=0, due=now, reviews=0)
                card.created_at = now
                session.add(card)
                session.flush()
                refresh_review(session, platform, user, now)
            return True
        except IntegrityError:  # pressed twice at once
            return False

    def cards(self, platform: str, user: str) -> list[CardInfo]:
        with self.sessions() as session:
            return [card_info(r) for r in session.scalars(_card_query(platform, user).order_by(ReviewCard.due))]

    def due_cards(self, platform: str, user: str, before: datetime) -> list[CardInfo]:
        """The member's cards due before `before`, earliest first (what a review DM holds)."""
        with self.sessions() as session:
            query = _card_query(platform, user).where(ReviewCard.due < before).order_by(ReviewCard.due, ReviewCard.id)
            return [card_info(r) for r in session.scalars(query)]

    def rate_card(
        self, platform: str, user: str, item: str, update: Callable[[CardInfo], CardInfo | None], *, now: datetime
    ) -> tuple[CardInfo, CardInfo | None] | None:
        with self.sessions.begin() as session:
            row = session.scalars(_card_query(platform, user).where(ReviewCard.item == item).with_for_update()).first()
            if row is None:
                return None
            before = card_info(row)
            after = update(before)
            if after is None:
                return before, None
            row.state, row.step = after.state, after.step
            row.stability, row.difficulty = after.stability, after.difficulty
            row.due, row.last_review, row.reviews = after.due, after.last_review, after.reviews
            session.flush()
            refresh_review(session, platform, user, now)
            return before, after

    def forget_card(self, platform: str, user: str, item: str, *, now: datetime) -> bool:
        with self.sessions.begin() as session:
            result = session.execute(
                delete(ReviewCard).where(
                    ReviewCard.platform == platform, ReviewCard.user_id == user, ReviewCard.item == item
                )
            )
            refresh_review(session, platform, user, now)
            return bool(result.rowcount)

    def review_prefs(self, platform: str, user: str) -> ReviewPrefs:
        with self.sessions() as session:
            return prefs_of(session.get(ReviewMember, (platform, user)))

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
        for _ in range(3):  # two first presses at once: the loser updates the winner's row
            try:
                with self.sessions.begin() as session:
                    row = session.get(ReviewMember, (platform, user), with_for_update=True)
                    if row is None:
                        start, end = DEFAULT_QUIET
                        row = ReviewMember(platform=platform, user_id=user, quiet_start=start, quiet_end=end)
                        session.add(row)
                    if enabled is not None:
                        row.enabled = enabled
                    if quiet is not None:
                        row.quiet_start, row.quiet_end = quiet
                    row.updated_at = now
                    if zone is not None:
                        member = session.get(Member, (platform, user), with_for_update=True)
                        if member is None:
                            session.add(Member(platform=platform, user_id=user, tz=zone, updated_at=now))
                        else:
                            member.tz, member.updated_at = zone, now
                    session.flush()
                    refresh_review(session, platform, user, now, resume=enabled is True)
                    return prefs_of(row)
            except IntegrityError:
                continue
        raise RuntimeError(f"could not save the review settings of {platform}:{user}")

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
