"""Interaction payloads as Discord sends them, and fixtures that run discord.py's real client against the fake API.

The fixtures are in this folder's conftest.py.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import discord
from discord import app_commands
from discord_fake import APP_ID, FakeDiscord, message_json, user_payload

from content import load_content
from handlers import Services

GUILD_ID = 800000000000000001
CHANNEL_ID = 800000000000000002
MEMBER_ID = 800000000000000003
MANAGE_CHANNELS = discord.Permissions(manage_channels=True).value
MEMBER_PERMISSIONS = discord.Permissions(view_channel=True, send_messages=True, use_application_commands=True).value
EPHEMERAL = 64
# A token shaped like Discord's: its first part is the bot's id, base64-encoded.
TOKEN = base64.b64encode(str(APP_ID).encode()).decode().rstrip("=") + ".GxYz12.abcdefghijklmnopqrstuvwxyz0123456789"
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # a Tuesday


class Clock:
    """The handlers' frozen clock; tests move it by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


_ids = itertools.count(700000000000000000)


@lru_cache(maxsize=1)
def shared_services() -> Services:
    return Services.from_content(load_content(None))


def _base(kind: int, data: dict[str, Any], *, user_id: int, guild: bool, permissions: int) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": str(next(_ids)),
        "application_id": str(APP_ID),
        "type": kind,
        "token": f"tok-{next(_ids)}",
        "version": 1,
        "attachment_size_limit": 8 * 1024 * 1024,
        "locale": "en-US",
        "channel_id": str(CHANNEL_ID),
        "app_permissions": str(discord.Permissions.all().value),
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(GUILD_ID)} if guild else {"1": str(user_id)},
        "data": data,
    }
    if guild:
        payload["guild_id"] = str(GUILD_ID)
        payload["guild_locale"] = "en-US"
        payload["guild"] = {"id": str(GUILD_ID), "locale": "en-US", "features": []}
        payload["context"] = 0
        payload["channel"] = {
            "id": str(CHANNEL_ID),
            "type": 0,
            "guild_id": str(GUILD_ID),
            "name": "study-group",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "flags": 0,
            "permissions": str(permissions),
        }
        payload["member"] = {
            "user": user_payload(user_id),
            "roles": [],
            "joined_at": "2024-01-01T00:00:00.000000+00:00",
            "premium_since": None,
            "nick": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "permissions": str(permissions),
        }
    else:
        payload["context"] = 1
        payload["channel"] = {"id": str(CHANNEL_ID), "type": 1, "recipients": [user_payload(user_id)], "flags": 0}
        payload["user"] = user_payload(user_id)
    return payload


def _options(options: dict[str, Any], focused: str | None = None) -> list[dict[str, Any]]:
    out = []
    for name, value in options.items():
        kind = {bool: 5, int: 4, float: 10}.get(type(value), 3)
        option = {"name": name, "type": kind, "value": value}
        if name == focused:
            option["focused"] = True
        out.append(option)
    return out


def slash(
    name: str,
    options: dict[str, Any] | None = None,
    *,
    sub: str | None = None,
    user_id: int = MEMBER_ID,
    guild: bool = True,
    permissions: int = MEMBER_PERMISSIONS,
    focused: str | None = None,
) -> dict[str, Any]:
    """An APPLICATION_COMMAND interaction (or, with `focused`, an APPLICATION_COMMAND_AUTOCOMPLETE one)."""
    opts = _options(options or {}, focused)
    if sub is not None:
        opts = [{"name": sub, "type": 1, "options": opts}]
    data = {"id": str(next(_ids)), "name": name, "type": 1, "options": opts}
    if guild:
        data["guild_id"] = str(GUILD_ID)
    return _base(4 if focused else 2, data, user_id=user_id, guild=guild, permissions=permissions)


def autocomplete(name: str, options: dict[str, Any], focused: str, **kwargs: Any) -> dict[str, Any]:
    return slash(name, options, focused=focused, **kwargs)


def press(
    custom_id: str,
    *,
    message: dict[str, Any] | None = None,
    ephemeral: bool = True,
    user_id: int = MEMBER_ID,
    guild: bool = True,
    permissions: int = MEMBER_PERMISSIONS,
) -> dict[str, Any]:
    """A MESSAGE_COMPONENT interaction: a button with `custom_id` pressed on `message`."""
    payload = _base(
        3, {"custom_id": custom_id, "component_type": 2}, user_id=user_id, guild=guild, permissions=permissions
    )
    msg = message or {
        "embeds": [{"type": "rich", "title": "Earlier answer", "description": "Text"}],
        "components": [{"type": 1, "components": [{"type": 2, "style": 1, "label": "Button", "custom_id": custom_id}]}],
    }
    payload["message"] = message_json(
        next(_ids), CHANNEL_ID, APP_ID, type=0 if ephemeral else 20, flags=EPHEMERAL if ephemeral else 0, **msg
    )
    return payload


TASK_PREFIXES = ("CommandTree-invoker", "discord-ui-dynamic-item-", "discord-ui-view-dispatch-")


async def feed(bot: discord.Client, payload: dict[str, Any]) -> None:
    """Hand the payload to discord.py as the gateway would, and wait for every task it started to finish."""
    bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
    for _ in range(100):
        pending = [
            t
            for t in asyncio.all_tasks()
            if not t.done() and t is not asyncio.current_task() and t.get_name().startswith(TASK_PREFIXES)
        ]
        if not pending:
            return
        await asyncio.wait(pending, timeout=10)


def callback_of(fake: FakeDiscord, payload: dict[str, Any]) -> dict[str, Any]:
    """The body discord.py POSTed to the interaction's callback endpoint."""
    path = f"/interactions/{payload['id']}/{payload['token']}/callback"
    calls = fake.calls("POST", path)
    assert len(calls) == 1, f"expected one callback for {path}, got {len(calls)}: {[r.path for r in fake.requests]}"
    return calls[0].json


OPTION = re.compile(r"(?:^|[\s\[])([a-z]+):")  # an option as Discord shows it: "time:", "[zone:"


def discord_form_problem(tree: app_commands.CommandTree, line: str) -> str | None:
    """Why `line` (a command as a reply shows it) is not what a Discord member can type; None when it is. Usage lines
    (`a · b`, `[optional]`, `x|y`) are checked form by form."""
    first, *others = line.split(" · ")
    command_name = first.split()[0].lstrip("/")
    for form in [first, *(o if o.startswith("/") else f"/{command_name} {o}" for o in others)]:
        words = form.lstrip("/").split(" ", 2)
        command = tree.get_command(words[0])
        if command is None:
            return f"no Discord command /{words[0]}"
        rest = " ".join(words[1:])
        params: set[str] = set()
        if isinstance(command, app_commands.Group):
            if not rest:
                continue  # the command named in prose ("use `/re-remind`")
            subs = {c.name: c for c in command.commands}
            picked = words[1].split("|")
            if not all(p in subs for p in picked):
                return f"{words[1]!r} is not a sub-command of /{words[0]}"
            params = {p.name for name in picked for p in subs[name].parameters}  # type: ignore[union-attr]
            rest = words[2] if len(words) > 2 else ""
        else:
            params = {p.name for p in command.parameters}
        rest = rest.replace("[", " ").replace("]", " ").strip()
        if rest and not OPTION.match(rest):
            return f"{rest.split()[0]!r} is a positional argument; Discord takes options"
        if unknown := set(OPTION.findall(rest)) - params:
            return f"/{words[0]} has no option {sorted(unknown)}"
    return None
