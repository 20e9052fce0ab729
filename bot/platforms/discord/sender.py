"""The Discord `Sender`: scheduled replies as DMs (reminders) and channel posts, with Discord's errors translated.

discord.py already sleeps through short 429s (it honours `retry_after`) and retries some 5xx; what still fails here is
reported as `TransientDeliveryError` (worth retrying later) or `PermanentDeliveryError` (closed DMs, channel gone,
no access), so the scheduler's policy stays in one place.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

import aiohttp
import discord

from bot.platforms.discord.interactions import message_kwargs
from bot.platforms.discord.render import DiscordMessage, clip, render_reply
from bot.schedule.delivery import DM_KINDS, DeliveryKind, PermanentDeliveryError, Sent, TransientDeliveryError
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

CLOSED_DMS = (
    "Discord would not deliver the reminder: the member's direct messages from this server are closed "
    "(Discord error 50007)."
)


def message_nonce(nonce: str, index: int) -> str:
    """A per-message nonce Discord accepts (<= 25 chars): the same (schedule, fire time, part) gives the same nonce,
    so `enforce_nonce` drops a repeated send of the same part."""
    return hashlib.sha256(f"{nonce}#{index}".encode()).hexdigest()[:NONCE]


def _target_id(target: str) -> int:
    try:
        value = int(target)
    except ValueError:
        raise PermanentDeliveryError(f"{target!r} is not a Discord id.") from None
    if value <= 0:
        raise PermanentDeliveryError(f"{target!r} is not a Discord id.")
    return value


def translate(error: Exception, *, kind: DeliveryKind) -> Exception:
    """discord.py's and aiohttp's failures as the scheduler's two kinds."""
    if isinstance(error, discord.RateLimited):
        return TransientDeliveryError("Discord rate limit", retry_after=error.retry_after)
    if isinstance(error, discord.HTTPException):
        status, code = error.status, error.code
        if status == 403 and code == CANNOT_DM:
            return PermanentDeliveryError(CLOSED_DMS)
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
            return TransientDeliveryError(f"Discord answered {status}", retry_after=retry)
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


class DiscordSender:
    """Delivers a `Reply` to a member (DM) or a channel. DM channel ids are cached: one `POST /users/@me/channels`
    per member per process."""

    platform = "discord"

    def __init__(self, client: discord.Client) -> None:
        self.client = client
        self._dm_channels: dict[int, int] = {}

    async def send(self, target: str, reply: Reply, *, kind: DeliveryKind, nonce: str) -> Sent:
        target_id = _target_id(target)
        try:
            if kind in DM_KINDS:
                return await self._send_dm(target_id, reply, nonce)
            return await self._send_channel(target_id, reply, nonce)
        except (PermanentDeliveryError, TransientDeliveryError):
            raise
        except Exception as exc:
            translated = translate(exc, kind=kind)
            if translated is exc:
                raise
            raise translated from exc

    async def dm_channel(self, user_id: int) -> int:
        if user_id not in self._dm_channels:
            data = await self.client.http.start_private_message(user_id)
            self._dm_channels[user_id] = int(data["id"])
        return self._dm_channels[user_id]

    async def _send_dm(self, user_id: int, reply: Reply, nonce: str) -> Sent:
        channel_id = await self.dm_channel(user_id)
        messages = [m for r in (reply, *reply.followups) for m in render_reply(r)]
        try:
            first = await self._post(channel_id, messages[0], message_nonce(nonce, 0))
        except discord.NotFound:
            # A cached DM channel can vanish (e.g. the bot was re-created): open it afresh once.
            self._dm_channels.pop(user_id, None)
            channel_id = await self.dm_channel(user_id)
            first = await self._post(channel_id, messages[0], message_nonce(nonce, 0))
        for index, message in enumerate(messages[1:], start=1):
            await self._post(channel_id, message, message_nonce(nonce, index))
        return Sent(message_id=str(first.id))

    async def _send_channel(self, channel_id: int, reply: Reply, nonce: str) -> Sent:
        messages = render_reply(reply)
        first = await self._post(channel_id, messages[0], message_nonce(nonce, 0))
        for index, message in enumerate(messages[1:], start=1):
            await self._post(channel_id, message, message_nonce(nonce, index))
        index = len(messages)
        if reply.followups:
            # The study prompts go in a thread on the post, so the channel shows one message per day.
            thread_id = await self._thread(channel_id, first.id, reply)
            for followup in reply.followups:
                for message in render_reply(followup):
                    await self._post(thread_id or channel_id, message, message_nonce(nonce, index),
                                     reference=None if thread_id else first)  # fmt: skip
                    index += 1
        return Sent(message_id=str(first.id))

    async def _thread(self, channel_id: int, message_id: int, reply: Reply) -> int | None:
        name = clip(reply.title or "Discussion", THREAD_NAME)
        try:
            data = await self.client.http.start_thread_with_message(
                channel_id, message_id, name=name, auto_archive_duration=THREAD_ARCHIVE_MINUTES
            )
        except discord.Forbidden:
            log.info("no permission to start a thread in channel %s; replying to the post instead", channel_id)
            return None
        return int(data["id"])

    async def _post(
        self, channel_id: int, message: DiscordMessage, nonce: str, reference: discord.Message | None = None
    ) -> discord.Message:
        channel = self.client.get_partial_messageable(channel_id)
        kwargs: dict[str, Any] = message_kwargs(message)
        if reference is not None:
            kwargs["reference"] = reference
        return await channel.send(nonce=nonce, **kwargs)
