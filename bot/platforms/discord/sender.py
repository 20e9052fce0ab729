"""The Discord `Sender`: scheduled replies as DMs (reminders) and channel posts, with Discord's errors translated.

discord.py already sleeps through short 429s (it honours `retry_after`, per route bucket, and stops every request
during a `global` one) and retries some 5xx. What still fails here is sorted for the dispatcher:
- `PlatformFault`: 401, the bot's token is no longer valid (nothing is paused; sending resumes when it works again);
- `TransientDeliveryError`: a long 429 (its `X-RateLimit-Scope` decides whether the platform or only this target
  waits), 40003 "opening DMs too fast" (DM opens slow down), 5xx, network errors;
- `PermanentDeliveryError`: closed DMs (50007), channel gone (10003), missing access or permissions (50001/50013).

Every REST request the sender makes is paced to Discord's documented global limit (50/s), DM opens included, and a
member's DM channel id is stored (`dm_channels`) so it is opened once, ever.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import aiohttp
import discord

from bot.platforms.discord.interactions import message_kwargs
from bot.platforms.discord.render import DiscordMessage, clip, render_reply
from bot.schedule.budget import AdaptiveRate, RateBudget
from bot.schedule.delivery import (
    DM_KINDS,
    DeliveryKind,
    PermanentDeliveryError,
    PlatformFault,
    Sent,
    TransientDeliveryError,
)
from bot.schedule.faults import PlatformFaults
from handlers.types import Reply

log = logging.getLogger(__name__)

NONCE = 25  # Discord's longest message nonce
THREAD_NAME = 100
THREAD_ARCHIVE_MINUTES = 1440

# JSON error codes: https://discord.com/developers/docs/topics/opcodes-and-status-codes#json
CANNOT_DM = 50007
UNKNOWN_CHANNEL = 10003
UNKNOWN_USER = 10013
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
OPENING_DMS_TOO_FAST = 40003
# Start Thread from Message: a thread exists for it already, too many active threads, the channel has no threads.
THREAD_EXISTS = 160004
THREAD_ERRORS = (THREAD_EXISTS, 160006, 50024)

GLOBAL_RATE = 50.0  # requests/s per bot: https://discord.com/developers/docs/topics/rate-limits#global-rate-limit
DM_OPEN_RATE = 50.0  # DM opens/s until Discord says 40003; then halved each time, down to 1/s
DM_OPENS_SLOWED_WAIT = 2.0  # seconds a member's DM waits after a 40003 before it is tried again

MISSING_ACCESS_REASON = (
    "The bot cannot see this channel (Discord error 50001, Missing Access): give re-bot the View Channel and Send "
    "Messages permissions there, then /re-subscribe again."
)
MISSING_PERMISSIONS_REASON = (
    "The bot lacks a permission in this channel (Discord error 50013, Missing Permissions): paper posts need Send "
    "Messages and Embed Links; then /re-subscribe again."
)
UNAUTHORIZED, GATEWAY_CLOSED = "unauthorized", "gateway_closed"  # the faults' codes (re_bot_deliveries_held's reason)
BAD_TOKEN = (
    "Discord no longer accepts the bot token (401 Unauthorized): reset it in the Developer Portal and set DISCORD_TOKEN"
)

CLOSED_DMS = (
    "Discord would not deliver the reminder: the member's direct messages from this server are closed "
    "(Discord error 50007)."
)


def message_nonce(nonce: str, index: int) -> str:
    """A per-message nonce Discord accepts (<= 25 chars): the same (schedule, fire time, part) gives the same nonce,
    so `enforce_nonce` drops a repeated send of the same part."""
    return hashlib.sha256(f"{nonce}#{index}".encode()).hexdigest()[:NONCE]


@dataclass(frozen=True)
class RateLimitSeen:
    """The last 429 discord.py received in this task (set by the client's HTTP trace, read when it raises: its
    RateLimited carries neither the scope nor the JSON error code)."""

    scope: str  # X-RateLimit-Scope: "user", "global" or "shared"
    is_global: bool
    code: int | None = None  # a JSON error code in the body, e.g. 30034 (daily command creates used up)


LAST_RATE_LIMIT: contextvars.ContextVar[RateLimitSeen | None] = contextvars.ContextVar("last_rate_limit", default=None)


async def note_rate_limit(response: aiohttp.ClientResponse) -> None:
    """Called by the client's HTTP trace for every 429: remembers its scope (and error code) for this task. Reading
    the body here is safe: aiohttp keeps it for discord.py, which reads it next."""
    headers = response.headers
    scope = (headers.get("X-RateLimit-Scope") or "user").lower()
    is_global = scope == "global" or (headers.get("X-RateLimit-Global") or "").lower() == "true"
    code = None
    try:
        body = await response.json(content_type=None)
        code = body.get("code") if isinstance(body, dict) else None
    except (ValueError, aiohttp.ClientError):
        pass
    LAST_RATE_LIMIT.set(RateLimitSeen(scope, is_global, code if isinstance(code, int) else None))


def _target_id(target: str) -> int:
    try:
        value = int(target)
    except ValueError:
        raise PermanentDeliveryError(f"{target!r} is not a Discord id.") from None
    if value <= 0:
        raise PermanentDeliveryError(f"{target!r} is not a Discord id.")
    return value


def translate(error: Exception, *, kind: DeliveryKind) -> Exception:
    """discord.py's and aiohttp's failures as the scheduler's three kinds."""
    if isinstance(error, discord.RateLimited):
        seen = LAST_RATE_LIMIT.get()
        scope = "platform" if seen is not None and seen.is_global else "target"
        what = f"{seen.scope} " if seen is not None else ""
        return TransientDeliveryError(f"Discord {what}rate limit", retry_after=error.retry_after, scope=scope)
    if isinstance(error, discord.HTTPException):
        status, code = error.status, error.code
        if status == 401:
            return PlatformFault(BAD_TOKEN, code=UNAUTHORIZED)
        if status == 403 and code == CANNOT_DM:
            return PermanentDeliveryError(CLOSED_DMS)
        if status == 403 and code == OPENING_DMS_TOO_FAST:
            return TransientDeliveryError("Discord: opening DMs too fast (40003)", DM_OPENS_SLOWED_WAIT, "target")
        if status == 403 and code == MISSING_ACCESS:
            return PermanentDeliveryError(MISSING_ACCESS_REASON)
        if status == 403 and code == MISSING_PERMISSIONS:
            return PermanentDeliveryError(MISSING_PERMISSIONS_REASON)
        if status == 404 and code == UNKNOWN_CHANNEL:
            return PermanentDeliveryError("The Discord channel no longer exists (Discord error 10003).")
        if status == 404 and code == UNKNOWN_USER:
            return PermanentDeliveryError("The Discord member no longer exists (Discord error 10013).")
        if status == 403:
            return PermanentDeliveryError(
                f"The bot may not post there any more (Discord {status}, code {code}: {error.text or 'forbidden'})."
            )
        if status == 429 or status >= 500 or status == 408:
            retry = _retry_after(error)
            seen = LAST_RATE_LIMIT.get() if status == 429 else None
            scope = "target" if seen is not None and not seen.is_global else "platform"
            return TransientDeliveryError(f"Discord answered {status}", retry_after=retry, scope=scope)
        if status == 404:
            what = "member" if kind in DM_KINDS else "channel"
            return PermanentDeliveryError(f"Discord could not find the {what} ({status}, code {code}).")
        return PermanentDeliveryError(f"Discord refused the message ({status}, code {code}: {error.text}).")
    if isinstance(error, aiohttp.ClientError | asyncio.TimeoutError | OSError):
        return TransientDeliveryError(f"network error talking to Discord: {error!r}")
    return error


