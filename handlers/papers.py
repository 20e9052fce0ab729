"""`/re-paper`: today's paper, the next one, one from an area, or one by id."""

from __future__ import annotations

from datetime import date, datetime

from content.paper_search import find_paper
from content.schema import AREAS, Paper
from handlers import rotation
from handlers.registry import action, command, error_reply
from handlers.safe_text import quote
from handlers.services import Services, zone_or_utc
from handlers.types import Button, Invocation, Reply, Section

COMMAND = "re-paper"


def local_day(now: datetime, tz: str | None) -> date:
    return now.astimezone(zone_or_utc(tz)).date()


def paper_reply(paper: Paper, heading: str = "") -> Reply:
    """A paper as members see it everywhere (command, channel post): why it matters, then its study prompts."""
    link = f"[{paper.title}]({paper.url})" if paper.url else f"**{paper.title}**"
    sections = [
        Section(text=f"{link}\n{paper.byline} · {paper.area} · {paper.level}"),
        Section(text=f"**Why it matters:** {paper.why}"),
        Section(text="**Study prompts**", items=tuple(paper.prompts)),
    ]
    return Reply(
        command=COMMAND,
        title=heading or "Paper of the day",
        sections=tuple(sections),
        context=(f"`/re-paper {paper.id}` · `/re-paper {paper.area}` for more in this area",),
        buttons=(Button("Another paper", "paper.another", paper.id),),
        paper=paper.id,
    )


def _unknown(query: str, close: tuple[Paper, ...]) -> Reply:
    hint = "Did you mean " + " · ".join(f"`/re-paper {p.id}` ({p.title})" for p in close) + "? " if close else ""
    return error_reply(
        COMMAND,
        f"I don't know a paper or area called “{quote(query)}”.",
        f"{hint}Try `/re-paper` (today's), `/re-paper next`, an area ({', '.join(AREAS)}), or a paper's title, "
        "common name or id.",
    )


@command(
    COMMAND,
    summary="A seminal paper to study: why it matters and prompts to work through.",
    usage="/re-paper [today|next|AREA|ID|title]",
    examples=("/re-paper", "/re-paper next", "/re-paper rl", "/re-paper attention is all you need", "/re-paper gpt-3"),
)
def paper(inv: Invocation, services: Services) -> Reply:
    assert inv.now is not None
    papers = services.content.papers
    day = local_day(inv.now, inv.tz)
    query = inv.text.strip().lower()
    if query in ("", "today"):
        return paper_reply(rotation.for_day(papers, day), "Paper of the day")
    if query in ("next", "another", "tomorrow"):
        return paper_reply(rotation.after(papers, rotation.for_day(papers, day).id), "Next paper")
    if query in AREAS:
        in_area = [p for p in papers if p.area == query]
        return paper_reply(rotation.for_day(in_area, day), f"Today's {query} paper")
    match = find_paper(papers, query)
    return paper_reply(match.paper, match.paper.title) if match.paper else _unknown(inv.text.strip(), match.suggestions)


@action("paper.another")
def another(inv: Invocation, value: str, services: Services) -> Reply:
    return paper_reply(rotation.after(services.content.papers, value), "Another paper")
