"""Which private answers a member has already shared in a channel, on any platform: "Share in channel" posts once.

A double click, a second press on the same private answer, or a press racing the first one's post all find the entry
and are told "already shared" (with the link to the post, when the platform gave one) instead of posting again. An
entry whose post failed is dropped, so the member can press again once the cause is fixed (the bot invited).

With a database, entries are kept there (`bot.store.shares`), so a press after a restart, or on another replica,
finds the post too: one indexed statement per press, off the event loop, in front of which an in-memory entry answers
a double click without asking the database. Without one (or while it fails), entries live in memory only.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta

from bot.ops.observed import off_loop
from bot.store.repo import SqlStore
from bot.store.shares import Shared, SharedPosts

__all__ = ["KEEP_SECONDS", "ShareLedger", "Shared", "StoredShareLedger", "ledger_for"]

log = logging.getLogger(__name__)

KEEP_SECONDS = 24 * 3600.0
MAX_ENTRIES = 20_000
# A first press still unposted after this long died mid-post (a restart): a later press may post.
STALLED_SECONDS = 300.0
PRUNE_EVERY = timedelta(hours=1)


class ShareLedger:
    """In memory, bounded, for one process."""

    def __init__(
        self, keep: float = KEEP_SECONDS, max_entries: int = MAX_ENTRIES, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._keep = keep
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, Shared]] = OrderedDict()

    def earlier(self, key: Hashable) -> Shared | None:
        now = self._clock()
        while self._entries and (len(self._entries) >= self._max or next(iter(self._entries.values()))[0] < now):
            self._entries.popitem(last=False)
        hit = self._entries.get(key)
        return hit[1] if hit is not None else None

    def hold(self, key: Hashable, shared: Shared) -> None:
        self._entries[key] = (self._clock() + self._keep, shared)

    async def begin(self, key: Hashable) -> Shared | None:
        """The earlier share of `key`, if any; otherwise None, and `key` is now being shared by this caller."""
        found = self.earlier(key)
        if found is None:
            self.hold(key, Shared())
        return found

    async def finish(self, key: Hashable, link: str | None) -> None:
        hit = self._entries.get(key)
        if hit is not None:
            hit[1].link, hit[1].posted = link, True

    async def abandon(self, key: Hashable) -> None:
        self._entries.pop(key, None)


def digest(key: Hashable) -> str:
    """The stored form of a key (a tuple of ids): fixed length, and no member or channel id in the table."""
    return hashlib.sha256(repr(key).encode()).hexdigest()


class StoredShareLedger(ShareLedger):
    """The ledger kept in the database: a press after a restart finds the earlier post."""

    def __init__(self, posts: SharedPosts, clock: Callable[[], datetime], keep: float = KEEP_SECONDS) -> None:
        super().__init__(keep)
        self._posts = posts
        self._wall = clock
        self._window = timedelta(seconds=keep)
        self._pruned: datetime | None = None

    async def begin(self, key: Hashable) -> Shared | None:
        found = self.earlier(key)  # a double click: answered from memory
        if found is not None:
            return found
        try:
            found = await off_loop(self._claim, digest(key))
        except Exception as exc:  # the database is down: this process's memory still stops a double post
            log.warning("could not check the share ledger (%s); going by this process's memory", type(exc).__name__)
        if found is None:
            self.hold(key, Shared())
        elif found.posted:  # a post in progress elsewhere may still fail and be dropped: not remembered here
            self.hold(key, found)
        return found

    def _claim(self, key: str) -> Shared | None:
        now = self._wall()
        if self._pruned is None or not self._pruned <= now < self._pruned + PRUNE_EVERY:  # hourly, cheap (indexed)
            self._pruned = now
            self._posts.prune(now - self._window)
        stalled = now - timedelta(seconds=STALLED_SECONDS)
        return self._posts.claim(key, now=now, expired=now - self._window, stalled=stalled)

    async def finish(self, key: Hashable, link: str | None) -> None:
        await super().finish(key, link)
        await self._stored("finish", self._posts.finish, digest(key), link)

    async def abandon(self, key: Hashable) -> None:
        await super().abandon(key)
        await self._stored("abandon", self._posts.abandon, digest(key))

    async def _stored(self, what: str, call: Callable[..., None], *args: object) -> None:
        try:
            await off_loop(call, *args)
        except Exception as exc:
            log.warning("could not %s a share in the ledger (%s)", what, type(exc).__name__)


def ledger_for(store: object, clock: Callable[[], datetime]) -> ShareLedger:
    """The database's ledger when the platform has a database (`store`, the services' store), else one in memory."""
    return StoredShareLedger(SharedPosts(store.sessions), clock) if isinstance(store, SqlStore) else ShareLedger()
