"""`/re-faq`: the topic list, an answer by id or alias, or the best topic for a free-text question."""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import replace

from content.schema import GROUP_ORDER, FaqEntry
from content.search import Match
from handlers.redact import redact
from handlers.registry import action, command
from handlers.safe_text import quote, shorten
from handlers.services import Services
from handlers.store_api import AskedQuestion, QueryLog
from handlers.types import Button, Invocation, Reply, Section, paragraphs

log = logging.getLogger(__name__)

COMMAND = "re-faq"
BUTTON_LABEL = 60  # fits Slack (75) and Discord (80) button labels with room to spare
HELPFUL, MISS = "faq.helpful", "faq.miss"
SHARE, SHARE_LABEL = "faq.share", "Share in channel"
# A feedback button's value is "<topic>" or "<topic>:<ref>", ref being the questions log's handle for the question.
REF_SEPARATOR = ":"


def query_log(services: Services) -> QueryLog | None:
    """The store's questions log, when there is a store that keeps one."""
    store = services.store
    return store if store is not None and hasattr(store, "record_question") else None


def _record(inv: Invocation, services: Services, query: str, topic: str | None, match: Match | None) -> str | None:
    """Log the question (redacted, no member id); the ref its feedback buttons carry, or None without a log.

    A failing log never costs the member their answer. Only the error's type is logged: a database error's text
    can carry the statement's parameters, the question among them."""
    questions = query_log(services)
    if questions is None:
        return None
    ranked = tuple(t for t, s in match.ranked[:3] if s > 0) if match else ()
    score = match.ranked[0][1] if match and match.ranked else None
    asked = AskedQuestion(
        platform=inv.platform,
        workspace=inv.workspace,
        text=redact(query),
        topic=topic,
        nearest=ranked or ((topic,) if topic else ()),
        confidence=score if score is not None and math.isfinite(score) else None,
    )
    assert inv.now is not None
    try:
        return questions.record_question(asked, now=inv.now)
    except Exception as exc:
        log.error("could not log a /re-faq question (%s); answered anyway", type(exc).__name__)
        return None


def split_value(value: str) -> tuple[str, str | None]:
    """A topic button's value as (topic, ref or None)."""
    topic, _, ref = value.partition(REF_SEPARATOR)
    return topic, ref or None


def _value(topic: str, ref: str | None) -> str:
    return f"{topic}{REF_SEPARATOR}{ref}" if ref else topic


def feedback_buttons(topic: str, ref: str | None) -> tuple[Button, ...]:
    """The two quiet buttons every answer carries."""
    value = _value(topic, ref)
    return (Button("Helpful", HELPFUL, value), Button("Not what I asked", MISS, value))


def topic_button(entry: FaqEntry, ref: str | None = None) -> Button:
    """A button that shows a topic's answer, labelled with its title (and tied to the question `ref`, if any)."""
    return Button(shorten(entry.title, BUTTON_LABEL), "faq.show", _value(entry.id, ref))


def answer(entry: FaqEntry, services: Services, ref: str | None = None) -> Reply:
    context = []
    if entry.see_also:
        titles = [f"`/re-faq {t}`" for t in entry.see_also if t in services.content.faqs]
        context.append("See also: " + " · ".join(titles))
    if entry.sources:
        context.append("Sources: " + "; ".join(entry.sources))
    return Reply(
        command=COMMAND,
        title=entry.title,
        sections=paragraphs(entry.body),
        context=tuple(context),
        buttons=(Button(SHARE_LABEL, SHARE, _value(entry.id, ref), "primary"), *feedback_buttons(entry.id, ref)),
        topic=entry.id,
    )


def topic_list(services: Services) -> Reply:
    groups: dict[str, list[FaqEntry]] = defaultdict(list)
    for entry in services.content.faqs.values():
        groups[entry.group].append(entry)
    order = sorted(groups, key=lambda g: (GROUP_ORDER.index(g) if g in GROUP_ORDER else len(GROUP_ORDER), g))
    sections = [
        Section(
            text=f"**{group}**",
            items=tuple(f"`{e.id}`: {e.title}" for e in groups[group]),
        )
        for group in order
    ]
    return Reply(
        command=COMMAND,
        title=f"Career FAQ: {len(services.content.faqs)} topics",
        sections=(
            Section(text="Ask with a topic id, or just type your question in your own words."),
            *sections,
        ),
        context=("Examples: `/re-faq phd` · `/re-faq how do I move from SWE to research engineering?`",),
    )


def off_topic(query: str, services: Services) -> Reply:
    """The reply to a question that is not about the career (or has no words to go on): what the FAQ covers."""
    return Reply(
        command=COMMAND,
        sections=(
            Section(
                text=f"I answer career questions about ML research engineering, and “{quote(query)}” doesn't look like"
                " one. Ask about one of these topics, or type `/re-faq` to see them with their titles:"
            ),
            Section(text=" · ".join(f"`{t}`" for t in services.content.faqs)),
        ),
        error=True,
    )


