"""The Slack `Sender`: scheduled replies posted to channels and to members' DMs, failures sorted for the dispatcher."""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.platforms.slack.render import message
from bot.schedule.delivery import DeliveryKind, PermanentDeliveryError, Sent, TransientDeliveryError
from handlers.types import Reply

log = logging.getLogger(__name__)

# Slack error codes that no retry will fix, with what to tell the member or operator.
PERMANENT_ERRORS: dict[str, str] = {
    "channel_not_found": "the channel no longer exists or the bot cannot see it",
    "not_in_channel": "the bot is not in the channel: invite it with /invite @re-bot",
    "is_archived": "the channel is archived",
    "account_inactive": "the bot's token was deactivated (app uninstalled?)",
    "cannot_dm_bot": "that member is a bot and cannot be sent DMs",
    "user_not_found": "that member no longer exists",
    "user_disabled": "that member's account is deactivated",
    "messages_tab_disabled": "the member turned off messages from the app",
    "restricted_action": "a workspace setting stops the bot from posting there",
    "restricted_action_read_only_channel": "the channel is read-only",
    "restricted_action_thread_only_channel": "the channel accepts thread replies only",
    "restricted_action_non_threadable_channel": "the channel does not allow the message",
    "team_access_not_granted": "the bot is not allowed in that workspace",
    "invalid_auth": "the bot token is invalid",
    "not_authed": "no bot token was sent",
    "token_revoked": "the bot token was revoked",
    "token_expired": "the bot token expired",
    "no_permission": "the bot lacks permission to post there",
    "missing_scope": "the app lacks a scope it needs (reinstall it from slack-manifest.yaml)",
    "ekm_access_denied": "the workspace's key management denied access",
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


def classify(error: SlackApiError) -> Exception:
    """A Web API failure as the dispatcher's Transient/PermanentDeliveryError."""
    status = getattr(error.response, "status_code", 0) or 0
    data = getattr(error.response, "data", None)
    code = data.get("error", "") if isinstance(data, dict) else ""
    if status == 429 or code == "ratelimited":
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
    DM with the member, opening it). Followups go in the first message's thread."""

    platform = "slack"

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def send(self, target: str, reply: Reply, *, kind: DeliveryKind, nonce: str) -> Sent:
        # Slack has no idempotency key for chat.postMessage; the nonce goes into the logs for tracing only.
        try:
            resp = await self._client.chat_postMessage(channel=target, **message(reply))
        except SlackApiError as exc:
            raise classify(exc) from exc
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise TransientDeliveryError(f"could not reach Slack: {exc!r}") from exc
        ts = resp.get("ts")
        channel = resp.get("channel") or target
        for followup in reply.followups:
            try:
                await self._client.chat_postMessage(channel=channel, thread_ts=ts, **message(followup))
            except Exception as exc:  # the main post landed: re-sending it for a thread reply would duplicate it
                log.warning("%s %s to %s: followup failed (%s); main message was delivered", kind, nonce, target, exc)
        log.info("delivered %s %s to %s (ts %s)", kind, nonce, target, ts)
        return Sent(message_id=ts)
