"""Sending budgets: how fast one platform may be sent to, and what a rate limit changes.

A `RateBudget` paces sends with GCRA (a reservation per send: `rate` per second, `burst` at once), keeps at most one
send per `per_target_interval` to one target (Slack: about 1 message/s per channel), and honours two kinds of hold:
`hold(seconds)` stops every send on the platform (a global or workspace-wide 429), `hold_target(target, seconds)`
only the sends to one target (a per-route, per-user or shared 429).

An `AdaptiveRate` moves the budget's rate to what the platform accepts (Slack publishes no workspace-wide number):
- slow start: from `initial`, the rate doubles each time half a second's worth of sends went through without a 429;
- the first 429 ends slow start: the rate falls back to 98% of the last rate that had no 429 (the one before the
  last doubling), and the platform is held for the Retry-After;
- then it creeps up by 1% per five seconds' worth of clean sends, and each later 429 cuts it (by 10% by default).
It never exceeds `ceiling` (the operator's RE_BOT_RATE_* cap) and never goes below `floor`. A 429 costs a whole
Retry-After of silence, so the increase after the first one is deliberately slow.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class AdaptiveRate:
    initial: float
    ceiling: float
    floor: float = 1.0
    slow_start: bool = True
    backoff: float = 0.9  # a later 429 multiplies the rate by this
    rate: float = 0.0
    _clean: int = 0  # sends that went through since the rate last changed
    _previous: float = field(default=0.0, repr=False)  # the rate before the last slow-start doubling

    def __post_init__(self) -> None:
        self.rate = max(self.floor, min(self.initial, self.ceiling))
        self._previous = self.rate

    def succeeded(self) -> None:
        self._clean += 1
        if self.rate >= self.ceiling:
            return
        if self.slow_start and self._clean >= self.rate * 0.5:
            self._previous, self.rate, self._clean = self.rate, min(self.ceiling, self.rate * 2), 0
        elif not self.slow_start and self._clean >= self.rate * 5:
            self.rate, self._clean = min(self.ceiling, self.rate * 1.01), 0

    def limited(self) -> None:
        if self.slow_start:
            self.slow_start = False
            self.rate = max(self.floor, self._previous * 0.98)
        else:
            self.rate = max(self.floor, self.rate * self.backoff)
        self._clean = 0


class RateBudget:
    """One platform's sending budget (see the module docstring). `adaptive` makes the rate follow the platform's
    answers; without it the rate is fixed at `rate`."""

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        per_target_interval: float = 0.0,
        adaptive: AdaptiveRate | None = None,
    ) -> None:
        self._fixed_rate, self.burst = rate, max(1, burst)
        self.adaptive = adaptive
        self._per_target = per_target_interval
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reset()

    def _reset(self) -> None:
        self._tat = 0.0  # GCRA's theoretical arrival time of the next send
        self._held_until = 0.0
        self._next_for_target: dict[str, float] = {}
        self._target_held: dict[str, float] = {}

    @property
    def rate(self) -> float:
        return self.adaptive.rate if self.adaptive is not None else self._fixed_rate

    def _now(self) -> float:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # the console runs each tick in its own loop: loop times are not comparable
            self._loop = loop
            self._reset()
        return loop.time()

    def hold(self, seconds: float) -> None:
        """Send nothing on this platform for `seconds` (a platform-wide Retry-After); no burst after it."""
        now = self._now()
        self._held_until = max(self._held_until, now + seconds)
        self._tat = max(self._tat, self._held_until + (self.burst - 1) / self.rate)

    def hold_target(self, target: str, seconds: float) -> None:
        """Send nothing to `target` for `seconds`; everyone else keeps going."""
        now = self._now()
        self._target_held[target] = max(self._target_held.get(target, 0.0), now + seconds)

    def target_wait(self, target: str) -> float:
        """Seconds until `target` may be sent to again after `hold_target` (0 when it is not held)."""
        until = self._target_held.get(target)
        return 0.0 if until is None else max(0.0, until - self._now())

    def succeeded(self) -> None:
        if self.adaptive is not None:
            self.adaptive.succeeded()

    def limited(self, retry_after: float) -> None:
        """The platform answered 429 for every target: hold for its Retry-After and lower an adaptive rate. The
        other sends already on their way when the first 429 came get 429s too: answers arriving during the hold
        are that same event and lower the rate only once."""
        if self.adaptive is not None and self._held_until <= self._now():
            self.adaptive.limited()
        self.hold(retry_after)

    async def acquire(self, target: str) -> None:
        now = self._now()
        if self._per_target:
            if len(self._next_for_target) > 50_000:  # forget targets whose slot has passed
                self._next_for_target = {t: s for t, s in self._next_for_target.items() if s > now}
            slot = max(now, self._next_for_target.get(target, 0.0))
            self._next_for_target[target] = slot + self._per_target
            if slot > now:
                await asyncio.sleep(slot - now)
        if (wait := self.target_wait(target)) > 0:
            await asyncio.sleep(wait)
            self._target_held.pop(target, None)
        while True:
            now = self._now()
            if self._held_until > now:
                await asyncio.sleep(self._held_until - now)
                continue
            interval = 1.0 / self.rate
            tat = max(self._tat, now)
            start = tat - (self.burst - 1) * interval
            self._tat = tat + interval
            if start <= now:
                return
            held = self._held_until
            await asyncio.sleep(start - now)
            if self._held_until == held:  # no hold began while waiting for the slot
                return
