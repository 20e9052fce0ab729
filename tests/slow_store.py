"""A slow database for tests and benches: the real store, with every call taking `delay` seconds longer (a query
across a slow network), or held until the test opens a gate. The handlers cannot tell it from the real one."""

from __future__ import annotations

import threading
import time
from typing import Any


class SlowStore:
    """Wraps a `ScheduleStore` (store.api). Each method call sleeps `delay` seconds, then waits for `gate` (when one
    is set), then runs the real call. Counts calls, and the most that ran at once."""

    def __init__(self, inner: Any, delay: float = 0.0, gate: threading.Event | None = None) -> None:
        self._inner = inner
        self.delay = delay
        self.gate = gate
        self.calls = 0
        self.running = 0
        self.most_at_once = 0
        self.entered = threading.Event()  # set when a call has started (and is sleeping or held)
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._inner, name)
        if not callable(real):
            return real

        def slow(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.calls += 1
                self.running += 1
                self.most_at_once = max(self.most_at_once, self.running)
            self.entered.set()
            try:
                if self.delay:
                    time.sleep(self.delay)
                if self.gate is not None and not self.gate.wait(30):
                    raise TimeoutError("the test never opened the gate")
                return real(*args, **kwargs)
            finally:
                with self._lock:
                    self.running -= 1

        return slow
