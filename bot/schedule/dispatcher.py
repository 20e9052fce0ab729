"""The send half of a tick: deliver what the outbox holds, within each platform's limits, exactly once.

Per platform, a producer leases small batches of pending deliveries (`FOR UPDATE SKIP LOCKED` on PostgreSQL), a pool
of workers sends them through the platform's `Sender` under a `RateBudget`, and the results are written back in
batches. A lease is an expiry time on the row, not a lock held open: if the process dies between lease and send,
another process (or this one after a restart) sends the row once the lease has expired. Retries:
- `TransientDeliveryError` (429, 5xx, timeout): retried with exponential back-off (tenacity). A 429 is not a
  failure: its scope decides who waits. A platform-wide one (Discord `global`, Slack's workspace limit) holds the
  whole platform's budget for the Retry-After; a per-route, per-user or shared one holds only that target (a long
  one puts the row back in the outbox until then), and everyone else keeps getting their messages. After
  `attempts_per_lease` tries the row goes back to the outbox with a back-off time; after `max_attempts` in all it is
  marked failed.
- `PermanentDeliveryError` (DMs closed, channel gone): marked failed and its schedule paused with the reason.
- `PlatformFault` (the bot's token revoked or invalid): the platform's `PlatformFaults` records it (one error log,
  /readyz 503), the row and every other one of that platform stay pending with no attempt used and no schedule
  paused, and nothing more is sent on the platform (or that workspace) until the sender's `check` passes again,
  which each run tries first. The re_bot_deliveries_held gauge counts what a fault holds back: recounted whenever a
  fault trips or clears, and at the end of every run.
- Deliveries more than the catch-up window late are skipped, not sent.
Delivery retry and lease times follow the wall clock (`wall_clock`); schedule times follow the tick's `now`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from bot.ops import metrics
from bot.platforms.console import render_reply
from bot.schedule.budget import RateBudget
from bot.schedule.delivery import PermanentDeliveryError, PlatformFault, Sender, Sent, TransientDeliveryError
from bot.schedule.faults import PlatformFaults
from bot.schedule.outbox import held_counts
from bot.store.models import Delivery, Schedule
from bot.store.repo import SqlStore
from content import Content
from handlers.review import review_dm
from handlers.services import utc_now
from handlers.store_api import CHANNEL_POST, REVIEW
from handlers.study import reminder_reply, split_item
from handlers.subscriptions import channel_post_reply
from handlers.types import Reply

log = logging.getLogger(__name__)


class _TargetLimited(Exception):
    """One target is rate limited for longer than a worker should wait: the row waits in the outbox instead."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class DispatchPolicy:
    lease: timedelta = timedelta(seconds=120)
    attempts_per_lease: int = 4
    max_attempts: int = 12
    backoff_initial: float = 1.0  # seconds; doubled per attempt, with jitter
    backoff_max: float = 60.0
    send_timeout: float = 30.0
    concurrency: int = 32
    rate_limited_max: int = 100  # 429s in a row before an attempt counts as failed
    target_wait_max: float = 5.0  # seconds a worker waits for one target's 429; a longer one goes back to the outbox
    catchup: timedelta = timedelta(hours=3)


@dataclass(frozen=True)
class Leased:
    id: int
    schedule_id: int
    fire_time: datetime
    kind: str
    platform: str
    target: str
    item: str
    day: object
    attempts: int
    workspace: str | None = None


@dataclass(frozen=True)
class DeliveryResult:
    platform: str
    target: str
    kind: str
    fire_time: datetime
    text: str
    status: str  # "sent" | "failed" | "retry" | "skipped" | "held" (the platform's token fault: still pending)
    error: str | None = None
    message_id: str | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "platform": self.platform,
            "target": self.target,
            "kind": self.kind,
            "fire_time": self.fire_time.isoformat(),
            "text": self.text,
            "status": self.status,
        }


