"""The claim half of a tick: due schedules become outbox rows in the same transaction that advances them.

Each batch of due schedules is locked (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent tickers take disjoint
batches; `BEGIN IMMEDIATE` on SQLite, so they take turns), planned with the catch-up rule, given its content (the
channel's unseen paper, the member's next study step), written to `deliveries` with a unique (schedule, fire time),
and moved to its next fire time. A (schedule, fire time) therefore enters the outbox at most once, whatever the
number of processes, and the send half (`bot.schedule.dispatcher`) delivers what the outbox holds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from bot.schedule.faults import Fault
from bot.store.models import ChannelPaper, Delivery, ProgressItem, ReviewCard, ReviewMember, Schedule
from bot.store.repo import prefs_of, rule_of
from content import Content
from handlers.review_clock import day_end, is_quiet, review_fire_time
from handlers.schedule import FirePlan, plan_due
from handlers.store_api import CHANNEL_POST, REMINDER, REVIEW
from handlers.study import next_step
from handlers.subscriptions import pick_paper

BATCH = 500
FIRST_BATCH = 50  # a tick's first claim: the first sends wait only for this many


@dataclass
class ClaimStats:
    claimed: int = 0  # deliveries written to the outbox
    skipped: int = 0  # fires more than the catch-up window late, skipped to the next one


def _insert(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def _due_query(now: datetime, platforms: set[str] | None, batch: int, snoozed: bool, exclude: frozenset[str]):
    column = Schedule.snooze_at if snoozed else Schedule.next_fire_at
    query = select(Schedule).where(Schedule.status == "active", column <= now)
    if snoozed:
        query = query.where(Schedule.snooze_at.is_not(None))
    if platforms is not None:
        query = query.where(Schedule.platform.in_(sorted(platforms)))
    if exclude:
        query = query.where(Schedule.platform.not_in(sorted(exclude)))
    return query.order_by(column).limit(batch).with_for_update(skip_locked=True)


class _Picker:
    """Chooses each delivery's content, loading what a batch needs in two queries instead of one per row."""

    def __init__(self, session: Session, content: Content, rows: list[Schedule]) -> None:
        self.session, self.content = session, content
        members = {(r.platform, r.target) for r in rows if r.kind == REMINDER}
        channels = {(r.platform, r.target) for r in rows if r.kind == CHANNEL_POST}
        self.done: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.seen: dict[tuple[str, str], set[str]] = defaultdict(set)
        if members:
            key = tuple_(ProgressItem.platform, ProgressItem.user_id)
            for p, u, item in session.execute(
                select(ProgressItem.platform, ProgressItem.user_id, ProgressItem.item).where(key.in_(members))
            ):
                self.done[(p, u)].add(item)
        if channels:
            key = tuple_(ChannelPaper.platform, ChannelPaper.channel)
            for p, c, paper in session.execute(
                select(ChannelPaper.platform, ChannelPaper.channel, ChannelPaper.paper_id).where(key.in_(channels))
            ):
                self.seen[(p, c)].add(paper)
        self.posted: list[dict] = []
        self.steps: dict[tuple, str] = {}

    def item(self, row: Schedule, fire: datetime) -> str:
        day = fire.astimezone(ZoneInfo(row.zone)).date()
        key = (row.platform, row.target)
        if row.kind != CHANNEL_POST:
            memo = (day, frozenset(self.done[key]))  # most members share a state (e.g. nothing done yet)
            if memo not in self.steps:
                self.steps[memo] = next_step(self.content, day, memo[1])
            return self.steps[memo]
        catalogue = {p.id for p in self.content.papers}
        seen = self.seen[key] & catalogue
        if seen >= catalogue:  # every paper posted here: a new cycle starts
            self.session.execute(
                delete(ChannelPaper).where(ChannelPaper.platform == row.platform, ChannelPaper.channel == row.target)
            )
            seen = set()
        paper = pick_paper(self.content.papers, day, seen)
        seen.add(paper.id)
        self.seen[key] = seen
        self.posted.append({"platform": row.platform, "channel": row.target, "paper_id": paper.id, "posted_at": fire})
        return "paper:" + paper.id


class _Reviews:
    """The review schedules of a batch: their members' card due dates and quiet hours, in two queries."""

    def __init__(self, session: Session, rows: list[Schedule]) -> None:
        members = {(r.platform, r.target) for r in rows if r.kind == REVIEW}
        self.dues: dict[tuple[str, str], list[datetime]] = defaultdict(list)
        self.quiet: dict[tuple[str, str], tuple[int, int]] = {}
        if not members:
            return
        key = tuple_(ReviewCard.platform, ReviewCard.user_id)
        for p, u, due in session.execute(
            select(ReviewCard.platform, ReviewCard.user_id, ReviewCard.due).where(key.in_(members))
        ):
            self.dues[(p, u)].append(due)
        found = {(m.platform, m.user_id): m for m in session.scalars(
            select(ReviewMember).where(tuple_(ReviewMember.platform, ReviewMember.user_id).in_(members)))}  # fmt: skip
        for member in members:
            prefs = prefs_of(found.get(member))
            self.quiet[member] = (prefs.quiet_start, prefs.quiet_end)

    def plan(self, row: Schedule, plan: FirePlan, now: datetime) -> tuple[datetime | None, str]:
        """The review DM to send for this fire (None: nothing due that day, or now is in the quiet hours) with its
        outbox item, and the schedule moved to the first review time on a day with a card due."""
        key = (row.platform, row.target)
        dues = self.dues.get(key, [])
        fire, item = plan.fire, ""
        if fire is not None:
            cutoff = day_end(fire, row.zone)
            if is_quiet(now, self.quiet[key], row.zone) or not any(d < cutoff for d in dues):
                fire = None
            item = "review:" + cutoff.isoformat()
        if dues:
            row.next_fire_at = review_fire_time(rule_of(row), min(dues), plan.next_fire)
        else:
            row.status = "idle"
        return fire, item


