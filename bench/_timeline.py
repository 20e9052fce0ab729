"""What the fan-out benches share for their token-fault day: a wall clock on the schedules' timeline, and how many of a
day's messages went out within the catch-up window (RE_BOT_CATCHUP_HOURS: a delivery later than that is skipped)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.store.models import Delivery


class SimClock:
    """The dispatcher's wall clock in a bench: set to a tick's instant, it then runs at real speed, so the times the
    dispatcher records (sent_at, leases, back-off) sit on the same timeline as the ticks' `now` and fire times."""

    def __init__(self, now: datetime) -> None:
        self.set(now)

    def set(self, now: datetime) -> None:
        self.now, self._real = now, time.perf_counter()

    def __call__(self) -> datetime:
        return self.now + timedelta(seconds=time.perf_counter() - self._real)


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
