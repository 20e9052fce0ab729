"""`/re-review`: spaced-repetition reviews of the papers and implementation prompts a member finished.

Each card asks one recall question; the member answers from memory and rates it Again / Hard / Good / Easy (actions
`review.again|hard|good|easy`, value the card's item). The rating reveals the short answer, and FSRS
(`handlers.cards`) sets the card's next due date. Review DMs go out once a day at the end of the member's quiet
hours (`handlers.review_clock`), holding every card due that day.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from content import Content
from handlers.cards import RATINGS, question_of, rate, recall_of, retrievability, review_stats
from handlers.registry import action, command, error_reply
from handlers.reminders import ask_for_zone, fmt_local, known_zone, no_store, store_of, too_long
from handlers.review_clock import DEFAULT_QUIET, day_end, fmt_minutes, parse_quiet
from handlers.safe_text import quote
from handlers.schedule import parse_zone
from handlers.services import Services
from handlers.store_api import REMINDER, REVIEW, CardInfo, ReviewPrefs, ScheduleStore
from handlers.study import item_title, split_item
from handlers.types import Button, Invocation, Reply, Section

COMMAND = "re-review"
USAGE = "/re-review [list · on [ZONE] · off · quiet HH:MM-HH:MM · forget ID]"
EXAMPLES = ("/re-review", "/re-review list", "/re-review quiet 23:00-07:30", "/re-review on Europe/Berlin")
MAX_CARDS = 20  # cards shown at once: a Slack message holds 50 blocks, two per card
MAX_LISTED = 60
LABELS = {"again": "Again", "hard": "Hard", "good": "Good", "easy": "Easy"}
HOW = "Answer from memory, then rate how well you knew it; the answer shows when you rate."


def rating_buttons(item: str) -> tuple[Button, ...]:
    return tuple(
        Button(label, f"review.{name}", item, "primary" if name == "good" else "default")
        for name, label in LABELS.items()
    )


def _zone(inv: Invocation, store: ScheduleStore) -> str:
    reminder = store.get_schedule(REMINDER, inv.platform, inv.user)
    return reminder.rule.zone if reminder else known_zone(inv, store) or "UTC"


def _date(instant: datetime, zone: str) -> str:
    return instant.astimezone(ZoneInfo(zone)).strftime("%a %d %b")


def cards_reply(content: Content, cards: list[CardInfo], title: str, *, ephemeral: bool = True) -> Reply:
    """Cards to review: each card's question with its rating buttons (the DM and `/re-review` alike)."""
    askable = [(c, r) for c in cards if (r := recall_of(content, c.item))]
    sections = [Section(text=HOW)]
    for n, (card, recall) in enumerate(askable[:MAX_CARDS], 1):
        ask = question_of(recall, card)
        text = f"**{n}. {ask.question}**\\\n_{item_title(content, card.item)}_"  # a hard break between the lines
        sections.append(Section(text=text, buttons=rating_buttons(card.item)))
    if len(askable) > MAX_CARDS:
        sections.append(Section(text=f"{len(askable) - MAX_CARDS} more due: `/re-review` shows them after these."))
    return Reply(
        command=COMMAND,
        title=title,
        sections=tuple(sections),
        context=(
            "`/re-review list` shows every card · `/re-review off` stops review DMs · "
            "`/re-review quiet 23:00-07:30` moves them",
        ),
        ephemeral=ephemeral,
    )


def review_dm(content: Content, cards: list[CardInfo]) -> Reply:
    """The day's review DM (what the scheduler delivers)."""
    count = len([c for c in cards if recall_of(content, c.item)])
    title = f"Time to review: {count} card{'s' if count != 1 else ''}"
    return cards_reply(content, cards, title, ephemeral=False)


def _enabled(prefs: ReviewPrefs, has_reminder: bool) -> bool:
    return prefs.enabled if prefs.enabled is not None else has_reminder


