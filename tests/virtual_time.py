"""An event loop on virtual time, for timing logic (rate budgets) without the wall clock: whenever every task waits
for a timer, the clock jumps to the next one. Times seen in a test are then exact, however busy the machine is."""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self.now = 0.0
        loop = self

        class Selector(selectors.DefaultSelector):  # type: ignore[valid-type,misc]
            def select(self, timeout: float | None = None):
                if timeout is not None:  # the loop would sleep until its next timer: be there at once instead
                    loop.now += timeout
                    timeout = 0
                return super().select(timeout)

        super().__init__(Selector())

    def time(self) -> float:
        return self.now


def run_virtual(main: Callable[[], Awaitable[T]]) -> T:
    """Run `main()` to completion on a new VirtualTimeLoop (starting at time 0)."""
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()
