"""Reminders on Discord: Discord has no member time zone (the handler asks once and remembers it), and a member's
DMs may be closed to the bot. Setting a reminder therefore sends a first DM at once; when Discord refuses it
(code 50007), the member is told right there, privately, in the channel where they set it, and the reminder is
paused with that reason instead of failing at every fire time."""

from __future__ import annotations

import logging

import discord

from bot.delivery import PermanentDeliveryError, TransientDeliveryError
from bot.discord_platform.interactions import NO_MENTIONS, services_of
from bot.discord_platform.sender import DiscordSender
from handlers.types import Reply, Section

log = logging.getLogger(__name__)

REMINDER_KIND = "reminder"  # the store's schedule kind for DM reminders
WELCOME = Reply(
    command="re-remind",
    title="Your study reminders arrive here",
    sections=(
        Section(text="I'll message you in this conversation at the time you set, with a step to study."),
        Section(text="`/re-remind list` shows your reminders; `/re-remind off` stops them."),
    ),
    ephemeral=False,
)
CLOSED_DMS_NOTICE = (
    "I can't send you direct messages: your DMs are closed to members of this server, so I paused the reminder. "
    "Allow them (server name → Privacy Settings → Direct Messages), then run `/re-remind resume`."
)


async def check_dms(interaction: discord.Interaction) -> bool:
    """After a reminder was set: can the member get DMs? False (with the member told, the reminder paused) if not."""
    sender: DiscordSender = interaction.client.sender  # type: ignore[attr-defined]
    user = str(interaction.user.id)
    try:
        await sender.send(user, WELCOME, kind="reminder", nonce=f"welcome:{interaction.id}")
    except TransientDeliveryError:
        log.info("could not check DMs of %s now; the reminder's own delivery will tell", user)
        return True
    except PermanentDeliveryError as exc:
        services = services_of(interaction)
        store = services.store
        if store is not None:
            store.pause_schedule(REMINDER_KIND, "discord", user, now=services.clock(), until=None, reason=exc.reason)
        await interaction.followup.send(CLOSED_DMS_NOTICE, ephemeral=True, allowed_mentions=NO_MENTIONS)
        return False
    return True
