"""The rotation of papers and prompts: which one is "today's", which comes next, which a channel has not had.

One fixed order for all platforms: items sorted by a hash of their id, so the order looks shuffled (areas mix) yet
stays the same across restarts and machines, and adding an item moves few others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Protocol, TypeVar


class HasId(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=HasId)


def rotation(items: Iterable[T]) -> list[T]:
    return sorted(items, key=lambda item: hashlib.sha256(f"re-bot:{item.id}".encode()).hexdigest())


def for_day(items: Sequence[T], day: date) -> T:
    """The item of `day`: consecutive days walk the rotation, so a month shows 30 different items."""
    order = rotation(items)
    return order[day.toordinal() % len(order)]


def after(items: Sequence[T], item_id: str) -> T:
    """The item that follows `item_id` in the rotation (wrapping), or the first one if it is unknown."""
    order = rotation(items)
    ids = [i.id for i in order]
    if item_id not in ids:
        return order[0]
    return order[(ids.index(item_id) + 1) % len(order)]


def unseen(items: Sequence[T], day: date, seen: set[str]) -> T:
    """The first item from `day`'s place in the rotation that is not in `seen`.

    A channel's "no repeats until the catalogue is exhausted": pass the ids posted in its current cycle; when all
    have been seen, the cycle starts again from the day's item.
    """
    order = rotation(items)
    start = day.toordinal() % len(order)
    for offset in range(len(order)):
        candidate = order[(start + offset) % len(order)]
        if candidate.id not in seen:
            return candidate
    return order[start]
