"""The seam between the scheduler and the platforms: a `Sender` delivers one `Reply` to one target.

Senders translate their platform's failures into two exceptions, so the dispatcher's policy (retry with back-off,
honour Retry-After, pause the schedule on a permanent failure) lives in one place for every platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from handlers.types import Reply

DeliveryKind = Literal["reminder", "channel-post", "review"]
DM_KINDS: frozenset[str] = frozenset({"reminder", "review"})  # sent to a member's DM; the rest go to channels


@dataclass(frozen=True)
class Sent:
    """What the platform said it created (message id / ts), for logs and threads."""

    message_id: str | None = None


class TransientDeliveryError(Exception):
    """Worth retrying: HTTP 429 (with `retry_after` seconds when the platform said), 5xx, timeouts, resets."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentDeliveryError(Exception):
    """Never worth retrying: the member closed DMs, the channel is gone, the bot was removed. `reason` is shown to
    the member or operator and recorded on the paused schedule."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Sender(Protocol):
    platform: str

    async def send(self, target: str, reply: Reply, *, kind: DeliveryKind, nonce: str) -> Sent:
        """Deliver `reply` (and its followups, e.g. as a thread) to `target`: a channel id for channel posts, a
        member id for reminders (the sender opens the DM). `nonce` is unique per (schedule, fire time); platforms
        that can de-duplicate on it (Discord `enforce_nonce`) must pass it on."""
        ...
