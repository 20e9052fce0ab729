"""The seam between the scheduler and the platforms: a `Sender` delivers one `Reply` to one target.

Senders translate their platform's failures into three exceptions, so the dispatcher's policy lives in one place for
every platform: `TransientDeliveryError` (retry with back-off, honour Retry-After for the platform or only for the
target, as the rate limit's scope says), `PermanentDeliveryError` (this member or channel: pause its schedule with
the reason) and `PlatformFault` (the bot itself, e.g. its token was revoked: hold the platform's sending, keep the
delivery pending, pause nobody).
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


RateLimitScope = Literal["platform", "target"]


class TransientDeliveryError(Exception):
    """Worth retrying: HTTP 429 (with `retry_after` seconds when the platform said), 5xx, timeouts, resets.

    `scope` says who waits out `retry_after`: "platform" (a global or workspace-wide limit: every send on the platform
    waits) or "target" (a per-route, per-user or shared limit: only sends to this target wait)."""

    def __init__(self, message: str, retry_after: float | None = None, scope: RateLimitScope = "platform") -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.scope = scope


class PermanentDeliveryError(Exception):
    """Never worth retrying: the member closed DMs, the channel is gone, the bot was removed. `reason` is shown to
    the member or operator and recorded on the paused schedule."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PlatformFault(Exception):
    """A fault of the bot on the whole platform, not of the member or channel being messaged: the token was revoked
    or is invalid, the app was deactivated. The dispatcher stops sending on the platform (for `key`, the workspace
    whose token failed, or the whole platform when None), keeps the delivery pending and pauses no schedule, and
    resumes when `Sender.check(key)` succeeds again. `code` names the fault in a word from the sender's fixed set
    (Slack's error code, `unauthorized`, `gateway_closed`): the `reason` label of re_bot_deliveries_held."""

    def __init__(self, reason: str, key: str | None = None, code: str = "other") -> None:
        super().__init__(reason)
        self.reason = reason
        self.key = key
        self.code = code


class Sender(Protocol):
    platform: str

    async def send(self, target: str, reply: Reply, *, kind: DeliveryKind, nonce: str) -> Sent:
        """Deliver `reply` (and its followups, e.g. as a thread) to `target`: a channel id for channel posts, a
        member id for reminders (the sender opens the DM). `nonce` is unique per (schedule, fire time); platforms
        that can de-duplicate on it (Discord `enforce_nonce`) must pass it on."""
        ...


class CheckedSender(Sender, Protocol):
    """A sender that can tell whether its credentials work again after a `PlatformFault` (the dispatcher calls it
    before sending on a held platform; a sender without `check` is retried at the next tick)."""

    async def check(self, key: str | None) -> bool:
        """True when the token for `key` (None: the platform's only token) is accepted again."""
        ...
