"""Events Slack sends that no listener should see twice or at all: `app_rate_limited`, and retried deliveries.

Slack sends `app_rate_limited` (a top-level type, not an `event_callback`) to every app with event subscriptions
when it has dropped events for going over 30,000 a workspace an hour; bolt has no listener for it and would answer
404, and Slack may disable the subscriptions of an app that fails more than 5% of deliveries. Slack retries an event
it got no 200 for within 3 s (up to three times, with `X-Slack-Retry-Num` and `X-Slack-Retry-Reason`); a retry of an
event this process already took is answered 200 and not handled again.
See https://docs.slack.dev/apis/events-api/#rate-limiting and https://docs.slack.dev/apis/events-api/#retries
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.ops.metrics import observe_platform_notice

log = logging.getLogger(__name__)

REMEMBER_SECONDS = 3600.0  # Slack's retries come within minutes; an hour covers them with room
MAX_REMEMBERED = 50_000


def _header(req: AsyncBoltRequest, name: str) -> str | None:
    values = req.headers.get(name.lower()) or []
    return values[0] if values else None


class EventScreen:
    """A bolt global middleware (it runs after bolt checked the signature): answers what it screens out with 200."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def seen(self, event_id: str) -> bool:
        """Was `event_id` taken before? Records it either way."""
        now = self._clock()
        while self._seen and (len(self._seen) >= MAX_REMEMBERED or next(iter(self._seen.values())) < now):
            self._seen.popitem(last=False)
        if event_id in self._seen:
            return True
        self._seen[event_id] = now + REMEMBER_SECONDS
        return False

    async def middleware(
        self, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        body = req.body if isinstance(req.body, dict) else {}
        if body.get("type") == "app_rate_limited":
            log.warning("Slack dropped events for team %s in minute %s (app_rate_limited)", body.get("team_id"),
                        body.get("minute_rate_limited"))  # fmt: skip
            observe_platform_notice("slack", "app_rate_limited")
            return BoltResponse(status=200, body="")
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        retry = _header(req, "X-Slack-Retry-Num")
        if isinstance(event_id, str) and event_id and self.seen(event_id) and retry is not None:
            log.info("Slack retried event %s (retry %s, %s); already handled", event_id,
                     retry, _header(req, "X-Slack-Retry-Reason"))  # fmt: skip
            observe_platform_notice("slack", "event_retry_skipped")
            return BoltResponse(status=200, body="")
        return await next()
