"""`/re-faq`: the topic list, an answer by id or alias, or the best topic for a free-text question."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from content.schema import GROUP_ORDER, FaqEntry
from handlers.registry import action, command
from handlers.safe_text import quote, shorten
from handlers.services import Services
from handlers.types import Button, Invocation, Reply, Section, paragraphs

COMMAND = "re-faq"
BUTTON_LABEL = 60  # fits Slack (75) and Discord (80) button labels with room to spare


def topic_button(entry: FaqEntry) -> Button:
    """A button that shows a topic's answer, labelled with its title."""
    return Button(shorten(entry.title, BUTTON_LABEL), "faq.show", entry.id)


def answer(entry: FaqEntry, services: Services) -> Reply:
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
        buttons=(Button("Share in channel", "faq.share", entry.id, "primary"),),
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


def _suggest(query: str, suggestions: tuple[str, ...], services: Services) -> Reply:
    faqs = services.content.faqs
    return Reply(
        command=COMMAND,
        sections=(
            Section(
                text=f"I'm not sure which topic you mean by “{quote(query)}”. Did you mean one of these?",
                items=tuple(f"`/re-faq {t}`: {faqs[t].title}" for t in suggestions),
            ),
        ),
        buttons=tuple(topic_button(faqs[t]) for t in suggestions),
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
        return answer(entry, services)
    match = services.matcher.match(query)
    if match.topic is None:
        return _suggest(query, match.suggestions, services) if match.suggestions else off_topic(query, services)
    reply = answer(services.content.faqs[match.topic], services)
    if not match.alternatives:
        return reply
    faqs = services.content.faqs
    others = " · ".join(f"`/re-faq {t}`" for t in match.alternatives)
    return replace(
        reply,
        context=(f"Not quite what you asked? Try {others}", *reply.context),
        buttons=(*reply.buttons, *(topic_button(faqs[t]) for t in match.alternatives)),
    )


@action("faq.show")
def show(inv: Invocation, value: str, services: Services) -> Reply:
    entry = services.content.faqs.get(value)
    return answer(entry, services) if entry else topic_list(services)


@action("faq.share")
def share(inv: Invocation, value: str, services: Services) -> Reply:
    """The answer again, for the whole channel, crediting the member who shared it."""
    entry = services.content.faqs.get(value)
    if entry is None:
        return topic_list(services)
    return replace(answer(entry, services), buttons=(), ephemeral=False, shared_by=inv.user)
