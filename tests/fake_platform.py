"""A local fake chat platform (aiohttp on 127.0.0.1, ephemeral port) and a `Sender` that talks to it over HTTP.

The fake enforces a rate limit like Slack and Discord do (HTTP 429 with a Retry-After header and a JSON body), can be
slow, can fail some targets for good (403) or some requests for a while (503), and records what it accepted, so tests
and benchmarks count deliveries, losses and duplicates at the edge.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from bot.schedule.delivery import PermanentDeliveryError, Sent, TransientDeliveryError
from handlers.types import Reply


@dataclass
class FakePlatform:
    rate: float | None = None  # accepted messages per second (token bucket); None: unlimited
    burst: int = 1
    delay: float = 0.0  # seconds before answering each send
    closed: set[str] = field(default_factory=set)  # targets answered with 403 (DMs closed)
    flaky: Counter = field(default_factory=Counter)  # target -> number of 503s before success
    received: list[dict] = field(default_factory=list)
    rejected_429: int = 0
    log_path: str | None = None  # also append each accepted message as a JSON line (survives the test process)

    def __post_init__(self) -> None:
        self._tokens = float(self.burst)
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def _take(self) -> float:
        """0 when a token was taken, else the seconds until one is available."""
        if self.rate is None:
            return 0.0
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate

    async def handle_send(self, request: web.Request) -> web.Response:
        body = await request.json()
        target = body["target"]
        if self.delay:
            await asyncio.sleep(self.delay)
        if target in self.closed:
            return web.json_response({"ok": False, "error": "cannot_dm_user"}, status=403)
        if self.flaky[target] > 0:
            self.flaky[target] -= 1
            return web.json_response({"ok": False, "error": "unavailable"}, status=503)
        wait = self._take()
        if wait:
            self.rejected_429 += 1
            return web.json_response(
                {"ok": False, "error": "ratelimited", "retry_after": wait},
                status=429,
                headers={"Retry-After": f"{wait:.3f}"},
            )
        record = {"target": target, "nonce": body["nonce"], "kind": body["kind"], "text": body["text"]}
        self.received.append(record)
        if self.log_path:
            with self._lock, open(self.log_path, "a") as f:
                f.write(json.dumps(record) + "\n")
        return web.json_response({"ok": True, "id": f"m{len(self.received)}"})

    async def handle_stats(self, request: web.Request) -> web.Response:
        nonces = [r["nonce"] for r in self.received]
        return web.json_response(
            {
                "received": len(nonces),
                "unique": len(set(nonces)),
                "duplicates": self.duplicates(),
                "rejected_429": self.rejected_429,
            }
        )

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/send", self.handle_send)
        app.router.add_get("/stats", self.handle_stats)
        return app

    async def start(self) -> tuple[web.AppRunner, str]:
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return runner, f"http://127.0.0.1:{port}"

    def serve_forever(self, urls) -> None:
        """Run in its own process (a platform is another machine): put the base URL on `urls`, serve until killed."""

        async def serve() -> None:
            _runner, url = await self.start()
            urls.put(url)
            await asyncio.Event().wait()

        asyncio.run(serve())

    def duplicates(self) -> int:
        counts = Counter(r["nonce"] for r in self.received)
        return sum(n - 1 for n in counts.values())


class HttpSender:
    """A `Sender` for the fake platform, mapping its answers to the delivery errors the way real senders do."""

    def __init__(self, base_url: str, platform: str = "console") -> None:
        self.base_url = base_url
        self.platform = platform
        self._session: aiohttp.ClientSession | None = None

    async def send(self, target: str, reply: Reply, *, kind: str, nonce: str) -> Sent:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))
        text = reply.title or ""
        try:
            payload = {"target": target, "nonce": nonce, "kind": kind, "text": text}
            async with self._session.post(f"{self.base_url}/send", json=payload) as r:
                body = await r.json(content_type=None)
                if r.status == 429:
                    raise TransientDeliveryError("rate limited", retry_after=float(r.headers.get("Retry-After", 1)))
                if r.status >= 500:
                    raise TransientDeliveryError(f"HTTP {r.status}")
                if r.status >= 400:
                    raise PermanentDeliveryError(f"the platform refused: {body.get('error')}")
                return Sent(message_id=body.get("id"))
        except aiohttp.ClientError as exc:
            raise TransientDeliveryError(str(exc)) from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