def delivery_reply(content: Content, kind: str, item: str, day) -> Reply:
    """The Reply for an outbox row: the same handlers' replies a member gets from /re-paper and /re-prompt."""
    if kind == CHANNEL_POST:
        paper = content.paper(split_item(item)[1])
        if paper is None:  # removed from the catalogue since the claim: post the day's paper instead
            from handlers import rotation

            paper = rotation.for_day(content.papers, day)
        return channel_post_reply(paper)
    return reminder_reply(content, item, day)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class _Run:
    now: datetime
    results: list[DeliveryResult] = field(default_factory=list)
    marks: list[dict] = field(default_factory=list)
    pauses: list[tuple[int, str]] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    marked: asyncio.Event = field(default_factory=asyncio.Event)


class Dispatcher:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        content: Content,
        senders: Mapping[str, Sender],
        budgets: Mapping[str, RateBudget] | None = None,
        policy: DispatchPolicy | None = None,
        *,
        worker: str | None = None,
        wall_clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.sessions, self.content, self.senders = sessions, content, dict(senders)
        self.policy = policy or DispatchPolicy()
        self.budgets = {p: (budgets or {}).get(p) or RateBudget(1000.0, 100) for p in self.senders}
        self.faults = {p: getattr(s, "faults", None) or PlatformFaults(p) for p, s in self.senders.items()}
        self.worker = worker or worker_name()
        self.wall_clock = wall_clock
        self._replies: dict[tuple, tuple[Reply, str]] = {}
        self._run: _Run | None = None  # the run in progress
        self._stale: set[str] = set()  # platforms whose faults changed since their held deliveries were counted
        self._recounts: set[asyncio.Task] = set()
        self._recounts_started: dict[str, int] = dict.fromkeys(self.senders, 0)
        for faults in self.faults.values():
            faults.listen(self._faults_changed)

    async def run(
        self, now: datetime, claimed: asyncio.Event | None = None, turn: asyncio.Lock | None = None
    ) -> list[DeliveryResult]:
        """Send every pending delivery of the platforms that have a sender. Returns what happened to each. With
        `claimed`, the outbox is still being filled: keep leasing until it is set and nothing is left. With `turn`,
        each lease waits its turn with the claim's transactions (held by the claim for one batch at a time), instead
        of for the database: on SQLite, whose writers poll for its one write lock, a lease would otherwise lose to
        a claim's back-to-back batches until the whole claim is done, and sending could not start before that."""
        run = self._run = _Run(now)
        flusher = asyncio.create_task(self._flush_loop(run))
        try:
            await asyncio.gather(*(self._platform(name, run, claimed, turn) for name in self.senders))
        finally:
            run.done.set()
            run.marked.set()
            await flusher
            self._run = None
            await asyncio.to_thread(self._flush, run)
            if claimed is not None:  # what a held platform's pass claimed is held too: count it
                await claimed.wait()
            loop = asyncio.get_running_loop()
            recounts = [t for t in self._recounts if t.get_loop() is loop]
            await asyncio.gather(*recounts, *(self._count_held(p) for p in self.senders))
        return run.results

    def _faults_changed(self, faults: PlatformFaults) -> None:
        """A fault tripped or cleared: recount what the platform's faults hold back, now rather than at the run's
        end. During a run its flush loop does it, once what was sent meanwhile is written."""
        self._stale.add(faults.platform)
        if self._run is not None:
            self._run.marked.set()
            return
        with contextlib.suppress(RuntimeError):  # outside an event loop (nothing trips there): the next run counts
            task = asyncio.get_running_loop().create_task(self._count_held(faults.platform))
            self._recounts.add(task)
            task.add_done_callback(self._recounts.discard)

    async def _count_faulted(self, wrote: bool) -> None:
        """After a flush: recount the platforms whose faults changed and, when rows were written (they may have left
        what a fault holds: sends that were on their way when it tripped), those with a fault."""
        platforms = set(self._stale)
        if wrote:
            platforms |= {p for p, faults in self.faults.items() if faults.active}
        for platform in sorted(platforms):
            await self._count_held(platform)

    async def _count_held(self, platform: str) -> None:
        """Set re_bot_deliveries_held for `platform`. Of recounts that overlap, the last one started (it saw the
        latest faults) is the one that counts."""
        self._stale.discard(platform)
        self._recounts_started[platform] += 1
        started = self._recounts_started[platform]
        faults = self.faults[platform].active
        try:
            held = await asyncio.to_thread(held_counts, self.sessions, platform, faults) if faults else {}
        except Exception as exc:  # the database failing here must not fail the run: the next recount tries again
            log.warning("counting the deliveries %s holds failed (%s)", platform, type(exc).__name__)
            return
        if started == self._recounts_started[platform]:
            metrics.set_deliveries_held(platform, held)

    def _batch_size(self, platform: str) -> int:
        # Lease no more than the budget can send in a quarter of the lease, so no lease expires while queued.
        rate = self.budgets[platform].rate
        return max(1, min(200, int(rate * self.policy.lease.total_seconds() / 4)))

    async def _recheck(self, platform: str) -> None:
        """Before sending on a platform with faults: ask the sender whether each failed token works again."""
        faults, sender = self.faults[platform], self.senders[platform]
        check = getattr(sender, "check", None)
        for fault in faults.active:
            if fault.fatal:
                continue
            try:
                works = True if check is None else bool(await asyncio.wait_for(check(fault.key), 10))
            except Exception as exc:  # an outage while checking: still held, checked again at the next run
                log.info("%s: could not check the token (%s); sending stays held", faults.title, type(exc).__name__)
                works = False
            if works:
                faults.clear(fault.key)

    async def _platform(
        self, platform: str, run: _Run, claimed: asyncio.Event | None = None, turn: asyncio.Lock | None = None
    ) -> None:
        faults = self.faults[platform]
        if faults.active:
            await self._recheck(platform)
        if faults.holds_all:
            return
        batch = self._batch_size(platform)
        queue: asyncio.Queue[Leased | None] = asyncio.Queue(maxsize=2 * batch)
        workers = [asyncio.create_task(self._worker(queue, run)) for _ in range(self.policy.concurrency)]
        try:
            while not faults.holds_all:
                filled = claimed is None or claimed.is_set()  # read before leasing: the last lease sees every row
                async with turn or contextlib.nullcontext():
                    leased = await asyncio.to_thread(self._lease, platform, batch, faults.held_keys)
                if held := [row.id for row in leased if faults.holds(row.workspace)]:
                    # A fault tripped while leasing (and rows it made wait may be among these): back untouched.
                    await asyncio.to_thread(self._release, held)
                for row in leased:
                    if not faults.holds(row.workspace):
                        await queue.put(row)
                if not leased:
                    if filled:
                        break
                    assert claimed is not None
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(claimed.wait(), 0.05)
        finally:
            for _ in workers:
                await queue.put(None)
            await asyncio.gather(*workers)

    def _lease(self, platform: str, batch: int, held: set[str] = frozenset()) -> list[Leased]:  # type: ignore[assignment]
        wall = self.wall_clock()
        with self.sessions.begin() as session:
            query = (
                select(Delivery, Schedule.workspace)
                .join(Schedule, Schedule.id == Delivery.schedule_id)
                .where(Delivery.status == "pending", Delivery.platform == platform)
                .where(or_(Delivery.lease_until.is_(None), Delivery.lease_until < wall))
                .where(or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= wall))
                .order_by(Delivery.id)
                .limit(batch)
                .with_for_update(of=Delivery, skip_locked=True)
            )
            if held:  # workspaces whose token failed wait; the others' deliveries go on
                query = query.where(or_(Schedule.workspace.is_(None), Schedule.workspace.not_in(sorted(held))))
            rows = list(session.execute(query))
            for row, _ in rows:
                row.lease_until, row.claimed_by = wall + self.policy.lease, self.worker
            return [
                Leased(r.id, r.schedule_id, r.fire_time, r.kind, r.platform, r.target, r.item, r.day, r.attempts, w)
                for r, w in rows
            ]

    def _release(self, ids: list[int]) -> None:
        with self.sessions.begin() as session:
            session.execute(update(Delivery).where(Delivery.id.in_(ids)).values(lease_until=None, claimed_by=None))

    async def _worker(self, queue: asyncio.Queue[Leased | None], run: _Run) -> None:
        while (row := await queue.get()) is not None:
            try:
                await self._deliver(row, run)
            except Exception:  # a bug must not stop the other deliveries; the row's lease expires and it is retried
                log.exception("delivery %s failed unexpectedly", row.id)

    async def _flush_loop(self, run: _Run) -> None:
        """Write results back as soon as there are any (batched by whatever piled up during the previous write), so
        a crash repeats as few sends as possible."""
        while not run.done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(run.marked.wait(), 1.0)
            run.marked.clear()
            wrote = await asyncio.to_thread(self._flush, run)
            await self._count_faulted(wrote)

    def _flush(self, run: _Run) -> bool:
        """Write the results recorded since the last flush; False when there were none."""
        marks, run.marks = run.marks, []
        pauses, run.pauses = run.pauses, []
        if not marks and not pauses:
            return False
        with self.sessions.begin() as session:
            if marks:
                session.execute(update(Delivery), marks)
            for schedule_id, reason in pauses:
                session.execute(
                    update(Schedule)
                    .where(Schedule.id == schedule_id)
                    .values(status="paused", pause_reason=reason[:300])
                )
        return True

    def _wait(self, retry_state) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, TransientDeliveryError) and exc.retry_after is not None:
            return exc.retry_after
        initial = self.policy.backoff_initial
        return wait_exponential_jitter(multiplier=initial, max=self.policy.backoff_max, jitter=initial)(retry_state)

    def _review_reply(self, row: Leased) -> Reply | None:
        """The member's review DM, from the cards still due before the outbox row's cut-off when it is sent (a card
        rated with `/re-review` meanwhile is left out); None when none is left."""
        cutoff = datetime.fromisoformat(row.item.partition(":")[2])
        cards = SqlStore(self.sessions).due_cards(row.platform, row.target, cutoff)
        return review_dm(self.content, cards) if cards else None

    async def _reply(self, row: Leased) -> tuple[Reply | None, str]:
        if row.kind == REVIEW:  # one member's own cards: nothing to share with other deliveries
            reply = await asyncio.to_thread(self._review_reply, row)
            return reply, render_reply(reply) if reply is not None else ""
        key = (row.kind, row.item, row.day)
        if key not in self._replies:  # a fan-out sends the same step to many members: build and render it once
            if len(self._replies) > 1000:
                self._replies.clear()
            reply = delivery_reply(self.content, row.kind, row.item, row.day)
            self._replies[key] = (reply, render_reply(reply))
        return self._replies[key]

    async def _deliver(self, row: Leased, run: _Run) -> None:
        reply, text = await self._reply(row)
        result = DeliveryResult(row.platform, row.target, row.kind, row.fire_time, text, "sent")
        wall = self.wall_clock()
        if run.now - row.fire_time > self.policy.catchup:
            self._record(run, row, result, status="skipped", error="more than the catch-up window late")
            return
        if reply is None:
            self._record(run, row, result, status="skipped", error="every card was reviewed before the DM went out")
            return
        faults = self.faults[row.platform]
        if faults.holds(row.workspace):
            self._record(run, row, result, status="held", error=faults.problem())
            return
        tries = 0
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.policy.attempts_per_lease),
                wait=self._wait,
                retry=retry_if_exception_type(TransientDeliveryError),
                reraise=True,
            ):
                with attempt:
                    tries += 1
                    sent = await self._send_within_budget(row, reply)
        except PlatformFault as exc:
            faults.trip(exc.reason, exc.key, now=wall, code=exc.code)
            self._record(run, row, result, status="held", error=exc.reason)
            return
        except _TargetLimited as exc:
            self._record(run, row, result, status="retry", error=str(exc), attempts=row.attempts + tries - 1,
                         next_attempt_at=wall + timedelta(seconds=exc.retry_after))  # fmt: skip
            return
        except TransientDeliveryError as exc:
            attempts = row.attempts + tries
            if attempts >= self.policy.max_attempts:
                self._record(
                    run,
                    row,
                    result,
                    status="failed",
                    error=f"gave up after {attempts} attempts: {exc}",
                    attempts=attempts,
                )
            else:
                backoff = min(self.policy.backoff_max, self.policy.backoff_initial * 2**attempts)
                self._record(
                    run,
                    row,
                    result,
                    status="retry",
                    error=str(exc),
                    attempts=attempts,
                    next_attempt_at=wall + timedelta(seconds=backoff),
                )
            return
        except PermanentDeliveryError as exc:
            self._record(run, row, result, status="failed", error=exc.reason, attempts=row.attempts + tries)
            run.pauses.append((row.schedule_id, exc.reason))
            return
        self._record(run, row, result, status="sent", attempts=row.attempts + tries, message_id=sent.message_id)

    async def _send_within_budget(self, row: Leased, reply: Reply) -> Sent:
        """One attempt. A 429 is the platform saying "later", not a failure: wait out its Retry-After (the whole
        platform's budget or only this target's, as its scope says) and send again, without using up an attempt (up
        to `rate_limited_max` times). A target's wait longer than `target_wait_max` goes back to the outbox."""
        sender, budget = self.senders[row.platform], self.budgets[row.platform]
        for _ in range(self.policy.rate_limited_max):
            await budget.acquire(row.target)
            faults = self.faults[row.platform]
            if (fault := faults.fault(row.workspace)) is not None:  # the token failed while this one waited its turn
                raise PlatformFault(fault.reason, fault.key, fault.code)
            try:
                sent = await asyncio.wait_for(
                    sender.send(row.target, reply, kind=row.kind, nonce=f"re-{row.id}"),  # type: ignore[arg-type]
                    self.policy.send_timeout,
                )
            except TransientDeliveryError as exc:
                if exc.retry_after is None:
                    raise
                metrics.observe_rate_limit(row.platform, exc.retry_after)
                if exc.scope == "platform":
                    budget.limited(exc.retry_after)
                elif exc.retry_after > self.policy.target_wait_max:
                    raise _TargetLimited(str(exc), exc.retry_after) from exc
                else:
                    budget.hold_target(row.target, exc.retry_after)
            except TimeoutError:
                raise TransientDeliveryError("timed out") from None
            else:
                budget.succeeded()
                return sent
        raise TransientDeliveryError(f"still rate limited after {self.policy.rate_limited_max} tries")

    def _record(
        self,
        run: _Run,
        row: Leased,
        result: DeliveryResult,
        *,
        status: str,
        error: str | None = None,
        attempts: int | None = None,
        message_id: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> None:
        run.results.append(replace(result, status=status, error=error, message_id=message_id))
        if status in ("sent", "failed", "retry"):
            metrics.observe_delivery(row.platform, row.kind, "retried" if status == "retry" else status,
                                     target=row.target, schedule=row.schedule_id,
                                     fire_time=row.fire_time.isoformat(), reason=error)  # fmt: skip
        mark: dict[str, object] = {
            "id": row.id,
            "status": "pending" if status in ("retry", "held") else status,
            "lease_until": None,
            "attempts": row.attempts if attempts is None else attempts,
            "last_error": (error or None) and error[:500],
            "message_id": message_id,
            "next_attempt_at": next_attempt_at,
            "sent_at": self.wall_clock() if status == "sent" else None,
        }
        run.marks.append(mark)
        run.marked.set()