def _status(inv: Invocation, store: ScheduleStore, cards: list[CardInfo], lead: str = "") -> Reply:
    assert inv.now is not None
    prefs = store.review_prefs(inv.platform, inv.user)
    has_reminder = store.get_schedule(REMINDER, inv.platform, inv.user) is not None
    schedule = store.get_schedule(REVIEW, inv.platform, inv.user)
    zone = _zone(inv, store)
    quiet = f"{fmt_minutes(prefs.quiet_start)}-{fmt_minutes(prefs.quiet_end)}"
    lines = [lead] if lead else []
    if schedule is not None and not schedule.active and schedule.pause_reason:
        lines.append(f"Review DMs are **paused**: {schedule.pause_reason}. `/re-review on` resumes them.")
    elif not _enabled(prefs, has_reminder):
        why = "you turned them off" if prefs.enabled is False else "you have no study reminder"
        lines.append(f"Review DMs are **off** ({why}). `/re-review on` turns them on.")
    else:
        why = " (with your study reminder)" if prefs.enabled is None else ""
        lines.append(
            f"Review DMs are **on**{why}: once a day at {fmt_minutes(prefs.quiet_end)} ({zone}), when a "
            f"card is due; never in your quiet hours, {quiet}."
        )
        if schedule is not None and schedule.active and cards:
            lines.append(f"Next review DM: {fmt_local(schedule.next_fire_at, zone)}.")
    if not cards:
        lines.append("You have no review cards yet: press **Done** on a paper or an implementation prompt.")
    else:
        stats = review_stats(cards, inv.now)
        retention = f", estimated retention {stats.retention:.0%}" if stats.retention is not None else ""
        lines.append(f"{stats.cards} card(s), {stats.learned} reviewed at least once{retention}.")
    return Reply(command=COMMAND, title="Your reviews", sections=tuple(Section(text=t) for t in lines))


def _due_now(inv: Invocation, services: Services, store: ScheduleStore) -> Reply:
    assert inv.now is not None
    cards = store.cards(inv.platform, inv.user)
    cutoff = day_end(inv.now, _zone(inv, store))
    due = [c for c in cards if c.due < cutoff and recall_of(services.content, c.item)]
    if not due:
        return _status(inv, store, cards, "Nothing to review now.")
    return cards_reply(services.content, due, f"Cards to review now: {len(due)}")


def _list(inv: Invocation, services: Services, store: ScheduleStore) -> Reply:
    assert inv.now is not None
    cards = store.cards(inv.platform, inv.user)
    if not cards:
        return _status(inv, store, cards)
    zone = _zone(inv, store)
    items = []
    for card in cards[:MAX_LISTED]:
        recall = retrievability(card, inv.now)
        estimate = f"recall now ≈ {recall:.0%}" if recall is not None else "not reviewed yet"
        _, item_id = split_item(card.item)
        items.append(f"`{item_id}` {item_title(services.content, card.item)}: next {_date(card.due, zone)}, {estimate}")
    if len(cards) > MAX_LISTED:
        items.append(f"…and {len(cards) - MAX_LISTED} more.")
    stats = review_stats(cards, inv.now)
    head = f"**{stats.cards} card(s)**, soonest due first."
    if stats.retention is not None:
        head += f" Estimated retention: {stats.retention:.0%} over the {stats.learned} reviewed."
    return Reply(
        command=COMMAND,
        title="Your review cards",
        sections=(Section(text=head, items=tuple(items)),),
        context=("`/re-review forget ID` removes a card; `/re-review` shows the ones due now.",),
    )


def _find_item(cards: list[CardInfo], wanted: str) -> str | None:
    """'transformer' or 'paper:transformer' -> the member's card item, when exactly one matches."""
    wanted = wanted.strip().lower().strip("`")
    exact = [c.item for c in cards if c.item == wanted]
    if exact:
        return exact[0]
    by_id = [c.item for c in cards if split_item(c.item)[1] == wanted]
    return by_id[0] if len(by_id) == 1 else None


def _forget(inv: Invocation, store: ScheduleStore, rest: str) -> Reply:
    assert inv.now is not None
    if not rest:
        return error_reply(COMMAND, "Which card? Give its id.", "`/re-review list` shows them, e.g. `transformer`.")
    item = _find_item(store.cards(inv.platform, inv.user), rest)
    if item is None or not store.forget_card(inv.platform, inv.user, item, now=inv.now):
        return error_reply(
            COMMAND, f"You have no review card “{quote(rest)}”.", "`/re-review list` shows your cards and their ids."
        )
    return Reply(
        command=COMMAND,
        title="Card removed",
        sections=(Section(text=f"`{split_item(item)[1]}` will not come up for review again."),),
    )


