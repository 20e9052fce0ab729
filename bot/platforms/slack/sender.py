"""The Slack `Sender`: scheduled replies posted to channels and to members' DMs, failures sorted for the dispatcher.

Every post goes over one long-lived aiohttp session (slack_sdk opens a new session, so a new TLS handshake, for
every call made without one). Failures are sorted three ways: the bot's own token failing (`BOT_TOKEN_ERRORS`) is a
`PlatformFault` (sending on Slack stops, nothing is paused, it resumes when `auth.test` passes again); a refusal about
this channel or member is permanent (its schedule pauses with the reason); a 429 or Slack-side error is transient.
A 429 is not waited out here: it goes to the dispatcher, whose budget holds all Slack sending for the Retry-After and
lowers its adaptive rate.
"""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.platforms.slack.client import http_session
from bot.platforms.slack.installs import TargetTokens
from bot.platforms.slack.render import message
from bot.schedule.delivery import DeliveryKind, PermanentDeliveryError, PlatformFault, Sent, TransientDeliveryError
from bot.schedule.faults import PlatformFaults
from handlers.store_api import REMOVED_REASONS
from handlers.types import Reply

log = logging.getLogger(__name__)

# Slack error codes that no retry will fix, with what to tell the member or operator.
PERMANENT_ERRORS: dict[str, str] = {
    "channel_not_found": "the channel no longer exists or the bot cannot see it",
    "not_in_channel": "the bot is not in the channel: invite it with /invite @re-bot",
    "is_archived": "the channel is archived",
    "cannot_dm_bot": "that member is a bot and cannot be sent DMs",
    "user_not_found": "that member no longer exists",
    "user_disabled": "that member's account is deactivated",
    "messages_tab_disabled": "the member turned off messages from the app",
    "restricted_action": "a workspace setting stops the bot from posting there",
    "restricted_action_read_only_channel": "the channel is read-only",
    "restricted_action_thread_only_channel": "the channel accepts thread replies only",
    "restricted_action_non_threadable_channel": "the channel does not allow the message",
    "team_access_not_granted": "the bot is not allowed in that workspace",
    "no_permission": "the bot lacks permission to post there",
    "missing_scope": "the app lacks a scope it needs (reinstall it from slack-manifest.yaml)",
    "ekm_access_denied": "the workspace's key management denied access",
}
# The bot's own token failing: every post in the workspace fails alike, so no member's schedule is at fault.
BOT_TOKEN_ERRORS: dict[str, str] = {
    "token_revoked": "Slack revoked the bot token (token_revoked): reinstall the app or set a new SLACK_BOT_TOKEN",
    "invalid_auth": "Slack does not accept the bot token (invalid_auth): check SLACK_BOT_TOKEN",
    "account_inactive": "the app's bot user is deactivated (account_inactive): was the app uninstalled?",
    "not_authed": "no bot token reached Slack (not_authed): check SLACK_BOT_TOKEN",
    "token_expired": "the bot token expired (token_expired): rotate it",
}
TRANSIENT_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}


def _retry_after(error: SlackApiError) -> float | None:
    headers = getattr(error.response, "headers", None) or {}
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) else value
            try:
                return max(float(raw), 0.0)
            except (TypeError, ValueError):
                return None
    return None


def error_code(error: SlackApiError) -> str:
    data = getattr(error.response, "data", None)
    return data.get("error", "") if isinstance(data, dict) else ""


def classify(error: SlackApiError, key: str | None = None) -> Exception:
    """A Web API failure as the dispatcher's PlatformFault (for `key`, the workspace whose token failed) or
    Transient/PermanentDeliveryError."""
    status = getattr(error.response, "status_code", 0) or 0
    code = error_code(error)
    if code in BOT_TOKEN_ERRORS:
        return PlatformFault(BOT_TOKEN_ERRORS[code], key, code)
    if status == 401:
        return PlatformFault(f"Slack refused the bot token (HTTP {status})", key, "http_401")
    if status == 429 or code == "ratelimited":
        # A workspace-wide limit as far as we can tell: posts to one channel are already kept to 1/s.
        return TransientDeliveryError(f"Slack rate limited the post ({code or status})", _retry_after(error))
    if status >= 500 or code in TRANSIENT_ERRORS:
        return TransientDeliveryError(f"Slack failed to take the post ({code or f'HTTP {status}'})")
    reason = PERMANENT_ERRORS.get(code)
    if reason:
        return PermanentDeliveryError(f"{reason} ({code})")
    # An error code we do not know is a request Slack will refuse again: retrying only repeats it.
    return PermanentDeliveryError(f"Slack refused the post ({code or f'HTTP {status}'})")


