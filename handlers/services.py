"""What handlers may use: the content, its matcher, and the clock. Later layers add a store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from content import Content
from content.search import TopicMatcher


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    content: Content
    matcher: TopicMatcher
    clock: Callable[[], datetime] = utc_now
    store: Any = None  # the scheduling store, when the platform has one

    @classmethod
    def from_content(cls, content: Content, **kwargs: Any) -> Services:
        return cls(content=content, matcher=TopicMatcher(content), **kwargs)


def zone_or_utc(name: str | None) -> tzinfo:
    """The member's zone when we know a valid one; UTC otherwise (used only to pick "today")."""
    if name:
        try:
            return ZoneInfo(name)
        except (ValueError, KeyError, OSError):
            pass
    return UTC
