"""`/re-prompt`: today's study prompt, the next one, or one of a kind or area."""

from __future__ import annotations

from dataclasses import replace
from typing import get_args

from content import Content
from content.schema import Prompt, PromptArea, PromptKind, RetiredPrompt
from handlers import rotation
from handlers.papers import local_day, paper_reply
from handlers.registry import action, command, error_reply
from handlers.safe_text import quote
from handlers.services import Services
from handlers.types import Button, Invocation, Reply, Section

COMMAND = "re-prompt"
KINDS: tuple[str, ...] = get_args(PromptKind)
PROMPT_AREAS: tuple[str, ...] = get_args(PromptArea)


def prompt_reply(prompt: Prompt, heading: str = "Today's study prompt") -> Reply:
    tags = dict.fromkeys((prompt.kind, prompt.area, prompt.level))  # a career prompt in the career area: "career" once
    return Reply(
        command=COMMAND,
        title=heading,
        sections=(Section(text=prompt.text),),
        context=(" · ".join([*tags, f"about {prompt.minutes} min", f"`{prompt.id}`"]),),
        buttons=(Button("Another prompt", "prompt.another", prompt.id),),
        prompt=prompt.id,
    )


def retired_reply(content: Content, record: RetiredPrompt) -> Reply:
    """`/re-prompt <retired id>`: what now sets the task of a prompt taken out of the content."""
    note = f"`{record.id}` was retired: "
    paper = content.paper(record.paper) if record.paper is not None else None
    prompt = content.prompt(record.prompt) if record.prompt is not None else None
    if paper is not None:
        base = paper_reply(paper, paper.title)
        note += f"prompt {record.paper_prompt} of this paper now sets its task."
    elif prompt is not None:
        base = prompt_reply(prompt, "Study prompt")
        note += "this prompt now sets its task."
    else:
        return error_reply(
            COMMAND,
            f"The prompt `{record.id}` was retired and no other prompt sets its task now.",
            "Try `/re-prompt` for today's prompt, or a kind or area such as `/re-prompt implement`.",
        )
    return replace(base, command=COMMAND, context=(note, *base.context))


@command(
    COMMAND,
    summary="A study prompt you can finish today: implement, read, reflect or a career step.",
    usage="/re-prompt [next|KIND|AREA]",
    examples=("/re-prompt", "/re-prompt implement", "/re-prompt career"),
)
def prompt(inv: Invocation, services: Services) -> Reply:
    assert inv.now is not None
    prompts = services.content.prompts
    day = local_day(inv.now, inv.tz)
    query = inv.text.strip().lower()
    if query in ("", "today"):
        return prompt_reply(rotation.for_day(prompts, day))
    if query in ("next", "another", "tomorrow"):
        return prompt_reply(rotation.after(prompts, rotation.for_day(prompts, day).id), "Next study prompt")
    if query in KINDS or query in PROMPT_AREAS:
        chosen = [p for p in prompts if query in (p.kind, p.area)]
        if chosen:
            return prompt_reply(rotation.for_day(chosen, day), f"Today's {query} prompt")
    found = services.content.prompt(query)
    if found:
        return prompt_reply(found, "Study prompt")
    if retired := services.content.retired_prompt(query):
        return retired_reply(services.content, retired)
    return error_reply(
        COMMAND,
        f"I don't know a prompt kind or area called “{quote(inv.text.strip())}”.",
        f"Try `/re-prompt`, `/re-prompt next`, a kind ({', '.join(KINDS)}) or an area ({', '.join(PROMPT_AREAS)}).",
    )


@action("prompt.another")
def another(inv: Invocation, value: str, services: Services) -> Reply:
    return prompt_reply(rotation.after(services.content.prompts, value), "Another study prompt")
