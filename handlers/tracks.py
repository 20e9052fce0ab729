"""`/re-track`: the ordered study tracks of the content, with the member's progress through them.

Progress is what the member marked done (the "Done" buttons of reminders and of this command), so a track needs
no state of its own: a step is complete when every prompt and paper in it is done.
"""

from __future__ import annotations

from content import Content, Track
from content.schema import TrackStep
from handlers.registry import command, error_reply
from handlers.safe_text import quote
from handlers.services import Services
from handlers.study import current_item
from handlers.types import Button, Invocation, Reply, Section

COMMAND = "re-track"


def step_items(step: TrackStep) -> list[str]:
    """The step's work in the order to do it: prompts, then papers, as "prompt:<id>" / "paper:<id>"."""
    return [f"prompt:{p}" for p in step.prompts] + [f"paper:{p}" for p in step.papers]


def next_step_index(track: Track, done: set[str]) -> int | None:
    """The first step with work not yet done, or None when the track is finished."""
    return next((i for i, step in enumerate(track.steps) if not set(step_items(step)) <= done), None)


def _step_detail(content: Content, step: TrackStep, done: set[str]) -> tuple[list[Section], list[Button]]:
    items: list[str] = []
    buttons: list[Button] = []
    for prompt_id in step.prompts:
        prompt = content.prompt(prompt_id)
        if prompt is not None:
            mark = "✓ " if f"prompt:{prompt_id}" in done else ""
            items.append(f"{mark}{prompt.text} _(about {prompt.minutes} min)_")
    for paper_id in step.papers:
        paper = content.paper(paper_id)
        if paper is not None:
            mark = "✓ " if f"paper:{paper_id}" in done else ""
            link = f"[{paper.title}]({paper.url})" if paper.url else f"**{paper.title}**"
            items.append(f"{mark}Read {link} ({paper.byline}); `/re-paper {paper.id}` has its study prompts")
    todo = next((item for item in step_items(step) if item not in done), None)
    if todo is not None:
        buttons.append(Button("Done with the first open item", "remind.done", todo, "primary"))
    sections = [Section(text=f"**Next: {step.title}**", items=tuple(items))]
    if step.faq:
        sections.append(Section(text="Background: " + " · ".join(f"`/re-faq {t}`" for t in step.faq)))
    return sections, buttons


def track_reply(content: Content, track: Track, done: set[str]) -> Reply:
    current = next_step_index(track, done)
    lines = []
    for index, step in enumerate(track.steps):
        mark = "→" if index == current else "✓" if set(step_items(step)) <= done else "·"
        lines.append(f"{mark} {index + 1}. {step.title}")
    sections = [Section(text=track.description), Section(text="**Steps**", items=tuple(lines))]
    buttons: list[Button] = []
    if current is None:
        sections.append(Section(text="You have finished every step of this track. Well done."))
    else:
        detail, buttons = _step_detail(content, track.steps[current], done)
        sections += detail
    return Reply(
        command=COMMAND,
        title=track.title,
        sections=tuple(sections),
        context=("Progress counts the items you marked Done here or on reminders; `/re-progress` sums it up.",),
        buttons=tuple(buttons),
    )


def track_list(content: Content) -> Reply:
    items = tuple(f"`/re-track {t.id}`: **{t.title}** ({len(t.steps)} steps). {t.description}" for t in content.tracks)
    return Reply(
        command=COMMAND,
        title="Study tracks",
        sections=(Section(text="Ordered plans, one step a week. Pick one to see your next step.", items=items),),
    )


@command(
    COMMAND,
    summary="Ordered study tracks (SWE to RE, language models, RL) and your next step in one.",
    usage="/re-track [TRACK]",
    examples=("/re-track", "/re-track swe-to-re"),
)
def track(inv: Invocation, services: Services) -> Reply:
    content = services.content
    wanted = inv.text.strip().lower()
    if not wanted:
        return track_list(content)
    found = next((t for t in content.tracks if t.id == wanted), None)
    if found is None:
        ids = ", ".join(f"`{t.id}`" for t in content.tracks)
        return error_reply(COMMAND, f"There is no study track “{quote(inv.text.strip())}”.", f"Tracks: {ids}.")
    store = services.store
    stored = store.done_items(inv.platform, inv.user) if store is not None else []
    done = {current_item(content, d.item) for d in stored}
    return track_reply(content, found, done)