def _suggest(query: str, suggestions: tuple[str, ...], services: Services, ref: str | None) -> Reply:
    faqs = services.content.faqs
    return Reply(
        command=COMMAND,
        sections=(
            Section(
                text=f"I'm not sure which topic you mean by “{quote(query)}”. Did you mean one of these?",
                items=tuple(f"`/re-faq {t}`: {faqs[t].title}" for t in suggestions),
            ),
        ),
        buttons=tuple(topic_button(faqs[t], ref) for t in suggestions),
        suggestions=suggestions,
    )


@command(
    COMMAND,
    summary="Answers career questions: the role, PhD or not, switching from SWE, learning, pay, interviews.",
    usage="/re-faq [topic or question]",
    examples=("/re-faq", "/re-faq phd", "/re-faq how do I switch from software engineering?"),
)
def faq(inv: Invocation, services: Services) -> Reply:
    query = inv.text.strip()
    if not query:
        return topic_list(services)
    entry = services.content.faq_by_alias(query)
    if entry is not None:
        return answer(entry, services, _record(inv, services, query, entry.id, None))
    match = services.matcher.match(query)
    ref = _record(inv, services, query, match.topic, match)
    if match.topic is None:
        return _suggest(query, match.suggestions, services, ref) if match.suggestions else off_topic(query, services)
    reply = answer(services.content.faqs[match.topic], services, ref)
    if not match.alternatives:
        return reply
    faqs = services.content.faqs
    others = " · ".join(f"`/re-faq {t}`" for t in match.alternatives)
    return replace(
        reply,
        context=(f"Not quite what you asked? Try {others}", *reply.context),
        buttons=(*reply.buttons, *(topic_button(faqs[t], ref) for t in match.alternatives)),
    )


@action("faq.show")
def show(inv: Invocation, value: str, services: Services) -> Reply:
    topic, ref = split_value(value)
    entry = services.content.faqs.get(topic)
    return answer(entry, services, ref) if entry else topic_list(services)


def _vote(inv: Invocation, services: Services, topic: str, ref: str | None, helpful: bool) -> None:
    questions = query_log(services)
    if questions is None or ref is None:
        return  # an answer reached without a question (the topic list): nothing to attach the vote to
    assert inv.now is not None
    try:
        questions.record_vote(ref, topic, inv.platform, inv.user, helpful, now=inv.now)
    except Exception as exc:
        log.error("could not record FAQ feedback (%s)", type(exc).__name__)


@action(HELPFUL)
def helpful(inv: Invocation, value: str, services: Services) -> Reply:
    """The answer stays as it was, with a quiet thank-you; pressing the other button later changes the vote."""
    topic, ref = split_value(value)
    entry = services.content.faqs.get(topic)
    if entry is None:
        return topic_list(services)
    _vote(inv, services, topic, ref, True)
    reply = answer(entry, services, ref)
    return replace(reply, context=("Thanks, noted as helpful.", *reply.context))


@action(MISS)
def miss(inv: Invocation, value: str, services: Services) -> Reply:
    """Records the miss and offers the next best topics for the same question; asks nothing more."""
    topic, ref = split_value(value)
    faqs = services.content.faqs
    _vote(inv, services, topic, ref, False)
    questions = query_log(services)
    nearest = questions.question_nearest(ref) if questions is not None and ref else None
    entry = faqs.get(topic)
    candidates = [*(nearest or ()), *(entry.see_also if entry else ())]
    others = tuple(dict.fromkeys(t for t in candidates if t != topic and t in faqs))[:3]
    if not others:
        return Reply(
            command=COMMAND,
            sections=(Section(text="Thanks, noted. Type `/re-faq` to see every topic, or ask in other words."),),
        )
    return Reply(
        command=COMMAND,
        sections=(
            Section(
                text="Thanks, noted. One of these may be closer:",
                items=tuple(f"`/re-faq {t}`: {faqs[t].title}" for t in others),
            ),
        ),
        buttons=tuple(topic_button(faqs[t], ref) for t in others),
        suggestions=others,
    )


@action(SHARE)
def share(inv: Invocation, value: str, services: Services) -> Reply:
    """The answer again, for the whole channel, crediting the member who shared it. The public copy has no buttons
    (a vote is one member's, on their own question); the member's private copy keeps its feedback buttons."""
    topic, ref = split_value(value)
    entry = services.content.faqs.get(topic)
    if entry is None:
        return topic_list(services)
    private = answer(entry, services, ref)
    kept = tuple(b for b in private.buttons if b.action != SHARE)
    return replace(private, buttons=(), kept_buttons=kept, ephemeral=False, shared_by=inv.user)
