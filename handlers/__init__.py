"""Platform-neutral handlers: an `Invocation` in, a `Reply` out. Importing this package registers every command."""

from handlers import (  # noqa: F401  (registration)
    admin,
    faq,
    help,
    papers,
    progress,
    prompts,
    reminders,
    review,
    subscriptions,
    tracks,
)
from handlers.registry import ACTIONS, COMMANDS, dispatch, run_action
from handlers.services import Services
from handlers.types import Button, Invocation, Reply, Section

__all__ = ["ACTIONS", "COMMANDS", "Button", "Invocation", "Reply", "Section", "Services", "dispatch", "run_action"]
