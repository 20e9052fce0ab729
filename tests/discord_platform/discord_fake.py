"""A local fake of Discord's REST API and gateway (aiohttp on 127.0.0.1, ephemeral port) for discord.py to talk to.

It records every request, answers the routes the bot uses with payloads shaped like Discord's, answers 429 as
Discord does (JSON body with `retry_after` and a `Via` header; discord.py treats a 429 without them as a Cloudflare
ban), models closed DMs (the DM channel opens, posting to it gets 403 code 50007) and deleted channels (404 code
10003), and fails any route on demand.

With `enforce_limits`, it enforces Discord's documented rate limits
(https://discord.com/developers/docs/topics/rate-limits): 50 requests/s per bot across all routes (interaction
callbacks excepted), answered with a 429 whose body says `"global": true` and headers `X-RateLimit-Global: true`,
`X-RateLimit-Scope: global`; and per-route buckets (posting in a channel: 5 per 5 s per channel) announced on every
answer with `X-RateLimit-Bucket`, `-Limit`, `-Remaining`, `-Reset`, `-Reset-After`, a 429 past them scoped `user`.
`token_revoked` answers every REST call 401 (`{"message": "401: Unauthorized", "code": 0}`) as Discord does for a
reset token, and the gateway closes with 4004. `gateway_close` makes the gateway close with that code after IDENTIFY
(https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway-gateway-close-event-codes); otherwise it
answers IDENTIFY with READY and heartbeats with ACKs.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

API_PREFIX = "/api/v10"
GLOBAL_RATE = 50  # requests/s per bot
CHANNEL_POSTS = (5, 5.0)  # posts per channel per window (s): a per-route bucket as discord.py sees one
BOT_ID = 900000000000000001
APP_ID = BOT_ID
OWNER_ID = 900000000000000002


@dataclass
class Recorded:
    method: str
    path: str  # without /api/v10
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    status: int = 0
    response: Any = None  # the JSON the fake answered
    at: float = field(default_factory=time.monotonic)  # when the request arrived


@dataclass
class Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]
    times: int


def rate_limited(retry_after: float, scope: str, bucket: str = "fakebucket") -> tuple[dict, dict[str, str]]:
    """A 429's body and headers as https://discord.com/developers/docs/topics/rate-limits#exceeding-a-rate-limit shows
    them: `global` in the body; `X-RateLimit-Global` only on a global one; bucket headers only on a route's."""
    body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": scope == "global"}
    headers = {"Via": "1.1 google", "Retry-After": str(max(1, round(retry_after))), "X-RateLimit-Scope": scope}
    if scope == "global":
        headers["X-RateLimit-Global"] = "true"
    else:
        headers.update({"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0", "X-RateLimit-Bucket": bucket,
                        "X-RateLimit-Reset-After": str(retry_after)})  # fmt: skip
    return body, headers


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly "application/json": discord.py does not parse "application/json; charset=utf-8" as JSON.
    return web.Response(
        status=status, body=json.dumps(body).encode(), headers={"Content-Type": "application/json", **(headers or {})}
    )


