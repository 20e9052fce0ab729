"""A tick: claim what is due into the outbox, then deliver the outbox. `re-bot tick` runs one; `re-bot run` and the
console run one every minute with APScheduler (which only drives the clock: what is due lives in our tables)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.delivery import Sender
from bot.dispatcher import DeliveryResult, Dispatcher, DispatchPolicy, RateBudget
from bot.outbox import claim_due
from bot.store import SqlStore, make_engine, session_factory, upgrade
from content import Content
from handlers.services import utc_now

log = logging.getLogger(__name__)


@dataclass
class Store:
    engine: Engine
    sessions: sessionmaker[Session]
    api: SqlStore


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
    return Store(engine, sessions, SqlStore(sessions))


def budgets(settings: Settings) -> dict[str, RateBudget]:
    return {
        "slack": RateBudget(
            settings.rate_slack,
            burst=max(1, int(settings.rate_slack)),
            per_target_interval=1 / settings.rate_slack_per_target,
        ),
        "discord": RateBudget(
            settings.rate_discord,
            burst=max(1, int(settings.rate_discord)),
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
    _dispatcher: Dispatcher | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, store: Store, content: Content, senders: Mapping[str, Sender], **kwargs
    ) -> Ticker:
        catchup = timedelta(hours=settings.catchup_hours)
        policy = DispatchPolicy(lease=timedelta(seconds=settings.delivery_lease_seconds), catchup=catchup)
        return cls(
            store.sessions, content, senders, catchup=catchup, policy=policy, budgets=budgets(settings), **kwargs
        )

    @property
    def dispatcher(self) -> Dispatcher:
        if self._dispatcher is None:  # one per ticker, so rate budgets (and 429 holds) carry over between ticks
            self._dispatcher = Dispatcher(
                self.sessions, self.content, self.senders, self.budgets, self.policy, wall_clock=self.wall_clock
            )
        return self._dispatcher

    async def tick(self, now: datetime) -> TickReport:
        stats = await asyncio.to_thread(
            claim_due, self.sessions, self.content, now, catchup=self.catchup, platforms=self.platforms
        )
        results = await self.dispatcher.run(now) if self.senders else []
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


def start_scheduler(settings: Settings, store: Store, content: Content, senders: Mapping[str, Sender]):
    """`re-bot run`: an AsyncIOScheduler on the running loop ticks every minute for the connected platforms."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    ticker = Ticker.from_settings(settings, store, content, senders)

    async def tick() -> None:
        try:
            report = await ticker.tick(utc_now())
        except Exception:
            log.exception("tick failed; the next one retries whatever is still due")
            return
        if report.results or report.skipped:
            failed = [r for r in report.results if r.status != "sent"]
            log.warning(
                "tick: %d due, %d sent, %d not sent, %d skipped as too late",
                report.claimed,
                len(report.results) - len(failed),
                len(failed),
                report.skipped,
            )

    scheduler = AsyncIOScheduler(timezone="UTC")
    every_minute(scheduler, tick)
    scheduler.start()
    return scheduler
