"""`/re-admin`: tools and settings for the people who run a community's workspace or server.

Only Slack workspace admins and owners, and Discord members who may manage the server (the console's operator too)
may use it; anyone else gets a polite refusal. One command family with sub-commands: `report` (the FAQ report, also
what `/re-admin` alone shows), `zone` (a default time zone) and `channel` (another channel's paper of the day); a new
one registers itself with `@subcommand(name, usage, summary)`. Each covers the workspace it is asked in, never
another one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

from handlers.faq import query_log
from handlers.registry import command, error_reply, not_checked
from handlers.reminders import no_store, store_of, too_long
from handlers.report import SHOWN, build_report, summary_markdown
from handlers.safe_text import quote
from handlers.schedule import parse_zone
from handlers.services import Services
from handlers.subscriptions import subscribe, unsubscribe
from handlers.types import Invocation, Reply, Section

COMMAND = "re-admin"
PERIOD = re.compile(r"^(\d{1,4})([hdw])$")
UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
TOPICS_SHOWN = 15
OFF_WORDS = ("off", "none", "clear", "unset")
# A channel as members write it: Slack's escaped mention <#C123|name>, Discord's <#123>, or a bare id.
_CHANNEL = re.compile(r"^<#(?P<mention>[A-Z0-9]+)(?:\|[^>]*)?>$|^(?P<id>[CG][A-Z0-9]{6,}|\d{15,21})$")

SubHandler = Callable[[Invocation, Services, str], Reply]


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str
    summary: str
    handler: SubHandler
    needs_workspace: bool = True  # refused in a DM (the console's operator is its own workspace for the report)


SUBCOMMANDS: dict[str, Subcommand] = {}


def subcommand(name: str, usage: str, summary: str, *, needs_workspace: bool = True):
    def register(fn: SubHandler) -> SubHandler:
        SUBCOMMANDS[name] = Subcommand(name, usage, summary, fn, needs_workspace)
        return fn

    return register


USAGE = (
    "/re-admin report [PERIOD, e.g. 7d, 30d, 12w] · /re-admin zone ZONE|off · "
    "/re-admin channel #channel [papers HH:MM [ZONE] [DAYS] | off]"
)


def parse_period(text: str) -> timedelta | None:
    m = PERIOD.match(text.strip().lower())
    return int(m[1]) * UNITS[m[2]] if m and int(m[1]) > 0 else None


@command(
    COMMAND,
    summary="For workspace admins and server managers: the FAQ report, a default time zone, another channel's posts.",
    usage=USAGE,
    examples=("/re-admin report", "/re-admin report 7d", "/re-admin zone Europe/Berlin"),
)
def admin(inv: Invocation, services: Services) -> Reply:
    text = inv.text.strip()
    if refusal := too_long(COMMAND, text, "an admin command", USAGE):
        return refusal
    name, _, rest = (text or "report").partition(" ")  # the report is what `/re-admin` alone shows
    sub = SUBCOMMANDS.get(name.lower())
    if sub is None:
        lines = tuple(f"`{s.usage}`: {s.summary}" for s in SUBCOMMANDS.values())
        return error_reply(COMMAND, f"“{quote(name, 40)}” is not a `/re-admin` tool. Usage:", *lines)
    if inv.workspace_admin is None:  # the platform did not answer in time: not a refusal
        return not_checked(COMMAND, inv.platform, "use `/re-admin` here")
    if not inv.workspace_admin:
        return error_reply(
            COMMAND,
            "Sorry, `/re-admin` is for the people who run this workspace or server (Slack admins and owners, "
            "Discord members who can manage the server).",
            "Members can help the FAQ with the Helpful / Not what I asked buttons under each answer.",
        )
    if sub.needs_workspace and inv.workspace is None and inv.platform != "console":
        return error_reply(COMMAND, "Use it inside the workspace or server it is about, not in a DM.")
    return sub.handler(inv, services, rest.strip())


@subcommand("report", "/re-admin report [PERIOD, e.g. 7d, 30d, 12w]",
            "what members asked the FAQ, what helped, what found nothing")  # fmt: skip
def admin_report(inv: Invocation, services: Services, rest: str) -> Reply:
    words = rest.split()
    if len(words) > 1:
        return error_reply(
            COMMAND, f"Usage: `{SUBCOMMANDS['report'].usage}`.", "`/re-admin report` shows the last 30 days."
        )
    period = parse_period(words[0]) if words else timedelta(days=30)
    if period is None:
        return error_reply(COMMAND, f"“{quote(words[0])}” is not a period.", "Try `7d`, `30d` or `12w`.")
    questions = query_log(services)
    if questions is None:
        return error_reply(COMMAND, "There is no questions log here: the bot runs without a database.")
    assert inv.now is not None
    since = inv.now - period
    report = build_report(questions.logged_questions(since=since, workspace=inv.workspace), since=since,
                          workspace=inv.workspace)  # fmt: skip
    headline, topics, asked = summary_markdown(report, limit=SHOWN)
    sections = [Section(text=headline)]
    if topics:
        more = len(topics) - TOPICS_SHOWN
        items = (*topics[:TOPICS_SHOWN], *((f"… and {more} more topics",) if more > 0 else ()))
        sections.append(Section(text="**Topics** (asked, helpful, not helpful)", items=items))
    if asked:
        sections.append(Section(text="**Unanswered or “not what I asked”**, most frequent first", items=tuple(asked)))
    return Reply(
        command=COMMAND,
        title=f"FAQ report: the last {period.days or round(period.total_seconds() / 3600)} "
        + ("days" if period.days else "hours"),
        sections=tuple(sections),
        context=("Only you can see this. `re-bot report --suggest` turns it into ready-to-paste YAML.",),
    )


@subcommand("zone", "/re-admin zone ZONE|off", "the time zone for members who have not given theirs")
def admin_zone(inv: Invocation, services: Services, rest: str) -> Reply:
    store = store_of(services)
    if store is None:
        return no_store(COMMAND)
    if not inv.workspace:
        return error_reply(
            COMMAND, "A default time zone belongs to a Slack workspace or Discord server; here there is none."
        )
    assert inv.now is not None
    current = store.workspace_zone(inv.platform, inv.workspace)
    if not rest:
        shown = f"The default time zone here is **{current}**." if current else "There is no default time zone here."
        return Reply(
            command=COMMAND,
            title="Default time zone",
            sections=(
                Section(text=shown),
                Section(text="Set it with `/re-admin zone Europe/Berlin`; members' own zones always come first."),
            ),
        )
    if rest.lower() in OFF_WORDS:
        store.set_workspace_zone(inv.platform, inv.workspace, None, now=inv.now)
        msg = "No default time zone any more: members who have not given theirs are asked for it."
        return Reply(command=COMMAND, title="Default time zone", sections=(Section(text=msg),))
    zone = parse_zone(rest)
    if zone is None:
        return error_reply(
            COMMAND,
            f"“{quote(rest, 60)}” is not an IANA time zone.",
            "Use a name such as `Europe/Berlin`, `America/New_York` or `UTC`.",
        )
    store.set_workspace_zone(inv.platform, inv.workspace, zone, now=inv.now)
    return Reply(
        command=COMMAND,
        title="Default time zone",
        sections=(
            Section(text=f"The default time zone here is now **{zone}**."),
            Section(
                text="Members who have not given a zone get reminders and see today's paper in it; "
                "`/re-remind zone ZONE` sets their own."
            ),
        ),
    )


def parse_channel(word: str) -> str | None:
    """The channel id in `<#C123|name>` (Slack), `<#123>` (Discord) or a bare id; None when it is none of those."""
    m = _CHANNEL.match(word.strip())
    return (m.group("mention") or m.group("id")) if m else None


@subcommand(
    "channel",
    "/re-admin channel #channel [papers HH:MM [ZONE] [DAYS] | off]",
    "set up another channel's paper of the day without typing in it",
)
def admin_channel(inv: Invocation, services: Services, rest: str) -> Reply:
    first, _, phrase = rest.partition(" ")
    channel = parse_channel(first) if first else None
    if channel is None:
        return error_reply(
            COMMAND,
            "Which channel? Name it first: `/re-admin channel #papers papers 09:00 Europe/Berlin`."
            if not first
            else f"“{quote(first, 40)}” is not a channel.",
            "Pick the channel as a #mention, then the subscription as for `/re-subscribe`, or `off` to stop it.",
        )
    # The workspace's manager manages every channel in it: the subscription handlers do the rest, for that channel.
    target = replace(inv, channel=channel, can_manage_channel=True)
    phrase = phrase.strip()
    if phrase.lower() in OFF_WORDS:
        reply = unsubscribe(replace(target, command="re-unsubscribe", text=""), services)
    else:
        reply = subscribe(replace(target, command="re-subscribe", text=phrase), services)
    where = Section(text=f"Channel `{channel}`:")
    return replace(reply, command=COMMAND, ephemeral=True, sections=(where, *reply.sections))
