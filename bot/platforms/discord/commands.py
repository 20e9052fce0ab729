"""The contract's slash commands as Discord application commands with typed options.

Discord gives options, not a line of text; each command maps its options back to the text the platform-neutral
handler parses (`/re-remind daily time:09:00 zone:Europe/Berlin` -> "daily 09:00 Europe/Berlin"), so the grammar
lives in one place. A command is put on the tree only when its handler is registered, so syncing never publishes a
command that would answer "unknown command".
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Callable
from functools import lru_cache
from typing import Literal

import discord
from discord import app_commands
from rapidfuzz import fuzz, process

from bot.platforms.discord.interactions import invocation, run_command, services_of
from bot.platforms.discord.reminders import check_dms, paused_for_closed_dms
from content.schema import AREAS
from handlers import COMMANDS, Services
from handlers.prompts import KINDS, PROMPT_AREAS
from handlers.safe_text import quote
from handlers.subscriptions import ASK_SOMEONE, WHO_MAY_MANAGE
from handlers.syntax import valid_days

log = logging.getLogger(__name__)

Choice = app_commands.Choice
MAX_CHOICES = 25  # Discord's limit for autocomplete and fixed choices
CHOICE_TEXT = 100  # name and value of a choice
DESCRIPTION = 100  # command and option descriptions
COMMON_ZONES = (
    "UTC", "Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Madrid", "Europe/Warsaw", "Europe/Kyiv",
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Toronto",
    "America/Sao_Paulo", "Asia/Kolkata", "Asia/Singapore", "Asia/Shanghai", "Asia/Tokyo", "Asia/Seoul",
    "Asia/Dubai", "Australia/Sydney", "Pacific/Auckland", "Africa/Lagos", "Africa/Nairobi",
)  # fmt: skip


def _clip(text: str, limit: int = CHOICE_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _dedupe(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))


# -- autocomplete ------------------------------------------------------------------------------------------------


def faq_choices(services: Services, current: str) -> list[Choice[str]]:
    """Topics for what the member has typed so far: id, alias and title hits first, then the topic matcher's ranking
    of the free text; while the matcher is unsure, the text itself is offered as a question to ask as typed."""
    faqs = services.content.faqs
    text = current.strip()
    if not text:
        return [Choice(name=_clip(f"{e.title} ({e.id})"), value=e.id) for e in faqs.values()][:MAX_CHOICES]
    low = text.lower()
    direct = [
        e.id
        for e in faqs.values()
        if e.id.startswith(low) or any(a.startswith(low) for a in e.aliases) or low in e.title.lower()
    ]
    match = services.matcher.match(text)
    ranked = _dedupe([*([match.topic] if match.topic else []), *direct, *(t for t, s in match.ranked if s > 0)])
    choices = [Choice(name=_clip(f"{faqs[t].title} ({t})"), value=t) for t in ranked if t in faqs]
    if text.lower() not in faqs and not match.confident:
        choices.insert(1 if direct else 0, Choice(name=_clip(f"Ask: {text}"), value=text[:CHOICE_TEXT]))
    return choices[:MAX_CHOICES]


def paper_choices(services: Services, current: str) -> list[Choice[str]]:
    papers = services.content.papers
    low = current.strip().lower()
    if not low:
        return [Choice(name=_clip(p.title), value=p.id) for p in papers][:MAX_CHOICES]
    direct = [p.id for p in papers if p.id.startswith(low) or low in p.title.lower()]
    titles = {p.id: f"{p.id} {p.title}" for p in papers}
    fuzzy = [pid for _, _, pid in process.extract(low, titles, scorer=fuzz.WRatio, limit=MAX_CHOICES, score_cutoff=60)]
    by_id = {p.id: p for p in papers}
    return [Choice(name=_clip(by_id[i].title), value=i) for i in _dedupe(direct + fuzzy)][:MAX_CHOICES]


@lru_cache(maxsize=1)
def _zones() -> tuple[str, ...]:
    return tuple(sorted(z for z in zoneinfo.available_timezones() if "/" in z or z == "UTC"))


def zone_choices(current: str) -> list[Choice[str]]:
    """IANA zones for what the member typed: "berlin", "new york", "Asia/Ko" all find their zone."""
    low = current.strip().lower().replace(" ", "_")
    if not low:
        return [Choice(name=z, value=z) for z in COMMON_ZONES][:MAX_CHOICES]
    zones = _zones()
    city = [z for z in zones if z.lower().rsplit("/", 1)[-1].startswith(low)]
    prefix = [z for z in zones if z.lower().startswith(low)]
    inside = [z for z in zones if low in z.lower()]
    found = _dedupe(city + prefix + inside)
    if not found:
        found = [z for _, _, z in [*process.extract(low, {z: z.lower() for z in zones}, limit=MAX_CHOICES)]]
    return [Choice(name=z, value=z) for z in found][:MAX_CHOICES]


async def _faq_autocomplete(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
    return faq_choices(services_of(interaction), current)


async def _paper_autocomplete(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
    return paper_choices(services_of(interaction), current)


async def _track_autocomplete(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
    low = current.strip().lower()
    tracks = services_of(interaction).content.tracks
    return [Choice(name=t.title[:100], value=t.id) for t in tracks if low in t.id or low in t.title.lower()][
        :MAX_CHOICES
    ]


async def _zone_autocomplete(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
    return zone_choices(current)


# -- command callbacks: options -> the handler's text ---------------------------------------------------------------


def _words(*parts: object) -> str:
    return " ".join(str(p).strip() for p in parts if p not in (None, "", False)).strip()


@app_commands.describe(topic="A topic id, or your question in your own words")
async def re_faq(interaction: discord.Interaction, topic: str | None = None) -> None:
    await run_command(interaction, "re-faq", topic or "")


@app_commands.describe(
    area="Today's paper from one area", paper="A paper by name", next="The paper after today's in the rotation"
)
@app_commands.choices(area=[Choice(name=a, value=a) for a in AREAS][:MAX_CHOICES])
async def re_paper(
    interaction: discord.Interaction, area: str | None = None, paper: str | None = None, next: bool = False
) -> None:
    await run_command(interaction, "re-paper", paper or area or ("next" if next else ""))


@app_commands.describe(kind="What sort of task", area="A topic area", next="The prompt after today's")
@app_commands.choices(
    kind=[Choice(name=k, value=k) for k in KINDS][:MAX_CHOICES],
    area=[Choice(name=a, value=a) for a in PROMPT_AREAS][:MAX_CHOICES],
)
async def re_prompt(
    interaction: discord.Interaction, kind: str | None = None, area: str | None = None, next: bool = False
) -> None:
    await run_command(interaction, "re-prompt", kind or area or ("next" if next else ""))


@app_commands.describe(command="One command to explain")
async def re_help(interaction: discord.Interaction, command: str | None = None) -> None:
    await run_command(interaction, "re-help", command or "")


async def _help_autocomplete(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
    low = current.strip().lstrip("/").lower()
    return [Choice(name=f"/{n}", value=n) for n in COMMANDS if low in n][:MAX_CHOICES]


# /re-remind sub-commands
TIME = "Local time, e.g. 09:00, 18:30 or 9am"
ZONE = "Your IANA time zone, e.g. Europe/Berlin (asked once, then remembered)"


async def _set_reminder(interaction: discord.Interaction, text: str) -> None:
    reply = await run_command(interaction, "re-remind", text)
    if reply is not None and not reply.error:
        await check_dms(interaction)


@app_commands.describe(time=TIME, zone=ZONE)
async def remind_daily(interaction: discord.Interaction, time: str, zone: str | None = None) -> None:
    await _set_reminder(interaction, _words("daily", time, zone))


@app_commands.describe(time=TIME, zone=ZONE)
async def remind_weekdays(interaction: discord.Interaction, time: str, zone: str | None = None) -> None:
    await _set_reminder(interaction, _words("weekdays", time, zone))


@app_commands.describe(time=TIME, zone=ZONE)
async def remind_weekends(interaction: discord.Interaction, time: str, zone: str | None = None) -> None:
    await _set_reminder(interaction, _words("weekends", time, zone))


DAYS = "Which days: mon,wed,fri · mon-fri · weekends · tuesday"


@app_commands.describe(days=DAYS, time=TIME, zone=ZONE)
async def remind_days(interaction: discord.Interaction, days: str, time: str, zone: str | None = None) -> None:
    if await _bad_days(interaction, days):
        return
    await _set_reminder(interaction, _words(days, time, zone))


DAY_CHOICES = ("daily", "weekdays", "weekends", "mon,wed,fri", "tue,thu", "mon-fri", "sat,sun")


def days_choices(current: str) -> list[Choice[str]]:
    """Day sets to pick from; what the member typed comes first when the schedule grammar reads it as days."""
    low = current.strip().lower()
    typed = [low[:CHOICE_TEXT]] if low and valid_days(low) and low not in DAY_CHOICES else []
    return [Choice(name=d, value=d) for d in [*typed, *(d for d in DAY_CHOICES if d.startswith(low))]][:MAX_CHOICES]


async def _days_autocomplete(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
    return days_choices(current)


async def _bad_days(interaction: discord.Interaction, days: str | None) -> bool:
    """Days the schedule grammar does not read: the member is told at once (True), privately."""
    if days is None or valid_days(days):
        return False
    await interaction.response.send_message(
        f"“{quote(days, 40)}” is not a set of days. Use e.g. `mon,wed,fri`, `mon-fri`, `weekends` or `tuesday`.",
        ephemeral=True,
        allowed_mentions=discord.AllowedMentions.none(),
    )
    return True


async def remind_list(interaction: discord.Interaction) -> None:
    await run_command(interaction, "re-remind", "list")


async def remind_off(interaction: discord.Interaction) -> None:
    await run_command(interaction, "re-remind", "off")


@app_commands.describe(days="For how many days (leave empty to pause until you resume)")
async def remind_pause(interaction: discord.Interaction, days: app_commands.Range[int, 1, 365] | None = None) -> None:
    await run_command(interaction, "re-remind", _words("pause", f"{days} days" if days else None))


async def remind_resume(interaction: discord.Interaction) -> None:
    closed = await paused_for_closed_dms(interaction)
    reply = await run_command(interaction, "re-remind", "resume")
    if closed and reply is not None and not reply.error:
        await check_dms(interaction)


@app_commands.describe(zone="Your IANA time zone, e.g. Europe/Berlin; your reminder moves to it")
async def remind_zone(interaction: discord.Interaction, zone: str) -> None:
    await run_command(interaction, "re-remind", _words("zone", zone))


@app_commands.describe(duration="How long to put off the next reminder")
@app_commands.choices(duration=[Choice(name=d, value=d) for d in ("30m", "1h", "2h", "4h")])
async def remind_snooze(interaction: discord.Interaction, duration: str | None = None) -> None:
    await run_command(interaction, "re-remind", _words("snooze", duration))


def is_channel_manager(interaction: discord.Interaction) -> bool:
    """The runtime half of /re-subscribe's restriction (default_permissions is the server-side half, which server
    admins can override): the same rule the handler receives as `Invocation.can_manage_channel`."""
    return invocation(interaction, "").can_manage_channel


@app_commands.describe(
    what="What to post", time=TIME, zone="The channel's IANA time zone, e.g. Europe/Berlin", days=DAYS
)
async def re_subscribe(
    interaction: discord.Interaction,
    what: Literal["papers"] = "papers",
    time: str | None = None,
    zone: str | None = None,
    days: str | None = None,
) -> None:
    if await _bad_days(interaction, days):
        return
    # With no time: the channel's current schedule.
    text = _words(what, time, zone, days) if time else ""
    await run_command(interaction, "re-subscribe", text)


async def re_unsubscribe(interaction: discord.Interaction) -> None:
    await run_command(interaction, "re-unsubscribe", "")


async def re_progress(interaction: discord.Interaction) -> None:
    await run_command(interaction, "re-progress", "")


@app_commands.describe(track="A study track; leave empty to list them")
async def re_track(interaction: discord.Interaction, track: str | None = None) -> None:
    await run_command(interaction, "re-track", track or "")


@app_commands.describe(
    action="What to do (leave empty to rate the cards due now)",
    value="For on: your IANA zone; for quiet: e.g. 23:00-07:30; for forget: the card id from list",
)
@app_commands.choices(
    action=[
        Choice(name="cards due now", value="now"),
        Choice(name="list every card", value="list"),
        Choice(name="review DMs on", value="on"),
        Choice(name="review DMs off", value="off"),
        Choice(name="quiet hours", value="quiet"),
        Choice(name="forget a card", value="forget"),
        Choice(name="status", value="status"),
    ]
)
async def re_review(interaction: discord.Interaction, action: str | None = None, value: str | None = None) -> None:
    await run_command(interaction, "re-review", _words(action, value))


@app_commands.describe(period="How far back, e.g. 7d, 30d or 12w (default 30d)")
async def admin_report(interaction: discord.Interaction, period: str | None = None) -> None:
    await run_command(interaction, "re-admin", _words("report", period))


@app_commands.describe(zone="The IANA zone for members who have not given theirs (e.g. Europe/Berlin), or off")
async def admin_zone(interaction: discord.Interaction, zone: str | None = None) -> None:
    await run_command(interaction, "re-admin", _words("zone", zone))


@app_commands.describe(
    channel="The channel to post the paper of the day in",
    time=TIME,
    zone="The channel's IANA time zone, e.g. Europe/Berlin",
    days="Which days",
    off="Stop that channel's posts",
)
@app_commands.choices(days=[Choice(name="every day", value="daily"), Choice(name="weekdays only", value="weekdays")])
async def admin_channel(
    interaction: discord.Interaction,
    channel: discord.TextChannel,
    time: str | None = None,
    zone: str | None = None,
    days: str | None = None,
    off: bool = False,
) -> None:
    schedule = _words("papers", time, zone, "weekdays" if days == "weekdays" else None) if time else ""
    phrase = "off" if off else schedule
    await run_command(interaction, "re-admin", _words("channel", f"<#{channel.id}>", phrase))


def _admin_group() -> app_commands.Group:
    """`/re-admin report|zone|channel`: shown by default only to members who can manage the server; the handler
    checks too (one rule for every platform)."""
    group = app_commands.Group(
        name="re-admin",
        description=_description("re-admin"),
        default_permissions=discord.Permissions(manage_guild=True),
        guild_only=True,
    )
    report = app_commands.Command(
        name="report",
        description="What members asked the FAQ, what helped, what found nothing",
        callback=admin_report,  # type: ignore[arg-type]
        parent=group,
    )
    group.add_command(report)
    subs = {
        "zone": (admin_zone, "The time zone for members who have not given theirs"),
        "channel": (admin_channel, "Post the paper of the day in another channel"),
    }
    _add_subcommands(group, subs)
    return group


# -- the tree ---------------------------------------------------------------------------------------------------------

ADMIN_COMMANDS = frozenset({"re-subscribe", "re-unsubscribe"})
DEFAULT_DESCRIPTIONS = {
    "re-remind": "Personal study reminders by DM: daily or on weekdays, at your time.",
    "re-subscribe": "Post a paper of the day in this channel at a set time (channel managers).",
    "re-unsubscribe": "Stop this channel's paper posts (channel managers).",
    "re-progress": "Your streak, and the papers and prompts you have done.",
}


def _description(name: str) -> str:
    spec = COMMANDS.get(name)
    text = spec.summary if spec else DEFAULT_DESCRIPTIONS.get(name, name)
    return text if len(text) <= DESCRIPTION else text[: DESCRIPTION - 1].rstrip() + "…"


def _command(name: str, callback: Callable[..., object]) -> app_commands.Command:
    return app_commands.Command(name=name, description=_description(name), callback=callback)  # type: ignore[arg-type]


def _add_subcommands(group: app_commands.Group, subs: dict[str, tuple[Callable[..., object], str]]) -> None:
    """Each sub-command into `group`: zone suggestions wherever it takes a zone, day suggestions for `days`."""
    for sub, (callback, description) in subs.items():
        cmd = app_commands.Command(name=sub, description=description, callback=callback, parent=group)  # type: ignore[arg-type]
        if "zone" in cmd._params:
            cmd.autocomplete("zone")(_zone_autocomplete)
        if sub == "days":
            cmd.autocomplete("days")(_days_autocomplete)
        group.add_command(cmd)


def _remind_group() -> app_commands.Group:
    group = app_commands.Group(name="re-remind", description=_description("re-remind"))
    subs = {
        "daily": (remind_daily, "A reminder every day at your local time"),
        "weekdays": (remind_weekdays, "A reminder Monday to Friday at your local time"),
        "weekends": (remind_weekends, "A reminder on Saturday and Sunday at your local time"),
        "days": (remind_days, "A reminder on the days you pick (mon,wed,fri or mon-fri) at your local time"),
        "list": (remind_list, "Your reminders"),
        "off": (remind_off, "Stop your reminders"),
        "pause": (remind_pause, "Pause your reminders"),
        "resume": (remind_resume, "Resume paused reminders"),
        "snooze": (remind_snooze, "Put off the next reminder"),
        "zone": (remind_zone, "Save your time zone (reminders follow it)"),
    }
    _add_subcommands(group, subs)
    return group


def _build(name: str) -> app_commands.Command | app_commands.Group:
    if name == "re-remind":
        return _remind_group()
    if name == "re-admin":
        return _admin_group()
    callbacks = {
        "re-faq": re_faq,
        "re-paper": re_paper,
        "re-prompt": re_prompt,
        "re-help": re_help,
        "re-subscribe": re_subscribe,
        "re-unsubscribe": re_unsubscribe,
        "re-progress": re_progress,
        "re-track": re_track,
        "re-review": re_review,
    }
    cmd = _command(name, callbacks[name])
    if name == "re-faq":
        cmd.autocomplete("topic")(_faq_autocomplete)
    elif name == "re-paper":
        cmd.autocomplete("paper")(_paper_autocomplete)
    elif name == "re-help":
        cmd.autocomplete("command")(_help_autocomplete)
    elif name == "re-subscribe":
        cmd.autocomplete("zone")(_zone_autocomplete)
        cmd.autocomplete("days")(_days_autocomplete)
    elif name == "re-track":
        cmd.autocomplete("track")(_track_autocomplete)
    if name in ADMIN_COMMANDS or (name in COMMANDS and COMMANDS[name].admin):
        cmd.default_permissions = discord.Permissions(manage_channels=True)
        cmd.guild_only = True
        cmd.allowed_contexts = app_commands.AppCommandContext(guild=True)
        cmd.add_check(is_channel_manager)
    return cmd


DISCORD_COMMANDS = (
    "re-faq", "re-paper", "re-prompt", "re-remind", "re-subscribe", "re-unsubscribe", "re-progress", "re-track",
    "re-review", "re-help", "re-admin",
)  # fmt: skip


def add_commands(tree: app_commands.CommandTree) -> list[str]:
    """Put every contract command whose handler is registered on the tree; returns their names."""
    added = []
    for name in DISCORD_COMMANDS:
        if name in COMMANDS:
            tree.add_command(_build(name))
            added.append(name)
    return added


class ReBotTree(app_commands.CommandTree):
    """The real discord.py tree; a failed check or an unexpected error becomes a private, helpful answer."""

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        if isinstance(error, app_commands.CheckFailure):
            message = f"{WHO_MAY_MANAGE['discord']} {ASK_SOMEONE['discord']}"
        else:
            log.error("Discord command %s failed", interaction.command and interaction.command.qualified_name,
                      exc_info=error)  # fmt: skip
            message = "Sorry, something went wrong on my side. It has been logged; please try again."
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())
        else:
            await interaction.response.send_message(
                message, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
