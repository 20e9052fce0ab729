"""Member, channel and workspace ids as the store keeps them: at most 64 characters, no NUL character.

SQLite would keep a longer id or a NUL; PostgreSQL refuses both (VARCHAR(64), and text may not hold NUL). Checking
here, before any handler runs, makes the two behave the same: the member gets a reply, nothing is written."""

from __future__ import annotations

from handlers.types import Invocation

MAX_ID_LENGTH = 64  # the store's id columns: bot/store/models.py String(64)


def id_problem(value: str | None) -> str | None:
    """Why `value` cannot be an id, or None."""
    if value is None:
        return None
    if "\x00" in value:
        return "has a NUL character in it"
    if len(value) > MAX_ID_LENGTH:
        return f"is {len(value)} characters long"
    return None


def invocation_id_problem(inv: Invocation) -> str | None:
    """A sentence naming the id of `inv` that cannot be kept, or None."""
    for what, value in (("member id", inv.user), ("channel id", inv.channel), ("workspace id", inv.workspace)):
        if problem := id_problem(value):
            return (
                f"The {what} this command came with {problem}; ids are at most {MAX_ID_LENGTH} characters, without NUL."
            )
    return None
