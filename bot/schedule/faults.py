"""Bot-wide faults of one platform: the bot's token was revoked, the gateway closed for good.

They are the bot's faults, not the members': while one is active the dispatcher sends nothing for it (deliveries stay
pending, no schedule is paused), /readyz names it, and it is logged once as an error when it starts and once when it
ends. Faults are keyed: `None` covers the whole platform (Discord's one token, Slack's single-workspace token); a
workspace id covers only that workspace's token (Slack installed in several workspaces), so one workspace's revoked
token holds only that workspace's deliveries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

log = logging.getLogger(__name__)

TITLES = {"slack": "Slack", "discord": "Discord", "console": "console"}


@dataclass(frozen=True)
class Fault:
    platform: str
    key: str | None
    reason: str
    since: datetime
    fatal: bool = False  # this process cannot recover from it (a gateway closed for good): restart with a fix
    code: str = "other"  # a short fixed name (the platform's error code, `gateway_closed`): the metrics label


class PlatformFaults:
    """The active faults of one platform, by key. Every sender owns one; the dispatcher and /readyz read it."""

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self._faults: dict[str | None, Fault] = {}
        self._listeners: list[Callable[[PlatformFaults], None]] = []

    def listen(self, listener: Callable[[PlatformFaults], None]) -> None:
        """Call `listener(self)` whenever a fault trips, changes or clears (on the thread that did it)."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._listeners:
            listener(self)

    def trip(
        self, reason: str, key: str | None = None, *, now: datetime, fatal: bool = False, code: str = "other"
    ) -> bool:
        """Record a fault; True (and one error logged) when it is new for `key`."""
        current = self._faults.get(key)
        if current is not None and current.reason == reason and current.fatal >= fatal:
            return False
        self._faults[key] = Fault(self.platform, key, reason, now, fatal, code)
        if current is None:
            where = f" for workspace {key}" if key else ""
            then = "restart re-bot once it is fixed" if fatal else "they go out by themselves once it works again"
            log.error("%s: sending stopped%s: %s. Deliveries wait in the outbox (no schedule is paused); %s.",
                      self.title, where, reason, then)  # fmt: skip
        self._changed()
        return True

    def clear(self, key: str | None = None) -> None:
        fault = self._faults.pop(key, None)
        if fault is not None:
            where = f" for workspace {key}" if key else ""
            log.warning("%s: sending resumed%s (was: %s)", self.title, where, fault.reason)
            self._changed()

    def fault(self, key: str | None) -> Fault | None:
        """The fault that holds a delivery of `key` (a workspace): the platform-wide one first."""
        return self._faults.get(None) or (self._faults.get(key) if key is not None else None)

    @property
    def title(self) -> str:
        return TITLES.get(self.platform, self.platform)

    @property
    def active(self) -> list[Fault]:
        return list(self._faults.values())

    @property
    def fatal(self) -> Fault | None:
        return next((f for f in self._faults.values() if f.fatal), None)

    @property
    def held_keys(self) -> set[str]:
        """Workspaces whose token failed (the whole platform's fault has no key and is in `holds_all`)."""
        return {k for k in self._faults if k is not None}

    @property
    def holds_all(self) -> bool:
        return None in self._faults

    def holds(self, key: str | None) -> bool:
        """Is sending for `key` (a delivery's workspace) held?"""
        return None in self._faults or (key is not None and key in self._faults)

    def problem(self) -> str | None:
        """The /readyz text: each fault's reason, or None when the platform can send."""
        if not self._faults:
            return None
        return "; ".join((f"workspace {f.key}: " if f.key else "") + f.reason for f in self._faults.values())
