"""`re-bot discord sync` and `re-bot discord invite`: the operator's two Discord chores."""

from __future__ import annotations

import logging

import aiohttp
import discord

from bot.platforms.discord.api import client_id_from_token, invite_url, use_api_base
from bot.platforms.discord.client import ReBotClient
from bot.platforms.discord.sender import LAST_RATE_LIMIT
from handlers import Services


class DiscordSetupError(Exception):
    """An operator's mistake, printed as is."""


async def sync_commands(token: str, services: Services, api_url: str | None, guild_id: int | None) -> list[str]:
    """Publish the command set: to one guild (appears at once; for testing) or globally (every guild and DM).

    Discord rate limits command creation, so this is a deliberate step, never part of start-up."""
    use_api_base(api_url)
    # discord.py logs each 429 it waits out; the operator gets one line about the outcome instead.
    logging.getLogger("discord.http").setLevel(logging.ERROR)
    client = ReBotClient(services)
    async with client:
        try:
            await client.login(token)
        except discord.LoginFailure:
            raise DiscordSetupError("re-bot: Discord rejected DISCORD_TOKEN; copy the bot token again.") from None
        try:
            if guild_id is None:
                synced = await client.tree.sync()
            else:
                guild = discord.Object(id=guild_id)
                client.tree.copy_global_to(guild=guild)
                synced = await client.tree.sync(guild=guild)
        except discord.Forbidden as exc:
            where = f"server {guild_id}" if guild_id else "this application"
            raise DiscordSetupError(
                f"re-bot: Discord refused to register commands for {where} ({exc.status}: {exc.text}). Is the bot in "
                "that server, invited with the applications.commands scope? `re-bot discord invite` prints the link."
            ) from None
        except discord.RateLimited as exc:
            raise DiscordSetupError(rate_limited_sync(exc.retry_after)) from None
        except discord.HTTPException as exc:
            if exc.code == DAILY_COMMAND_CREATES:
                raise DiscordSetupError(rate_limited_sync(None, exc.code)) from None
            text = " ".join(str(exc.text or "").split())[:200]
            raise DiscordSetupError(f"re-bot: command sync failed (Discord {exc.status}, code {exc.code}: {text}); "
                                    "try again.") from None  # fmt: skip
        except (OSError, aiohttp.ClientError, TimeoutError) as exc:
            reason = f"cannot reach Discord ({type(exc).__name__})"
            raise DiscordSetupError(f"re-bot: command sync failed: {reason}; try again.") from None
    return [command.name for command in synced]


DAILY_COMMAND_CREATES = 30034  # "Max number of daily application command creates has been reached (200)"


def rate_limited_sync(retry_after: float | None, code: int | None = None) -> str:
    """One line for a rate-limited sync; Discord's daily command-create limit (30034) says when to come back."""
    seen = LAST_RATE_LIMIT.get()
    code = code or (seen.code if seen is not None else None)
    wait = f" for {retry_after / 3600:.1f} h" if retry_after else ""
    if code == DAILY_COMMAND_CREATES:
        return (f"re-bot: Discord's daily limit of 200 command creates is used up (code 30034){wait}; "
                "sync again tomorrow (or sync to one server with --guild for testing).")  # fmt: skip
    return f"re-bot: Discord rate limited the command sync{wait}; try again later."


def invite(token: str | None, client_id: int | None) -> str:
    """The invite URL for `--client-id`, else for the application id a bot token carries in its first part."""
    if client_id is None and token:
        client_id = client_id_from_token(token)
        if client_id is None:
            raise DiscordSetupError(
                "re-bot: DISCORD_TOKEN does not carry an application id (its first part, before the first dot, should "
                "be the bot's id in base64): copy the token again from the Developer Portal's Bot page, or pass "
                "--client-id ID (General Information > Application ID)."
            )
    if client_id is None:
        raise DiscordSetupError(
            "re-bot: set DISCORD_TOKEN or pass --client-id (the application id from the Developer Portal)."
        )
    return invite_url(client_id)
