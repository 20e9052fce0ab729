"""`/re-subscribe` and `/re-unsubscribe`: a channel's paper of the day at its own local time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from content.schema import Paper
from handlers import rotation
from handlers.papers import paper_reply
from handlers.registry import command, error_reply, not_checked
from handlers.reminders import ask_for_zone, describe, known_zone, no_store, phrase_error, store_of, too_long
from handlers.safe_text import quote
from handlers.schedule import PhraseError, Rule, parse_when
from handlers.services import Services
from handlers.store_api import CHANNEL_POST
from handlers.types import Invocation, Reply, Section

COMMAND = "re-subscribe"
UNSUBSCRIBE = "re-unsubscribe"
USAGE = "/re-subscribe papers HH:MM [ZONE] [weekdays|daily|mon,wed,fri]"
FEEDS = ("papers", "paper")  # what a channel can subscribe to (one feed, said either way)


def pick_paper(papers: Sequence[Paper], day: date, seen: set[str]) -> Paper:
    """The channel's paper for `day`: no repeats in a channel until its catalogue is exhausted."""
    return rotation.unseen(papers, day, seen)


def channel_post_reply(paper: Paper) -> Reply:
    """The scheduled channel post: the /re-paper reply, with its study prompts as a thread (follow-up)."""
    base = paper_reply(paper, "Paper of the day")
    body = tuple(s for s in base.sections if not s.items)
    prompts = tuple(Section(items=s.items) for s in base.sections if s.items)
    thread = Reply(command=base.command, title="Study prompts", sections=prompts, ephemeral=False)
    return replace(base, sections=body, ephemeral=False, followups=(thread,) if prompts else ())


# Who may change a channel's subscription, in each platform's own words (the adapters apply these rules).
WHO_MAY_MANAGE = {
    "slack": "Only workspace admins and the channel's creator can change this channel's subscription.",
    "discord": "Only members who can manage this channel (Manage Channels or Manage Server) can change its "
    "subscription.",
}
ASK_SOMEONE = {
    "slack": "Ask a workspace admin or the channel's creator, or use `/re-remind` for a personal reminder.",
    "discord": "Ask a moderator, or use `/re-remind` for a personal reminder.",
}


def _not_allowed(inv: Invocation, name: str) -> Reply:
    if inv.can_manage_channel is None:  # the platform did not answer in time: not a refusal
        return not_checked(name, inv.platform, "change this channel's subscription")
    return error_reply(
        name,
        WHO_MAY_MANAGE.get(inv.platform, "Only members who may manage this channel can change its subscription."),
        ASK_SOMEONE.get(inv.platform, "Ask someone who manages it, or use `/re-remind` for a personal reminder."),
    )


@command(
    COMMAND,
    summary="Post the paper of the day in this channel at a set local time.",
    usage=USAGE,
    examples=("/re-subscribe papers 09:00 Europe/Berlin weekdays", "/re-subscribe"),
    admin=True,
)
def subscribe(inv: Invocation, services: Services) -> Reply:
    store = store_of(services)
    if store is None:
        return no_store(COMMAND)
    assert inv.now is not None
    text = inv.text.strip()
    if refusal := too_long(COMMAND, text, "a subscription", USAGE):
        return refusal
    if not text or text.lower() in ("list", "show", "status"):
        info = store.get_schedule(CHANNEL_POST, inv.platform, inv.channel)
        if info is None:
            msg = "This channel has no subscription. A channel manager can add one: `/re-subscribe papers 09:00 UTC`."
            return Reply(command=COMMAND, title="This channel's subscription", sections=(Section(text=msg),))
        return Reply(
            command=COMMAND,
            title="This channel's subscription",
            sections=(Section(text=describe(info, "The paper of the day is posted here", inv.now)),),
        )
    if not inv.can_manage_channel:
        return _not_allowed(inv, COMMAND)
    if inv.cannot_post:  # say so now, not with a paused subscription after the first post fails
        return error_reply(COMMAND, inv.cannot_post)
    words = text.split()
    if words[0].lower() in FEEDS:
        words = words[1:]
    try:
        when = parse_when(words)
    except PhraseError as exc:
        return phrase_error(COMMAND, exc, USAGE, "/re-subscribe papers weekdays 09:00 UTC", "/re-subscribe papers")
    zone = when.zone or known_zone(inv, store)
    if zone is None:
        return ask_for_zone(COMMAND, "/re-subscribe papers " + when.phrase())
    rule = Rule(when.hour, when.minute, zone, when.days)
    info = store.put_schedule(
        CHANNEL_POST, inv.platform, inv.channel, rule, now=inv.now, created_by=inv.user, workspace=inv.workspace
    )
    return Reply(
        command=COMMAND,
        title="Subscribed",
        ephemeral=False,
        sections=(
            Section(text=describe(info, "This channel gets the paper of the day", inv.now)),
            Section(text="No paper repeats here until every paper has been posted. `/re-unsubscribe` stops it."),
        ),
    )


@command(UNSUBSCRIBE, summary="Stop this channel's paper of the day.", usage="/re-unsubscribe [papers]", admin=True)
def unsubscribe(inv: Invocation, services: Services) -> Reply:
    store = store_of(services)
    if store is None:
        return no_store(UNSUBSCRIBE)
    words = inv.text.lower().split()
    if words and words not in (["papers"], ["all"]):
        # Deleting is not undone by a second try: words it does not understand stop it rather than being ignored.
        return error_reply(
            UNSUBSCRIBE,
            f"I don't understand “{quote(inv.text.strip(), 40)}” here, so nothing was changed.",
            "Write `/re-unsubscribe` (or `/re-unsubscribe papers`) to stop this channel's paper of the day.",
        )
    if not inv.can_manage_channel:
        return _not_allowed(inv, UNSUBSCRIBE)
    gone = store.delete_schedule(CHANNEL_POST, inv.platform, inv.channel)
    msg = "This channel no longer gets the paper of the day." if gone else "This channel had no subscription."
    return Reply(command=UNSUBSCRIBE, title="Unsubscribed", sections=(Section(text=msg),))
