"""Fixtures for the Slack tests: the fake Slack API, and `re-bot run`'s real aiohttp server with the Slack platform
on an ephemeral port, driven with signed HTTP requests exactly as Slack sends them, on a real store (SQLite in the
test's temp folder) with a clock the test moves, so scheduled deliveries can be ticked through the Slack sender."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from fake_slack import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, TEAM, FakeSlack, signed_headers
from slack_sdk.models.basic_objects import JsonObject
from slack_sdk.models.blocks import Block

from bot.config import Settings
from bot.platforms.slack.platform import SlackPlatform
from bot.platforms.slack.render import action_name
from bot.runtime import build_web_app
from bot.schedule.dispatcher import DispatchPolicy
from bot.schedule.ticker import Store, Ticker, TickReport, open_store
from content.loader import load_content
from handlers import Services

NOW = datetime(2025, 3, 12, 9, 30, tzinfo=UTC)


class Clock:
    """The bot's clock, frozen; tests move `now` by hand (commands, buttons and ticks all read it)."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@cache
def _shared() -> Services:
    return Services.from_content(load_content(None))  # loading and indexing take a second: once per run


def make_services(store: Store | None = None, clock: Callable[[], datetime] | None = None) -> Services:
    shared = _shared()
    return Services(content=shared.content, matcher=shared.matcher, clock=clock or (lambda: NOW),
                    store=store.api if store is not None else None)  # fmt: skip


def make_store(folder: Path) -> Store:
    """The bot's own store, migrated, on SQLite in `folder` (as `re-bot run` opens it)."""
    return open_store(Settings(_env_file=None, RE_BOT_DATABASE_URL=f"sqlite:///{folder}/re-bot.db"))


def slack_settings(fake: FakeSlack, port: int = 3000, socket: bool = False) -> Settings:
    values: dict[str, Any] = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
        "RE_BOT_HTTP_PORT": port,
    }
    if socket:
        values["SLACK_APP_TOKEN"] = APP_TOKEN
    return Settings(_env_file=None, **values)


def assert_valid_blocks(blocks: list[dict[str, Any]], max_blocks: int = 50) -> None:
    """Slack's limits, checked by slack_sdk's own Block Kit models (header 150, section 3,000, button 75, ...)."""
    assert 0 < len(blocks) <= max_blocks
    for raw in blocks:
        block = Block.parse(raw)
        assert block is not None, raw
        _validate(block)
        if raw["type"] == "actions":
            ids = [e["action_id"] for e in raw["elements"]]
            assert len(ids) == len(set(ids)), "action ids must be unique within a message"
        if raw["type"] == "context":
            assert len(raw["elements"]) <= 10


def _validate(obj: JsonObject) -> None:
    obj.validate_json()
    for value in vars(obj).values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, JsonObject):
                _validate(item)


