"""What Slack knows about a member that commands need: their time zone and whether they may manage a channel.

Looked up with `users.info` / `conversations.info` and cached, so a member's second command costs no Web API call.
A slow or failing lookup never blocks a command for long: it falls back to "unknown zone, not an admin".
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.platforms.slack.installs import WorkspaceTokens

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Member:
    tz: str | None = None  # IANA zone from the member's Slack profile
    is_admin: bool = False  # workspace admin or owner


UNKNOWN = Member()


class MemberDirectory:
    """A small TTL cache over `users.info` and `conversations.info` (creator), keyed by workspace and id."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl: float = 900.0,
        failure_ttl: float = 60.0,
        timeout: float = 1.5,
        clock: Callable[[], float] = time.monotonic,
        tokens: WorkspaceTokens | None = None,
    ) -> None:
        self._client = client
        self._tokens = tokens  # OAuth mode: ask each workspace with its own token
        self._ttl = ttl
        self._failure_ttl = failure_ttl
        self._timeout = timeout
        self._clock = clock
        self._members: dict[tuple[str, str], tuple[float, Member]] = {}
        self._creators: dict[tuple[str, str], tuple[float, str | None]] = {}

    async def _auth(self, team: str) -> dict[str, str]:
        token = await self._tokens.token(team or None) if self._tokens is not None else None
        return {"token": token} if token else {}

    async def _users_info(self, user: str, team: str) -> Any:
        return await self._client.users_info(user=user, **await self._auth(team))

    async def _conversations_info(self, channel: str, team: str) -> Any:
        return await self._client.conversations_info(channel=channel, **await self._auth(team))

    async def member(self, user: str, team: str = "") -> Member:
        key = (team, user)
        hit = self._members.get(key)
        if hit and hit[0] > self._clock():
            return hit[1]
        try:
            resp = await asyncio.wait_for(self._users_info(user, team), self._timeout)
            data = resp.get("user") or {}
            found = Member(
                tz=data.get("tz") or None,
                is_admin=bool(data.get("is_admin") or data.get("is_owner") or data.get("is_primary_owner")),
            )
            ttl = self._ttl
        except Exception as exc:  # network, rate limit, missing scope: answer the command anyway
            log.warning("users.info for %s failed (%s); using no time zone and no admin rights", user, exc)
            found, ttl = UNKNOWN, self._failure_ttl
        self._members[key] = (self._clock() + ttl, found)
        return found

    async def channel_creator(self, channel: str, team: str = "") -> str | None:
        key = (team, channel)
        hit = self._creators.get(key)
        if hit and hit[0] > self._clock():
            return hit[1]
        try:
            resp = await asyncio.wait_for(self._conversations_info(channel, team), self._timeout)
            creator, ttl = (resp.get("channel") or {}).get("creator") or None, self._ttl
        except Exception as exc:  # a private channel the bot is not in answers channel_not_found
            log.info("conversations.info for %s failed (%s); treating the creator as unknown", channel, exc)
            creator, ttl = None, self._failure_ttl
        self._creators[key] = (self._clock() + ttl, creator)
        return creator

    async def can_manage(self, user: str, channel: str, team: str = "") -> bool:
        """Workspace admins and owners manage every channel; otherwise the channel's creator does, and a member
        manages their own DM with the bot. (Slack's "channel managers" role is not readable through the Web API
        outside Enterprise Grid's admin.* methods.)"""
        if channel.startswith("D"):
            return True
        if (await self.member(user, team)).is_admin:
            return True
        return await self.channel_creator(channel, team) == user
