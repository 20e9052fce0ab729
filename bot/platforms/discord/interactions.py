"""Answering Discord interactions: an `Invocation` from an interaction, the `Reply` sent back, and the buttons.

Buttons are `DynamicItem`s whose custom_id carries the action and its value ("re:paper.another:transformer"), so a
button works on any message, whenever it was sent, after any number of restarts: nothing is kept in memory.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any, Protocol

import discord

from bot.ops.inflight import InFlight, ShuttingDown
from bot.ops.observed import dispatch, run_action
from bot.platforms.discord.render import BUTTON_LABEL, CUSTOM_ID_PREFIX, DiscordMessage, button_id, render_all
from handlers import Invocation, Reply, Services
from handlers.types import Button

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
SHARE = Button("Share in channel", "share", "", "primary")
# Answers worth showing the channel; the rest (reminders, subscriptions, errors) are personal or administrative.
SHAREABLE = frozenset({"re-faq", "re-paper", "re-prompt", "re-progress"})
_STYLES = {
    "default": discord.ButtonStyle.secondary,
    "primary": discord.ButtonStyle.primary,
    "danger": discord.ButtonStyle.danger,
}


RESTARTING = "re-bot is restarting; please try again in a minute."


class ServingClient(Protocol):
    """What the interaction code needs of the client (`client.ReBotClient`), named here so neither imports the other."""

    services: Services


def services_of(interaction: discord.Interaction) -> Services:
    client: ServingClient = interaction.client  # type: ignore[assignment]
    return client.services


def invocation(interaction: discord.Interaction, command: str, text: str = "") -> Invocation:
    """The member's command as the handlers see it. Discord tells us no time zone; the handlers ask for one."""
    in_guild = interaction.guild_id is not None
    perms = interaction.permissions
    return Invocation(
        command=command,
        text=text,
        user=str(interaction.user.id),
        channel=str(interaction.channel_id or ""),
        platform="discord",
        tz=None,
        can_manage_channel=in_guild and (perms.administrator or perms.manage_channels or perms.manage_guild),
        workspace_admin=in_guild and (perms.administrator or perms.manage_guild),
        workspace=str(interaction.guild_id) if in_guild else None,
    )


def with_share_button(reply: Reply) -> Reply:
    """An ephemeral answer worth sharing gets a "Share in channel" button, unless its handler gave it one."""
    if (
        not reply.ephemeral
        or reply.error
        or reply.suggestions
        or reply.command not in SHAREABLE
        or any(b.action == SHARE.action or b.action.endswith(".share") for b in reply.buttons)
    ):
        return reply
    return replace(reply, buttons=(*reply.buttons, SHARE))


TEMPLATE = rf"{CUSTOM_ID_PREFIX}:(?P<action>[a-z][\w.-]*):(?P<value>.*)"


class ActionButton(discord.ui.DynamicItem[discord.ui.Button], template=TEMPLATE):
    """Every button the bot sends: pressing it runs the handler action named in its custom_id."""

    def __init__(self, button: Button, row: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=button.label[:BUTTON_LABEL],
                style=_STYLES.get(button.style, discord.ButtonStyle.secondary),
                custom_id=button_id(button),
            ),
            row=row,
        )
        self.button = button

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any, /
    ) -> ActionButton:
        label = getattr(item, "label", None) or match["action"]
        return cls(Button(label, match["action"], match["value"]))

    async def callback(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        await on_button(interaction, self.button.action, self.button.value)


def make_view(buttons: tuple[Button, ...], rows: tuple[int, ...] = ()) -> discord.ui.View | None:
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for i, button in enumerate(buttons):
        view.add_item(ActionButton(button, rows[i] if i < len(rows) else None))
    return view


def message_kwargs(message: DiscordMessage) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"embeds": list(message.embeds), "allowed_mentions": NO_MENTIONS}
    if message.content:
        kwargs["content"] = message.content
    view = make_view(message.buttons, message.rows)
    if view is not None:
        kwargs["view"] = view
    return kwargs


async def respond(interaction: discord.Interaction, reply: Reply, *, edit: bool = False) -> None:
    """Answer the interaction with the reply: edit the message the button was on, or send a new one (ephemeral when
    the reply is); messages beyond the first go as follow-ups."""
    messages = render_all(with_share_button(reply))
    first, rest = messages[0], messages[1:]
    kwargs = message_kwargs(first)
    if edit:
        kwargs.setdefault("content", None)
        kwargs.setdefault("view", None)
        await interaction.response.edit_message(**kwargs)
    else:
        await interaction.response.send_message(**kwargs, ephemeral=reply.ephemeral)
    for message in rest:
        await interaction.followup.send(**message_kwargs(message), ephemeral=reply.ephemeral)


@contextlib.asynccontextmanager
async def working(interaction: discord.Interaction) -> AsyncIterator[bool]:
    """Counts the interaction as in-flight work, so shutdown waits for its answer. Yields False once shutdown has
    begun: the member is told to try again (another replica, or this one after the restart, will answer)."""
    inflight: InFlight | None = getattr(interaction.client, "inflight", None)
    if inflight is None:
        yield True
        return
    try:
        async with inflight.track():
            yield True
    except ShuttingDown:
        await interaction.response.send_message(RESTARTING, ephemeral=True, allowed_mentions=NO_MENTIONS)
        yield False


async def run_command(interaction: discord.Interaction, command: str, text: str = "") -> Reply | None:
    """Run the command and answer with its reply, which is returned (None when shutdown turned it away)."""
    async with working(interaction) as accepted:
        if not accepted:
            return None
        reply = dispatch(invocation(interaction, command, text), services_of(interaction))
        await respond(interaction, reply)
        return reply


def _command_of(action: str) -> str:
    return f"re-{action.split('.', 1)[0]}"


async def on_button(interaction: discord.Interaction, action: str, value: str) -> None:
    async with working(interaction) as accepted:
        if not accepted:
            return
        if action == SHARE.action:
            await share_message(interaction)
            return
        reply = run_action(action, value, invocation(interaction, _command_of(action)), services_of(interaction))
        source = interaction.message
        # A private answer is replaced in place ("Another paper" turns the page); a button on a public post or a DM
        # answers the member who pressed it, leaving the post as everyone else sees it.
        # A review card's rating answers apart: the message holds other cards still to rate.
        edit = reply.ephemeral and source is not None and source.flags.ephemeral and not action.startswith("review.")
        await respond(interaction, reply, edit=edit)


async def share_message(interaction: discord.Interaction) -> None:
    """Post the private answer the button sat on to the channel, crediting the member who shared it."""
    source = interaction.message
    if source is None or not source.embeds:
        await interaction.response.send_message(
            "There is nothing to share here any more. Run the command again.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
        return
    buttons = []
    for row in source.components:
        for component in getattr(row, "children", ()):
            custom_id = getattr(component, "custom_id", None) or ""
            match = ActionButton.__discord_ui_compiled_template__.fullmatch(custom_id)
            if match and match["action"] != SHARE.action and not match["action"].endswith(".share"):
                buttons.append(Button(component.label or match["action"], match["action"], match["value"]))
    kwargs: dict[str, Any] = {
        "content": f"Shared by {interaction.user.mention}",
        "embeds": source.embeds,
        "allowed_mentions": NO_MENTIONS,
    }
    view = make_view(tuple(buttons))
    if view is not None:
        kwargs["view"] = view
    await interaction.response.send_message(**kwargs, ephemeral=False)
