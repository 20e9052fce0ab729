"""Fixtures for the Slack tests: the fake Slack API, and `re-bot run`'s real aiohttp server with the Slack platform
on an ephemeral port, driven with signed HTTP requests exactly as Slack sends them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from fake_slack import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, TEAM, FakeSlack, signed_headers
from slack_sdk.models.basic_objects import JsonObject
from slack_sdk.models.blocks import Block

from bot.config import Settings
from bot.runtime import build_web_app
from bot.slack.platform import SlackPlatform
from content.loader import load_content
from handlers import Services

NOW = datetime(2025, 3, 12, 9, 30, tzinfo=UTC)


@cache
def _shared() -> Services:
    return Services.from_content(load_content(None))  # loading and indexing take a second: once per run


def make_services() -> Services:
    shared = _shared()
    return Services(content=shared.content, matcher=shared.matcher, clock=lambda: NOW)


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


@dataclass
class SlackServer:
    fake: FakeSlack
    platform: SlackPlatform
    url: str
    session: aiohttp.ClientSession

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

    async def command(self, command: str, text: str = "", user: str = "U1", channel: str = "C1") -> tuple[int, Any]:
        form = {
            "token": "legacy",
            "team_id": TEAM,
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

    async def event(self, event: dict[str, Any]) -> tuple[int, Any]:
        body = json.dumps({"token": "legacy", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback",
                           "event_id": "Ev1", "event_time": 1700000000, "event": event})  # fmt: skip
        return await self.signed(body, content_type="application/json")


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting for the bot")
        await asyncio.sleep(0.005)


def block_actions(fake: FakeSlack, action_id: str, value: str, *, user: str = "U1", channel: str = "C1",
                  ephemeral: bool = True, view: bool = False) -> dict[str, Any]:  # fmt: skip
    """A `block_actions` payload as Slack sends it when a member presses a button."""
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
                "block_id": "b1",
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
        payload["container"] = {"type": "message", "message_ts": "1700000000.000001", "channel_id": channel,
                                "is_ephemeral": ephemeral}  # fmt: skip
        payload["channel"] = {"id": channel, "name": "general"}
        payload["response_url"] = fake.response_url("action")
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
async def slack(fake: FakeSlack) -> AsyncIterator[SlackServer]:
    platform, runner, url = await serve_platform(slack_settings(fake), make_services())
    async with aiohttp.ClientSession() as session:
        yield SlackServer(fake, platform, url, session)
    await platform.stop()
    await runner.cleanup()
