"""`re-bot discord sync` and `re-bot discord invite`: the operator's two Discord chores."""

from __future__ import annotations

import discord

from bot.platforms.discord.api import client_id_from_token, invite_url, use_api_base
from bot.platforms.discord.client import ReBotClient
from handlers import Services


class DiscordSetupError(Exception):
    """An operator's mistake, printed as is."""


async def sync_commands(token: str, services: Services, api_url: str | None, guild_id: int | None) -> list[str]:
    """Publish the command set: to one guild (appears at once; for testing) or globally (every guild and DM).

    Discord rate limits command creation, so this is a deliberate step, never part of start-up."""
    use_api_base(api_url)
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
        except discord.HTTPException as exc:
            raise DiscordSetupError(f"re-bot: command sync failed ({exc.status}: {exc.text}); try again.") from None
    return [command.name for command in synced]


def invite(token: str | None, client_id: int | None) -> str:
    if client_id is None and token:
        client_id = client_id_from_token(token)
    if client_id is None:
        raise DiscordSetupError(
            "re-bot: set DISCORD_TOKEN or pass --client-id (the application id from the Developer Portal)."
        )
    return invite_url(client_id)
