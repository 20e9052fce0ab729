"""A local fake of the Slack Web API, response_url and Socket Mode WebSocket, on 127.0.0.1 at an ephemeral port.

It records every call, answers like Slack for the methods the bot uses, and can be told to fail a method (429 with
Retry-After, 500, or an `ok: false` error code) a number of times. Also used by bench/slack_http.py and
bench/slack_fanout.py.

`limits` enforces chat.postMessage's documented limits (https://api.slack.com/methods/chat.postMessage#rate_limiting
and https://api.slack.com/apis/rate-limits): about one message per second per channel with short bursts, and a
workspace-wide rate (not published; set here as messages/s with a burst). Past either, Slack answers HTTP 429 with
`Retry-After` (whole seconds) and `{"ok": false, "error": "ratelimited"}`. `revoked` answers every call as Slack does
once the bot token is revoked: HTTP 200 with `{"ok": false, "error": "token_revoked"}`.

It also plays Slack's side of an OAuth install: `oauth.v2.access` exchanges a code it issued (`issue_code`) for that
workspace's bot token, which the fake then accepts like `BOT_TOKEN` (each call records the token it carried), until
`revoke(token)` (an uninstall: that token alone answers `token_revoked`).
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web
from slack_sdk.signature import SignatureVerifier

BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"
SIGNING_SECRET = "test-signing-secret"
TEAM = "T0TEST"
CLIENT_ID = "1111111111.2222222222"
CLIENT_SECRET = "0123456789abcdef0123456789abcdef"
APP_ID = "A0RE0BOT"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)  # when it arrived, to check Retry-After was waited out
    ok: bool = True  # False when the fake answered with a failure
    answer: dict[str, Any] | None = None  # what the fake answered (the posted message's ts and channel)
    peer: object = None  # the client's address: one per connection, so tests can count connections


@dataclass
class Failure:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    times: int = 1
    skip: int = 0  # calls answered normally before this failure starts
    channel: str | None = None  # fail only calls with this `channel` argument


class TokenBucket:
    """`rate` per second with bursts of `burst`; `take` says how long until the next call would be allowed."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.at = float(burst), time.monotonic()

    def take(self) -> float:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class Limits:
    """chat.postMessage limits: the workspace's rate and burst, and per channel (about 1/s, short bursts)."""

    rate: float = 100.0
    burst: int = 20
    per_channel_rate: float = 1.0
    per_channel_burst: int = 2


@dataclass
class Workspace:
    """A workspace that installed the app through OAuth: its id, name and the bot token Slack issued."""

    team_id: str
    name: str
    token: str


