""" "Share in channel" on Slack: one public post per private answer, the private answer updated to say so, and a
member who is told what to do when the post cannot be made.

The post goes through the button's response_url (it works in any channel the member is in, bot invited or not);
when that has expired (30 minutes), through `chat.postMessage`, which needs the bot in the channel and gives the
post's permalink. When neither works, the member is told why and how to fix it, privately, and the press counts as
an error, never as ok.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable
from dataclasses import replace

from slack_bolt.async_app import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.platforms.share_ledger import ShareLedger
from bot.platforms.slack.render import message
from handlers.registry import error_reply
from handlers.types import Reply, Section

log = logging.getLogger(__name__)

NOT_IN_CHANNEL = (
    "I couldn't post this in the channel: I'm not a member of it, and the answer is too old to share through "
    "Slack's reply link."
)
INVITE = "Type `/invite @re-bot` in the channel, then press **Share in channel** again."
WHY = {
    "not_in_channel": (NOT_IN_CHANNEL, INVITE),
    "channel_not_found": (NOT_IN_CHANNEL, INVITE),
    "is_archived": ("I couldn't post this in the channel: it is archived.", "Share it in another channel."),
    "restricted_action": (
        "I couldn't post this in the channel: the workspace does not let apps post there.",
        "Ask a workspace admin, or share it in another channel.",
    ),
}


class ShareFailed(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


async def share(
    ledger: ShareLedger,
    key: Hashable,
    reply: Reply,
    respond: AsyncRespond,
    client: AsyncWebClient,
    channel: str,
    user: str,
    *,
    private_copy: bool,
) -> Reply:
    """Post `reply` publicly once per `key`; returns the reply to count (an error when the post failed)."""
    earlier = await ledger.begin(key)
    if earlier is not None:
        where = f" [See the post]({earlier.link})." if earlier.link else ""
        note = Reply(command=reply.command, sections=(Section(text=f"You already shared this in the channel.{where}"),))
        await tell(respond, client, channel, user, note)
        return reply
    try:
        link = await _post(reply, respond, client, channel)
    except ShareFailed as exc:
        await ledger.abandon(key)
        log.warning("Share in channel %s could not be posted (%s); the member was told", channel, exc.code)
        why, fix = WHY.get(exc.code, (f"Slack did not take the post ({exc.code}).", "Please press Share again."))
        await tell(respond, client, channel, user, error_reply(reply.command, why, fix))
        return replace(reply, error=True)
    await ledger.finish(key, link)
    if private_copy:
        await _mark_shared(respond, reply, link)
    return reply


async def _post(reply: Reply, respond: AsyncRespond, client: AsyncWebClient, channel: str) -> str | None:
    payload = message(reply)
    if respond.response_url:
        try:
            resp = await respond(response_type="in_channel", replace_original=False, **payload)
            if resp.status_code == 200:
                return None
            log.info("response_url answered %s; sharing through chat.postMessage", resp.status_code)
        except Exception as exc:
            log.info("response_url failed (%s); sharing through chat.postMessage", type(exc).__name__)
    if not channel:
        raise ShareFailed("channel_not_found")
    try:
        posted = await client.chat_postMessage(channel=channel, **payload)
    except SlackApiError as exc:
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        raise ShareFailed(str(error or exc.response.status_code)) from None
    except Exception as exc:
        raise ShareFailed(type(exc).__name__) from None
    try:
        found = await client.chat_getPermalink(channel=channel, message_ts=str(posted.get("ts") or ""))
        link = found.get("permalink")
        return link if isinstance(link, str) else None
    except Exception as exc:  # the post is out; only its link is missing
        log.info("chat.getPermalink failed (%s)", type(exc).__name__)
        return None


async def _mark_shared(respond: AsyncRespond, reply: Reply, link: str | None) -> None:
    """The member's private answer, updated in place: shared, with the post's link, and the buttons that still make
    sense there (Slack does not send an ephemeral message back with the press, so the handler names them)."""
    where = f" · [see the post]({link})" if link else ""
    private = replace(reply, ephemeral=True, shared_by=None, buttons=reply.kept_buttons, kept_buttons=(),
                      context=(f"✓ You shared this in the channel{where}", *reply.context))  # fmt: skip
    if not respond.response_url:
        return
    try:
        await respond(response_type="ephemeral", replace_original=True, **message(private))
    except Exception as exc:  # the post is out; the private copy just keeps its button
        log.info("could not update the shared answer (%s)", type(exc).__name__)


async def tell(respond: AsyncRespond, client: AsyncWebClient, channel: str, user: str, note: Reply) -> None:
    """Tell the member privately: by response_url, else an ephemeral message, else (bot not in the channel) a DM."""
    payload = message(note)
    if respond.response_url:
        try:
            resp = await respond(response_type="ephemeral", replace_original=False, **payload)
            if resp.status_code == 200:
                return
        except Exception as exc:
            log.info("response_url failed (%s)", type(exc).__name__)
    if not user:
        return
    try:
        if channel:
            await client.chat_postEphemeral(channel=channel, user=user, **payload)
            return
    except Exception as exc:
        log.info("chat.postEphemeral failed (%s); sending a DM", type(exc).__name__)
    try:
        await client.chat_postMessage(channel=user, **payload)
    except Exception as exc:
        log.warning("could not tell %s about the share (%s)", user, type(exc).__name__)
