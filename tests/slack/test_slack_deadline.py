"""Every Slack answer within Slack's 3 s, whatever is slow: a slow database, a slow Slack Web API. Signed requests
through bolt's real pipeline; the slowness comes from the fakes (Web API delays, a slow store wrapper), so nothing
here asserts on wall-clock time: a slow step is made far slower than the budget, and the test checks which path the
answer took (in the HTTP response, or acknowledged empty and delivered by response_url)."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator
from dataclasses import replace

import aiohttp
import pytest
from fake_slack import TEAM, FakeSlack, signed_headers
from slack_harness import (
    Clock,
    SlackServer,
    all_text,
    assert_valid_blocks,
    make_services,
    serve_platform,
    slack_settings,
    wait_until,
)
from slow_store import SlowStore

from bot.ops.metrics import REGISTRY
from bot.ops.observed import HANDLER_THREADS
from bot.schedule.ticker import Store
from handlers.store_api import CHANNEL_POST, REMINDER


def _slow_server(slack: SlackServer, store: SlowStore) -> None:
    """The running server's handlers now see the slow store; commands past 50 ms are acknowledged empty."""
    bot = slack.platform.bot
    bot.services = replace(bot.services, store=store)
    bot.direct_budget = 0.05


@pytest.fixture
async def slow(slack: SlackServer, slack_store: Store) -> AsyncIterator[tuple[SlackServer, SlowStore]]:
    store = SlowStore(slack_store.api, delay=0.3)
    _slow_server(slack, store)
    yield slack, store


def count(command: str, outcome: str) -> float:
    labels = {"platform": "slack", "command": command, "outcome": outcome}
    return REGISTRY.get_sample_value("re_bot_commands_total", labels) or 0.0


# -- a slow database ----------------------------------------------------------------------------------------------


async def test_a_slow_command_is_acknowledged_at_once_and_answered_by_response_url(slow):
    slack, _ = slow
    status, body = await slack.command("/re-remind", "daily 09:00 Europe/Berlin", user="U1")
    assert status == 200
    assert not body, "acknowledged empty: the answer is not ready within the direct budget"
    [answer] = await slack.responses()
    assert answer["response_type"] == "ephemeral"
    assert "Reminder set" in all_text(answer["blocks"])
    assert_valid_blocks(answer["blocks"])
    assert slack.store.api.get_schedule(REMINDER, "slack", "U1") is not None


async def test_a_quick_command_is_still_answered_in_the_http_response(slack: SlackServer):
    status, body = await slack.command("/re-remind", "daily 09:00 Europe/Berlin", user="U1")
    assert status == 200 and "Reminder set" in all_text(body["blocks"])
    assert not slack.fake.responses


async def test_healthz_and_other_members_are_served_while_a_handler_waits_on_the_database(
    slack: SlackServer, slack_store: Store
):
    gate = threading.Event()
    held = SlowStore(slack_store.api, gate=gate)
    _slow_server(slack, held)
    slack.platform.bot.direct_budget = 0.0  # always acknowledged first, however quick the machine
    waiting = asyncio.create_task(slack.command("/re-progress", user="U1"))
    try:
        await wait_until(held.entered.is_set)  # a handler thread is inside a store call, held
        async with slack.session.get(f"{slack.url}/healthz") as resp:
            assert resp.status == 200  # the event loop is free: a handler on it would hold /healthz too
        slack.platform.bot.direct_budget = 5.0
        status, body = await slack.command("/re-help", user="U2")  # no store: answered directly
        assert status == 200 and "/re-remind" in all_text(body["blocks"])
    finally:
        gate.set()
    status, body = await waiting
    assert status == 200 and not body
    [answer] = await slack.responses()
    assert "Your progress" in all_text(answer["blocks"])


async def test_a_burst_never_runs_more_handlers_at_once_than_the_database_pool(slack: SlackServer, slack_store: Store):
    store = SlowStore(slack_store.api, delay=0.05)
    _slow_server(slack, store)
    burst = 3 * HANDLER_THREADS
    results = await asyncio.gather(*(slack.command("/re-progress", user=f"U{i}") for i in range(burst)))
    assert all(status == 200 for status, _ in results)
    await slack.responses(sum(1 for _, body in results if not body))
    assert store.most_at_once <= HANDLER_THREADS


@pytest.fixture
async def slack_on_each_backend(fake: FakeSlack, store: Store) -> AsyncIterator[SlackServer]:
    """The Slack server on the shared `store` fixture: SQLite, and PostgreSQL with its real connection pool."""
    clock = Clock()
    platform, runner, url = await serve_platform(slack_settings(fake), make_services(store, clock))
    async with aiohttp.ClientSession() as session:
        yield SlackServer(fake, platform, url, session, store, clock)
    await platform.stop()
    await runner.cleanup()


