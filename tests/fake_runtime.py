"""A fake platform and a fake delivery loop around the real `bot.runtime.serve`, for the HTTP and SIGTERM tests.

Run as a script (`python tests/fake_runtime.py JOURNAL`) it is `re-bot run` with these fakes in place of Slack,
Discord and the scheduler: the real settings, logging, HTTP server, signal handling and shutdown path.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.config import Settings
from bot.ops.inflight import InFlight
from bot.runtime import serve
from bot.schedule.delivery import Sent
from handlers import Reply


class FakeSender:
    platform = "console"

    async def send(self, target: str, reply: Reply, *, kind: str, nonce: str) -> Sent:
        return Sent(message_id=nonce)


class FakePlatform:
    """A platform whose connection the test controls through `ready`."""

    def __init__(self, name: str = "console", ready: bool = True) -> None:
        self.name = name
        self.sender = FakeSender()
        self.ready = ready
        self.started = self.stopped = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True


class FakeDeliveries:
    """Delivers numbered messages one after another, writing `start N` / `done N` lines to a journal file (the
    stand-in for the store's outbox). Delivery 0 is in flight when shutdown begins: it only finishes after `stop()`
    was called, so a test knows SIGTERM arrived mid-delivery. `hang=True`: it never finishes."""

    name = "scheduler"

    def __init__(self, journal: Path, hang: bool = False) -> None:
        self.journal = journal
        self.hang = hang
        self.work = InFlight()
        self.stopping = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def _write(self, line: str) -> None:
        with self.journal.open("a") as f:
            f.write(line + "\n")

    async def _deliver(self, n: int) -> None:
        async with self.work.track():
            self._write(f"start {n}")
            await self.stopping.wait()  # in flight until shutdown begins...
            await asyncio.sleep(0.05)  # ...and a little after, like a slow platform API
            if self.hang:
                await asyncio.Event().wait()
            self._write(f"done {n}")

    async def _loop(self) -> None:
        n = 0
        while self.work.accepting:
            await self._deliver(n)
            n += 1

    async def start(self) -> None:
        self.task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        self.stopping.set()
        await self.work.drain()
        if self.task is not None:
            await self.task


async def main(journal: Path, hang: bool) -> int:
    from bot.cli import _settings, load_services

    settings: Settings = _settings("run")
    return await serve(
        settings,
        load_services(settings),
        platforms=[FakePlatform()],
        components=[FakeDeliveries(journal, hang=hang)],
    )


if __name__ == "__main__":
    sys.exit(asyncio.run(main(Path(sys.argv[1]), hang="--hang" in sys.argv)))