def user_payload(user_id: int, name: str = "member", bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name,
        "global_name": name,
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


def message_json(message_id: int, channel_id: int, author_id: int, **fields: Any) -> dict[str, Any]:
    """A message object as Discord's API returns it: the required fields, then `fields` over them."""
    return {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "type": 0,
        "content": "",
        "author": user_payload(author_id, "re-bot", bot=True),
        "attachments": [],
        "embeds": [],
        "components": [],
        "mentions": [],
        "mention_roles": [],
        "mention_everyone": False,
        "pinned": False,
        "tts": False,
        "timestamp": "2025-01-06T09:00:00.000000+00:00",
        "edited_timestamp": None,
        "flags": 0,
        **fields,
    }


class Bucket:
    """A token bucket: `limit` requests, refilled at `limit / period` per second (Discord's global limit)."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit, self.period = limit, period
        self.tokens, self.at = float(limit), time.monotonic()

    def take(self) -> float:
        """0 when the request may go (and counts it), else the seconds until it may."""
        now = time.monotonic()
        self.tokens = min(self.limit, self.tokens + (now - self.at) * self.limit / self.period)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) * self.period / self.limit


class Window:
    """A fixed-window per-route bucket, as Discord announces them: `limit` per `period`, reset at the window's end."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit, self.period = limit, period
        self.start, self.used = time.monotonic(), 0

    def take(self) -> tuple[bool, int, float]:
        """(allowed, remaining, reset_after)."""
        now = time.monotonic()
        if now - self.start >= self.period:
            self.start, self.used = now, 0
        reset_after = self.period - (now - self.start)
        if self.used >= self.limit:
            return False, 0, reset_after
        self.used += 1
        return True, self.limit - self.used, reset_after


@dataclass
class FakeDiscord:
    requests: list[Recorded] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    closed_dms: set[int] = field(default_factory=set)  # members whose DMs are closed to the bot
    gone_channels: set[int] = field(default_factory=set)  # deleted channels
    thread_forbidden: bool = False
    thread_error: int | None = None  # answer Start Thread with this JSON code (160004, 160006, 50024) and 400
    enforce_limits: bool = False  # the global 50/s and per-channel buckets (see the module docstring)
    token_revoked: bool = False  # every REST call 401, the gateway closes with 4004
    revoke_after: int | None = None  # set token_revoked once this many messages were accepted (a reset mid-fan-out)
    gateway_close: int | None = None  # the gateway closes with this code after IDENTIFY
    record: bool = True  # False: count only (benchmarks with many thousands of requests)
    global_429s: int = 0
    route_429s: int = 0
    base: str = ""

    def __post_init__(self) -> None:
        self._ids = itertools.count(1_000_000_000_000_000_000)
        self._dm_channels: dict[int, int] = {}  # dm channel id -> user id
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._global = Bucket(GLOBAL_RATE, 1.0)
        self._routes: dict[str, Window] = {}
        self.ws_url = ""
        self.gateway_closed: list[int] = []  # close codes the gateway sent
        self.identified = asyncio.Event()
        self.posted: dict[int, list[str]] = {}  # channel id -> nonces accepted (with `record` off too)
        self.dm_opens = 0
        self.accepted = 0  # messages accepted

    # -- control ---------------------------------------------------------------------------------------------------

    async def start(self, port: int = 0) -> str:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/_fake/stats", self._stats)
        app.router.add_post("/_fake/control", self._control)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}{API_PREFIX}"
        self.ws_url = f"ws://127.0.0.1:{port}/gateway"
        return self.base

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` requests matching METHOD and the regex `path` get this answer instead."""
        if body is None:
            body = {"message": f"{status}: fake failure", "code": 0}
        self.failures.append(Failure(method, re.compile(path), status, body, headers or {}, times))

    def rate_limit(
        self, method: str, path: str, retry_after: float = 0.01, times: int = 1, scope: str = "user"
    ) -> None:
        """429 as Discord sends it: JSON body with retry_after and `global`, Retry-After, X-RateLimit-Scope and (for
        a route's limit) the bucket's X-RateLimit headers, and `Via`."""
        self.fail(method, path, 429, *rate_limited(retry_after, scope), times)

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        pattern = re.compile(path) if path else None
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and (pattern is None or pattern.fullmatch(r.path))
        ]

    async def wait_for(self, method: str, path: str, count: int = 1, timeout: float = 5.0) -> list[Recorded]:
        async def enough() -> list[Recorded]:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.calls(method, path)) >= count)
            return self.calls(method, path)

        return await asyncio.wait_for(enough(), timeout)

    # -- payloads --------------------------------------------------------------------------------------------------

    def next_id(self) -> int:
        return next(self._ids)

    def message_payload(self, channel_id: int, body: dict[str, Any], flags: int = 0) -> dict[str, Any]:
        return message_json(
            self.next_id(),
            channel_id,
            BOT_ID,
            content=body.get("content") or "",
            embeds=body.get("embeds") or [],
            components=body.get("components") or [],
            flags=body.get("flags", flags) or 0,
            nonce=body.get("nonce"),
        )

    # -- the API ---------------------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw and request.content_type == "application/json" else None
        except ValueError:
            body = None
        path = request.path.removeprefix(API_PREFIX)
        recorded = Recorded(request.method, path, dict(request.query), body, dict(request.headers))
        response = self._limited(recorded) or self._answer(recorded)
        recorded.status = response.status
        if not self.record:
            return response
        recorded.response = json.loads(response.body) if isinstance(response.body, bytes) else None
        try:
            return response
        finally:
            async with self._changed:
                self.requests.append(recorded)
                self._changed.notify_all()

    def _limited(self, r: Recorded) -> web.Response | None:
        """Discord's 401 for a reset token, then (with `enforce_limits`) the global limit; None to answer normally."""
        if self.token_revoked and not r.path.startswith("/interactions/"):
            return json_response({"message": "401: Unauthorized", "code": 0}, 401)
        if not self.enforce_limits or r.path.startswith(("/interactions/", "/webhooks/")):
            return None
        wait = self._global.take()
        if wait > 0:
            self.global_429s += 1
            body, headers = rate_limited(wait, "global")
            return json_response(body, 429, headers)
        return None

    def _route_headers(self, r: Recorded) -> tuple[bool, dict[str, str]]:
        """A channel's message bucket: (allowed, X-RateLimit headers)."""
        if not self.enforce_limits:
            return True, {}
        window = self._routes.setdefault(r.path, Window(*CHANNEL_POSTS))
        allowed, remaining, reset_after = window.take()
        bucket = f"posts{abs(hash(r.path)) % 10**8}"
        headers = {"X-RateLimit-Bucket": bucket, "X-RateLimit-Limit": str(window.limit),
                   "X-RateLimit-Remaining": str(remaining), "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                   "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}"}  # fmt: skip
        return allowed, headers

    async def _stats(self, request: web.Request) -> web.Response:
        """For benchmarks running the fake in another process: what was posted and opened."""
        nonces = [n for posted in self.posted.values() for n in posted]
        return json_response({"accepted": self.accepted, "unique": len(set(nonces)),
                              "duplicates": len(nonces) - len(set(nonces)), "dm_opens": self.dm_opens,
                              "global_429s": self.global_429s, "route_429s": self.route_429s})  # fmt: skip

    async def _control(self, request: web.Request) -> web.Response:
        """For benchmarks: `enforce_limits`, `token_revoked`, `revoke_after`, and `rate_limit` ({method, path,
        retry_after, scope, times})."""
        body = await request.json()
        for name in ("enforce_limits", "token_revoked", "revoke_after", "record"):
            if name in body:
                setattr(self, name, body[name])
        if "rate_limit" in body:
            self.rate_limit(**body["rate_limit"])
        return json_response({"ok": True})

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        """The gateway as discord.py drives it: HELLO, IDENTIFY -> READY (or a close code), heartbeats ACKed."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}})
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            if data.get("op") == 1:
                await ws.send_json({"op": 11})
            elif data.get("op") == 2:
                self.identified.set()
                code = 4004 if self.token_revoked else self.gateway_close
                if code is not None:
                    self.gateway_closed.append(code)
                    await ws.close(code=code, message=b"closed by the fake")
                    break
                shard = (data["d"].get("shard") or [0, 1])[:2]
                ready = {"v": 10, "user": user_payload(BOT_ID, "re-bot", bot=True), "guilds": [],
                         "session_id": "fake-session", "resume_gateway_url": self.ws_url, "shard": shard,
                         "application": {"id": str(APP_ID), "flags": 0}}  # fmt: skip
                await ws.send_json({"op": 0, "t": "READY", "s": 1, "d": ready})
        return ws

    def _answer(self, r: Recorded) -> web.Response:
        for failure in self.failures:
            if failure.times > 0 and failure.method == r.method and failure.pattern.fullmatch(r.path):
                failure.times -= 1
                return json_response(failure.body, failure.status, failure.headers)
        body = r.json or {}
        m = r.method
        if m == "GET" and r.path == "/gateway/bot":
            limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
            return json_response({"url": self.ws_url, "shards": 1, "session_start_limit": limit})
        if m == "GET" and r.path == "/users/@me":
            return json_response(user_payload(BOT_ID, "re-bot", bot=True))
        if m == "GET" and r.path == "/oauth2/applications/@me":
            return json_response(
                {
                    "id": str(APP_ID),
                    "name": "re-bot",
                    "description": "",
                    "icon": None,
                    "bot_public": True,
                    "bot_require_code_grant": False,
                    "owner": user_payload(OWNER_ID, "owner"),
                    "verify_key": "0" * 64,
                    "flags": 0,
                }
            )
        if match := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", r.path):
            kind = body.get("type")
            data = body.get("data") or {}
            message = self.message_payload(0, data) if kind in (4, 7) else None
            answer: dict[str, Any] = {
                "interaction": {
                    "id": match[1],
                    "type": 2,
                    "response_message_id": message["id"] if message else None,
                    "response_message_loading": kind == 5,
                    "response_message_ephemeral": bool((data.get("flags") or 0) & 64),
                }
            }
            if kind in (4, 7, 8):
                answer["resource"] = {"type": kind, **({"message": message} if message else {})}
            return json_response(answer)
        if m == "DELETE" and re.fullmatch(r"/webhooks/\d+/[^/]+/messages/[^/]+", r.path):
            return web.Response(status=204)  # Delete Original / Followup Message: 204 No Content
        if m in ("POST", "PATCH") and re.fullmatch(r"/webhooks/\d+/[^/]+(/messages/[^/]+)?", r.path):
            return json_response(self.message_payload(0, body))
        if m == "POST" and r.path == "/users/@me/channels":
            user_id = int(body["recipient_id"])
            self.dm_opens += 1
            channel_id = next((c for c, u in self._dm_channels.items() if u == user_id), None) or self.next_id()
            self._dm_channels[channel_id] = user_id
            return json_response(
                {"id": str(channel_id), "type": 1, "last_message_id": None, "recipients": [user_payload(user_id)]}
            )
        if match := re.fullmatch(r"/channels/(\d+)/messages/(\d+)/threads", r.path):
            if self.thread_forbidden:
                return json_response({"message": "Missing Permissions", "code": 50013}, 403)
            if self.thread_error is not None:
                return json_response({"message": "Cannot start a thread", "code": self.thread_error}, 400)
            return json_response(
                {
                    "id": str(self.next_id()),
                    "type": 11,
                    "guild_id": "1",
                    "parent_id": match[1],
                    "name": body.get("name", ""),
                    "owner_id": str(BOT_ID),
                    "thread_metadata": {"archived": False, "auto_archive_duration": 1440, "locked": False},
                }
            )
        if match := re.fullmatch(r"/channels/(\d+)/messages", r.path):
            channel_id = int(match[1])
            if channel_id in self.gone_channels:
                return json_response({"message": "Unknown Channel", "code": 10003}, 404)
            if self._dm_channels.get(channel_id) in self.closed_dms:
                return json_response({"message": "Cannot send messages to this user", "code": 50007}, 403)
            allowed, headers = self._route_headers(r)
            if not allowed:
                self.route_429s += 1
                reset_after = float(headers["X-RateLimit-Reset-After"])
                body429, headers429 = rate_limited(reset_after, "user", headers["X-RateLimit-Bucket"])
                return json_response(body429, 429, headers429)
            self.posted.setdefault(channel_id, []).append(body.get("nonce") or "")
            self.accepted += 1
            if self.revoke_after is not None and self.accepted >= self.revoke_after:
                self.token_revoked, self.revoke_after = True, None
            return json_response(self.message_payload(channel_id, body), headers=headers)
        if match := re.fullmatch(r"/applications/(\d+)(?:/guilds/(\d+))?/commands", r.path):
            if m == "PUT":
                out = []
                for command in body:
                    out.append(
                        {
                            **command,
                            "id": str(self.next_id()),
                            "application_id": match[1],
                            "version": "1",
                            **({"guild_id": match[2]} if match[2] else {}),
                        }
                    )
                return json_response(out)
            return json_response([])
        return json_response({"message": "404: Not Found", "code": 0}, 404)