def _retry_after(error: discord.HTTPException) -> float | None:
    response = getattr(error, "response", None)
    header = response.headers.get("Retry-After") if response is not None else None
    try:
        return float(header) if header is not None else None
    except ValueError:
        return None


class DmChannelStore(Protocol):
    """Where DM channel ids survive restarts (`bot.store.SqlStore`)."""

    def dm_channel(self, platform: str, user: str) -> str | None: ...

    def remember_dm_channel(self, platform: str, user: str, channel: str, *, now: datetime) -> None: ...


class DiscordSender:
    """Delivers a `Reply` to a member (DM) or a channel. A member's DM channel is opened once, ever: its id is kept in
    memory and, with a `dm_store`, in the database. `faults` holds the bot-wide faults seen (a 401, a closed
    gateway); the Discord platform has one token, so they have no key."""

    platform = "discord"

    def __init__(
        self,
        client: discord.Client,
        dm_store: DmChannelStore | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.client = client
        self.dm_store, self.clock = dm_store, clock
        self.faults = PlatformFaults(self.platform)
        self.requests = RateBudget(GLOBAL_RATE, burst=10)  # every REST request this sender makes
        self.dm_opens = RateBudget(
            DM_OPEN_RATE, burst=5, adaptive=AdaptiveRate(DM_OPEN_RATE, DM_OPEN_RATE, slow_start=False, backoff=0.5)
        )
        self._dm_channels: dict[int, int] = {}

    async def check(self, key: str | None) -> bool:
        """Does Discord accept the token again? `GET /users/@me`: True on 200, False on 401."""
        try:
            await self.client.http.request(discord.http.Route("GET", "/users/@me"))
        except discord.HTTPException as exc:
            if exc.status == 401:
                return False
            raise
        return True

    async def send(self, target: str, reply: Reply, *, kind: DeliveryKind, nonce: str) -> Sent:
        target_id = _target_id(target)
        if self.client.is_closed():  # the gateway ended for good (see DiscordPlatform); the client cannot send
            raise PlatformFault(self.faults.problem() or "the Discord client is closed", code=GATEWAY_CLOSED)
        LAST_RATE_LIMIT.set(None)
        try:
            if kind in DM_KINDS:
                return await self._send_dm(target_id, reply, nonce)
            return await self._send_channel(target_id, reply, nonce)
        except (PermanentDeliveryError, TransientDeliveryError, PlatformFault):
            raise
        except Exception as exc:
            translated = translate(exc, kind=kind)
            if translated is exc:
                raise
            raise translated from exc

    async def dm_channel(self, user_id: int, *, reopen: bool = False) -> int:
        """The member's DM channel id: remembered, else stored, else opened (and stored). `reopen` opens it afresh
        (the stored one turned out stale)."""
        if user_id in self._dm_channels and not reopen:
            return self._dm_channels[user_id]
        if self.dm_store is not None and not reopen:
            stored = await asyncio.to_thread(self.dm_store.dm_channel, self.platform, str(user_id))
            if stored is not None:
                self._dm_channels[user_id] = int(stored)
                return self._dm_channels[user_id]
        await self.dm_opens.acquire("")
        await self.requests.acquire("")
        try:
            data = await self.client.http.start_private_message(user_id)
        except discord.HTTPException as exc:
            if exc.status == 403 and exc.code == OPENING_DMS_TOO_FAST:
                self.dm_opens.limited(0.0)
                log.warning("Discord: opening DMs too fast (40003); DM opens slowed to %.0f/s", self.dm_opens.rate)
            raise
        self.dm_opens.succeeded()
        channel_id = int(data["id"])
        self._dm_channels[user_id] = channel_id
        if self.dm_store is not None and self.clock is not None:
            await asyncio.to_thread(self.dm_store.remember_dm_channel, self.platform, str(user_id), str(channel_id),
                                    now=self.clock())  # fmt: skip
        return channel_id

    async def _send_dm(self, user_id: int, reply: Reply, nonce: str) -> Sent:
        channel_id = await self.dm_channel(user_id)
        messages = [m for r in (reply, *reply.followups) for m in render_reply(r)]
        try:
            first = await self._post(channel_id, messages[0], message_nonce(nonce, 0))
        except discord.NotFound:
            # A stored DM channel can vanish (e.g. the bot was re-created): open it afresh once.
            channel_id = await self.dm_channel(user_id, reopen=True)
            first = await self._post(channel_id, messages[0], message_nonce(nonce, 0))
        for index, message in enumerate(messages[1:], start=1):
            await self._post(channel_id, message, message_nonce(nonce, index))
        return Sent(message_id=str(first.id))

    async def _send_channel(self, channel_id: int, reply: Reply, nonce: str) -> Sent:
        messages = render_reply(reply)
        first = await self._post(channel_id, messages[0], message_nonce(nonce, 0))
        for index, message in enumerate(messages[1:], start=1):
            await self._post(channel_id, message, message_nonce(nonce, index))
        if reply.followups:
            # The post went out: nothing after this point may turn it into a failure (a retry would post it again).
            try:
                await self._followups(channel_id, first, reply, nonce, len(messages))
            except Exception as exc:
                log.warning("channel %s: the post went out, its study prompts did not (%s)", channel_id,
                            translate(exc, kind="channel-post"))  # fmt: skip
        return Sent(message_id=str(first.id))

    async def _followups(self, channel_id: int, first: discord.Message, reply: Reply, nonce: str, index: int) -> None:
        """The study prompts go in a thread on the post, so the channel shows one message per day; when no thread can
        be started, as replies to the post."""
        thread_id = await self._thread(channel_id, first.id, reply)
        for followup in reply.followups:
            for message in render_reply(followup):
                await self._post(thread_id or channel_id, message, message_nonce(nonce, index),
                                 reference=None if thread_id else first)  # fmt: skip
                index += 1

    async def _thread(self, channel_id: int, message_id: int, reply: Reply) -> int | None:
        name = clip(reply.title or "Discussion", THREAD_NAME)
        await self.requests.acquire("")
        try:
            data = await self.client.http.start_thread_with_message(
                channel_id, message_id, name=name, auto_archive_duration=THREAD_ARCHIVE_MINUTES
            )
        except discord.HTTPException as exc:
            if exc.code == THREAD_EXISTS:  # started by an earlier try of this delivery: a thread has its message's id
                return message_id
            if exc.status == 401 or (exc.status != 403 and exc.code not in THREAD_ERRORS):
                raise
            log.info("channel %s: no thread for the post (Discord %s, code %s); replying to the post instead",
                     channel_id, exc.status, exc.code)  # fmt: skip
            return None
        return int(data["id"])

    async def _post(
        self, channel_id: int, message: DiscordMessage, nonce: str, reference: discord.Message | None = None
    ) -> discord.Message:
        channel = self.client.get_partial_messageable(channel_id)
        kwargs: dict[str, Any] = message_kwargs(message)
        if reference is not None:
            kwargs["reference"] = reference
        await self.requests.acquire("")
        return await channel.send(nonce=nonce, **kwargs)
