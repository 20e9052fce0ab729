"""A local fake of Discord's REST API (aiohttp on 127.0.0.1, ephemeral port) for discord.py to talk to.

It records every request, answers the routes the bot uses with payloads shaped like Discord's, answers 429 as
Discord does (JSON body with `retry_after` and a `Via` header; discord.py treats a 429 without them as a Cloudflare
ban), models closed DMs (the DM channel opens, posting to it gets 403 code 50007) and deleted channels (404 code
10003), and fails any route on demand.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

API_PREFIX = "/api/v10"
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


@dataclass
class FakeDiscord:
    requests: list[Recorded] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    closed_dms: set[int] = field(default_factory=set)  # members whose DMs are closed to the bot
    gone_channels: set[int] = field(default_factory=set)  # deleted channels
    thread_forbidden: bool = False
    base: str = ""

    def __post_init__(self) -> None:
        self._ids = itertools.count(1_000_000_000_000_000_000)
        self._dm_channels: dict[int, int] = {}  # dm channel id -> user id
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None

    # -- control ---------------------------------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}{API_PREFIX}"
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
        """429 as Discord sends it: JSON body with retry_after, Retry-After and X-RateLimit headers, and `Via`."""
        body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": scope == "global"}
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(max(1, round(retry_after))),
            "X-RateLimit-Scope": scope,
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": str(retry_after),
            "X-RateLimit-Bucket": "fakebucket",
        }
        self.fail(method, path, 429, body, headers, times)

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
        response = self._answer(recorded)
        recorded.status = response.status
        recorded.response = json.loads(response.body) if isinstance(response.body, bytes) else None
        try:
            return response
        finally:
            async with self._changed:
                self.requests.append(recorded)
                self._changed.notify_all()

    def _answer(self, r: Recorded) -> web.Response:
        for failure in self.failures:
            if failure.times > 0 and failure.method == r.method and failure.pattern.fullmatch(r.path):
                failure.times -= 1
                return json_response(failure.body, failure.status, failure.headers)
        body = r.json or {}
        m = r.method
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
            channel_id = next((c for c, u in self._dm_channels.items() if u == user_id), None) or self.next_id()
            self._dm_channels[channel_id] = user_id
            return json_response(
                {"id": str(channel_id), "type": 1, "last_message_id": None, "recipients": [user_payload(user_id)]}
            )
        if match := re.fullmatch(r"/channels/(\d+)/messages/(\d+)/threads", r.path):
            if self.thread_forbidden:
                return json_response({"message": "Missing Permissions", "code": 50013}, 403)
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
            return json_response(self.message_payload(channel_id, body))
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
