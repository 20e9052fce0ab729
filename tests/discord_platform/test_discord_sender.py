"""The Discord Sender: DMs and channel posts through discord.py to the fake API, and Discord's failures translated."""

from __future__ import annotations

import pytest
from discord_support import shared_services

from bot.platforms.discord.client import MAX_RATELIMIT_WAIT
from bot.platforms.discord.sender import DiscordSender, message_nonce
from bot.schedule.delivery import PermanentDeliveryError, TransientDeliveryError
from handlers.papers import paper_reply
from handlers.types import Reply, Section

MEMBER = 812345678901234567
CHANNEL = 823456789012345678


def reminder() -> Reply:
    return Reply(
        command="re-remind",
        title="Time to study",
        sections=(Section(text="Today's prompt: **read**"),),
        ephemeral=False,
    )


@pytest.fixture
def sender(client):
    return DiscordSender(client)


async def test_reminder_opens_the_dm_once_and_posts_with_nonce_and_no_mentions(sender, fake_discord):
    sent = await sender.send(str(MEMBER), reminder(), kind="reminder", nonce="schedule-7@2025-01-06T08:00:00+00:00")
    await sender.send(str(MEMBER), reminder(), kind="reminder", nonce="schedule-7@2025-01-07T08:00:00+00:00")
    opens = fake_discord.calls("POST", "/users/@me/channels")
    assert len(opens) == 1 and opens[0].json == {"recipient_id": MEMBER}
    posts = fake_discord.calls("POST", r"/channels/\d+/messages")
    assert len(posts) == 2
    body = posts[0].json
    assert body["nonce"] == message_nonce("schedule-7@2025-01-06T08:00:00+00:00", 0)
    assert len(body["nonce"]) <= 25 and body["enforce_nonce"] is True
    assert body["allowed_mentions"] == {"parse": []}
    assert body["embeds"][0]["title"] == "Time to study"
    assert posts[0].headers["Authorization"] == "Bot fake-token"
    assert sent.message_id


async def test_closed_dms_are_permanent_with_a_reason(sender, fake_discord):
    fake_discord.closed_dms.add(MEMBER)
    with pytest.raises(PermanentDeliveryError) as info:
        await sender.send(str(MEMBER), reminder(), kind="reminder", nonce="n1")
    assert "50007" in info.value.reason and "closed" in info.value.reason
    assert len(fake_discord.calls("POST", r"/channels/\d+/messages")) == 1  # never retried


async def test_paper_post_to_a_channel_with_buttons(sender, fake_discord):
    paper = shared_services().content.paper("transformer")
    assert paper is not None
    await sender.send(str(CHANNEL), paper_reply(paper).with_visibility(False), kind="channel-post", nonce="sub-1@d")
    (post,) = fake_discord.calls("POST", f"/channels/{CHANNEL}/messages")
    assert "flags" not in post.json or not post.json["flags"] & 64
    custom_ids = [c["custom_id"] for row in post.json["components"] for c in row["components"]]
    assert custom_ids == ["re:paper.another:transformer"]
    assert post.json["allowed_mentions"] == {"parse": []}


async def test_followups_go_to_a_thread_on_the_post(sender, fake_discord):
    reply = Reply(
        command="re-paper",
        title="Paper of the day",
        sections=(Section(text="main"),),
        ephemeral=False,
        followups=(Reply(command="re-paper", title="Study prompts", sections=(Section(text="p1"),)),),
    )
    await sender.send(str(CHANNEL), reply, kind="channel-post", nonce="sub-2@d")
    (thread,) = fake_discord.calls("POST", rf"/channels/{CHANNEL}/messages/\d+/threads")
    assert thread.json["name"] == "Paper of the day"
    thread_id = thread.response["id"]
    posts = fake_discord.calls("POST", r"/channels/\d+/messages")
    assert [p.path for p in posts] == [f"/channels/{CHANNEL}/messages", f"/channels/{thread_id}/messages"]
    assert posts[1].json["embeds"][0]["title"] == "Study prompts"
    assert posts[0].json["nonce"] != posts[1].json["nonce"]


