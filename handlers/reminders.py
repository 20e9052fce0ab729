"""`/re-remind`: a member's personal study reminder by DM, and the reminder's "Done" and "Snooze 1h" buttons."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.cards import start_card
from handlers.papers import local_day
from handlers.registry import action, command, error_reply
from handlers.safe_text import quote
from handlers.schedule import MAX_PHRASE, PhraseError, Rule, parse_when, parse_zone, zone_problem
from handlers.services import Services
from handlers.store_api import REMINDER, ScheduleInfo, ScheduleStore
from handlers.study import current_item, is_known_item, summarize
from handlers.types import Button, Invocation, Reply, Section

COMMAND = "re-remind"
USAGE = "/re-remind daily|weekdays|mon,wed,fri HH:MM [ZONE] · list · off · pause [N days] · resume · snooze [1h]"
EXAMPLES = ("/re-remind daily 09:00 Europe/Berlin", "/re-remind weekdays 6:30pm", "/re-remind pause 3 days")
MAX_PAUSE_DAYS = 365
MAX_SNOOZE = timedelta(hours=24)
_DURATION = re.compile(r"^(\d{1,4})\s*(m|min|mins|minutes?|h|hr|hrs|hours?|d|days?)$")


def no_store(command_name: str) -> Reply:
    return error_reply(command_name, "Schedules need the bot's database, and this platform runs without one.")


def store_of(services: Services) -> ScheduleStore | None:
    return services.store


def too_long(command_name: str, text: str, what: str, usage: str) -> Reply | None:
    """A helpful refusal for text far longer than any schedule phrase (it is not parsed), else None."""
    if len(text) <= MAX_PHRASE:
        return None
    return error_reply(
        command_name, f"That is {len(text):,} characters; {what} needs only a few words.", f"Write it as `{usage}`."
    )


def parse_duration(text: str) -> timedelta | None:
    """'1h', '30m', '2 hours', '3 days', '90 min' -> timedelta; None when it is not a duration."""
    m = _DURATION.match(text.strip().lower())
    if not m:
        return None
    n, unit = int(m.group(1)), m.group(2)[0]
    return {"m": timedelta(minutes=n), "h": timedelta(hours=n), "d": timedelta(days=n)}[unit]


def known_zone(inv: Invocation, store: ScheduleStore, *, server_default: bool = True) -> str | None:
    """The member's zone: the platform's (Slack users.info), else the one they told us before, else (with
    `server_default`) the default a manager set for the workspace with `/re-admin zone`."""
    platform_zone = parse_zone(inv.tz) if inv.tz else None
    zone = platform_zone or store.member_zone(inv.platform, inv.user)
    if zone is None and server_default and inv.workspace:
        zone = store.workspace_zone(inv.platform, inv.workspace)
    return zone


def ask_for_zone(command_name: str, example: str) -> Reply:
    first, second = (f"{example} {zone}" for zone in ("Europe/Berlin", "America/New_York"))
    return error_reply(
        command_name,
        "Which time zone are you in? I don't know it yet, and schedules follow your local time.",
        f"Add an IANA zone name once, e.g. `{first}` or `{second}`; I'll remember it for next time.",
    )


def fmt_local(instant: datetime, zone: str, now: datetime | None = None) -> str:
    """'Sun 26 Oct 02:40', plus which one when that wall time happens twice that day (clocks falling back), and the
    year when it is not `now`'s year there (a date next year, or one a `re-bot tick --at` in the future moved to)."""
    local = instant.astimezone(ZoneInfo(zone))
    same_year = now is None or now.astimezone(local.tzinfo).year == local.year
    text = local.strftime("%a %d %b %H:%M" if same_year else "%a %d %b %Y %H:%M")
    twin = local.replace(fold=1 - local.fold)
    if twin.utcoffset() != local.utcoffset():
        offset = local.strftime("%z")
        text += f" (the {'second' if local.fold else 'first'} {local:%H:%M} that day, UTC{offset[:3]}:{offset[3:]})"
    return text


def describe(info: ScheduleInfo, what: str, now: datetime) -> str:
    """A schedule as members read it; a pause or snooze that is already over by `now` is not mentioned."""
    rule = info.rule
    text = f"{what} {rule.describe()}."
    if not info.active:
        text += f" **Paused**: {info.pause_reason or 'until you resume it'}."
    else:
        if info.paused_until and info.paused_until > now:
            text += f" Paused until {fmt_local(info.paused_until, rule.zone, now)}."
        text += f" Next: {fmt_local(info.next_fire_at, rule.zone, now)}."
    if info.snooze_at and info.snooze_at > now and info.active:
        text += f" Snoozed reminder at {fmt_local(info.snooze_at, rule.zone, now)}."
    return text


