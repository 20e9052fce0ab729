"""The sending budget (bot.schedule.budget): `AdaptiveRate` with the times passed in, `RateBudget` on an event loop
on virtual time (tests/virtual_time.py), so every timing below is exact and none is the wall clock's."""

from __future__ import annotations

import asyncio
import itertools
import math

import pytest
from virtual_time import run_virtual

from bot.schedule.budget import CREEP_STEP, PLATEAU_STEPS, SLOW_START_STEP, AdaptiveRate, RateBudget


def step(rate: AdaptiveRate, at: float, sent: list[float]) -> float:
    """Sends at the full rate from `at`, all through, until the rate changes; returns when the next would go."""
    current = rate.rate
    while rate.rate == current:
        rate.succeeded(at)
        sent.append(at)
        at += 1 / current
    return at


def creep_step(rate: AdaptiveRate, at: float) -> float:
    """A little over five seconds of sends at the full rate, all through; returns when the next would go."""
    current = rate.rate
    count = math.ceil(CREEP_STEP * current) + 3
    for i in range(count):
        rate.succeeded(at + i / current)
    return at + count / current


def test_slow_start_grows_by_half_after_each_step_of_clean_sends_at_the_full_rate():
    rate, sent = AdaptiveRate(initial=20, ceiling=1000), []
    at = step(rate, 0.0, sent)
    assert rate.rate == 30 and sent[-1] == pytest.approx(SLOW_START_STEP) and len(sent) == 6
    step(rate, at, sent)
    assert rate.rate == 45


def test_a_slow_sender_teaches_nothing_about_the_limit():
    rate = AdaptiveRate(initial=20, ceiling=1000)
    for i in range(20):
        rate.succeeded(i / 10)  # the budget allowed 20/s; the sender managed 10/s
    assert rate.rate == 20


def test_the_first_429_settles_below_what_went_through_and_later_ones_cut_by_a_tenth():
    rate, sent = AdaptiveRate(initial=20, ceiling=1000), []
    at = 0.0
    while rate.rate < 150:  # 20, 30, 45, 67.5, 101.25, then 151.875
        at = step(rate, at, sent)
    for _ in range(15):  # 0.1 s at 151.875/s, then Slack answers 429
        rate.succeeded(at)
        sent.append(at)
        at += 1 / rate.rate
    rate.limited(at)
    last_second = sum(1 for t in sent if t >= at - 1.0)
    assert not rate.slow_start
    measured = min(101.25, last_second)
    assert rate.rate == pytest.approx(0.98 * measured)
    settled = rate.rate
    at = creep_step(rate, at + 1.0)  # five seconds at the full rate: up 1%
    assert rate.rate == pytest.approx(1.01 * settled)
    at = creep_step(rate, at)  # and no further than 99% of what the platform refused
    assert rate.rate == pytest.approx(0.99 * measured)
    crept = rate.rate
    rate.limited(at)
    assert rate.rate == pytest.approx(0.9 * crept)


def test_the_creep_stops_just_below_the_rate_the_platform_refused_until_a_minute_there_went_through():
    """A rate a little above the limit draws its 429 only once the platform's burst allowance is spent, long after
    the step up: so the creep waits just below the rate the platform last said no to before it probes above it."""
    rate = AdaptiveRate(initial=100, ceiling=1000, slow_start=False)
    rate.limited(0.0)  # a 429 at 100/s
    assert rate.rate == pytest.approx(90)
    at, rates = 1.0, []
    for _ in range(30):
        at = creep_step(rate, at)
        rates.append(round(rate.rate, 2))
    climbed = [r for r in rates if r < 99]
    assert climbed == [round(90 * 1.01**n, 2) for n in range(1, len(climbed) + 1)]  # 1% per step up to the plateau
    plateau = rates.index(99.0)
    assert rates[plateau : plateau + PLATEAU_STEPS + 1] == [99.0] * (PLATEAU_STEPS + 1)  # a minute there...
    assert rates[plateau + PLATEAU_STEPS + 1] == pytest.approx(99 * 1.01, abs=0.01)  # ...then above it again

    # What goes through at the plateau need not be in one go: daily half-minute fan-outs add up to the minute.
    again = AdaptiveRate(initial=100, ceiling=1000, slow_start=False)
    again.limited(0.0)
    at = 1.0
    while again.rate < 99:
        at = creep_step(again, at)
    for day in (1, 2):
        for i in range(30 * 99):
            again.succeeded(day * 86_400 + i / 99)
        assert again.rate == 99
    for i in range(30 * 99):
        again.succeeded(3 * 86_400 + i / 99)
    assert again.rate > 99