async def test_a_burst_of_store_commands_is_answered_on_each_backend(slack_on_each_backend: SlackServer, store: Store):
    slack = slack_on_each_backend
    slow = SlowStore(store.api, delay=0.02)
    _slow_server(slack, slow)
    burst = 3 * HANDLER_THREADS
    results = await asyncio.gather(
        *(slack.command("/re-remind", f"daily 0{i % 10}:00 UTC", user=f"UB{i}") for i in range(burst))
    )
    assert all(status == 200 for status, _ in results)
    answers = [body for _, body in results if body] + await slack.responses(sum(1 for _, body in results if not body))
    assert sum("Reminder set" in all_text(a["blocks"]) for a in answers) == burst
    assert slow.most_at_once <= HANDLER_THREADS
    assert all(store.api.get_schedule(REMINDER, "slack", f"UB{i}") is not None for i in range(burst))


# -- a slow Slack -------------------------------------------------------------------------------------------------


async def test_slow_lookups_run_at_once_and_the_channel_creator_can_subscribe(slack: SlackServer):
    slack.platform.bot.direct_budget = 0.1
    slack.fake.delays.update({"users.info": 0.5, "conversations.info": 0.5})
    status, body = await slack.command("/re-subscribe", "papers 09:00 UTC", user="UCREATOR", channel="C1")
    assert status == 200 and not body
    [answer] = await slack.responses()
    assert answer["response_type"] == "in_channel"
    assert "Subscribed" in all_text(answer["blocks"])
    assert slack.store.api.get_schedule(CHANNEL_POST, "slack", "C1") is not None
    [user_call], [channel_call] = slack.fake.calls_to("users.info"), slack.fake.calls_to("conversations.info")
    assert abs(user_call.at - channel_call.at) < 0.5, "the second lookup started before the first answered"


async def test_a_timed_out_admin_check_says_try_again_and_is_not_cached_as_a_refusal(slack: SlackServer):
    slack.platform.bot.direct_budget = 0.05
    slack.platform.bot.members.budget = 0.05
    slack.fake.delays.update({"users.info": 0.4, "conversations.info": 0.4})
    await slack.command("/re-subscribe", "papers 09:00 UTC", user="UCREATOR", channel="C1")
    [answer] = await slack.responses()
    text = all_text(answer["blocks"])
    assert "try again" in text and "Slack" in text
    assert "Only workspace admins" not in text
    assert slack.store.api.get_schedule(CHANNEL_POST, "slack", "C1") is None

    slack.fake.delays.clear()
    await asyncio.sleep(0.5)  # the lookups Slack answered late have landed in the cache
    _, body = await slack.command("/re-subscribe", "papers 09:00 UTC", user="UCREATOR", channel="C1")
    assert "Subscribed" in all_text(body["blocks"])
    assert len(slack.fake.calls_to("conversations.info")) == 1, "the late answer was kept, not the timeout"


async def test_a_rate_limited_lookup_is_asked_again_next_time(slack: SlackServer):
    slack.fake.fail("conversations.info", status=429, retry_after=60)  # too long to wait inline
    slack.fake.fail("users.info", status=429, retry_after=60)
    _, body = await slack.command("/re-subscribe", "papers 09:00 UTC", user="UCREATOR", channel="C1")
    assert "try again" in all_text(body["blocks"])
    _, body = await slack.command("/re-subscribe", "papers 09:00 UTC", user="UCREATOR", channel="C1")
    assert "Subscribed" in all_text(body["blocks"])
    assert len(slack.fake.calls_to("conversations.info")) == 2


async def test_a_timed_out_admin_lookup_for_re_admin_says_try_again_never_you_may_not(slack: SlackServer):
    bot = slack.platform.bot
    bot.direct_budget = 0.05
    bot.members.budget = 0.05
    slack.fake.delays["users.info"] = 0.4  # far past the lookup budget: Slack answers, but too late
    status, body = await slack.command("/re-admin", "report", user="UADMIN")
    assert status == 200 and not body
    [answer] = await slack.responses()
    text = all_text(answer["blocks"])
    assert "Slack" in text and "did not answer in time" in text and "try again" in text
    assert "is for the people who run" not in text

    slack.fake.delays.clear()
    # Slack's late answer lands in the directory's cache (an admin); nothing remembered the timeout as a refusal.
    await wait_until(lambda: not bot.members._running)
    _, body = await slack.command("/re-admin", "report", user="UADMIN")
    assert "FAQ report" in all_text(body["blocks"])
    assert len(slack.fake.calls_to("users.info")) == 1, "the late answer was kept, not the timeout"


