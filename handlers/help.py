"""`/re-help`: every command with its usage and examples, built from the registry so it never goes stale."""

from __future__ import annotations

from handlers.registry import COMMANDS, closest_command, command, error_reply
from handlers.safe_text import quote
from handlers.services import Services
from handlers.types import Invocation, Reply, Section

COMMAND = "re-help"
MANAGERS = {"slack": "workspace admins and the channel's creator", "discord": "members with Manage Channels"}


@command(COMMAND, summary="This list of commands.", usage="/re-help [COMMAND]", examples=("/re-help re-remind",))
def help_(inv: Invocation, services: Services) -> Reply:
    wanted = inv.text.strip().lstrip("/").lower()
    specs = list(COMMANDS.values())
    if wanted:
        specs = [s for s in specs if s.name in (wanted, f"re-{wanted}")]
        if not specs:
            close = closest_command(wanted)
            hint = f"Did you mean `/re-help {close}`? " if close else ""
            return error_reply(COMMAND, f"There is no command “{quote(inv.text.strip())}”.", hint + "Type `/re-help`.")
    sections = []
    for spec in specs:
        # Usage and examples in code: dispatch shows them as the member types them (Discord: `/re-faq topic:phd`).
        examples = " · ".join(f"`{e}`" for e in spec.examples)
        admin = f" ({MANAGERS.get(inv.platform, 'channel managers only')})" if spec.admin else ""
        # Hard line breaks ("\\" at the end of a line): usage, what it does and examples on lines of their own
        # everywhere, the console's plain text included (a soft break there is a space).
        lines = [f"`{spec.usage}`{admin}", spec.summary,
                 *([f"Examples: {examples}"] if examples else [])]  # fmt: skip
        sections.append(Section(text="\\\n".join(lines)))
    return Reply(
        command=COMMAND,
        title="re-bot: a study companion on the way to ML research engineering",
        sections=tuple(sections),
        context=("Answers are visible only to you unless you press “Share in channel”.",),
    )