def _claim_batch(
    sessions: sessionmaker[Session],
    content: Content,
    now: datetime,
    catchup: timedelta,
    platforms: set[str] | None,
    batch: int,
    snoozed: bool,
    stats: ClaimStats,
    exclude: frozenset[str] = frozenset(),
) -> int:
    with sessions.begin() as session:
        rows = list(session.scalars(_due_query(now, platforms, batch, snoozed, exclude)))
        if not rows:
            return 0
        picker = _Picker(session, content, rows)
        reviews = _Reviews(session, rows)
        outbox = []
        for row in rows:
            item = None
            if snoozed:
                fire = row.snooze_at if row.snooze_at and now - row.snooze_at <= catchup else None
                row.snooze_at = None
            else:
                plan = plan_due(rule_of(row), row.next_fire_at, now, catchup)
                fire = plan.fire
                row.next_fire_at = plan.next_fire
                if row.paused_until is not None and row.paused_until <= now:
                    row.paused_until = None
                if row.kind == REVIEW:
                    if fire is None:
                        stats.skipped += 1
                    fire, item = reviews.plan(row, plan, now)
                    if fire is None:
                        continue
            if fire is None:
                stats.skipped += 1
                continue
            outbox.append(
                {
                    "schedule_id": row.id,
                    "fire_time": fire,
                    "kind": row.kind,
                    "platform": row.platform,
                    "target": row.target,
                    "item": item or picker.item(row, fire),
                    "day": fire.astimezone(ZoneInfo(row.zone)).date(),
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now,
                }
            )
        session.flush()
        insert = _insert(session)
        if outbox:
            session.execute(
                insert(Delivery).on_conflict_do_nothing(index_elements=["schedule_id", "fire_time"]), outbox
            )
            stats.claimed += len(outbox)
        if picker.posted:
            session.execute(insert(ChannelPaper).on_conflict_do_nothing(), picker.posted)
        return len(rows)


def claim_batches(
    sessions: sessionmaker[Session],
    content: Content,
    now: datetime,
    stats: ClaimStats,
    *,
    catchup: timedelta,
    platforms: set[str] | None = None,
    batch: int = BATCH,
    exclude: frozenset[str] = frozenset(),
) -> Iterator[int]:
    """`claim_due` one transaction at a time: each step claims one batch into `stats` and yields how many due
    schedules it took, so a caller can let other writers in between. The first batch is small, so sending can start
    after a few milliseconds rather than after a whole batch."""
    size = min(batch, FIRST_BATCH)
    for snoozed in (False, True):
        while True:
            taken = _claim_batch(sessions, content, now, catchup, platforms, size, snoozed, stats, exclude)
            yield taken
            if taken < size:
                break
            size = batch


def claim_due(
    sessions: sessionmaker[Session],
    content: Content,
    now: datetime,
    *,
    catchup: timedelta,
    platforms: set[str] | None = None,
    batch: int = BATCH,
    exclude: frozenset[str] = frozenset(),
) -> ClaimStats:
    """Move every schedule due at `now` into the outbox (for `platforms` only, when given; never for `exclude`, the
    platforms that ended for good in this process: their schedules stay due for the next process). Idempotent."""
    stats = ClaimStats()
    for _ in claim_batches(sessions, content, now, stats, catchup=catchup, platforms=platforms, batch=batch,
                           exclude=exclude):  # fmt: skip
        pass
    return stats


def held_counts(sessions: sessionmaker[Session], platform: str, faults: Iterable[Fault]) -> dict[str, int]:
    """Pending deliveries of `platform` held back by its active `faults`, by fault code (0 for a fault holding none):
    every pending one under a platform-wide fault (key None), else those of the workspaces whose token failed."""
    codes = {fault.key: fault.code for fault in faults}
    if not codes:
        return {}
    pending = (Delivery.status == "pending", Delivery.platform == platform)
    held = dict.fromkeys(codes.values(), 0)
    with sessions() as session:
        if None in codes:  # the whole platform is held: every pending delivery, under that fault
            return {codes[None]: session.scalar(select(func.count()).select_from(Delivery).where(*pending)) or 0}
        rows = session.execute(
            select(Schedule.workspace, func.count())
            .select_from(Delivery)
            .join(Schedule, Schedule.id == Delivery.schedule_id)
            .where(*pending, Schedule.workspace.in_(sorted(k for k in codes if k is not None)))
            .group_by(Schedule.workspace)
        )
        for workspace, count in rows:
            held[codes[workspace]] += count
    return held


def pending_count(sessions: sessionmaker[Session]) -> int:
    """Deliveries still waiting in the outbox (the `re_bot_due_backlog` gauge)."""
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == "pending")) or 0