@pytest.mark.parametrize(("status", "error"), [(429, "ratelimited"), (200, "internal_error"), (503, None)])
async def test_a_transient_admin_lookup_failure_says_try_again_and_asks_slack_next_time(
    slack: SlackServer, status: int, error: str | None
):
    slack.fake.fail("users.info", status=status, error=error, retry_after=60 if status == 429 else None)
    _, body = await slack.command("/re-admin", "report", user="UADMIN")
    text = all_text(body["blocks"])
    assert "try again" in text and "is for the people who run" not in text
    _, body = await slack.command("/re-admin", "report", user="UADMIN")
    assert "FAQ report" in all_text(body["blocks"])
    assert len(slack.fake.calls_to("users.info")) == 2


async def test_re_admin_still_refuses_a_member_slack_says_is_no_admin(slack: SlackServer):
    _, body = await slack.command("/re-admin", "report", user="U1")
    text = all_text(body["blocks"])
    assert "is for the people who run" in text and "try again" not in text


async def test_a_member_without_rights_is_refused_in_slacks_words(slack: SlackServer):
    _, body = await slack.command("/re-subscribe", "papers 09:00 UTC", user="U1", channel="C1")
    text = all_text(body["blocks"])
    assert "Only workspace admins and the channel's creator" in text
    assert "server" not in text.lower(), "Discord's word"


# -- can the bot post there? ----------------------------------------------------------------------------------------


async def test_subscribe_where_the_bot_is_not_a_member_says_invite_it(slack: SlackServer):
    slack.fake.channels["C2"] = {"id": "C2", "creator": "UCREATOR", "is_member": False}
    _, body = await slack.command("/re-subscribe", "papers 09:00 UTC", user="UCREATOR", channel="C2")
    assert "/invite @re-bot" in all_text(body["blocks"])
    assert slack.store.api.get_schedule(CHANNEL_POST, "slack", "C2") is None

    slack.fake.channels["C2"]["is_member"] = True  # the member typed /invite @re-bot
    _, body = await slack.command("/re-subscribe", "papers 09:00 UTC", user="UCREATOR", channel="C2")
    assert "Subscribed" in all_text(body["blocks"])


async def test_subscribe_in_a_private_channel_the_bot_cannot_see_says_invite_it(slack: SlackServer):
    _, body = await slack.command("/re-subscribe", "papers 09:00 UTC", user="UADMIN", channel="G404")
    assert "/invite @re-bot" in all_text(body["blocks"])


# -- Share in channel -------------------------------------------------------------------------------------------------


async def test_share_pressed_twice_posts_once_and_then_says_already_shared(slack: SlackServer):
    for _ in range(2):
        await slack.press("faq.share#0", "phd", user="U1", channel="C1")
    responses = await slack.responses(3)
    public = [r for r in responses if r["response_type"] == "in_channel"]
    assert len(public) == 1
    [again] = [r for r in responses if "You already shared this" in all_text(r["blocks"])]
    assert again["response_type"] == "ephemeral" and again["replace_original"] is False


async def test_share_through_the_web_api_links_to_the_post(slack: SlackServer):
    slack.fake.fail("response_url")  # expired: the post goes through chat.postMessage
    await slack.press("faq.share#0", "phd", user="U1", channel="C1")
    [post] = await slack.calls("chat.postMessage")
    assert post.args["channel"] == "C1"
    [link] = await slack.calls("chat.getPermalink")
    assert link.args["message_ts"] == post.answer["ts"]


async def test_share_pressed_again_after_a_restart_posts_once_and_links_to_the_post(
    slack: SlackServer, slack_store: Store
):
    """The ledger is in the database: a new process (a restart, or another replica) over the same database finds
    the first press's post, instead of posting a second public copy."""
    slack.fake.fail("response_url")  # expired: the post goes through chat.postMessage, which gives a permalink
    await slack.press("faq.share#0", "phd", user="U1", channel="C1")
    [post] = await slack.calls("chat.postMessage")
    await slack.calls("chat.getPermalink")
    await slack.platform.bot.drain()  # the first press has recorded its post and updated the private copy
    await slack.platform.stop()
    updated = len(slack.fake.responses)

    platform, runner, url = await serve_platform(slack_settings(slack.fake), make_services(slack_store, Clock()))
    try:
        async with aiohttp.ClientSession() as session:
            restarted = SlackServer(slack.fake, platform, url, session, slack_store)
            await restarted.press("faq.share#0", "phd", user="U1", channel="C1")
            note = (await restarted.responses(updated + 1))[-1]
    finally:
        await platform.stop()
        await runner.cleanup()
    assert len(slack.posts("C1")) == 1, "one public copy"
    assert note["response_type"] == "ephemeral" and note["replace_original"] is False
    text = all_text(note["blocks"])
    assert "You already shared this" in text
    assert f"https://test.slack.com/archives/C1/p{post.answer['ts'].replace('.', '')}" in text


