"""What the fan-out benches share for their token-fault day: a wall clock on the schedules' timeline, what the fault
paused, failed or left pending, and how many of a day's messages went out within the catch-up window
(RE_BOT_CATCHUP_HOURS: a delivery later than that is skipped)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.store.models import Delivery, Schedule


class SimClock:
    """The dispatcher's wall clock in a bench: set to a tick's instant, it then runs at real speed, so the times the
    dispatcher records (sent_at, leases, back-off) sit on the same timeline as the ticks' `now` and fire times."""

    def __init__(self, now: datetime) -> None:
        self.set(now)

    def set(self, now: datetime) -> None:
        self.now, self._real = now, time.perf_counter()

    def __call__(self) -> datetime:
        return self.now + timedelta(seconds=time.perf_counter() - self._real)


def counts(store, leave_out: str | None = None) -> tuple[int, int, int]:
    """Schedules paused, deliveries failed, deliveries pending (`leave_out`: a target whose pending ones are not
    counted)."""
    pending = select(func.count()).select_from(Delivery).where(Delivery.status == "pending")
    if leave_out is not None:
        pending = pending.where(Delivery.target != leave_out)
    with store.sessions() as session:
        paused = session.scalar(select(func.count()).select_from(Schedule).where(Schedule.status == "paused"))
        failed = session.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == "failed"))
        return paused or 0, failed or 0, session.scalar(pending) or 0


def sent_within(store, fire_time: datetime, catchup: timedelta, leave_out: str | None = None) -> int:
    """How many deliveries due at `fire_time` were sent at most `catchup` after it (`leave_out`: a target not
    counted)."""
    query = select(Delivery.sent_at).where(Delivery.fire_time == fire_time, Delivery.status == "sent")
    if leave_out is not None:
        query = query.where(Delivery.target != leave_out)
    with store.sessions() as session:
        return sum(sent is not None and sent - fire_time <= catchup for sent in session.scalars(query))


def hours_minutes(delta: timedelta) -> str:
    minutes = round(delta.total_seconds() / 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes % 60 else f"{minutes // 60}h"
