"""The Discord client and its runtime: gateway connection, command tree and persistent buttons."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import discord

from bot.ops import metrics
from bot.ops.inflight import InFlight
from bot.platforms.discord.api import use_api_base
from bot.platforms.discord.commands import ReBotTree, add_commands
from bot.platforms.discord.interactions import DIRECT_BUDGET, NO_MENTIONS, ActionButton
from bot.platforms.discord.sender import GATEWAY_CLOSED, DiscordSender, note_rate_limit
from bot.platforms.share_ledger import ledger_for
from bot.store.repo import SqlStore
from handlers import Services
from handlers.store_api import CHANNEL_POST

log = logging.getLogger(__name__)

# A rate limit longer than this is not slept through inside a request: the sender reports it (with retry_after) so
# the scheduler's budget decides, instead of a DM fan-out stalling on one route.
MAX_RATELIMIT_WAIT = 30.0


def intents() -> discord.Intents:
    """Only `guilds`: interactions (slash commands, buttons, autocomplete) reach the bot whatever its intents, and
    sending DMs needs none. `Intents.default()` would also stream every message, typing and reaction of every server
    the bot is in, and no handler reads them. discord.py itself needs `guilds` to know its guilds and channels."""
    return discord.Intents(guilds=True)


# How long `stop()` lets the gateway task end by itself after close() before cancelling it.
GATEWAY_STOP_SECONDS = 5.0

# Gateway close codes after which discord.py stops for good (no reconnect can help): authentication failed, invalid
# shard, sharding required, invalid API version, invalid intents, disallowed intents.
# https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway-gateway-close-event-codes
FATAL_CLOSE_CODES = {
    4004: "authentication failed: DISCORD_TOKEN is wrong or was reset",
    4010: "invalid shard",
    4011: "sharding required",
    4012: "invalid API version",
    4013: "invalid intents",
    4014: "disallowed intents: enable them for the bot in the Developer Portal, or stop requesting them",
}


def _rate_limit_trace() -> aiohttp.TraceConfig:
    """Counts the 429s discord.py is about to sleep through (it handles them itself) in the shared metrics, and
    notes each one's scope for the sender (discord.py's RateLimited does not carry it)."""

    async def on_request_end(session: Any, context: Any, params: aiohttp.TraceRequestEndParams) -> None:
        if params.response.status == 429:
            headers = params.response.headers
            await note_rate_limit(params.response)
            try:
                seconds = float(headers.get("X-RateLimit-Reset-After") or headers.get("Retry-After") or 0)
            except ValueError:
                seconds = 0.0
            metrics.observe_rate_limit("discord", seconds)

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_request_end)
    return trace


class ReBotClient(discord.AutoShardedClient):
    """Shards when Discord asks; every message it sends mentions nobody unless a caller says otherwise."""

    def __init__(self, services: Services, **options: Any) -> None:
        # The bot never joins voice: discord.py's "PyNaCl / davey is not installed, voice will NOT be supported"
        # warnings at every start would only send operators looking for a problem they do not have.
        discord.VoiceClient.warn_nacl = False
        if hasattr(discord.VoiceClient, "warn_dave"):
            discord.VoiceClient.warn_dave = False
        options.setdefault("intents", intents())
        options.setdefault("allowed_mentions", NO_MENTIONS)
        options.setdefault("max_ratelimit_timeout", MAX_RATELIMIT_WAIT)
        options.setdefault("http_trace", _rate_limit_trace())
        super().__init__(**options)
        self.services = services
        self.inflight = InFlight()  # interactions being answered; shutdown waits for them
        self.direct_budget = DIRECT_BUDGET  # seconds of work answered directly; slower work is deferred
        # One per client, so its DM channels and faults are shared; DM channel ids are stored when there is a store.
        store = services.store if isinstance(services.store, SqlStore) else None
        self.sender = DiscordSender(self, dm_store=store, clock=services.clock)
        self.shares = ledger_for(services.store, services.clock)  # what "Share in channel" posted; in the database
        self.tree = ReBotTree(self)
        self.command_names = add_commands(self.tree)

    async def setup_hook(self) -> None:
        # Buttons on messages sent before this process started find their handler through their custom_id.
        self.add_dynamic_items(ActionButton)

    # -- the bot's lifecycle in servers: nothing keeps posting to a server that removed the bot ---------------------

    async def _workspaces(self, what: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call `store.workspaces.<method>(*args, now=..., **kwargs)` off the event loop."""
        store = self.services.store
        if store is None:  # no database: nothing is scheduled
            return None
        try:
            call = getattr(store.workspaces, method)
            return await asyncio.to_thread(call, *args, now=self.services.clock(), **kwargs)
        except Exception:  # a gateway event handler must not die; the next start sees the server again
            log.exception("Discord: could not record that %s", what)
            return None

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Removed from a server (kicked, banned, or the server was deleted; an outage is `on_guild_unavailable`):
        its channel subscriptions pause with the reason. Members' DM reminders are not tied to a server."""
        log.warning("Discord: removed from server %s; pausing its channel subscriptions", guild.id)
        await self._workspaces(f"server {guild.id} removed the bot", "removed", "discord", str(guild.id),
                               kinds=(CHANNEL_POST,))  # fmt: skip

    async def on_guild_join(self, guild: discord.Guild) -> None:
        """Added (again) to a server: the subscriptions its removal paused resume."""
        log.warning("Discord: added to server %s", guild.id)
        await self._workspaces(f"server {guild.id} added the bot", "installed", "discord", str(guild.id),
                               name=guild.name)  # fmt: skip

    async def on_guild_available(self, guild: discord.Guild) -> None:
        # A server that re-added the bot while it was offline arrives in READY, not as a join.
        await self._workspaces(f"server {guild.id} is available", "installed", "discord", str(guild.id),
                               name=guild.name)  # fmt: skip

    async def on_ready(self) -> None:
        """Every shard is connected and `guilds` lists every server the bot is in (unavailable ones included): the
        servers that removed the bot while it was offline get what `on_guild_remove` would have done."""
        present = [str(guild.id) for guild in self.guilds]
        gone = await self._workspaces("servers removed the bot while it was offline", "reconcile", "discord",
                                      present, kinds=(CHANNEL_POST,))  # fmt: skip
        if gone:
            log.warning("Discord: removed from %d server(s) while offline; their subscriptions are paused", len(gone))

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        """A deleted channel's subscription pauses at once instead of at its next (failing) post."""
        await self._workspaces(f"channel {channel.id} was deleted", "channel_gone", "discord",
                               str(channel.id))  # fmt: skip


