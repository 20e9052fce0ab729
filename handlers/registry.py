"""Where commands and button actions are registered, and the one path every platform calls."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from rapidfuzz import fuzz, process

from handlers.ids import invocation_id_problem
from handlers.safe_text import quote
from handlers.services import Services
from handlers.syntax import localized
from handlers.types import Invocation, Reply, Section

log = logging.getLogger(__name__)

Handler = Callable[[Invocation, Services], Reply]
ActionHandler = Callable[[Invocation, str, Services], Reply]


@dataclass(frozen=True)
class CommandSpec:
    name: str  # without the slash
    summary: str
    usage: str
    examples: tuple[str, ...]
    handler: Handler
    admin: bool = False  # changes a channel: only members who may manage it


COMMANDS: dict[str, CommandSpec] = {}
ACTIONS: dict[str, ActionHandler] = {}


def command(name: str, summary: str, usage: str, examples: tuple[str, ...] = (), admin: bool = False):
    def register(fn: Handler) -> Handler:
        COMMANDS[name] = CommandSpec(name, summary, usage, examples, fn, admin)
        return fn

    return register


def action(name: str):
    def register(fn: ActionHandler) -> ActionHandler:
        ACTIONS[name] = fn
        return fn

    return register


def error_reply(command: str, message: str, *hints: str) -> Reply:
    sections = (Section(text=message), *(Section(text=h) for h in hints))
    return Reply(command=command, sections=sections, error=True)


def not_checked(command: str, platform: str, what: str) -> Reply:
    """The platform did not say in time whether the member may do `what` (a slow or failing look-up): never a
    refusal, and nothing is remembered; the member tries again."""
    return error_reply(
        command,
        f"I couldn't check with {platform.capitalize()} whether you may {what}: it did not answer in time.",
        "Nothing was changed. Please try again in a moment.",
    )


def _failure(command: str) -> Reply:
    reply = error_reply(command, "Sorry, something went wrong on my side. It has been logged; please try again.")
    return replace(reply, failed=True)


def _with_now(inv: Invocation, services: Services) -> Invocation:
    return inv if inv.now is not None else replace(inv, now=services.clock())


def closest_command(name: str) -> str | None:
    """The registered command a mistyped `name` most likely meant ('re-fq' -> 're-faq', 'faq' -> 're-faq')."""
    name = name.strip().lstrip("/").lower()[:40]
    if not name:
        return None
    if f"re-{name}" in COMMANDS:
        return f"re-{name}"
    found = process.extractOne(name, list(COMMANDS), scorer=fuzz.ratio, score_cutoff=70)
    return found[0] if found else None


def unknown_command(name: str) -> Reply:
    """The reply to a command that does not exist: the one it probably meant, and the list."""
    shown = quote(name.lstrip("/"), 40)
    known = ", ".join(f"/{n}" for n in COMMANDS)
    close = closest_command(name)
    hints = ([f"Did you mean `/{close}`?"] if close else []) + [f"Commands: {known}. `/re-help` explains each."]
    return error_reply(name, f"I don't know the command /{shown}.", *hints)


ID_HINT = "Nothing was saved. This is the platform's (or the console's `:user` / `:channel`) id, not your text."


def dispatch(inv: Invocation, services: Services) -> Reply:
    """Run a slash command. Never raises: a bug becomes an apology, logged with its traceback. The commands the
    reply shows are in the syntax of the member's platform."""
    return localized(_dispatch(inv, services), inv.platform)


def _dispatch(inv: Invocation, services: Services) -> Reply:
    spec = COMMANDS.get(inv.command.lstrip("/").lower())
    if spec is None:
        return unknown_command(inv.command)
    if bad := invocation_id_problem(inv):
        return error_reply(spec.name, bad, ID_HINT)
    try:
        pinned = services.pinned()  # a content reload meanwhile does not change what this command sees
        return spec.handler(_with_now(inv, pinned), pinned)
    except Exception:
        log.exception("handler for /%s failed", spec.name)
        return _failure(spec.name)


def run_action(name: str, value: str, inv: Invocation, services: Services) -> Reply:
    """Run a button's action with its value, on behalf of the member who pressed it. Never raises. The commands the
    reply shows are in the syntax of the member's platform."""
    return localized(_run_action(name, value, inv, services), inv.platform)


def _run_action(name: str, value: str, inv: Invocation, services: Services) -> Reply:
    fn = ACTIONS.get(name)
    if fn is None:
        return error_reply(inv.command, "That button no longer does anything. Try the command again.")
    if bad := invocation_id_problem(inv):
        return error_reply(inv.command, bad, ID_HINT)
    try:
        pinned = services.pinned()
        return fn(_with_now(inv, pinned), value, pinned)
    except Exception:
        log.exception("action %s failed", name)
        return _failure(inv.command)
