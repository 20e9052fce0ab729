"""Platform-neutral handlers: an `Invocation` in, a `Reply` out. Importing this package registers every command."""

from handlers import faq, help, papers, prompts  # noqa: F401  (registration side effect)
from handlers.registry import ACTIONS, COMMANDS, dispatch, run_action
from handlers.services import Services
from handlers.types import Button, Invocation, Reply, Section

__all__ = ["ACTIONS", "COMMANDS", "Button", "Invocation", "Reply", "Section", "Services", "dispatch", "run_action"]