async def test_a_share_that_cannot_be_posted_tells_the_member_how_to_fix_it(slack: SlackServer, caplog):
    for _ in range(2):  # the response_url has expired: for the post and for the notice
        slack.fake.fail("response_url")
    slack.fake.fail("chat.postMessage", error="not_in_channel", channel="C1")
    slack.fake.fail("chat.postEphemeral", error="not_in_channel")
    before_ok, before_error = count("button:faq.share", "ok"), count("button:faq.share", "error")
    with caplog.at_level(logging.INFO):
        status, _ = await slack.press("faq.share#0", "phd", user="U1", channel="C1")
        assert status == 200
        await wait_until(lambda: any(c.args.get("channel") == "U1" for c in slack.fake.calls_to("chat.postMessage")))
    [dm] = [c for c in slack.fake.calls_to("chat.postMessage") if c.args.get("channel") == "U1"]
    assert "/invite @re-bot" in all_text(dm.args["blocks"])
    await wait_until(lambda: count("button:faq.share", "error") == before_error + 1)
    assert count("button:faq.share", "ok") == before_ok
    assert not any(r.exc_info for r in caplog.records), "a member's fixable problem is not a traceback"

    # Invited: the same button now works (the failed attempt did not count as shared).
    await slack.press("faq.share#0", "phd", user="U1", channel="C1")
    await wait_until(lambda: any(r["response_type"] == "in_channel" for r in slack.fake.responses))


# -- events -----------------------------------------------------------------------------------------------------------


async def test_app_rate_limited_is_answered_200_and_counted(slack: SlackServer):
    labels = {"platform": "slack", "notice": "app_rate_limited"}
    before = REGISTRY.get_sample_value("re_bot_platform_notices_total", labels) or 0.0
    # The payload as Slack documents it: a top-level type, not an event_callback.
    body = json.dumps({"token": "legacy", "type": "app_rate_limited", "team_id": TEAM,
                       "minute_rate_limited": 1518467820, "api_app_id": "A1"})  # fmt: skip
    status, _ = await slack.signed(body, content_type="application/json")
    assert status == 200
    assert REGISTRY.get_sample_value("re_bot_platform_notices_total", labels) == before + 1


async def test_app_rate_limited_with_a_bad_signature_is_still_refused(slack: SlackServer):
    body = json.dumps({"type": "app_rate_limited", "team_id": TEAM, "minute_rate_limited": 1, "api_app_id": "A1"})
    status, _ = await slack.post(body, signed_headers(body, secret="wrong", content_type="application/json"))
    assert status == 401


async def test_a_retried_event_is_answered_and_not_handled_twice(slack: SlackServer):
    opened = {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}
    assert (await slack.event(opened, event_id="EvSame"))[0] == 200
    assert (await slack.event(opened, event_id="EvSame", retry=1))[0] == 200
    assert (await slack.event(opened, event_id="EvOther"))[0] == 200
    await slack.calls("views.publish", 2)
    await asyncio.sleep(0.1)
    assert len(slack.fake.calls_to("views.publish")) == 2


async def test_a_retry_of_an_event_never_seen_is_handled(slack: SlackServer):
    opened = {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}
    assert (await slack.event(opened, event_id="EvLost", retry=2))[0] == 200
    await slack.calls("views.publish", 1)


# -- the real pipeline, slow everywhere at once -------------------------------------------------------------------


@pytest.fixture
async def slow_everything(slack_store: Store) -> AsyncIterator[SlackServer]:
    fake = await FakeSlack(users={"UCREATOR": {"id": "UCREATOR", "tz": "UTC"}},
                           channels={"C1": {"id": "C1", "creator": "UCREATOR", "is_member": True}}).start()  # fmt: skip
    fake.delays.update({"users.info": 0.3, "conversations.info": 0.3})
    clock = Clock()
    services = replace(make_services(slack_store, clock), store=SlowStore(slack_store.api, delay=0.05))
    platform, runner, url = await serve_platform(slack_settings(fake), services)
    platform.bot.direct_budget = 0.1
    async with aiohttp.ClientSession() as session:
        yield SlackServer(fake, platform, url, session, slack_store, clock)
    await platform.stop()
    await runner.cleanup()
    await fake.stop()


async def test_slow_slack_and_slow_database_together_still_subscribe_the_creator(slow_everything: SlackServer):
    slack = slow_everything
    status, body = await slack.command("/re-subscribe", "papers 09:00 UTC weekdays", user="UCREATOR", channel="C1")
    assert status == 200 and not body
    [answer] = await slack.responses()
    assert "Subscribed" in all_text(answer["blocks"])
    info = slack.store.api.get_schedule(CHANNEL_POST, "slack", "C1")
    assert info is not None and info.rule.days == frozenset(range(5))
