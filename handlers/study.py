"""A member's study: the next step a reminder carries, and the progress (streak, papers, prompts) it adds up to.

Steps come from the shared rotation: two prompts, then a paper, each the first one from the day's place in the
rotation that the member has not finished yet. Items are referred to as "prompt:<id>" and "paper:<id>".

Stored items keep the id they were recorded under; a prompt retired from the content since (`content/retired.yaml`)
is read as what now sets its task (`current_item`), by every reader: progress, tracks, reminders, review cards.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from content import Content
from content.schema import RetiredPrompt
from handlers import rotation
from handlers.papers import paper_reply
from handlers.prompts import prompt_reply
from handlers.safe_text import shorten
from handlers.types import Button, Reply

PAPER_EVERY = 3  # every third step is a paper; the others are prompts


def split_item(item: str) -> tuple[str, str]:
    kind, _, item_id = item.partition(":")
    return kind, item_id


def retired_record(content: Content, item: str) -> RetiredPrompt | None:
    """The record of the retired prompt `item` names; None for any other item."""
    kind, item_id = split_item(item)
    return content.retired_prompt(item_id) if kind == "prompt" else None


def current_item(content: Content, item: str) -> str:
    """The item that stands for a stored `item` now: for a retired prompt, its replacement ("paper:<id>" when one of
    a paper's prompts sets its task, "prompt:<id>"); otherwise (a live item, a prompt dropped outright, an unknown
    one) `item` itself. Stored rows are never rewritten: every reader resolves them through here."""
    record = retired_record(content, item)
    if record is not None and record.paper is not None:
        return "paper:" + record.paper
    if record is not None and record.prompt is not None:
        return "prompt:" + record.prompt
    return item


def is_known_item(content: Content, item: str) -> bool:
    """Whether `item` is a paper or prompt of the content, live or retired."""
    kind, item_id = split_item(current_item(content, item))
    if kind == "prompt":
        return content.prompt(item_id) is not None or content.retired_prompt(item_id) is not None
    return kind == "paper" and content.paper(item_id) is not None


def item_title(content: Content, item: str) -> str:
    """How a study item reads in a list: a paper's title, a prompt's text (shortened); never a bare id. A retired
    prompt reads as what replaced it, or as the text it had when nothing did."""
    kind, item_id = split_item(current_item(content, item))
    if kind == "paper" and (paper := content.paper(item_id)) is not None:
        record = retired_record(content, item)
        which = f" (prompt {record.paper_prompt})" if record is not None else ""
        return f"Paper: {paper.title}{which}"
    if kind == "prompt" and (prompt := content.prompt(item_id) or content.retired_prompt(item_id)) is not None:
        return f"Prompt: {shorten(prompt.text, 90)}"
    return f"A {kind or 'study'} step that is no longer in the content"


def next_step(content: Content, day: date, done: Iterable[str]) -> str:
    """The item the member's next reminder carries, given what they have finished (a retired prompt counting as
    what replaced it, so the replacement is not served as a new task)."""
    done = set(done)
    current = [split_item(current_item(content, item)) for item in done]
    kinds = {"prompt": {i for k, i in current if k == "prompt"}, "paper": {i for k, i in current if k == "paper"}}
    if len(done) % PAPER_EVERY == PAPER_EVERY - 1 and content.papers:
        return "paper:" + rotation.unseen(content.papers, day, kinds["paper"]).id
    return "prompt:" + rotation.unseen(content.prompts, day, kinds["prompt"]).id


def done_button(item: str) -> Button:
    return Button("Done", "remind.done", item, "primary")


def step_buttons(item: str) -> tuple[Button, ...]:
    return (done_button(item), Button("Snooze 1h", "remind.snooze", "1h"))


def shown_item(reply: Reply) -> str | None:
    """The study item a /re-paper or /re-prompt reply shows ("paper:<id>" / "prompt:<id>"), for a "Done" button."""
    if reply.paper:
        return "paper:" + reply.paper
    if reply.prompt:
        return "prompt:" + reply.prompt
    return None


def reminder_reply(content: Content, item: str, day: date) -> Reply:
    """The reminder DM: the step (the same reply as /re-prompt or /re-paper) with "Done" and "Snooze 1h". A step
    chosen before its prompt was retired sends what replaced it."""
    item = current_item(content, item)
    kind, item_id = split_item(item)
    paper = content.paper(item_id) if kind == "paper" else None
    prompt = content.prompt(item_id) if kind == "prompt" else None
    if paper is not None:
        base = paper_reply(paper, "Your study reminder: today's paper")
    else:
        prompt = prompt or rotation.for_day(content.prompts, day)  # the content changed since the step was chosen
        item = "prompt:" + prompt.id
        base = prompt_reply(prompt, "Your study reminder: today's step")
    footer = "Press Done when you have finished it. `/re-remind pause 3 days` or `/re-remind off` to change reminders."
    return replace(
        base, command="re-remind", buttons=step_buttons(item), context=(*base.context, footer), ephemeral=False
    )


@dataclass(frozen=True)
class ProgressSummary:
    streak: int  # consecutive local days with a finished step, ending today (or yesterday: today is not over)
    papers: int
    prompts: int
    days: int  # distinct days with a finished step


def summarize(done: Iterable[tuple[str, date]], today: date) -> ProgressSummary:
    done = list(done)
    days = {d for _, d in done}
    day = today if today in days else today - timedelta(days=1)
    streak = 0
    while day in days:
        streak += 1
        day -= timedelta(days=1)
    papers = sum(1 for item, _ in done if split_item(item)[0] == "paper")
    prompts = sum(1 for item, _ in done if split_item(item)[0] == "prompt")
    return ProgressSummary(streak=streak, papers=papers, prompts=prompts, days=len(days))
