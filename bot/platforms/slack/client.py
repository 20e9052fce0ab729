"""The Slack Web API client every part of the Slack platform shares: base URL from SLACK_API_URL, rate limits."""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.ops.metrics import observe_rate_limit

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
MAX_INLINE_WAIT = 5.0  # seconds; a longer Retry-After goes back to the caller (the dispatcher reschedules)


def api_base_url(url: str | None) -> str:
    """`SLACK_API_URL` as slack_sdk wants it: ending in a slash (it appends method names)."""
    url = (url or DEFAULT_API_URL).strip()
    return url if url.endswith("/") else url + "/"


def retry_after(response: HttpResponse | None) -> float | None:
    if response is None:
        return None
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return max(float(values[0]), 0.0)
            except ValueError:
                return None
    return None


class ShortRateLimitWaits(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's 429 handler (waits Retry-After, then retries), only for short waits, and counted in /metrics.

    A long Retry-After is not slept through here: the 429 reaches the caller, the Sender turns it into
    TransientDeliveryError(retry_after=...), and the dispatcher reschedules instead of holding a task for minutes."""

    def __init__(self, max_retry_count: int = 1, max_wait: float = MAX_INLINE_WAIT) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = retry_after(response)
        return wait is None or wait <= self.max_wait

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        observe_rate_limit("slack", retry_after(response) or 1.0)
        log.info("Slack rate limited %s; waiting %s s", request.url, retry_after(response))
        await super().prepare_for_next_attempt_async(state=state, request=request, response=response, error=error)


def configure(client: AsyncWebClient, api_url: str | None = None) -> AsyncWebClient:
    """Point a Web API client at SLACK_API_URL, wait out short 429s once (Retry-After); slack_sdk's default handler
    already retries dropped connections."""
    client.base_url = api_base_url(api_url)
    client.timeout = 10
    if not any(isinstance(h, ShortRateLimitWaits) for h in client.retry_handlers):
        client.retry_handlers.append(ShortRateLimitWaits())
    return client


def http_session() -> aiohttp.ClientSession:
    """The platform's one HTTP session: kept-alive connections (a TLS handshake per connection, not per call)."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64, keepalive_timeout=60))


def make_client(token: str, api_url: str | None = None) -> AsyncWebClient:
    return configure(AsyncWebClient(token=token), api_url)
