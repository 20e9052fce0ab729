"""What the platforms and the runtime share: the component protocols and the in-flight work tracker.

It lives below both so that a platform never imports the runtime that builds it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Protocol

from bot.schedule.delivery import Sender


class Component(Protocol):
    """Something `serve` starts and, on shutdown, stops: a platform, the scheduler."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None:
        """Stop taking new work and finish what is in flight. `serve` bounds the wait with the shutdown timeout."""
        ...


class PlatformRuntime(Component, Protocol):
    """One connected platform: how it starts, stops and delivers scheduled messages.

    `ready` is True while the platform is connected (Slack: auth.test passed / socket open; Discord: gateway READY).
    A platform without the attribute counts as ready once its `start()` has returned."""

    sender: Sender
    ready: bool


class ShuttingDown(Exception):
    """Raised by `InFlight.track` once shutdown began: the work should be left for the next process."""


class InFlight:
    """Counts work in progress so `stop()` can refuse new work and wait for the rest: `async with tracker.track():`
    around one delivery (or one interaction), `await tracker.drain()` in `stop()`."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.accepting = True

    @property
    def count(self) -> int:
        return self._count

    @contextlib.asynccontextmanager
    async def track(self) -> AsyncIterator[None]:
        if not self.accepting:
            raise ShuttingDown("shutting down; not starting new work")
        self._count += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._count -= 1
            if self._count == 0:
                self._idle.set()

    async def drain(self) -> None:
        self.accepting = False
        await self._idle.wait()