def review_note(added: bool, inv: Invocation, store: ScheduleStore) -> str:
    """What a "Done" adds about reviews, when it made a review card."""
    if not added:
        return ""
    prefs = store.review_prefs(inv.platform, inv.user)
    on = prefs.enabled if prefs.enabled is not None else store.get_schedule(REMINDER, inv.platform, inv.user)
    if on:
        return " Added to your reviews: a review DM will ask you about it."
    return " Added to your review cards (`/re-review`); `/re-review on` sends them by DM when due."


def phrase_error(command_name: str, exc: PhraseError, usage: str, example: str, prefix: str) -> Reply:
    """A schedule phrase that did not parse: what was wrong, then the corrected command (`prefix` + the phrase the
    member probably meant) when there is a guess, else the usage."""
    if exc.suggestion is not None:
        return error_reply(command_name, str(exc), f"Try `{prefix} {exc.suggestion.phrase()}`.")
    return error_reply(command_name, str(exc), f"Write it as `{usage}`, e.g. `{example}`.")


def _ok(title: str, *texts: str) -> Reply:
    return Reply(command=COMMAND, title=title, sections=tuple(Section(text=t) for t in texts))


def control_buttons(info: ScheduleInfo) -> tuple[Button, ...]:
    """What a member can do to their reminder from where it is shown (App Home, `/re-remind list`)."""
    off = Button("Turn off", "remind.off", "", "danger")
    if not info.active:
        return (Button("Resume", "remind.resume", "", "primary"), off)
    return (Button("Snooze 1h", "remind.snooze", "1h"), Button("Pause", "remind.pause", ""), off)


def _show(inv: Invocation, store: ScheduleStore) -> Reply:
    assert inv.now is not None
    info = store.get_schedule(REMINDER, inv.platform, inv.user)
    if info is None:
        return _ok("Your reminder", "You have no study reminder. Set one with `/re-remind daily 09:00 Europe/Berlin`.")
    shown = _ok(
        "Your reminder",
        describe(info, "I remind you by direct message", inv.now),
        "Change it with `/re-remind weekdays 08:30`, stop it with `/re-remind off`.",
    )
    return replace(shown, buttons=control_buttons(info))


def _set(inv: Invocation, store: ScheduleStore, words: list[str]) -> Reply:
    assert inv.now is not None
    try:
        when = parse_when(words)
    except PhraseError as exc:
        return phrase_error(COMMAND, exc, USAGE, "/re-remind weekdays 08:30 Europe/Paris", "/re-remind")
    own = when.zone or known_zone(inv, store, server_default=False)
    zone = own or known_zone(inv, store)
    if zone is None:
        return ask_for_zone(COMMAND, "/re-remind " + when.phrase())
    if own:  # a server default is not a zone the member gave: do not record it as theirs
        store.set_member_zone(inv.platform, inv.user, zone, now=inv.now)
    rule = Rule(when.hour, when.minute, zone, when.days)
    info = store.put_schedule(
        REMINDER, inv.platform, inv.user, rule, now=inv.now, created_by=inv.user, workspace=inv.workspace
    )
    return _ok(
        "Reminder set",
        describe(info, "I'll send you a study step by direct message", inv.now),
        "Each reminder has a **Done** button that counts towards `/re-progress`.",
    )


def _pause(inv: Invocation, store: ScheduleStore, rest: str) -> Reply:
    assert inv.now is not None
    until = None
    if rest:
        span = parse_duration(rest)
        if span is None or span.days < 1 or span.days > MAX_PAUSE_DAYS or span.seconds:
            return error_reply(
                COMMAND,
                f"“{quote(rest)}” is not a number of days from 1 to {MAX_PAUSE_DAYS}.",
                "Try `/re-remind pause 3 days`, or `/re-remind pause` to pause until you resume.",
            )
        until = inv.now + span
    info = store.pause_schedule(REMINDER, inv.platform, inv.user, now=inv.now, until=until, reason="paused by you")
    if info is None:
        return error_reply(COMMAND, "You have no reminder to pause.", "Set one with `/re-remind daily 09:00`.")
    return _ok("Reminder paused", describe(info, "Your reminder:", inv.now), "`/re-remind resume` brings it back now.")


def _snooze(inv: Invocation, store: ScheduleStore, rest: str) -> Reply:
    assert inv.now is not None
    span = parse_duration(rest or "1h")
    if span is None or span <= timedelta(0) or span > MAX_SNOOZE:
        return error_reply(
            COMMAND,
            f"“{quote(rest)}” is not a snooze from 1 minute to 24 hours.",
            "Try `/re-remind snooze 1h` or `/re-remind snooze 30m`.",
        )
    info = store.snooze(REMINDER, inv.platform, inv.user, at=inv.now + span)
    if info is None:
        return error_reply(COMMAND, "You have no reminder to snooze.", "Set one with `/re-remind daily 09:00`.")
    return _ok("Snoozed", f"I'll remind you again at {fmt_local(inv.now + span, info.rule.zone)} ({info.rule.zone}).")