async def test_followups_reply_to_the_post_when_threads_are_not_allowed(sender, fake_discord):
    fake_discord.thread_forbidden = True
    reply = Reply(
        command="re-paper",
        title="P",
        sections=(Section(text="main"),),
        ephemeral=False,
        followups=(Reply(command="re-paper", sections=(Section(text="p1"),)),),
    )
    await sender.send(str(CHANNEL), reply, kind="channel-post", nonce="sub-3@d")
    posts = fake_discord.calls("POST", f"/channels/{CHANNEL}/messages")
    assert len(posts) == 2
    assert posts[1].json["message_reference"]["message_id"]


async def test_deleted_channel_is_permanent(sender, fake_discord):
    fake_discord.gone_channels.add(CHANNEL)
    with pytest.raises(PermanentDeliveryError, match="no longer exists"):
        await sender.send(str(CHANNEL), reminder(), kind="channel-post", nonce="n")


async def test_missing_access_is_permanent(sender, fake_discord):
    fake_discord.fail("POST", f"/channels/{CHANNEL}/messages", 403, {"message": "Missing Access", "code": 50001})
    with pytest.raises(PermanentDeliveryError, match="View Channel and Send Messages"):
        await sender.send(str(CHANNEL), reminder(), kind="channel-post", nonce="n")


async def test_429_then_success_is_retried_by_discord_py(sender, fake_discord):
    fake_discord.rate_limit("POST", f"/channels/{CHANNEL}/messages", retry_after=0.01)
    sent = await sender.send(str(CHANNEL), reminder(), kind="channel-post", nonce="n")
    posts = fake_discord.calls("POST", f"/channels/{CHANNEL}/messages")
    assert len(posts) == 2 and posts[0].json["nonce"] == posts[1].json["nonce"]
    assert sent.message_id


async def test_a_long_rate_limit_is_transient_with_retry_after(sender, fake_discord):
    fake_discord.rate_limit("POST", f"/channels/{CHANNEL}/messages", retry_after=MAX_RATELIMIT_WAIT + 30)
    with pytest.raises(TransientDeliveryError) as info:
        await sender.send(str(CHANNEL), reminder(), kind="channel-post", nonce="n")
    assert info.value.retry_after == MAX_RATELIMIT_WAIT + 30


async def test_a_429_without_via_header_is_transient_not_a_crash(sender, fake_discord):
    fake_discord.fail(
        "POST",
        f"/channels/{CHANNEL}/messages",
        429,
        {"message": "banned", "retry_after": 5},
        headers={"Retry-After": "5"},
    )
    with pytest.raises(TransientDeliveryError) as info:
        await sender.send(str(CHANNEL), reminder(), kind="channel-post", nonce="n")
    assert info.value.retry_after == 5


async def test_server_errors_are_transient(sender, fake_discord):
    fake_discord.fail("POST", f"/channels/{CHANNEL}/messages", 503)
    with pytest.raises(TransientDeliveryError):
        await sender.send(str(CHANNEL), reminder(), kind="channel-post", nonce="n")
    fake_discord.fail("POST", "/users/@me/channels", 503)
    with pytest.raises(TransientDeliveryError):
        await sender.send(str(MEMBER), reminder(), kind="reminder", nonce="n")


async def test_unreachable_api_is_transient(client, fake_discord):
    await fake_discord.close()
    with pytest.raises(TransientDeliveryError, match="network"):
        await DiscordSender(client).send(str(CHANNEL), reminder(), kind="channel-post", nonce="n")


async def test_a_target_that_is_not_an_id_is_permanent(sender):
    with pytest.raises(PermanentDeliveryError):
        await sender.send("general", reminder(), kind="channel-post", nonce="n")


async def test_stale_dm_channel_is_reopened(sender, fake_discord):
    await sender.send(str(MEMBER), reminder(), kind="reminder", nonce="a")
    fake_discord.fail("POST", r"/channels/\d+/messages", 404, {"message": "Unknown Channel", "code": 10003})
    await sender.send(str(MEMBER), reminder(), kind="reminder", nonce="b")
    assert len(fake_discord.calls("POST", "/users/@me/channels")) == 2


async def test_a_long_reply_is_several_messages_each_with_its_own_nonce(sender, fake_discord):
    long = Reply(command="re-help", title="x", sections=(Section(text="word " * 900),) * 6, ephemeral=False)
    await sender.send(str(CHANNEL), long, kind="channel-post", nonce="n")
    nonces = [p.json["nonce"] for p in fake_discord.calls("POST", f"/channels/{CHANNEL}/messages")]
    assert len(nonces) >= 2 and len(set(nonces)) == len(nonces)
