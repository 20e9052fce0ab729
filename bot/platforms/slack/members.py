"""What Slack knows about a member and a channel that commands need: the member's time zone, whether they may manage
the channel, and whether the bot can post in it.

Looked up with `users.info` and `conversations.info`, both at once under one time budget, and cached, so a member's
second command costs no Web API call. An answer Slack gave (even "user_not_found") is cached; a lookup that timed out
or failed on Slack's side is not: it leaves the fact unknown (`None`), so the member is asked to try again instead of
being refused, and the next command asks Slack again. A lookup still running when the budget ends finishes in the
background and fills the cache for the next command.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.platforms.slack.installs import WorkspaceTokens

log = logging.getLogger(__name__)

T = TypeVar("T")

LOOKUP_BUDGET = 4.0  # seconds for both lookups together; a slash command past its direct budget is answered later
# Errors that say nothing about the member or the channel: Slack was slow, limited or failing. Never cached.
TRANSIENT_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})
NOT_IN_CHANNEL = (
    "I'm not a member of this channel, so I can't post here. Type `/invite @re-bot` in this channel, then run the "
    "command again."
)


@dataclass(frozen=True)
class Member:
    tz: str | None = None  # IANA zone from the member's Slack profile
    is_admin: bool = False  # workspace admin or owner


@dataclass(frozen=True)
class Channel:
    creator: str | None = None
    is_member: bool | None = None  # is the bot in the channel (None: Slack did not say)


UNKNOWN = Member()


@dataclass(frozen=True)
class Lookup:
    """What the lookups found for one command; `None` where Slack did not answer in time."""

    user: str
    channel_id: str
    member: Member | None
    channel: Channel | None

    @property
    def tz(self) -> str | None:
        return self.member.tz if self.member else None

    @property
    def can_manage(self) -> bool | None:
        """Workspace admins and owners manage every channel; otherwise the channel's creator does, and a member
        manages their own DM with the bot. (Slack's "channel managers" role is not readable through the Web API
        outside Enterprise Grid's admin.* methods.) None when a lookup that could have said yes did not answer."""
        if self.channel_id.startswith("D"):
            return True
        if (self.member and self.member.is_admin) or (self.channel and self.channel.creator == self.user):
            return True
        if self.member is None or self.channel is None:
            return None
        return False

    @property
    def cannot_post(self) -> str | None:
        """Why the bot cannot post in the channel, with the fix; None when it can (or Slack did not say)."""
        if self.channel_id.startswith("D") or self.channel is None or self.channel.is_member is not False:
            return None
        return NOT_IN_CHANNEL


def _transient(exc: Exception) -> bool:
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200)
        error = exc.response.get("error") if isinstance(getattr(exc.response, "data", None), dict) else None
        return status == 429 or status >= 500 or error in TRANSIENT_ERRORS
    return True  # timeouts, dropped connections


class MemberDirectory:
    """A small TTL cache over `users.info` and `conversations.info`, keyed by workspace and id."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl: float = 900.0,
        failure_ttl: float = 60.0,
        budget: float = LOOKUP_BUDGET,
        clock: Callable[[], float] = time.monotonic,
        tokens: WorkspaceTokens | None = None,
    ) -> None:
        self._client = client
        self._tokens = tokens  # OAuth mode: ask each workspace with its own token
        self._ttl = ttl
        self._failure_ttl = failure_ttl
        self.budget = budget
        self._clock = clock
        self._members: dict[tuple[str, str], tuple[float, Member]] = {}
        self._channels: dict[tuple[str, str], tuple[float, Channel]] = {}
        self._running: dict[tuple[str, str, str], asyncio.Task[Any]] = {}

    async def lookup(self, user: str, channel: str, team: str = "", *, channel_facts: bool = False) -> Lookup:
        """The member (always) and, with `channel_facts`, the channel, looked up concurrently within the budget."""
        member_task = self._start("user", team, user, self._member)
        tasks: set[asyncio.Task[Any]] = {member_task}
        channel_task = None
        if channel_facts and channel and not channel.startswith("D"):
            channel_task = self._start("channel", team, channel, self._channel)
            tasks.add(channel_task)
        await asyncio.wait(tasks, timeout=self.budget)
        return Lookup(user, channel, _result(member_task), _result(channel_task) if channel_task else None)

    async def _auth(self, team: str) -> dict[str, str]:
        token = await self._tokens.token(team or None) if self._tokens is not None else None
        return {"token": token} if token else {}

    async def _users_info(self, user: str, team: str) -> Any:
        return await self._client.users_info(user=user, **await self._auth(team))

    async def _conversations_info(self, channel: str, team: str) -> Any:
        return await self._client.conversations_info(channel=channel, **await self._auth(team))

    async def member(self, user: str, team: str = "") -> Member:
        """The member's facts; UNKNOWN when Slack did not answer in time."""
        return (await self.lookup(user, "", team)).member or UNKNOWN

    def _start(
        self, kind: str, team: str, key: str, fetch: Callable[[str, str], Awaitable[T]]
    ) -> asyncio.Task[T | None]:
        """One lookup per key at a time: a second command for the same member joins the first's call."""
        running = self._running.get((kind, team, key))
        if running is not None and not running.done():
            return running
        task = asyncio.get_running_loop().create_task(fetch(key, team))
        self._running[(kind, team, key)] = task
        task.add_done_callback(lambda _: self._running.pop((kind, team, key), None))
        return task

    async def _member(self, user: str, team: str) -> Member | None:
        key = (team, user)
        hit = self._members.get(key)
        if hit and hit[0] > self._clock():
            return hit[1]
        try:
            resp = await self._users_info(user, team)
        except Exception as exc:
            if _transient(exc):
                log.warning("users.info for %s did not answer (%s); asking again next time", user, type(exc).__name__)
                return None
            log.info("users.info for %s failed (%s); no time zone and no admin rights", user, exc)
            self._members[key] = (self._clock() + self._failure_ttl, UNKNOWN)
            return UNKNOWN
        data = resp.get("user") or {}
        found = Member(
            tz=data.get("tz") or None,
            is_admin=bool(data.get("is_admin") or data.get("is_owner") or data.get("is_primary_owner")),
        )
        self._members[key] = (self._clock() + self._ttl, found)
        return found

    async def _channel(self, channel: str, team: str) -> Channel | None:
        key = (team, channel)
        hit = self._channels.get(key)
        if hit and hit[0] > self._clock():
            return hit[1]
        try:
            resp = await self._conversations_info(channel, team)
        except Exception as exc:
            if _transient(exc):
                log.warning("conversations.info for %s did not answer (%s); asking again next time", channel,
                            type(exc).__name__)  # fmt: skip
                return None
            # A private channel the bot is not in answers channel_not_found: the bot cannot post there either.
            log.info("conversations.info for %s failed (%s); creator unknown, bot not in it", channel, exc)
            return Channel(creator=None, is_member=False)
        data = resp.get("channel") or {}
        is_member = data.get("is_member")
        found = Channel(
            creator=data.get("creator") or None, is_member=is_member if isinstance(is_member, bool) else None
        )
        if found.is_member is not False:  # "not in it" changes with one /invite: ask again next time
            self._channels[key] = (self._clock() + self._ttl, found)
        return found


def _result(task: asyncio.Task[T | None]) -> T | None:
    if not task.done() or task.cancelled() or task.exception() is not None:
        return None
    return task.result()
