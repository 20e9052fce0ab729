"""Answering Discord interactions: an `Invocation` from an interaction, the `Reply` sent back, and the buttons.

Buttons are `DynamicItem`s whose custom_id carries the action and its value ("re:paper.another:transformer"), so a
button works on any message, whenever it was sent, after any number of restarts: nothing is kept in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable
from dataclasses import replace
from typing import Any, Protocol

import discord

from bot.ops.inflight import InFlight, ShuttingDown
from bot.ops.observed import act, answer, finished_within
from bot.platforms.discord.render import BUTTON_LABEL, CUSTOM_ID_PREFIX, DiscordMessage, button_id, render_all
from bot.platforms.share_ledger import ShareLedger
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
_STYLE_NAMES = {style: name for name, style in _STYLES.items()}  # a button read back from a message keeps its look


RESTARTING = "re-bot is restarting; please try again in a minute."
# Discord wants every interaction answered or deferred within 3 s. Work done within this budget is answered directly;
# slower work is deferred at this point ("re-bot is thinking...") and answered by editing that response.
DIRECT_BUDGET = 0.5


class ServingClient(Protocol):
    """What the interaction code needs of the client (`client.ReBotClient`), named here so neither imports the other."""

    services: Services
    shares: ShareLedger  # what "Share in channel" already posted


def services_of(interaction: discord.Interaction) -> Services:
    client: ServingClient = interaction.client  # type: ignore[assignment]
    return client.services


def invocation(interaction: discord.Interaction, command: str, text: str = "") -> Invocation:
    """The member's command as the handlers see it. Discord tells us no time zone; the handlers ask for one."""
    in_guild = interaction.guild_id is not None
    perms = interaction.permissions
    missing = missing_post_permissions(interaction)
    return Invocation(
        command=command,
        text=text,
        user=str(interaction.user.id),
        channel=str(interaction.channel_id or ""),
        platform="discord",
        tz=None,
        can_manage_channel=in_guild and (perms.administrator or perms.manage_channels or perms.manage_guild),
        cannot_post=cannot_post_notice(missing) if missing else None,
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


def direct_budget(interaction: discord.Interaction) -> float:
    return getattr(interaction.client, "direct_budget", DIRECT_BUDGET)


async def respond_in_time(interaction: discord.Interaction, work: Awaitable[Reply], *, edit: bool = False) -> Reply:
    """Answer with `work`'s reply directly when it is ready within the budget; otherwise defer at once and deliver it
    when it is ready. Returns the reply."""
    task = asyncio.ensure_future(work)
    if await finished_within(task, direct_budget(interaction)):
        reply = task.result()
        await respond(interaction, reply, edit=edit and reply.ephemeral)
        return reply
    if edit:
        await interaction.response.defer()  # DEFERRED_UPDATE_MESSAGE: the message the button is on is edited later
    else:
        await interaction.response.defer(ephemeral=True, thinking=True)
    reply = await task
    await respond_deferred(interaction, reply, edit=edit)
    return reply


async def respond_deferred(interaction: discord.Interaction, reply: Reply, *, edit: bool) -> None:
    """The late answer to a deferred interaction. The deferred response is private ("thinking" was shown to the
    member alone), so a public reply replaces it with a new public message."""
    messages = render_all(with_share_button(reply))
    first, rest = message_kwargs(messages[0]), messages[1:]
    if edit or reply.ephemeral:
        first.setdefault("content", None)
        first.setdefault("view", None)
        await interaction.edit_original_response(**first)
    else:
        await interaction.delete_original_response()
        await interaction.followup.send(**first, ephemeral=False)
    for message in rest:
        await interaction.followup.send(**message_kwargs(message), ephemeral=reply.ephemeral)


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
        return await respond_in_time(
            interaction, answer(invocation(interaction, command, text), services_of(interaction))
        )


def _command_of(action: str) -> str:
    return f"re-{action.split('.', 1)[0]}"


async def on_button(interaction: discord.Interaction, action: str, value: str) -> None:
    async with working(interaction) as accepted:
        if not accepted:
            return
        if action == SHARE.action or action.endswith(".share"):
            await share_once(interaction, action, value)
            return
        work = act(action, value, invocation(interaction, _command_of(action)), services_of(interaction))
        source = interaction.message
        # A private answer is replaced in place ("Another paper" turns the page); a button on a public post or a DM
        # answers the member who pressed it, leaving the post as everyone else sees it.
        # A review card's rating answers apart: the message holds other cards still to rate.
        edit = source is not None and source.flags.ephemeral and not action.startswith("review.")
        await respond_in_time(interaction, work, edit=edit)


# What a channel post needs: the bot sees the channel, may send there, and its embeds show.
POST_PERMISSIONS = (
    ("view_channel", "View Channel"),
    ("send_messages", "Send Messages"),
    ("embed_links", "Embed Links"),
)


def missing_post_permissions(interaction: discord.Interaction) -> list[str]:
    """The permissions the bot lacks in the interaction's channel to post there (Discord sends them with every
    interaction as `app_permissions`); empty outside servers."""
    if interaction.guild_id is None:
        return []
    perms = interaction.app_permissions
    return [label for name, label in POST_PERMISSIONS if not getattr(perms, name)]


def cannot_post_notice(missing: list[str]) -> str:
    names = " and ".join(f"**{m}**" for m in missing)
    plural = "s" if len(missing) > 1 else ""
    return (
        f"I can't post in this channel: I'm missing the {names} permission{plural} here. A server manager can grant "
        f"{'them' if plural else 'it'} to re-bot in the channel's settings (Edit Channel → Permissions), then run the "
        "command again."
    )


def _ledger(interaction: discord.Interaction) -> ShareLedger:
    client: ServingClient = interaction.client  # type: ignore[assignment]
    return client.shares


async def _claim_share(interaction: discord.Interaction, ledger: ShareLedger, key: tuple[object, ...]) -> bool:
    """Claim `key` for this press, answering the interaction in time: True when this press posts (the interaction is
    then deferred); False when the answer was shared before (the member was told so)."""
    claim = asyncio.ensure_future(ledger.begin(key))
    deferred = not await finished_within(claim, direct_budget(interaction))
    if deferred:  # the ledger's database is slow: defer now, within Discord's 3 s
        await interaction.response.defer()
    earlier = await claim
    if earlier is None:
        if not deferred:
            await interaction.response.defer()  # the member's private answer is edited once the post is out
        return True
    where = f" {earlier.link}" if earlier.link else ""
    notice = f"You already shared this in the channel.{where}"
    if deferred:
        await interaction.followup.send(notice, ephemeral=True, allowed_mentions=NO_MENTIONS)
    else:
        await interaction.response.send_message(notice, ephemeral=True, allowed_mentions=NO_MENTIONS)
    return False


async def share_once(interaction: discord.Interaction, action: str, value: str) -> None:
    """ "Share in channel": the first press posts the answer publicly (crediting the member) and updates their private
    answer to say so, with a link to the post; later presses on the same answer say it is already shared."""
    source = interaction.message
    key = ("discord", source.id if source is not None else interaction.id, action, value)
    ledger = _ledger(interaction)
    if not await _claim_share(interaction, ledger, key):
        return

    async def deliver(reply: Reply) -> Reply:
        public = _shared_copy(interaction) if action == SHARE.action else message_kwargs(render_all(reply)[0])
        if public is None:
            await ledger.abandon(key)
            await interaction.followup.send("There is nothing to share here any more. Run the command again.",
                                            ephemeral=True, allowed_mentions=NO_MENTIONS)  # fmt: skip
            return replace(reply, error=True)
        try:
            posted = await interaction.followup.send(**public, ephemeral=False, wait=True)
        except discord.HTTPException as exc:
            await ledger.abandon(key)
            log.warning("Share in channel %s could not be posted (HTTP %s, code %s); the member was told",
                        interaction.channel_id, exc.status, exc.code)  # fmt: skip
            missing = missing_post_permissions(interaction)
            notice = (
                cannot_post_notice(missing)
                if missing
                else (f"I couldn't post this in the channel (Discord answered {exc.status}). Please press Share again.")
            )
            await interaction.followup.send(notice, ephemeral=True, allowed_mentions=NO_MENTIONS)
            return replace(reply, error=True)
        await ledger.finish(key, posted.jump_url)
        if source is not None and source.flags.ephemeral:
            await _mark_shared(interaction, posted.jump_url)
        return reply

    if action == SHARE.action:
        await deliver(Reply(command="share"))
    else:
        await act(action, value, invocation(interaction, _command_of(action)), services_of(interaction),
                  deliver=deliver)  # fmt: skip


async def _mark_shared(interaction: discord.Interaction, link: str) -> None:
    """The private answer, without its Share button, saying where the post is."""
    source = interaction.message
    assert source is not None
    buttons = tuple(b for b in _buttons_of(source) if b.action != SHARE.action and not b.action.endswith(".share"))
    try:
        await interaction.edit_original_response(
            content=f"✓ You shared this in the channel: {link}", view=make_view(buttons), allowed_mentions=NO_MENTIONS
        )
    except discord.HTTPException as exc:  # the post is out; the private copy just keeps its button
        log.info("could not update the shared answer (HTTP %s)", exc.status)


def _buttons_of(source: discord.Message) -> list[Button]:
    found = []
    for row in source.components:
        for component in getattr(row, "children", ()):
            custom_id = getattr(component, "custom_id", None) or ""
            match = ActionButton.__discord_ui_compiled_template__.fullmatch(custom_id)
            if match:
                style = _STYLE_NAMES.get(getattr(component, "style", None), "default")
                found.append(Button(component.label or match["action"], match["action"], match["value"], style))
    return found


def _shared_copy(interaction: discord.Interaction) -> dict[str, Any] | None:
    """The private answer the generic Share button sat on, as a public message crediting the member."""
    source = interaction.message
    if source is None or not source.embeds:
        return None
    buttons = tuple(b for b in _buttons_of(source) if b.action != SHARE.action and not b.action.endswith(".share"))
    kwargs: dict[str, Any] = {
        "content": f"Shared by {interaction.user.mention}",
        "embeds": source.embeds,
        "allowed_mentions": NO_MENTIONS,
    }
    view = make_view(buttons)
    if view is not None:
        kwargs["view"] = view
    return kwargs