class DiscordPlatform:
    """`re-bot run`'s Discord part. Commands are not synced here (rate limited): `re-bot discord sync` does that."""

    name = "discord"

    def __init__(self, token: str, services: Services, api_url: str | None = None) -> None:
        use_api_base(api_url)
        self.client = ReBotClient(services)
        self.sender = self.client.sender
        self.services = services
        self._token = token
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.fatal: str | None = None  # why the gateway ended for good (then /healthz is 503)

    async def start(self) -> None:
        from bot.errors import StartupError

        try:
            await self.client.login(self._token)
        except discord.LoginFailure:
            await self.client.close()
            raise StartupError("re-bot: Discord rejected DISCORD_TOKEN; copy the bot token again.") from None
        except (aiohttp.ClientError, OSError, TimeoutError, discord.HTTPException) as exc:
            await self.client.close()  # its HTTP session too: no "Unclosed client session" after the message
            raise StartupError(
                f"re-bot: cannot reach Discord at {discord.http.Route.BASE} ({_reason(exc)}). Check the network "
                "(and DISCORD_API_URL if set), then start again."
            ) from None
        log.info("Discord: logged in as %s; connecting to the gateway", self.client.user)
        self._task = asyncio.create_task(self.client.connect(reconnect=True), name="discord-gateway")
        self._task.add_done_callback(self._gateway_ended)

    @property
    def ready(self) -> bool:
        """Connected: every shard has received READY, the client has not been closed, and the token works."""
        return self.client.is_ready() and not self.client.is_closed() and not self.sender.faults.active

    @property
    def problem(self) -> str | None:
        """Why Discord cannot send now, for /readyz (None when it can, or is still connecting)."""
        return self.sender.faults.problem()

    def _gateway_ended(self, task: asyncio.Task[None]) -> None:
        """The gateway task ends only when the client stops: by `stop()`, or because Discord closed the connection in
        a way discord.py does not reconnect from. The latter ends the platform visibly: one error saying why,
        /readyz and /healthz 503, no more Discord deliveries claimed or sent, exit status 1 at shutdown."""
        if self._stopping or task.cancelled():
            return
        error = task.exception()
        self.fatal = gateway_failure(error)
        log.error("Discord: the gateway connection ended for good: %s", self.fatal)
        self.sender.faults.trip(f"the gateway closed: {self.fatal}", now=self.services.clock(), fatal=True,
                                code=GATEWAY_CLOSED)  # fmt: skip

    async def stop(self) -> None:
        self._stopping = True
        # Answer the interactions already being handled; later ones are told to try again (see `working`).
        await self.client.inflight.drain()
        await self.client.close()
        if self._task is not None:
            # Shutdown must stay bounded even if discord.py's connect loop does not end promptly after close() (say,
            # a shard still connecting): give the gateway task a moment to end on its own, then cancel it.
            done, _ = await asyncio.wait({self._task}, timeout=GATEWAY_STOP_SECONDS)
            if not done:
                self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def gateway_failure(error: BaseException | None) -> str:
    """Why the gateway ended, in one line an operator can act on."""
    if isinstance(error, discord.PrivilegedIntentsRequired):
        return f"close code 4014, {FATAL_CLOSE_CODES[4014]}"
    code = getattr(error, "code", None)
    if isinstance(error, discord.ConnectionClosed) and code in FATAL_CLOSE_CODES:
        return f"close code {code}, {FATAL_CLOSE_CODES[code]}"
    if isinstance(error, discord.ConnectionClosed):
        return f"close code {code}"
    if error is None:
        return "the connection closed"
    return f"{type(error).__name__}: {error}"