def test_the_rate_stays_between_floor_and_ceiling():
    rate = AdaptiveRate(initial=20, ceiling=25, floor=2)
    for i in range(200):
        rate.succeeded(i / 25)
    assert rate.rate == 25
    for i in range(100):
        rate.limited(10.0 + i)
    assert rate.rate == 2


async def _acquire_all(budget: RateBudget, senders: int, sends: int, times: list[float]) -> None:
    loop = asyncio.get_running_loop()

    async def sender(n: int) -> None:
        for i in range(sends):
            await budget.acquire(f"U{n}-{i}")
            times.append(loop.time())

    await asyncio.gather(*(sender(n) for n in range(senders)))


def test_sends_keep_to_the_rate_after_the_burst():
    budget = RateBudget(10, burst=3)
    times: list[float] = []
    run_virtual(lambda: _acquire_all(budget, 4, 3, times))
    assert times == pytest.approx([0, 0, 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])


def test_a_rate_change_applies_from_the_next_send_though_many_senders_wait():
    """32 senders wait at 10/s when the rate becomes 100/s: the send already waiting for its slot keeps it, every
    later one goes at the new pace (slots handed out ahead at 10/s would have kept the old pace for 3 more seconds:
    the slow start's steps never showed, and a fan-out's first seconds went at a fraction of the rate)."""
    adaptive = AdaptiveRate(initial=10, ceiling=1000)
    budget = RateBudget(1000, burst=1, adaptive=adaptive)
    times: list[float] = []

    async def main() -> None:
        async def speed_up() -> None:
            await asyncio.sleep(0.95)
            adaptive.rate = 100.0

        await asyncio.gather(_acquire_all(budget, 32, 2, times), speed_up())

    run_virtual(main)
    assert times[:10] == pytest.approx([i / 10 for i in range(10)])
    assert times[10:20] == pytest.approx([1.0 + i / 100 for i in range(10)])
    assert times[-1] == pytest.approx(1.0 + 53 / 100)


def test_a_hold_stops_every_waiting_send_until_it_ends_with_no_burst_after():
    budget = RateBudget(100, burst=5)
    times: list[float] = []

    async def main() -> None:
        async def limited() -> None:
            await asyncio.sleep(0.105)
            budget.hold(1.0)

        await asyncio.gather(_acquire_all(budget, 8, 5, times), limited())

    run_virtual(main)
    before = [t for t in times if t <= 0.105]
    after = [t for t in times if t > 0.105]
    assert len(before) == 5 + 10  # the burst, then 100/s
    assert after[0] == pytest.approx(1.105) and all(t >= 1.105 - 1e-9 for t in after)
    assert [round(b - a, 6) for a, b in itertools.pairwise(after)] == [0.01] * (len(after) - 1)


def test_one_target_keeps_its_interval_and_its_hold_while_others_go_on():
    budget = RateBudget(1000, burst=10, per_target_interval=1.0)
    seen: dict[str, list[float]] = {"C1": [], "C2": []}

    async def main() -> None:
        loop = asyncio.get_running_loop()

        async def send(target: str) -> None:
            await budget.acquire(target)
            seen[target].append(loop.time())

        await asyncio.gather(*(send("C1") for _ in range(3)), send("C2"))
        budget.hold_target("C2", 5.0)
        await asyncio.gather(send("C1"), send("C2"))

    run_virtual(main)
    assert seen["C1"] == pytest.approx([0, 1, 2, 3])
    assert seen["C2"] == pytest.approx([0, 7])
