"""What handlers may use: the content, its matcher, the clock and the store."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from content import Content
from content.search import TopicMatcher


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    """What every handler gets. The platforms share one instance; a content reload `swap`s in new content and its
    matcher together, and each command works on a `pinned` copy, so a command in flight finishes on the content it
    started with and never sees new content with the old matcher."""

    content: Content
    matcher: TopicMatcher
    clock: Callable[[], datetime] = utc_now
    store: Any = None  # the store (schedules, progress, the questions log), when the platform has one
    _swap_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @classmethod
    def from_content(cls, content: Content, **kwargs: Any) -> Services:
        return cls(content=content, matcher=TopicMatcher(content), **kwargs)

    def swap(self, content: Content, matcher: TopicMatcher) -> None:
        """Put new content and its matcher in service at once (a reload; both built and validated beforehand)."""
        with self._swap_lock:
            self.content, self.matcher = content, matcher

    def pinned(self) -> Services:
        """A copy holding the content and matcher in service now: what one command works on from start to end."""
        with self._swap_lock:
            return replace(self, content=self.content, matcher=self.matcher)


def zone_or_utc(name: str | None) -> tzinfo:
    """The member's zone when we know a valid one; UTC otherwise (used only to pick "today")."""
    if name:
        try:
            return ZoneInfo(name)
        except (ValueError, KeyError, OSError):
            pass
    return UTC
