"""`/re-prompt`: today's study prompt, the next one, or one of a kind or area."""

from __future__ import annotations

from typing import get_args

from content.schema import Prompt, PromptArea, PromptKind
from handlers import rotation
from handlers.papers import local_day
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
    return error_reply(
        COMMAND,
        f"I don't know a prompt kind or area called “{quote(inv.text.strip())}”.",
        f"Try `/re-prompt`, `/re-prompt next`, a kind ({', '.join(KINDS)}) or an area ({', '.join(PROMPT_AREAS)}).",
    )


@action("prompt.another")
def another(inv: Invocation, value: str, services: Services) -> Reply:
    return prompt_reply(rotation.after(services.content.prompts, value), "Another study prompt")
