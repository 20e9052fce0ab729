"""Discord's own syntax: custom days for /re-remind and /re-subscribe (read by the handlers' one schedule grammar), and
help, usage and hints that show Discord's options (`/re-faq topic:phd`), never Slack's text form. Interactions as
Discord sends them, through discord.py's real CommandTree, against the real handlers and store."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import discord
import pytest
from discord_support import (
    CHANNEL_ID,
    EPHEMERAL,
    MANAGE_CHANNELS,
    MEMBER_ID,
    autocomplete,
    callback_of,
    discord_form_problem,
    feed,
    slash,
)

from handlers import COMMANDS, Invocation, dispatch
from handlers.schedule import WEEKDAYS, WEEKENDS, Rule
from handlers.store_api import CHANNEL_POST, REMINDER
from handlers.syntax import DISCORD_USAGE, shown


async def ask(bot, fake, name: str, options: dict | None = None, **kwargs) -> dict:
    payload = slash(name, options, **kwargs)
    await feed(bot, payload)
    return callback_of(fake, payload)["data"]


def text(data: dict) -> str:
    embeds = "\n".join(f"{e.get('title', '')}\n{e.get('description', '')}" for e in data.get("embeds", []))
    return f"{data.get('content') or ''}\n{embeds}"


@pytest.mark.parametrize(
    ("sub", "options", "days"),
    [
        ("days", {"days": "mon,wed,fri", "time": "07:15"}, frozenset({0, 2, 4})),
        ("days", {"days": "mon-thu", "time": "07:15"}, frozenset({0, 1, 2, 3})),
        ("days", {"days": "tuesday", "time": "07:15"}, frozenset({1})),
        ("weekends", {"time": "07:15"}, WEEKENDS),
    ],
)
async def test_remind_on_the_days_a_member_picks(bot, fake_discord, discord_store, sub, options, days):
    data = await ask(bot, fake_discord, "re-remind", {**options, "zone": "Europe/Berlin"}, sub=sub)
    assert "Reminder set" in text(data)
    info = discord_store.api.get_schedule(REMINDER, "discord", str(MEMBER_ID))
    assert info.rule == Rule(7, 15, "Europe/Berlin", days)


async def test_subscribe_on_custom_days(bot, fake_discord, discord_store):
    options = {"time": "08:30", "zone": "UTC", "days": "mon,wed,fri"}
    data = await ask(bot, fake_discord, "re-subscribe", options, permissions=MANAGE_CHANNELS)
    assert "Subscribed" in text(data) and "Mon, Wed, Fri at 08:30 (UTC)" in text(data)
    info = discord_store.api.get_schedule(CHANNEL_POST, "discord", str(CHANNEL_ID))
    assert info.rule == Rule(8, 30, "UTC", frozenset({0, 2, 4}))


@pytest.mark.parametrize("command", ["re-remind", "re-subscribe"])
async def test_days_the_grammar_cannot_read_are_refused_at_once(bot, fake_discord, discord_store, command):
    options = {"days": "funday <@123>", "time": "08:30", "zone": "UTC"}
    kwargs = {"sub": "days"} if command == "re-remind" else {"permissions": MANAGE_CHANNELS}
    data = await ask(bot, fake_discord, command, options, **kwargs)
    assert data["flags"] & EPHEMERAL
    assert "is not a set of days" in data["content"] and "<@123>" not in data["content"]
    assert discord_store.api.get_schedule(REMINDER, "discord", str(MEMBER_ID)) is None
    assert discord_store.api.get_schedule(CHANNEL_POST, "discord", str(CHANNEL_ID)) is None


async def test_days_autocomplete_offers_day_sets(bot, fake_discord):
    payload = autocomplete("re-subscribe", {"days": "tue"}, focused="days", permissions=MANAGE_CHANNELS)
    await feed(bot, payload)
    values = [c["value"] for c in callback_of(fake_discord, payload)["data"]["choices"]]
    assert values[:2] == ["tue", "tue,thu"]


# -- help and hints in Discord's syntax -------------------------------------------------------------------------------


async def test_help_on_discord_shows_discord_syntax(bot, fake_discord):
    data = await ask(bot, fake_discord, "re-help", {"command": "re-remind"})
    shown_text = text(data)
    assert "/re-remind daily time:09:00 zone:Europe/Berlin" in shown_text
    assert "/re-remind pause days:3" in shown_text
    assert "days days:mon,wed,fri" in shown_text
    assert "pause 3 days" not in shown_text and "daily 09:00" not in shown_text
    everything = text(await ask(bot, fake_discord, "re-help"))
    assert "/re-faq topic:phd" in everything and "/re-help command:re-remind" in everything
    assert "members with Manage Channels" in everything


def test_help_on_slack_keeps_the_text_form(services):
    reply = dispatch(Invocation("re-help", "re-faq", platform="slack"), services)
    assert "/re-faq phd" in reply.sections[0].text
    assert "topic:" not in reply.sections[0].text


async def test_a_phrase_error_on_discord_suggests_the_discord_command(bot, fake_discord):
    data = await ask(bot, fake_discord, "re-remind", {"time": "9", "zone": "CET"}, sub="daily")
    assert re.search(r"Try `/re-remind daily time:09:00 zone:[A-Za-z_/]+`", text(data)), text(data)


def footer(data: dict) -> str:
    return "\n".join(e.get("footer", {}).get("text", "") for e in data.get("embeds", []))


@pytest.mark.parametrize(
    ("name", "options", "sub", "expected", "slack_form"),
    [
        ("re-progress", None, None, "Set a reminder with `/re-remind daily time:09:00`", "/re-remind daily 09:00"),
        ("re-remind", None, "snooze", "Set one with `/re-remind daily time:09:00`.", "/re-remind daily 09:00"),
        ("re-remind", None, "pause", "Set one with `/re-remind daily time:09:00`.", "/re-remind daily 09:00"),
        ("re-subscribe", None, None, "`/re-subscribe time:09:00 zone:UTC`", "/re-subscribe papers"),
        ("re-review", {"action": "forget"}, None, "`/re-review action:list` shows them", "/re-review list"),
        ("re-help", {"command": "re-admin"}, None, "`/re-admin zone zone:Europe/Berlin`", "/re-admin zone Europe"),
    ],
)
async def test_hints_in_replies_show_discords_syntax(bot, fake_discord, name, options, sub, expected, slack_form):
    data = await ask(bot, fake_discord, name, options, sub=sub, permissions=MANAGE_CHANNELS)
    shown_text = text(data)
    assert expected in shown_text
    assert slack_form not in shown_text


async def test_the_admins_default_zone_hint_shows_discords_syntax(bot, fake_discord):
    manager = discord.Permissions(manage_guild=True, manage_channels=True).value
    data = await ask(bot, fake_discord, "re-admin", sub="zone", permissions=manager)
    assert "Set it with `/re-admin zone zone:Europe/Berlin`" in text(data)


async def test_an_faq_answers_see_also_and_body_show_discords_syntax(bot, fake_discord):
    """Content writes commands in the text form too (`/re-faq portfolio` in an answer, its see-also line)."""
    data = await ask(bot, fake_discord, "re-faq", {"topic": "switch"})
    assert "`/re-faq topic:portfolio`" in text(data) and "`/re-faq portfolio`" not in text(data)
    assert "See also: /re-faq topic:" in footer(data) and re.search(r"/re-faq (?![a-z]+:)", footer(data)) is None


async def test_a_reminder_dm_on_discord_shows_discords_syntax(bot, fake_discord, ticker):
    """Built by the scheduler (no interaction): the Discord renderer writes its commands for Discord."""
    await ask(bot, fake_discord, "re-remind", {"time": "10:15", "zone": "Europe/Berlin"}, sub="daily")
    report = await ticker.tick(datetime(2026, 3, 10, 9, 16, tzinfo=UTC))
    assert [r.status for r in report.results] == ["sent"]
    [dm] = [r for r in fake_discord.calls("POST", r"/channels/\d+/messages") if "Done" in str(r.json)]
    assert "/re-remind pause days:3 or /re-remind off" in footer(dm.json)


def test_every_discord_usage_and_example_is_a_command_discord_takes(bot):
    lines = list(DISCORD_USAGE.values())
    lines += [shown(e, "discord") for spec in COMMANDS.values() for e in (spec.usage, *spec.examples)]
    for line in lines:
        assert discord_form_problem(bot.tree, line) is None, line


def test_schedule_examples_read_back_to_the_same_schedule():
    """`shown` writes what the Discord adapter turns back into the same text the grammar reads."""
    assert (
        shown("/re-remind weekdays 08:30 Europe/Paris", "discord") == "/re-remind weekdays time:08:30 zone:Europe/Paris"
    )
    assert shown("/re-remind mon,wed,fri 6:30pm", "discord") == "/re-remind days days:mon,wed,fri time:18:30"
    assert (
        shown("/re-subscribe papers 09:00 UTC weekdays", "discord") == "/re-subscribe time:09:00 zone:UTC days:weekdays"
    )
    assert shown("/re-paper rl", "discord") == "/re-paper area:rl"
    assert shown("/re-review quiet 23:00-07:30", "discord") == "/re-review action:quiet value:23:00-07:30"
    assert shown("/re-review", "discord") == "/re-review"
    assert shown("/re-faq phd", "slack") == "/re-faq phd"
    assert frozenset(range(5)) == WEEKDAYS
