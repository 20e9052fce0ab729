"""The platform-neutral currency of the bot: an `Invocation` comes in, a `Reply` goes out.

Adapters (console, Slack, Discord, the scheduler) build an `Invocation` from whatever their platform sends, and
render a `Reply` within their platform's limits. Nothing here knows about Slack blocks or Discord embeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

Platform = Literal["console", "slack", "discord"]
ButtonStyle = Literal["default", "primary", "danger"]


@dataclass(frozen=True)
class Invocation:
    """One slash command as a member typed it, already stripped of the platform's wrapping."""

    command: str  # without the slash: "re-faq"
    text: str = ""
    user: str = "U-console"
    channel: str = "C-console"
    platform: Platform = "console"
    tz: str | None = None  # IANA zone the platform knows for the member (Slack users.info), if any
    # May the member change this channel's subscriptions? None: the platform could not tell in time (a slow lookup),
    # so the member is asked to try again rather than refused.
    can_manage_channel: bool | None = False
    cannot_post: str | None = None  # why the bot cannot post in this channel, in the platform's words with the fix
    # Slack workspace admin or owner / may manage the Discord server / the console. None: the platform could not tell
    # in time (a slow or failing lookup), so the member is asked to try again rather than refused.
    workspace_admin: bool | None = False
    workspace: str | None = None  # Slack team id / Discord guild id, when there is one
    now: datetime | None = None  # the instant the command is handled at; None means "ask the clock"


@dataclass(frozen=True)
class Button:
    """An action a member can take on a reply. `action` names the handler; `value` carries its argument."""

    label: str
    action: str  # e.g. "faq.show", "faq.share", "paper.another", "remind.done", "remind.snooze"
    value: str = ""
    style: ButtonStyle = "default"


@dataclass(frozen=True)
class Section:
    """One block of the reply body: a Markdown paragraph, or a list of Markdown items. `buttons` belong to this
    section (a review card's ratings): renderers place them with it, not with the reply's own buttons."""

    text: str = ""
    items: tuple[str, ...] = ()
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class Reply:
    """What the bot says, as data. Renderers decide how it looks on each platform."""

    command: str
    sections: tuple[Section, ...] = ()
    title: str | None = None
    context: tuple[str, ...] = ()  # small print: see also, sources (Markdown)
    buttons: tuple[Button, ...] = ()
    ephemeral: bool = True  # visible only to the member who asked
    topic: str | None = None  # FAQ id answered, when one was
    paper: str | None = None  # paper id shown, when one was
    prompt: str | None = None  # study prompt id shown, when one was
    suggestions: tuple[str, ...] = ()  # FAQ ids offered when no single answer was chosen
    error: bool = False  # the member's input could not be used; the reply says why and how to fix it
    shared_by: str | None = None  # platform user id of the member who shared this publicly; renderers credit them
    # A shared reply: the buttons the sharer's own private copy keeps once it says "shared" (all but Share), for
    # platforms that do not send back the message a button was on (Slack, for ephemeral messages).
    kept_buttons: tuple[Button, ...] = ()
    followups: tuple[Reply, ...] = field(default=())  # e.g. a paper's study prompts, posted as a thread
    failed: bool = False  # a bug on our side (the handler raised): counted and logged apart from members' mistakes

    @property
    def all_buttons(self) -> tuple[Button, ...]:
        """The sections' buttons, in order, then the reply's own."""
        return (*(b for s in self.sections for b in s.buttons), *self.buttons)

    def with_visibility(self, ephemeral: bool) -> Reply:
        return replace(self, ephemeral=ephemeral)


def paragraphs(markdown: str) -> tuple[Section, ...]:
    """Split Markdown into sections at blank lines, keeping lists whole, so renderers can size each piece."""
    blocks = [b.strip() for b in markdown.strip().split("\n\n")]
    return tuple(Section(text=b) for b in blocks if b)
