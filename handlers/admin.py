"""`/re-admin`: settings of the whole workspace or server, for members who may manage it.

One command family with sub-commands (`/re-admin zone ...`, `/re-admin channel ...`); a new one registers itself with
`@subcommand(name, usage)` and appears in `/re-admin`'s own overview.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from handlers.registry import command, error_reply
from handlers.reminders import no_store, store_of, too_long
from handlers.safe_text import quote
from handlers.schedule import parse_zone
from handlers.services import Services
from handlers.subscriptions import subscribe, unsubscribe
from handlers.types import Invocation, Reply, Section

COMMAND = "re-admin"
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


SUBCOMMANDS: dict[str, Subcommand] = {}


def subcommand(name: str, usage: str, summary: str):
    def register(fn: SubHandler) -> SubHandler:
        SUBCOMMANDS[name] = Subcommand(name, usage, summary, fn)
        return fn

    return register


def _usage() -> str:
    return " · ".join(s.usage for s in SUBCOMMANDS.values())


def _not_allowed() -> Reply:
    return error_reply(
        COMMAND,
        "Only members who can manage this workspace or server (Slack workspace admins, Discord members with "
        "Manage Server) can change its settings.",
        "Ask one of them; `/re-remind zone ZONE` sets your own time zone.",
    )


def _no_workspace() -> Reply:
    return error_reply(COMMAND, "Workspace settings need a Slack workspace or a Discord server; here there is none.")


@command(
    COMMAND,
    summary="Workspace settings for its managers: a default time zone, another channel's paper posts.",
    usage="/re-admin zone ZONE · /re-admin channel #channel [papers HH:MM [ZONE] [DAYS] | off]",
    examples=("/re-admin zone Europe/Berlin", "/re-admin"),  # a #channel is only a channel once Slack escapes it
)
def admin(inv: Invocation, services: Services) -> Reply:
    text = inv.text.strip()
    if refusal := too_long(COMMAND, text, "a workspace setting", _usage()):
        return refusal
    name, _, rest = text.partition(" ")
    sub = SUBCOMMANDS.get(name.lower())
    if sub is None:
        lines = tuple(f"`{s.usage}`: {s.summary}" for s in SUBCOMMANDS.values())
        intro = "Workspace settings, for members who can manage the workspace or server:"
        if name:
            return error_reply(COMMAND, f"“{quote(name, 40)}” is not a /re-admin setting.", intro, *lines)
        return Reply(command=COMMAND, title="Workspace settings", sections=(Section(text=intro), Section(items=lines)))
    if not inv.can_manage_workspace:
        return _not_allowed()
    return sub.handler(inv, services, rest.strip())


@subcommand("zone", "/re-admin zone ZONE|off", "the time zone for members who have not given theirs")
def admin_zone(inv: Invocation, services: Services, rest: str) -> Reply:
    store = store_of(services)
    if store is None:
        return no_store(COMMAND)
    if not inv.workspace:
        return _no_workspace()
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
