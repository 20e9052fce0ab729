"""The Slack Sender against the local fake Web API: channel posts and DMs land; 429, 5xx, unreachable and refused
posts become the dispatcher's Transient/PermanentDeliveryError."""

from __future__ import annotations

from dataclasses import replace

import pytest
from aiohttp import web
from slack_harness import SlackServer, all_text, assert_valid_blocks, make_services
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.platforms.slack.client import make_client
from bot.platforms.slack.sender import SlackSender, classify
from bot.schedule.delivery import PermanentDeliveryError, Sender, TransientDeliveryError
from handlers import Reply, Section
from handlers.papers import paper_reply


def _paper() -> Reply:
    return paper_reply(make_services().content.papers[0])


async def test_sender_satisfies_the_protocol(slack: SlackServer):
    sender: Sender = slack.platform.sender
    assert sender.platform == "slack"


async def test_channel_post_lands_in_the_channel(slack: SlackServer):
    sent = await slack.platform.sender.send("C1", _paper(), kind="channel-post", nonce="s1:2025-03-12")
    [post] = slack.fake.calls_to("chat.postMessage")
    assert post.args["channel"] == "C1"
    assert post.args["text"] == "Paper of the day"
    assert_valid_blocks(post.args["blocks"])
    assert post.headers["Authorization"].startswith("Bearer xoxb-")
    assert sent.message_id == "1700000000.000001"


async def test_reminder_goes_to_the_members_dm(slack: SlackServer):
    reminder = Reply(command="re-remind", title="Study time", sections=(Section(text="Your daily prompt."),))
    await slack.platform.sender.send("U1", reminder, kind="reminder", nonce="r1:2025-03-12")
    [post] = slack.fake.calls_to("chat.postMessage")
    assert post.args["channel"] == "U1"  # Slack delivers a post to a member id into the app's DM with them
    assert "Your daily prompt." in all_text(post.args["blocks"])


async def test_followups_go_in_the_thread(slack: SlackServer):
    prompt = Reply(command="re-prompt", sections=(Section(text="Implement attention from scratch."),))
    reply = replace(_paper(), followups=(prompt, prompt))
    await slack.platform.sender.send("C1", reply, kind="channel-post", nonce="n")
    first, *thread = slack.fake.calls_to("chat.postMessage")
    assert "thread_ts" not in first.args
    assert [t.args["thread_ts"] for t in thread] == ["1700000000.000001"] * 2
    assert all(t.args["channel"] == "C1" for t in thread)


async def test_followup_failure_does_not_fail_the_delivered_post(slack: SlackServer):
    reply = replace(_paper(), followups=(Reply(command="x", sections=(Section(text="more"),)),))
    slack.fake.fail("chat.postMessage", error="msg_too_long", skip=1)  # the main post lands, the thread reply fails
    sent = await slack.platform.sender.send("C1", reply, kind="channel-post", nonce="n")
    assert sent.message_id


async def test_429_goes_to_the_dispatcher_at_once_with_retry_after(slack: SlackServer):
    """The sender never sleeps through a 429 itself: the dispatcher's budget holds every Slack send for it."""
    slack.fake.fail("chat.postMessage", status=429, retry_after=0)
    with pytest.raises(TransientDeliveryError) as caught:
        await slack.platform.sender.send("C1", _paper(), kind="channel-post", nonce="n")
    assert caught.value.retry_after == 0 and caught.value.scope == "platform"
    assert len(slack.fake.calls_to("chat.postMessage")) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_is_transient(slack: SlackServer, status: int):
    slack.fake.fail("chat.postMessage", status=status)
    with pytest.raises(TransientDeliveryError):
        await slack.platform.sender.send("C1", _paper(), kind="channel-post", nonce="n")


@pytest.mark.parametrize("error", ["internal_error", "fatal_error", "service_unavailable", "request_timeout"])
async def test_slack_side_errors_are_transient(slack: SlackServer, error: str):
    slack.fake.fail("chat.postMessage", error=error)
    with pytest.raises(TransientDeliveryError):
        await slack.platform.sender.send("C1", _paper(), kind="channel-post", nonce="n")


@pytest.mark.parametrize(
    ("error", "words"),
    [
        ("channel_not_found", "no longer exists"),
        ("not_in_channel", "/invite"),
        ("is_archived", "archived"),
        ("cannot_dm_bot", "bot"),
        ("user_not_found", "no longer exists"),
        ("some_new_error", "some_new_error"),
    ],
)
async def test_refusals_are_permanent_with_a_reason(slack: SlackServer, error: str, words: str):
    slack.fake.fail("chat.postMessage", error=error)
    with pytest.raises(PermanentDeliveryError) as caught:
        await slack.platform.sender.send("U1", _paper(), kind="reminder", nonce="n")
    assert words in caught.value.reason
    assert len(slack.fake.calls_to("chat.postMessage")) == 1, "a refusal is not retried"


async def test_unreachable_slack_is_transient():
    runner = web.AppRunner(web.Application())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    await runner.cleanup()  # nothing listens there any more
    sender = SlackSender(make_client("xoxb-x", f"http://127.0.0.1:{port}/api"))
    try:
        with pytest.raises(TransientDeliveryError):
            await sender.send("C1", _paper(), kind="channel-post", nonce="n")
    finally:
        await sender.close()


def test_retry_after_header_is_read():
    response = AsyncSlackResponse(client=None, http_verb="POST", api_url="u", req_args={},
                                  data={"ok": False, "error": "ratelimited"}, headers={"Retry-After": "30"},
                                  status_code=429)  # fmt: skip
    error = classify(SlackApiError("rate limited", response))
    assert isinstance(error, TransientDeliveryError)
    assert error.retry_after == 30.0