@dataclass
class FakeSlack:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # users.info answers by id
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)  # conversations.info answers by id
    calls: list[Call] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)  # what arrived at response_url
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)  # seconds a method takes to answer: a slow Slack
    socket_replies: asyncio.Queue | None = None
    _runner: web.AppRunner | None = None
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _socket_ready: asyncio.Event | None = None
    port: int = 0
    _ts: int = 0
    limits: Limits | None = None
    revoked: bool = False  # the bot token was revoked: every call answers token_revoked
    revoke_after: int | None = None  # revoke the token once this many posts were accepted (a reset mid-fan-out)
    record: bool = True  # False: keep only counts and what was posted (benchmarks)
    posted: dict[str, int] = field(default_factory=dict)  # chat.postMessage accepted, by its (unique) text+channel
    rejected_429: int = 0
    _workspace: TokenBucket | None = None
    _channels: dict[str, TokenBucket] = field(default_factory=dict)
    codes: dict[str, Workspace] = field(default_factory=dict)  # OAuth codes not yet exchanged
    installed: dict[str, Workspace] = field(default_factory=dict)  # bot token -> workspace
    revoked_tokens: set[str] = field(default_factory=set)  # one workspace's token revoked (uninstall)

    # -- control --------------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.url}/response/{name}"

    def fail(self, method: str, status: int = 200, error: str | None = None, retry_after: int | None = None,
             times: int = 1, skip: int = 0, channel: str | None = None) -> None:  # fmt: skip
        self.failures.setdefault(method, []).append(Failure(status, error, retry_after, times, skip, channel))

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def issue_code(self, team_id: str, name: str, token: str) -> str:
        """What Slack does when a member approves the install: a one-use code for `oauth.v2.access`."""
        code = f"code-{team_id}-{len(self.codes) + len(self.installed)}"
        self.codes[code] = Workspace(team_id, name, token)
        return code

    def revoke(self, token: str) -> None:
        """The workspace uninstalled the app: its token stops working (Slack answers `token_revoked`)."""
        self.installed.pop(token, None)
        self.revoked_tokens.add(token)

    @staticmethod
    def token_of(call: Call) -> str | None:
        auth = call.headers.get("Authorization", "")
        return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None

    async def start(self) -> FakeSlack:
        self.socket_replies = asyncio.Queue()
        self._socket_ready = asyncio.Event()
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response)
        app.router.add_get("/socket", self._socket)
        app.router.add_get("/_fake/stats", self._stats)
        app.router.add_post("/_fake/control", self._control)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner:
            await self._runner.cleanup()

    # -- Web API --------------------------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.text()
        if request.content_type == "application/json":
            args = json.loads(raw or "{}")
        else:
            args = dict(parse_qsl(raw))
            for key in ("blocks", "view"):
                if isinstance(args.get(key), str):
                    args[key] = json.loads(args[key])
        args.update(dict(request.query))
        call = Call(
            method, args, dict(request.headers), peer=request.transport and request.transport.get_extra_info("peername")
        )
        if self.record:
            self.calls.append(call)
        if self.delays.get(method):
            await asyncio.sleep(self.delays[method])
        if self.revoked:
            call.ok = False
            return web.json_response({"ok": False, "error": "token_revoked"})
        if method == "chat.postMessage" and (wait := self._limit(args.get("channel", ""))) > 0:
            call.ok = False
            self.rejected_429 += 1
            headers = {"Retry-After": str(max(1, math.ceil(wait)))}
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers=headers)
        queue = self.failures.get(method)
        if queue and queue[0].channel not in (None, args.get("channel")):
            queue = None
        if queue and queue[0].skip > 0:
            queue[0].skip -= 1
        elif queue:
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.pop(0)
            call.ok = False
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            if failure.status == 429:
                return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers=headers)
            if failure.status >= 500:
                return web.Response(status=failure.status, text="upstream connect error", headers=headers)
            return web.json_response({"ok": False, "error": failure.error or "unknown_error"}, headers=headers)
        if method == "oauth.v2.access":
            call.answer = self._oauth_access(request.headers.get("Authorization", ""), args)
            call.ok = call.answer["ok"]
            return web.json_response(call.answer)
        token = self.token_of(call)
        if token not in (BOT_TOKEN, APP_TOKEN, *self.installed):
            call.ok = False
            error = "token_revoked" if token in self.revoked_tokens else "invalid_auth" if token else "not_authed"
            return web.json_response({"ok": False, "error": error})
        call.answer = self._answer(method, args)
        if method == "chat.postMessage":
            key = f"{args.get('channel', '')}|{args.get('text', '')}|{args.get('thread_ts', '')}"
            self.posted[key] = self.posted.get(key, 0) + 1
            if self.revoke_after is not None and sum(self.posted.values()) >= self.revoke_after:
                self.revoked, self.revoke_after = True, None
        workspace = self.installed.get(token or "")
        if workspace is not None and method == "auth.test":
            call.answer = {**call.answer, "team": workspace.name, "team_id": workspace.team_id}
        return web.json_response(call.answer)

    async def _stats(self, request: web.Request) -> web.Response:
        """For benchmarks running the fake in another process: what was posted."""
        return web.json_response({"accepted": sum(self.posted.values()), "unique": len(self.posted),
                                  "duplicates": sum(n - 1 for n in self.posted.values()),
                                  "rejected_429": self.rejected_429})  # fmt: skip

    async def _control(self, request: web.Request) -> web.Response:
        """For benchmarks: set `limits` ({rate, burst, ...}), `revoked`, `revoke_after`."""
        body = await request.json()
        if "limits" in body:
            self.limits, self._workspace, self._channels = Limits(**body["limits"]), None, {}
        for name in ("revoked", "revoke_after"):
            if name in body:
                setattr(self, name, body[name])
        if body.get("reset"):  # a new phase of a benchmark: forget what was posted
            self.posted, self.rejected_429 = {}, 0
        return web.json_response({"ok": True})

    def _limit(self, channel: str) -> float:
        """Seconds until this post would be allowed (0: allowed, and counted)."""
        if self.limits is None:
            return 0.0
        if self._workspace is None:
            self._workspace = TokenBucket(self.limits.rate, self.limits.burst)
        per_channel = self._channels.get(channel)
        if per_channel is None:
            per_channel = self._channels[channel] = TokenBucket(self.limits.per_channel_rate,
                                                                self.limits.per_channel_burst)  # fmt: skip
        return per_channel.take() or self._workspace.take()

    def _oauth_access(self, authorization: str, args: dict[str, Any]) -> dict[str, Any]:
        """oauth.v2.access as https://api.slack.com/methods/oauth.v2.access documents it: the app authenticates with
        HTTP Basic (client id and secret) or form fields; a code works once; the answer carries the bot token."""
        client_id, client_secret = args.get("client_id"), args.get("client_secret")
        if authorization.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(authorization[6:]).decode().partition(":")
        if client_id != CLIENT_ID:
            return {"ok": False, "error": "invalid_client_id"}
        if client_secret != CLIENT_SECRET:
            return {"ok": False, "error": "bad_client_secret"}
        workspace = self.codes.pop(args.get("code", ""), None)
        if workspace is None:
            return {"ok": False, "error": "invalid_code"}
        self.installed[workspace.token] = workspace
        return {
            "ok": True,
            "access_token": workspace.token,
            "token_type": "bot",
            "scope": "commands,chat:write,users:read,channels:read,groups:read,mpim:read",
            "bot_user_id": "UBOT",
            "app_id": APP_ID,
            "team": {"name": workspace.name, "id": workspace.team_id},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": "UINSTALLER"},
        }

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "re-bot", "team_id": TEAM,
                    "user_id": "UBOT", "bot_id": "BBOT"}  # fmt: skip
        if method == "users.info":
            user = self.users.get(args.get("user", ""))
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method == "conversations.info":
            channel = self.channels.get(args.get("channel", ""))
            return {"ok": True, "channel": channel} if channel else {"ok": False, "error": "channel_not_found"}
        if method == "chat.postMessage":
            self._ts += 1
            channel = args.get("channel", "")
            if channel.startswith(("U", "W")):
                channel = "D" + channel[1:]  # Slack answers with the DM's id
            return {"ok": True, "channel": channel, "ts": f"1700000000.{self._ts:06d}", "message": {}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": "1700000000.999999"}
        if method == "chat.getPermalink":
            # https://api.slack.com/methods/chat.getPermalink: {"ok": true, "channel": ..., "permalink":
            # "https://<workspace>.slack.com/archives/<channel>/p<message_ts without its dot>"}
            channel, ts = args.get("channel", ""), args.get("message_ts", "")
            link = f"https://test.slack.com/archives/{channel}/p{ts.replace('.', '')}"
            return {"ok": True, "channel": channel, "permalink": link}
        if method == "views.publish":
            return {"ok": True, "view": {"id": "V1", **(args.get("view") or {})}}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + args.get("users", "X")[1:]}}
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}
        return {"ok": True}

    async def _response(self, request: web.Request) -> web.Response:
        payload = await request.json()
        self.responses.append({"name": request.match_info["name"], **payload})
        queue = self.failures.get("response_url")
        if queue:
            queue.pop(0)
            return web.Response(status=404, text="expired_url")
        return web.Response(text="ok")

    # -- Socket Mode ------------------------------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}})
        assert self._socket_ready is not None
        self._socket_ready.set()
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                assert self.socket_replies is not None
                await self.socket_replies.put(json.loads(msg.data))
        self._sockets.remove(ws)
        return ws

    async def send_envelope(self, envelope: dict[str, Any], timeout: float = 10) -> dict[str, Any]:
        """Push one Socket Mode envelope to the connected app; return its acknowledgement."""
        assert self._socket_ready is not None and self.socket_replies is not None
        await asyncio.wait_for(self._socket_ready.wait(), timeout)
        await self._sockets[-1].send_json(envelope)
        while True:
            reply = await asyncio.wait_for(self.socket_replies.get(), timeout)
            if reply.get("envelope_id") == envelope["envelope_id"]:
                return reply


def signed_headers(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None,
                   content_type: str = "application/x-www-form-urlencoded") -> dict[str, str]:  # fmt: skip
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, "Content-Type": content_type}