def all_text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The buttons of a message or view by action name (the first of each)."""
    found: dict[str, dict[str, Any]] = {}
    for block in blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            found.setdefault(action_name(element["action_id"]), element)
    return found


# Quick retries for tests: the dispatcher's policy, with back-off in fractions of a second instead of seconds.
FAST_POLICY = DispatchPolicy(backoff_initial=0.01, backoff_max=0.05)


@dataclass
class SlackServer:
    fake: FakeSlack
    platform: SlackPlatform
    url: str
    session: aiohttp.ClientSession
    store: Store | None = None
    clock: Clock | None = None
    _ticker: Ticker | None = None
    _events: int = 0

    async def tick(self, now: datetime) -> TickReport:
        """One scheduler pass as of `now` (the same Ticker `re-bot run` uses), delivering through the Slack sender."""
        assert self.store is not None and self.clock is not None
        self.clock.now = now
        if self._ticker is None:  # one ticker, so a 429's hold carries over between ticks as in `re-bot run`
            self._ticker = Ticker(self.store.sessions, self.platform.bot.services.content,
                                  {"slack": self.platform.sender}, policy=FAST_POLICY)  # fmt: skip
        return await self._ticker.tick(now)

    async def post(self, body: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        async with self.session.post(f"{self.url}/slack/events", data=body.encode(), headers=headers or {}) as resp:
            text = await resp.text()
            try:
                return resp.status, json.loads(text) if text else None
            except json.JSONDecodeError:
                return resp.status, text

    async def signed(self, body: str, **kwargs: Any) -> tuple[int, Any]:
        content_type = kwargs.pop("content_type", "application/x-www-form-urlencoded")
        return await self.post(body, signed_headers(body, content_type=content_type, **kwargs))

    async def command(self, command: str, text: str = "", user: str = "U1", channel: str = "C1",
                      team: str = TEAM) -> tuple[int, Any]:  # fmt: skip
        form = {
            "token": "legacy",
            "team_id": team,
            "team_domain": "test",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": "member",
            "command": command,
            "text": text,
            "api_app_id": "A1",
            "is_enterprise_install": "false",
            "response_url": self.fake.response_url("cmd"),
            "trigger_id": "1.2.3",
        }
        return await self.signed(urlencode(form))

    def posts(self, channel: str) -> list[Any]:
        """chat.postMessage calls to `channel` (a channel id, or a member id for their DM) that Slack accepted."""
        return [c for c in self.fake.calls_to("chat.postMessage") if c.args.get("channel") == channel and c.ok]

    async def reminder_dm(self, user: str = "U1", at: datetime | None = None) -> dict[str, Any]:
        """Set a daily 09:00 reminder for `user` (in their Slack zone) and tick until it is delivered; returns the
        DM as Slack stores it (ts, channel, text, blocks), ready to press its buttons with `press(message=...)`."""
        await self.command("/re-remind", "daily 09:00", user=user)
        before = len(self.posts(user))
        await self.tick(at or datetime(2025, 3, 13, 9, 0, tzinfo=UTC))
        post = self.posts(user)[before]
        assert post.answer is not None
        return {"ts": post.answer["ts"], "channel": post.answer["channel"], "text": post.args["text"],
                "blocks": post.args["blocks"]}  # fmt: skip

    async def press(self, action_id: str, value: str, **kwargs: Any) -> tuple[int, Any]:
        return await self.signed(
            urlencode({"payload": json.dumps(block_actions(self.fake, action_id, value, **kwargs))})
        )

    async def responses(self, count: int = 1) -> list[dict[str, Any]]:
        """What arrived at response_url, once `count` posts have (button listeners answer after their ack)."""
        await wait_until(lambda: len(self.fake.responses) >= count)
        return self.fake.responses

    async def calls(self, method: str, count: int = 1) -> list[Any]:
        await wait_until(lambda: len(self.fake.calls_to(method)) >= count)
        return self.fake.calls_to(method)

    async def event(self, event: dict[str, Any], event_id: str | None = None, retry: int | None = None,
                    team: str = TEAM) -> tuple[int, Any]:  # fmt: skip
        """An Events API delivery; each gets a new event_id unless one is given. With `retry`, Slack's retry headers
        (X-Slack-Retry-Num and X-Slack-Retry-Reason), as Slack sends a delivery it got no 200 for."""
        self._events += 1
        body = json.dumps({"token": "legacy", "team_id": team, "api_app_id": "A1", "type": "event_callback",
                           "event_id": event_id or f"Ev{self._events}", "event_time": 1700000000,
                           "event": event})  # fmt: skip
        headers = signed_headers(body, content_type="application/json")
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return await self.post(body, headers)


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting for the bot")
        await asyncio.sleep(0.005)


def block_actions(fake: FakeSlack, action_id: str, value: str, *, user: str = "U1", channel: str = "C1",
                  ephemeral: bool = True, view: bool = False, message: dict[str, Any] | None = None,
                  block_id: str = "b1") -> dict[str, Any]:  # fmt: skip
    """A `block_actions` payload as Slack sends it when a member presses a button. `message` is the message the
    button is on (Slack sends it for messages that are not ephemeral: its ts, text and blocks)."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "test"},
        "user": {"id": user, "username": "member", "team_id": TEAM},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "1.2.3",
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "text": {"type": "plain_text", "text": "x"},
                "action_ts": "1700000000.1",
            }
        ],
    }
    if view:
        payload["container"] = {"type": "view", "view_id": "V1"}
        payload["view"] = {"id": "V1", "type": "home", "blocks": []}
    else:
        ts = (message or {}).get("ts", "1700000000.000001")
        payload["container"] = {"type": "message", "message_ts": ts, "channel_id": channel,
                                "is_ephemeral": ephemeral}  # fmt: skip
        payload["channel"] = {"id": channel, "name": "general"}
        payload["response_url"] = fake.response_url("action")
        if message is not None and not ephemeral:
            payload["message"] = {"type": "message", "user": "UBOT", "bot_id": "BBOT", **message}
    return payload


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    f = await FakeSlack(
        users={
            "U1": {"id": "U1", "tz": "Europe/Berlin", "is_admin": False},
            "UADMIN": {"id": "UADMIN", "tz": "America/New_York", "is_admin": True},
            "UOWNER": {"id": "UOWNER", "tz": "Asia/Tokyo", "is_owner": True},
            "UCREATOR": {"id": "UCREATOR", "tz": "UTC"},
        },
        channels={"C1": {"id": "C1", "creator": "UCREATOR"}},
    ).start()
    yield f
    await f.stop()


async def serve_platform(settings: Settings, services: Services) -> tuple[SlackPlatform, web.AppRunner, str]:
    app = build_web_app()
    platform = SlackPlatform(settings, services, app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    await platform.start()
    return platform, runner, f"http://127.0.0.1:{port}"


@pytest.fixture
def slack_store(tmp_path: Path) -> Iterator[Store]:
    store = make_store(tmp_path)
    yield store
    store.engine.dispose()


@pytest.fixture
async def slack(fake: FakeSlack, slack_store: Store) -> AsyncIterator[SlackServer]:
    clock = Clock()
    platform, runner, url = await serve_platform(slack_settings(fake), make_services(slack_store, clock))
    async with aiohttp.ClientSession() as session:
        yield SlackServer(fake, platform, url, session, slack_store, clock)
    await platform.stop()
    await runner.cleanup()
