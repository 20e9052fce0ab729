"""Sending budgets: how fast one platform may be sent to, and what a rate limit changes.

A `RateBudget` paces sends with GCRA (a reservation per send: `rate` per second, `burst` at once), keeps at most one
send per `per_target_interval` to one target (Slack: about 1 message/s per channel), and honours two kinds of hold:
`hold(seconds)` stops every send on the platform (a global or workspace-wide 429), `hold_target(target, seconds)`
only the sends to one target (a per-route, per-user or shared 429). Senders take the platform's slots one at a time,
each when it comes, at the rate of that moment: a rate change or a hold applies from the next send, however many
senders wait.

An `AdaptiveRate` moves the budget's rate to what the platform accepts (Slack publishes no workspace-wide number).
It only learns from sends that went at the budget's pace: when the sender itself was slower (at least a fifth below
the rate), a step proves nothing about the platform's limit and is not counted.
- slow start: from `initial`, the rate grows by half after each quarter second of clean sends at the full rate;
- the first 429 ends slow start: the rate falls back to 98% of what the last clean step achieved (at most its rate)
  or of what went through in the last second, whichever is lower, and the platform is held for the Retry-After;
- then it creeps up by 1% per five seconds of clean sends at the full rate, and each later 429 cuts it by 10% (the
  other sends' 429s from the same moment, answered during the hold, count once);
- the creep stops at 99% of the rate the platform last refused (the first time: what the rate fell back from) and
  stays there until a minute's worth of posts at the full rate went through without a 429; only then does it probe
  above it again.
It never exceeds `ceiling` (the operator's RE_BOT_RATE_* cap) and never goes below `floor`. A 429 costs a whole
Retry-After of silence (Slack's are whole seconds: a second's worth of posts), and a rate a little above the limit
draws one only once the platform's burst allowance is used up, many seconds later: so the increase after the first
429 is deliberately slow, and it does not go back to where the platform said no before that rate has held a while.
Times are the event loop's clock, passed in.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

SLOW_START_STEP = 0.25  # seconds of clean sends at the full rate before a slow-start step up
CREEP_STEP = 5.0  # seconds of clean sends at the full rate before a 1% step up, after the first 429
PLATEAU = 0.99  # the creep stops at this share of the rate the platform last refused...
PLATEAU_STEPS = 12  # ...for this many creep steps' worth of clean sends (a minute's), then probes above it


@dataclass
class AdaptiveRate:
    initial: float
    ceiling: float
    floor: float = 1.0
    slow_start: bool = True
    backoff: float = 0.9  # a later 429 multiplies the rate by this
    growth: float = 1.5  # each slow-start step multiplies the rate by this
    rate: float = 0.0
    _clean: int = 0  # sends that went through since the rate last changed
    _since: float | None = field(default=None, repr=False)  # when the rate last changed (the first success after)
    _proven: float = field(default=0.0, repr=False)  # what the last clean slow-start step achieved
    _recent: deque[float] = field(default_factory=deque, repr=False)  # when the sends of the last second succeeded
    _refused: float | None = field(default=None, repr=False)  # the rate the platform last said no to (see above)
    _plateau: int = field(default=0, repr=False)  # clean creep steps spent at the plateau below `_refused`

    def __post_init__(self) -> None:
        self.rate = max(self.floor, min(self.initial, self.ceiling))
        self._proven = self.rate

    def _set(self, rate: float) -> None:
        self.rate, self._clean, self._since = max(self.floor, min(self.ceiling, rate)), 0, None

    def succeeded(self, now: float) -> None:
        if self._since is None:
            self._since = now
        self._clean += 1
        self._recent.append(now)
        while self._recent and self._recent[0] < now - 1.0:
            self._recent.popleft()
        if self.rate >= self.ceiling:
            return
        window = SLOW_START_STEP if self.slow_start else CREEP_STEP
        if now - self._since < window or self._clean < 5:
            return
        achieved = (self._clean - 1) / (now - self._since)
        if achieved < 0.8 * self.rate:  # the sender, not the budget, held the pace: nothing learnt about the limit
            self._clean, self._since = 0, None
        elif self.slow_start:
            self._proven = min(self.rate, achieved)
            self._set(self.rate * self.growth)
        elif self._refused is not None and self.rate >= PLATEAU * self._refused:
            self._plateau += 1  # steps need not follow each other: daily fan-outs add up
            self._clean, self._since = 0, None
            if self._plateau >= PLATEAU_STEPS:
                self._refused, self._plateau = None, 0
        else:
            cap = self.ceiling if self._refused is None else PLATEAU * self._refused
            self._set(min(cap, self.rate * 1.01))

    def limited(self, now: float) -> None:
        if self.slow_start:
            # What a short step achieved can include the platform's burst allowance: what went through in the last
            # second is the better bound when it is lower.
            last_second = sum(1 for t in self._recent if t >= now - 1.0)
            self.slow_start = False
            self._refused = min(self._proven, max(last_second, self.floor))
            self._set(0.98 * self._refused)
        else:
            self._refused = self.rate
            self._set(self.rate * self.backoff)
        self._plateau = 0


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
        self._tat_rate = self.rate  # the rate `_tat` was computed at
        self._pacing = asyncio.Lock()

    @property
    def rate(self) -> float:
        return self.adaptive.rate if self.adaptive is not None else self._fixed_rate

    def _now(self) -> float:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # the console runs each tick in its own loop: loop times are not comparable
            self._loop = loop
            self._reset()
        return loop.time()

    def _pace(self, now: float) -> float:
        """The current rate; when it changed since `_tat` was computed, `_tat`'s lead over `now` is rescaled to it
        (the sends it stands for are that many sends at the new rate, not the old rate's seconds)."""
        rate = self.rate
        if rate != self._tat_rate:
            if self._tat > now:
                self._tat = now + (self._tat - now) * self._tat_rate / rate
            self._tat_rate = rate
        return rate

    def hold(self, seconds: float) -> None:
        """Send nothing on this platform for `seconds` (a platform-wide Retry-After); no burst after it."""
        now = self._now()
        self._held_until = max(self._held_until, now + seconds)
        self._tat = max(self._tat, self._held_until + (self.burst - 1) / self._pace(now))

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
            self.adaptive.succeeded(self._now())

    def limited(self, retry_after: float) -> None:
        """The platform answered 429 for every target: hold for its Retry-After and lower an adaptive rate. The
        other sends already on their way when the first 429 came get 429s too: answers arriving during the hold
        are that same event and lower the rate only once."""
        if self.adaptive is not None and self._held_until <= self._now():
            self.adaptive.limited(self._now())
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
        # One sender at a time waits for the platform's next slot, and takes it only when it comes: a slot is never
        # handed out ahead at the rate of the moment, so a rate change or a hold applies from the very next send
        # (slots reserved ahead by a pool of waiting senders would keep the old pace for pool/rate seconds).
        async with self._pacing:
            while True:
                now = self._now()
                if self._held_until > now:
                    await asyncio.sleep(self._held_until - now)
                    continue
                interval = 1.0 / self._pace(now)
                tat = max(self._tat, now)
                start = tat - (self.burst - 1) * interval
                if start <= now:
                    self._tat = tat + interval
                    return
                await asyncio.sleep(start - now)