class SlackSender:
    """Posts a reply with `chat.postMessage`: to a channel id, or to a member id (Slack delivers that to the app's
    DM with the member, opening it). Followups go in the first message's thread.

    It has its own Web API client (same token, base URL and HTTP session as bolt's) without slack_sdk's inline 429
    waits, so every 429 reaches the dispatcher's budget. `faults` holds the bot-wide faults seen (by workspace; None
    for the one token of a single-workspace install)."""

    platform = "slack"

    def __init__(self, client: AsyncWebClient, key: str | None = None, targets: TargetTokens | None = None) -> None:
        self._client = AsyncWebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            session=client.session,
            retry_handlers=[AsyncConnectionErrorRetryHandler()],
        )
        self._owns_session = False
        self.key = key
        # OAuth mode (many workspaces): each post goes out with the token of the workspace its target is in, and a
        # failing token is that workspace's fault (its key), not the platform's.
        self._targets = targets
        self.faults = PlatformFaults(self.platform)

    @property
    def session(self) -> aiohttp.ClientSession:
        """The one HTTP session every post uses (made on first use, inside the running loop)."""
        if self._client.session is None or self._client.session.closed:
            self._client.session, self._owns_session = http_session(), True
        return self._client.session

    def use_session(self, session: aiohttp.ClientSession) -> None:
        self._client.session, self._owns_session = session, False

    async def close(self) -> None:
        if self._owns_session and self._client.session is not None:
            await self._client.session.close()
        self._client.session = None

    async def check(self, key: str | None) -> bool:
        """Does the bot token work again? `auth.test`: True when accepted, False when still refused."""
        self.session  # noqa: B018 - made here if not yet
        auth: dict[str, str] = {}
        if self._targets is not None:
            token = await self._targets.tokens.token(key)
            if token is None:  # uninstalled meanwhile: its deliveries now pause with the reason instead of waiting
                return True
            auth = {"token": token}
        try:
            await self._client.auth_test(**auth)
        except SlackApiError as exc:
            if isinstance(classify(exc, key), PlatformFault):
                return False
            raise
        return True

    async def _auth(self, kind: DeliveryKind, target: str) -> tuple[str | None, dict[str, str]]:
        """(fault key, token argument) for a post to `target`: in OAuth mode its workspace and that one's token."""
        if self._targets is None:
            return self.key, {}
        team, token = await self._targets.for_target(kind, target)
        if token is None:  # the workspace uninstalled the app (or never installed it): nothing to send with
            raise PermanentDeliveryError(REMOVED_REASONS["slack"])
        return team, {"token": token}

    async def send(self, target: str, reply: Reply, *, kind: DeliveryKind, nonce: str) -> Sent:
        # Slack has no idempotency key for chat.postMessage; the nonce goes into the logs for tracing only.
        self.session  # noqa: B018 - made here if not yet
        key, auth = await self._auth(kind, target)
        try:
            resp = await self._client.chat_postMessage(channel=target, **auth, **message(reply))
        except SlackApiError as exc:
            raise classify(exc, key) from exc
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise TransientDeliveryError(f"could not reach Slack: {exc!r}") from exc
        ts = resp.get("ts")
        channel = resp.get("channel") or target
        for followup in reply.followups:
            try:
                await self._client.chat_postMessage(channel=channel, thread_ts=ts, **auth, **message(followup))
            except Exception as exc:  # the main post landed: re-sending it for a thread reply would duplicate it
                log.warning("%s %s to %s: followup failed (%s); main message was delivered", kind, nonce, target, exc)
        log.debug("delivered %s %s to %s (ts %s)", kind, nonce, target, ts)
        return Sent(message_id=ts)