def _on(inv: Invocation, store: ScheduleStore, rest: str) -> Reply:
    assert inv.now is not None
    zone = None
    if rest:
        zone = parse_zone(rest)
        if zone is None:
            return error_reply(
                COMMAND,
                f"I don't know the time zone “{quote(rest)}”.",
                "Use an IANA name such as `Europe/Berlin` or `America/New_York`.",
            )
    elif store.get_schedule(REMINDER, inv.platform, inv.user) is None and known_zone(inv, store) is None:
        return ask_for_zone(COMMAND, "/re-review on")
    if zone is None and inv.tz and parse_zone(inv.tz):
        zone = parse_zone(inv.tz)
    store.set_review_prefs(inv.platform, inv.user, now=inv.now, enabled=True, zone=zone)
    return _status(inv, store, store.cards(inv.platform, inv.user), "Review DMs on.")


def _quiet(inv: Invocation, store: ScheduleStore, rest: str) -> Reply:
    assert inv.now is not None
    quiet = parse_quiet(rest)
    if quiet is None:
        default = f"{fmt_minutes(DEFAULT_QUIET[0])}-{fmt_minutes(DEFAULT_QUIET[1])}"
        return error_reply(
            COMMAND,
            f"“{quote(rest)}” is not a range of quiet hours.",
            f"Write it as `/re-review quiet 23:00-07:30` (the default is {default}); review DMs come "
            "when the quiet hours end.",
        )
    store.set_review_prefs(inv.platform, inv.user, now=inv.now, quiet=quiet)
    lead = f"Quiet hours set to {fmt_minutes(quiet[0])}-{fmt_minutes(quiet[1])}."
    return _status(inv, store, store.cards(inv.platform, inv.user), lead)


@command(
    COMMAND, summary="Spaced-repetition reviews of the papers and prompts you finished.", usage=USAGE, examples=EXAMPLES
)
def review(inv: Invocation, services: Services) -> Reply:
    store = store_of(services)
    if store is None:
        return no_store(COMMAND)
    assert inv.now is not None
    text = inv.text.strip()
    if refusal := too_long(COMMAND, text, "a review command", USAGE):
        return refusal
    word, _, rest = text.partition(" ")
    word, rest = word.lower(), rest.strip()
    if word in ("", "now", "due"):
        return _due_now(inv, services, store)
    if word in ("list", "cards", "all"):
        return _list(inv, services, store)
    if word in ("status", "settings"):
        return _status(inv, store, store.cards(inv.platform, inv.user))
    if word in ("on", "start", "resume"):
        return _on(inv, store, rest)
    if word in ("off", "stop"):
        store.set_review_prefs(inv.platform, inv.user, now=inv.now, enabled=False)
        return _status(inv, store, store.cards(inv.platform, inv.user), "Review DMs off; your cards are kept.")
    if word == "quiet":
        return _quiet(inv, store, rest)
    if word in ("forget", "remove", "delete"):
        return _forget(inv, store, rest)
    return error_reply(COMMAND, f"I don't understand “{quote(word)}” here.", f"Write it as `{USAGE}`.")


def _rate(name: str):
    rating = RATINGS[name]

    def run(inv: Invocation, value: str, services: Services) -> Reply:
        store = store_of(services)
        if store is None:
            return no_store(COMMAND)
        assert inv.now is not None
        now = inv.now
        recall = recall_of(services.content, value)
        if not recall:
            return error_reply(
                COMMAND,
                "That card's paper or prompt is no longer in the catalogue.",
                f"`/re-review forget {quote(split_item(value)[1], 80)}` removes it.",
            )
        zone = _zone(inv, store)
        cutoff = day_end(now, zone)

        def update(card: CardInfo) -> CardInfo | None:
            return rate(card, rating, now) if card.due < cutoff else None  # not due: already rated

        result = store.rate_card(inv.platform, inv.user, value, update, now=now)
        if result is None:
            return error_reply(COMMAND, "You have no review card for that.", "`/re-review list` shows your cards.")
        before, after = result
        asked = question_of(recall, before)
        answer = Section(text=f"**Answer:** {asked.answer}")
        if after is None:
            title = f"Already rated: next review {_date(before.due, zone)}"
        else:
            days = (after.due.astimezone(ZoneInfo(zone)).date() - now.astimezone(ZoneInfo(zone)).date()).days
            title = f"{LABELS[name]}: next review {_date(after.due, zone)} (in {days} day{'s' if days != 1 else ''})"
        return Reply(command=COMMAND, title=title, sections=(answer,))

    return run


for _name in RATINGS:
    action(f"review.{_name}")(_rate(_name))
