"""Every command a reply shows a Discord member is written in Discord's syntax (`/re-remind daily time:09:00`), never
Slack's text form (`/re-remind daily 09:00`), checked against discord.py's real command tree: the replies of every
command on many inputs (errors and hints included), of every button they carry, and of what the scheduler sends."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta

import pytest
from discord import app_commands
from discord_support import NOW, discord_form_problem
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.platforms.discord.render import render_all
from content.schema import AREAS
from handlers import COMMANDS, Invocation, Reply, dispatch, run_action
from handlers.prompts import KINDS
from handlers.review import review_dm
from handlers.store_api import CardInfo
from handlers.study import reminder_reply
from handlers.subscriptions import channel_post_reply
from handlers.syntax import localized, shown
from handlers.types import Section

CODE = re.compile(r"`([^`\n]*)`")
USER, CHANNEL, GUILD = "800000000000000003", "800000000000000002", "800000000000000001"
OTHER_CHANNEL = "<#800000000000000009>"


def texts(reply: Reply) -> list[str]:
    found = [reply.title or "", *reply.context]
    for section in reply.sections:
        found += [section.text, *section.items]
    for followup in reply.followups:
        found += texts(followup)
    return found


def problems(tree: app_commands.CommandTree, text: str) -> list[str]:
    """Commands in code with Discord problems, and any `/re-…` followed by an argument outside code."""
    found = []
    for code in CODE.findall(text):
        if code.startswith("/re-") and (why := discord_form_problem(tree, code)):
            found.append(f"`{code}`: {why}")
    prose = CODE.sub("", text)
    found += [f"{m.group(0)!r} outside code" for m in re.finditer(r"/re-[a-z-]+ [\w#<]+", prose)]
    return found


# -- what a member can type -------------------------------------------------------------------------------------------


def _inputs(services) -> list[tuple[str, str]]:
    content = services.content
    lines = [(name, "") for name in COMMANDS] + [(name, "x" * 600) for name in COMMANDS]
    lines += [(name, "zzz qqq") for name in COMMANDS]
    lines += [(spec.name, e.partition(" ")[2]) for spec in COMMANDS.values() for e in spec.examples]
    lines += [("re-faq", t) for t in content.faqs] + [("re-faq", "do I need a phd"), ("re-faq", "best pizza nearby")]
    lines += [("re-paper", w) for w in ("today", "next", *AREAS, content.papers[0].title, "nonsense paper zzz")]
    lines += [("re-prompt", w) for w in ("today", "next", *KINDS)]
    lines += [("re-track", t.id) for t in content.tracks]
    lines += [("re-help", n) for n in (*COMMANDS, "remnd", "re-nope")]
    lines += [("re-nope", ""), ("re-remnd", "daily 09:00")]
    # Without a reminder, then setting one (asked for a zone first), then changing it.
    remind = ["list", "off", "pause", "resume", "snooze", "daily 09:00", "daily 9", "daily 25:00", "every 9am",
              "zone", "zone Mars/Phobos", "zone berlin", "daily 09:00 Europe/Berlin", "weekdays 08:30",
              "mon,wed,fri 6:30pm", "list", "pause", "pause forever", "pause 3 days", "resume", "snooze lots",
              "snooze 1h", "zone Europe/Paris", "off"]  # fmt: skip
    lines += [("re-remind", t) for t in remind]
    lines += [("re-subscribe", t) for t in ("papers", "papers 9", "papers 09:00", "papers 09:00 UTC", "")]
    lines += [("re-unsubscribe", t) for t in ("foo", "papers", "")]
    review = ["", "list", "status", "on", "on Mars/Phobos", "on Europe/Berlin", "quiet", "quiet xx",
              "quiet 23:00-07:30", "forget", "forget nope", "now", "off", "blah"]  # fmt: skip
    lines += [("re-review", t) for t in review]
    admin = ["", "report", "report soon", "report 7d 8d", "report 7d", "zone", "zone Mars", "zone Europe/Berlin",
             "zone off", "channel", "channel #x", f"channel {OTHER_CHANNEL} papers 9",
             f"channel {OTHER_CHANNEL} papers", f"channel {OTHER_CHANNEL} papers 09:00 UTC",
             f"channel {OTHER_CHANNEL} off", "delete"]  # fmt: skip
    lines += [("re-admin", t) for t in admin]
    return lines


def _replies(services) -> list[tuple[str, Reply]]:
    """Every reply of the inputs, for members with and without rights (and for a platform that could not tell),
    then the replies of the buttons they carry, and theirs in turn."""
    base = Invocation("", user=USER, channel=CHANNEL, platform="discord", workspace=GUILD)
    kinds = [
        {"can_manage_channel": True, "workspace_admin": True},
        {"can_manage_channel": False, "workspace_admin": False},
        {"can_manage_channel": None, "workspace_admin": None},
        {"can_manage_channel": True, "cannot_post": "I can't post in this channel."},
    ]
    replies: list[tuple[str, Reply]] = []
    for rights in kinds:
        for command, text in _inputs(services):
            inv = replace(base, command=command, text=text, now=NOW, **rights)
            replies.append((f"/{command} {text[:40]} {rights}", dispatch(inv, services)))
    pressed: set[tuple[str, str]] = set()
    frontier = list(replies)
    for _ in range(2):
        following = []
        for where, reply in frontier:
            for button in reply.all_buttons:
                if (button.action, button.value) in pressed:
                    continue
                pressed.add((button.action, button.value))
                family = f"re-{button.action.partition('.')[0]}"
                inv = replace(base, command=family, now=NOW + timedelta(minutes=1), workspace_admin=True)
                following.append((f"{where} → {button.action}", run_action(button.action, button.value, inv, services)))
        replies += following
        frontier = following
    return replies


def test_every_reply_on_discord_shows_discords_syntax(bot, scheduling_services):
    found = {}
    seen_codes = 0
    for where, reply in _replies(scheduling_services):
        for text in texts(reply):
            seen_codes += text.count("`/re-")
            if bad := problems(bot.tree, text):
                found[where] = bad
    assert not found, "\n".join(f"{w}: {b}" for w, b in list(found.items())[:30])
    assert seen_codes > 500, "the walk reached the replies' hints"


def test_what_the_scheduler_sends_on_discord_shows_discords_syntax(bot):
    content = bot.services.content
    day = date(2026, 3, 10)
    cards = [CardInfo(item=f"paper:{p.id}", due=NOW, state=2, step=None, stability=3.0, difficulty=5.0,
                      last_review=NOW - timedelta(days=3), reviews=1) for p in content.papers[:3]]  # fmt: skip
    built = [
        reminder_reply(content, f"paper:{content.papers[0].id}", day),
        reminder_reply(content, f"prompt:{content.prompts[0].id}", day),
        channel_post_reply(content.papers[0]),
        review_dm(content, cards),
    ]
    for reply in built:
        assert any("`/re-" in t for t in texts(reply)), "each carries a hint"
        shown = []
        for message in render_all(reply):
            for embed in message.embeds:
                shown += [embed.title or "", embed.description or "", embed.footer.text or ""]
        # Embed footers are plain text: the commands lose their backticks there, so check them as code.
        for text in shown:
            for line in re.findall(r"/re-[a-z-]+(?: (?:[a-z]+:\S+|list|off|resume|pause|snooze))*", text):
                assert discord_form_problem(bot.tree, line) is None, (reply.title, line)
            assert not re.search(r"/re-remind pause \d|/re-review forget [a-z]", text), text


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("/re-remind daily 09:00", "positional"),
        ("/re-remind daily time:09:00", None),
        ("/re-faq phd", "positional"),
        ("/re-faq topic:phd", None),
        ("/re-remind fortnightly time:09:00", "sub-command"),
        ("/re-paper colour:red", "no option"),
        ("/re-admin zone zone:Europe/Berlin", None),
        ("/re-admin zone Europe/Berlin", "positional"),
    ],
)
def test_the_checker_tells_the_two_forms_apart(bot, line, problem):
    found = discord_form_problem(bot.tree, line)
    assert (found is None) if problem is None else (problem in (found or "")), found


@settings(max_examples=300, deadline=None)
@given(command=st.sampled_from(sorted(COMMANDS)), text=st.text(max_size=60))
def test_any_command_line_is_shown_without_failing_and_showing_twice_changes_nothing(command, text):
    line = f"/{command} {text}".strip()
    once = shown(line, "discord")
    assert shown(once, "discord") == once
    assert shown(line, "slack") == line
    reply = Reply(command=command, sections=(Section(text=f"Try `{line}`."),), context=(f"`{line}`",))
    assert localized(localized(reply, "discord"), "discord") == localized(reply, "discord")
