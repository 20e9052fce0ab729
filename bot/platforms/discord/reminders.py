"""Reminders on Discord: Discord has no member time zone (the handler asks once and remembers it), and a member's
DMs may be closed to the bot. Setting a reminder therefore sends a first DM at once; when Discord refuses it
(code 50007), the member is told right there, privately, in the channel where they set it, and the reminder is
paused with that reason instead of failing at every fire time."""

from __future__ import annotations

import logging

import discord

from bot.ops.observed import off_loop
from bot.platforms.discord.interactions import NO_MENTIONS, services_of
from bot.platforms.discord.sender import CLOSED_DMS, DiscordSender
from bot.schedule.delivery import PermanentDeliveryError, PlatformFault, TransientDeliveryError
from handlers.store_api import REMINDER
from handlers.types import Reply, Section

log = logging.getLogger(__name__)

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
    except (TransientDeliveryError, PlatformFault):  # not the member's doing: the reminder's own delivery will tell
        log.info("could not check DMs of %s now; the reminder's own delivery will tell", user)
        return True
    except PermanentDeliveryError as exc:
        services = services_of(interaction)
        store = services.store
        if store is not None:
            await off_loop(store.pause_schedule, REMINDER, "discord", user, now=services.clock(), until=None,
                           reason=exc.reason)  # fmt: skip
        await interaction.followup.send(CLOSED_DMS_NOTICE, ephemeral=True, allowed_mentions=NO_MENTIONS)
        return False
    return True


async def paused_for_closed_dms(interaction: discord.Interaction) -> bool:
    """Is the member's reminder paused because Discord refused to DM them (at set-up or at a delivery)? Then
    resuming it checks DMs again, so a member who has not opened them yet is told at once, not at the next fire."""
    store = services_of(interaction).store
    if store is None:
        return False
    info = await off_loop(store.get_schedule, REMINDER, "discord", str(interaction.user.id))
    return info is not None and not info.active and info.pause_reason == CLOSED_DMS
