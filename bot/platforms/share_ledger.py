"""Which private answers a member has already shared in a channel, on any platform: "Share in channel" posts once.

A double click, a second press on the same private answer, or a press racing the first one's post all find the entry
and are told "already shared" (with the link to the post, when the platform gave one) instead of posting again. An
entry whose post failed is dropped, so the member can press again once the cause is fixed (the bot invited). Kept in
memory, bounded: the first press also updates the private answer to say it was shared, so a press after a restart
can only come from a copy that was never updated.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

KEEP_SECONDS = 24 * 3600.0
MAX_ENTRIES = 20_000


@dataclass
class Shared:
    link: str | None = None  # the public post's permalink, when the platform gave one
    posted: bool = False  # False while the first press is still posting


class ShareLedger:
    def __init__(
        self, keep: float = KEEP_SECONDS, max_entries: int = MAX_ENTRIES, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._keep = keep
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, Shared]] = OrderedDict()

    def begin(self, key: Hashable) -> Shared | None:
        """The earlier share of `key`, if any; otherwise None, and `key` is now being shared by this caller."""
        now = self._clock()
        while self._entries and (len(self._entries) >= self._max or next(iter(self._entries.values()))[0] < now):
            self._entries.popitem(last=False)
        hit = self._entries.get(key)
        if hit is not None:
            return hit[1]
        self._entries[key] = (now + self._keep, Shared())
        return None

    def finish(self, key: Hashable, link: str | None) -> None:
        hit = self._entries.get(key)
        if hit is not None:
            hit[1].link, hit[1].posted = link, True

    def abandon(self, key: Hashable) -> None:
        self._entries.pop(key, None)
