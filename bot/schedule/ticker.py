"""A tick: claim what is due into the outbox, then deliver the outbox. `re-bot tick` runs one; `re-bot run` and the
console run one every minute with APScheduler (which only drives the clock: what is due lives in our tables)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.ops import metrics
from bot.schedule.budget import AdaptiveRate, RateBudget
from bot.schedule.delivery import Sender
from bot.schedule.dispatcher import DeliveryResult, Dispatcher, DispatchPolicy
from bot.schedule.outbox import ClaimStats, claim_batches, pending_count
from bot.store import SqlStore, make_engine, session_factory, upgrade
from content import Content
from handlers.services import utc_now

log = logging.getLogger(__name__)


@dataclass
class Store:
    engine: Engine
    sessions: sessionmaker[Session]
    api: SqlStore

    async def ping(self) -> None:
        """The /readyz "database" check: SELECT 1."""

        def select_one() -> None:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")

        await asyncio.to_thread(select_one)


def open_store(settings: Settings, migrate: bool | None = None) -> Store:
    """Connect to RE_BOT_DATABASE_URL and apply pending migrations (PostgreSQL: under an advisory lock, so replicas
    starting together migrate once) unless RE_BOT_AUTO_MIGRATE=false. Fails here, at start, when unreachable."""
    engine = make_engine(settings.database_url)
    if migrate is None:
        migrate = settings.auto_migrate
    if migrate:
        upgrade(engine)
    else:
        with engine.connect():
            pass
    sessions = session_factory(engine)
    return Store(engine, sessions, SqlStore(sessions, query_retention_days=settings.query_retention_days))


SLACK_INITIAL_RATE = 20.0  # messages/s an adaptive Slack budget starts from (slow start grows it from there)
SLACK_MAX_RATE = 1000.0  # an adaptive Slack budget's ceiling when the operator set none


def budgets(settings: Settings) -> dict[str, RateBudget]:
    """Slack: adaptive up to RE_BOT_RATE_SLACK (see bot.schedule.budget); Discord: RE_BOT_RATE_DISCORD, at most the
    documented 50 requests/s (the Discord sender also paces its own requests to that, DM opens included)."""
    slack_cap = settings.rate_slack or SLACK_MAX_RATE
    return {
        "slack": RateBudget(
            slack_cap,
            burst=5,
            per_target_interval=1 / settings.rate_slack_per_target,
            adaptive=AdaptiveRate(
                initial=min(SLACK_INITIAL_RATE, slack_cap), ceiling=slack_cap, floor=min(1.0, slack_cap)
            ),
        ),
        "discord": RateBudget(
            settings.rate_discord,
            burst=max(1, int(settings.rate_discord) // 5),
            per_target_interval=1 / settings.rate_discord_per_target,
        ),
        "console": RateBudget(settings.rate_console, burst=100),
    }


@dataclass
class TickReport:
    claimed: int = 0
    skipped: int = 0
    results: list[DeliveryResult] = field(default_factory=list)


@dataclass
class Ticker:
    """Everything a tick needs. `platforms` limits which schedules it claims (the console claims only its own)."""

    sessions: sessionmaker[Session]
    content: Content
    senders: Mapping[str, Sender]
    catchup: timedelta = timedelta(hours=3)
    policy: DispatchPolicy = field(default_factory=DispatchPolicy)
    budgets: Mapping[str, RateBudget] | None = None
    platforms: set[str] | None = None
    wall_clock: Callable[[], datetime] = utc_now
    questions: Any = None  # the questions log (`handlers.store_api.QueryLog`): each tick deletes what is past retention
    _dispatcher: Dispatcher | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, store: Store, content: Content, senders: Mapping[str, Sender], **kwargs
    ) -> Ticker:
        catchup = timedelta(hours=settings.catchup_hours)
        policy = DispatchPolicy(lease=timedelta(seconds=settings.delivery_lease_seconds), catchup=catchup)
        kwargs.setdefault("questions", store.api)
        return cls(
            store.sessions, content, senders, catchup=catchup, policy=policy, budgets=budgets(settings), **kwargs
        )

    def use_content(self, content: Content) -> None:
        """Reloaded content: the next claims and deliveries use it."""
        self.content = content
        if self._dispatcher is not None:
            self._dispatcher.content = content

    def purge_questions(self, now: datetime) -> None:
        if self.questions is None:
            return
        try:
            self.questions.purge_questions(now=now)
        except Exception as exc:  # the type only: the statement's parameters could reach the log otherwise
            log.error("deleting questions past retention failed (%s); the next tick tries again", type(exc).__name__)

    @property
    def dispatcher(self) -> Dispatcher:
        if self._dispatcher is None:  # one per ticker, so rate budgets (and 429 holds) carry over between ticks
            self._dispatcher = Dispatcher(
                self.sessions, self.content, self.senders, self.budgets, self.policy, wall_clock=self.wall_clock
            )
        return self._dispatcher

    async def tick(self, now: datetime) -> TickReport:
        started = time.perf_counter()
        dead = frozenset(p for p, faults in self.dispatcher.faults.items() if faults.fatal)
        claimed, turn, stats = asyncio.Event(), asyncio.Lock(), ClaimStats()

        async def claim() -> None:
            batches = claim_batches(self.sessions, self.content, now, stats, catchup=self.catchup,
                                    platforms=self.platforms, exclude=dead)  # fmt: skip
            try:
                while True:  # one transaction per turn: the dispatcher's leases take turns with them
                    async with turn:
                        if await asyncio.to_thread(next, batches, None) is None:
                            break
            finally:
                claimed.set()

        # Sending starts as soon as the first batch is claimed: a 09:00 fan-out does not wait for the whole claim.
        claiming = asyncio.create_task(claim())
        try:
            results = await self.dispatcher.run(now, claimed=claimed, turn=turn) if self.senders else []
        finally:
            await claiming
        await asyncio.to_thread(self.purge_questions, now)
        backlog = await asyncio.to_thread(pending_count, self.sessions)
        metrics.observe_tick(time.perf_counter() - started, delivered=stats.claimed, backlog=backlog)
        return TickReport(stats.claimed, stats.skipped, results)


def every_minute(scheduler, job: Callable, **kwargs) -> None:
    """Run `job` now and then at second 0 of every minute; a late run is still run once (not skipped)."""
    from apscheduler.triggers.cron import CronTrigger

    scheduler.add_job(
        job,
        CronTrigger(second=0),
        id="tick",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        next_run_time=utc_now(),
        **kwargs,
    )


class SchedulerComponent:
    """`re-bot run`'s scheduler, as a `bot.runtime.Component`: an AsyncIOScheduler on the running loop ticks every
    minute for the connected platforms; `stop()` lets a tick in progress finish (what it cannot finish stays in the
    outbox for the next start)."""

    name = "scheduler"

    def __init__(self, settings: Settings, store: Store, content: Content, senders: Mapping[str, Sender]) -> None:
        self.ticker = Ticker.from_settings(settings, store, content, senders)
        self._scheduler = None
        self._running: asyncio.Task | None = None

    async def _tick(self) -> None:
        self._running = asyncio.current_task()
        try:
            report = await self.ticker.tick(utc_now())
        except Exception:
            log.exception("tick failed; the next one retries whatever is still due")
            return
        finally:
            self._running = None
        if report.results or report.skipped:
            failed = sum(r.status != "sent" for r in report.results)
            log.info("tick: %d due, %d sent, %d not sent, %d skipped as too late", report.claimed,
                     len(report.results) - failed, failed, report.skipped)  # fmt: skip

    async def start(self) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self._scheduler = AsyncIOScheduler(timezone="UTC")
        every_minute(self._scheduler, self._tick)
        self._scheduler.start()

    async def stop(self) -> None:
        # Pause first and shut down only after the tick in progress has finished: APScheduler's asyncio executor
        # cancels running jobs on shutdown, which would cut a tick off between a send and recording it as sent.
        if self._scheduler is not None:
            self._scheduler.pause()
        if self._running is not None:
            await asyncio.shield(self._running)
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