def _zone(inv: Invocation, store: ScheduleStore, rest: str) -> Reply:
    assert inv.now is not None
    if not rest:
        return error_reply(
            COMMAND,
            "Which time zone? Give its IANA name.",
            "Write it as `/re-remind zone ZONE`, e.g. `/re-remind zone Europe/Berlin` or `America/New_York`.",
        )
    zone = parse_zone(rest)
    if zone is None:
        message, zones = zone_problem(rest)
        if zones:
            return error_reply(COMMAND, message, f"Try `/re-remind zone {zones[0]}`.")
        return error_reply(COMMAND, message, "Other IANA names: `America/New_York`, `Asia/Kolkata`, `UTC`.")
    store.set_member_zone(inv.platform, inv.user, zone, now=inv.now)
    info = store.get_schedule(REMINDER, inv.platform, inv.user)
    if info is not None:
        rule = Rule(info.rule.hour, info.rule.minute, zone, info.rule.days)
        info = store.put_schedule(REMINDER, inv.platform, inv.user, rule, now=inv.now, created_by=inv.user)
        return _ok("Time zone saved", f"Your zone is now {zone}.", describe(info, "Your reminder:", inv.now))
    return _ok("Time zone saved", f"Your zone is now {zone}.")


@command(
    COMMAND,
    summary="A study reminder by direct message at your local time, with a step to do.",
    usage=USAGE,
    examples=EXAMPLES,
)
def remind(inv: Invocation, services: Services) -> Reply:
    store = store_of(services)
    if store is None:
        return no_store(COMMAND)
    assert inv.now is not None
    text = inv.text.strip()
    if refusal := too_long(COMMAND, text, "a reminder", USAGE):
        return refusal
    word, _, rest = text.partition(" ")
    word, rest = word.lower(), rest.strip()
    if word in ("", "list", "show", "status"):
        return _show(inv, store)
    if word in ("off", "stop", "delete", "cancel"):
        gone = store.delete_schedule(REMINDER, inv.platform, inv.user)
        return _ok("Reminder off", "Your study reminder is off." if gone else "You had no study reminder.")
    if word == "pause":
        return _pause(inv, store, rest)
    if word == "resume":
        info = store.resume_schedule(REMINDER, inv.platform, inv.user, now=inv.now)
        if info is None:
            return error_reply(COMMAND, "You have no reminder to resume.", "Set one with `/re-remind daily 09:00`.")
        return _ok("Reminder resumed", describe(info, "I remind you", inv.now))
    if word == "snooze":
        return _snooze(inv, store, rest)
    if word in ("zone", "tz", "timezone"):
        return _zone(inv, store, rest)
    return _set(inv, store, text.split())


@action("remind.done")
def done(inv: Invocation, value: str, services: Services) -> Reply:
    store = store_of(services)
    if store is None:
        return no_store(COMMAND)
    assert inv.now is not None
    if not is_known_item(services.content, value):
        return error_reply(
            COMMAND,
            "I can't find that study step any more; it may have been removed.",
            "Your next reminder brings a new one.",
        )
    value = current_item(services.content, value)  # a reminder sent before its prompt was retired
    zone = known_zone(inv, store)
    day = local_day(inv.now, zone)
    new = store.record_done(inv.platform, inv.user, value, day, now=inv.now)
    carded = start_card(store, services.content, inv.platform, inv.user, value, inv.now)
    summary = summarize(((d.item, d.day) for d in store.done_items(inv.platform, inv.user)), day)
    first = "Nice work, recorded." if new else "Already recorded; nice work."
    note = review_note(carded, inv, store)
    return _ok("Done", f"{first} Streak: {summary.streak} day(s). `/re-progress` shows the rest.{note}")


@action("remind.snooze")
def snooze(inv: Invocation, value: str, services: Services) -> Reply:
    store = store_of(services)
    if store is None:
        return no_store(COMMAND)
    return _snooze(inv, store, value)


def _as_command(text: str):
    """A reminder control button runs exactly what `/re-remind <text>` runs, so the two never disagree."""

    def run(inv: Invocation, value: str, services: Services) -> Reply:
        return remind(replace(inv, text=text), services)

    return run


action("remind.pause")(_as_command("pause"))
action("remind.resume")(_as_command("resume"))
action("remind.off")(_as_command("off"))
