"""Reminders, subscriptions and progress on Slack, end to end: signed slash commands and button presses into the real
bolt app on a real store, and scheduled deliveries ticked through the Slack sender to the fake Slack Web API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from slack_harness import SlackServer, all_text, assert_valid_blocks, buttons

from bot.platforms.slack.render import action_name, is_status_block
from bot.platforms.slack.sender import PERMANENT_ERRORS
from handlers.schedule import WEEKDAYS, Rule
from handlers.store_api import CHANNEL_POST, REMINDER

# The harness clock reads 2025-03-12 09:30 UTC (10:30 in Berlin). A daily 09:00 Berlin reminder next fires on the
# 13th at 08:00 UTC; a 09:00 UTC subscription at 09:00 UTC.
NEXT_DAY = datetime(2025, 3, 13, 9, 0, tzinfo=UTC)


def reminder(slack: SlackServer, user: str = "U1"):
    assert slack.store is not None
    return slack.store.api.get_schedule(REMINDER, "slack", user)


def subscription(slack: SlackServer, channel: str = "C1"):
    assert slack.store is not None
    return slack.store.api.get_schedule(CHANNEL_POST, "slack", channel)


# -- /re-remind: the member's Slack time zone -------------------------------------------------------------------------


async def test_remind_without_a_zone_uses_the_members_slack_zone(slack: SlackServer):
    status, body = await slack.command("/re-remind", "daily 09:00", user="U1")  # users.info: Europe/Berlin
    assert status == 200
    assert body["response_type"] == "ephemeral"
    assert "Europe/Berlin" in all_text(body["blocks"])
    assert_valid_blocks(body["blocks"])
    info = reminder(slack)
    assert info is not None and info.rule == Rule(9, 0, "Europe/Berlin")
    assert info.next_fire_at == datetime(2025, 3, 13, 8, 0, tzinfo=UTC)
    assert slack.store.api.member_zone("slack", "U1") == "Europe/Berlin"


async def test_a_zone_typed_in_the_command_wins_over_slacks(slack: SlackServer):
    await slack.command("/re-remind", "weekdays 07:15 Asia/Kolkata", user="UADMIN")  # users.info: America/New_York
    assert reminder(slack, "UADMIN").rule == Rule(7, 15, "Asia/Kolkata", WEEKDAYS)


async def test_without_a_slack_zone_the_member_is_asked_once_and_it_is_remembered(slack: SlackServer):
    slack.fake.fail("users.info", error="user_not_found", times=10)
    _, body = await slack.command("/re-remind", "daily 09:00", user="UNEW")
    assert "Which time zone are you in?" in all_text(body["blocks"])
    assert reminder(slack, "UNEW") is None, "nothing is stored until the zone is known"
    await slack.command("/re-remind", "daily 09:00 America/Sao_Paulo", user="UNEW")
    await slack.command("/re-remind", "weekdays 08:00", user="UNEW")
    assert reminder(slack, "UNEW").rule == Rule(8, 0, "America/Sao_Paulo", WEEKDAYS)


async def test_reminder_commands_change_the_store(slack: SlackServer):
    await slack.command("/re-remind", "daily 09:00")
    _, listed = await slack.command("/re-remind", "list")
    assert "every day at 09:00 (Europe/Berlin)" in all_text(listed["blocks"])
    assert set(buttons(listed["blocks"])) == {"remind.snooze", "remind.pause", "remind.off"}
    assert_valid_blocks(listed["blocks"])

    await slack.command("/re-remind", "pause 3 days")
    assert reminder(slack).paused_until == slack.clock.now + timedelta(days=3)
    await slack.command("/re-remind", "pause")
    assert not reminder(slack).active
    _, paused = await slack.command("/re-remind", "list")
    assert set(buttons(paused["blocks"])) == {"remind.resume", "remind.off"}
    await slack.command("/re-remind", "resume")
    assert reminder(slack).active
    await slack.command("/re-remind", "snooze 30m")
    assert reminder(slack).snooze_at == slack.clock.now + timedelta(minutes=30)
    _, off = await slack.command("/re-remind", "off")
    assert "off" in all_text(off["blocks"])
    assert reminder(slack) is None


# -- /re-subscribe and /re-unsubscribe: who may change a channel ------------------------------------------------------


async def test_a_plain_member_cannot_subscribe_a_channel(slack: SlackServer):
    status, body = await slack.command("/re-subscribe", "papers 09:00 UTC", user="U1", channel="C1")
    assert status == 200
    assert body["response_type"] == "ephemeral"
    text = all_text(body["blocks"])
    assert "Only workspace admins and the channel's creator" in text
    assert "/re-remind" in text, "the refusal points to what the member can do instead"
    assert subscription(slack) is None


@pytest.mark.parametrize("user", ["UADMIN", "UOWNER", "UCREATOR"])
async def test_admins_owners_and_the_channels_creator_can_subscribe(slack: SlackServer, user: str):
    status, body = await slack.command("/re-subscribe", "papers 09:00 UTC weekdays", user=user, channel="C1")
    assert status == 200
    assert body["response_type"] == "in_channel", "the channel sees it was subscribed"
    assert_valid_blocks(body["blocks"])
    info = subscription(slack)
    assert info is not None and info.rule == Rule(9, 0, "UTC", WEEKDAYS)


async def test_a_plain_member_cannot_unsubscribe_an_admin_can(slack: SlackServer):
    await slack.command("/re-subscribe", "papers 09:00 UTC", user="UADMIN", channel="C1")
    _, refused = await slack.command("/re-unsubscribe", user="U1", channel="C1")
    assert refused["response_type"] == "ephemeral"
    assert "Only workspace admins and the channel's creator" in all_text(refused["blocks"])
    assert subscription(slack) is not None
    _, done = await slack.command("/re-unsubscribe", user="UADMIN", channel="C1")
    assert "no longer gets the paper of the day" in all_text(done["blocks"])
    assert subscription(slack) is None


async def test_anyone_may_see_the_channels_subscription(slack: SlackServer):
    await slack.command("/re-subscribe", "papers 09:00 Europe/Paris", user="UADMIN", channel="C1")
    _, shown = await slack.command("/re-subscribe", user="U1", channel="C1")
    assert "every day at 09:00 (Europe/Paris)" in all_text(shown["blocks"])


async def test_admins_subscription_without_a_zone_uses_the_admins_slack_zone(slack: SlackServer):
    await slack.command("/re-subscribe", "papers 09:00", user="UADMIN", channel="C1")
    assert subscription(slack).rule.zone == "America/New_York"


# -- delivery: the scheduler through the Slack sender -----------------------------------------------------------------


async def test_a_tick_delivers_the_reminder_dm_and_the_channel_post_once(slack: SlackServer):
    await slack.command("/re-remind", "daily 09:00", user="U1")
    await slack.command("/re-subscribe", "papers 09:00 UTC", user="UADMIN", channel="C1")
    report = await slack.tick(NEXT_DAY)
    assert sorted((r.kind, r.target, r.status) for r in report.results) == [
        ("channel-post", "C1", "sent"),
        ("reminder", "U1", "sent"),
    ]

    [dm] = slack.posts("U1")  # a post to a member id lands in the app's DM with them
    assert_valid_blocks(dm.args["blocks"])
    assert {"remind.done", "remind.snooze"} <= set(buttons(dm.args["blocks"]))
    assert buttons(dm.args["blocks"])["remind.done"]["value"].startswith(("prompt:", "paper:"))

    main, *thread = slack.posts("C1")
    assert "thread_ts" not in main.args
    assert "Paper of the day" in main.args["text"]
    assert_valid_blocks(main.args["blocks"])
    assert thread, "the paper's study prompts go in a thread"
    assert all(t.args["thread_ts"] == main.answer["ts"] for t in thread)
    assert "Study prompts" in all_text(thread[0].args["blocks"])
    paper = slack.platform.bot.services.content.paper(_paper_id(slack))
    assert paper is not None and paper.title in all_text(main.args["blocks"])

    calls = len(slack.fake.calls_to("chat.postMessage"))
    again = await slack.tick(NEXT_DAY)
    later = await slack.tick(NEXT_DAY + timedelta(minutes=30))
    assert again.results == [] and later.results == []
    assert len(slack.fake.calls_to("chat.postMessage")) == calls, "a re-tick sends nothing"


def _paper_id(slack: SlackServer) -> str:
    from sqlalchemy import select

    from bot.store.models import ChannelPaper

    with slack.store.sessions() as session:
        return session.scalars(select(ChannelPaper.paper_id)).one()


async def test_a_429_with_retry_after_is_waited_out_then_posted_once(slack: SlackServer):
    await slack.command("/re-subscribe", "papers 09:00 UTC", user="UADMIN", channel="C1")
    # The Web API client waits out the first 429 itself; the second reaches the dispatcher, which holds Slack's
    # budget for the Retry-After and sends again.
    slack.fake.fail("chat.postMessage", status=429, retry_after=1, times=2, channel="C1")
    report = await slack.tick(NEXT_DAY)
    assert [r.status for r in report.results] == ["sent"]
    tries = [c for c in slack.fake.calls_to("chat.postMessage") if "thread_ts" not in c.args]
    assert [c.ok for c in tries] == [False, False, True]
    gaps = [later.at - earlier.at for earlier, later in pairwise(tries)]
    assert all(gap >= 0.9 for gap in gaps), f"each retry waited Retry-After (1 s): {gaps}"
    assert len([c for c in slack.posts("C1") if "thread_ts" not in c.args]) == 1


@pytest.mark.parametrize("error", ["channel_not_found", "is_archived", "not_in_channel"])
async def test_a_refused_channel_post_pauses_the_subscription_with_the_reason(slack: SlackServer, error: str):
    reason = PERMANENT_ERRORS[error]
    await slack.command("/re-subscribe", "papers 09:00 UTC", user="UADMIN", channel="C1")
    slack.fake.fail("chat.postMessage", error=error, channel="C1")
    report = await slack.tick(NEXT_DAY)
    assert [(r.status, r.error) for r in report.results] == [("failed", f"{reason} ({error})")]
    info = subscription(slack)
    assert not info.active and info.pause_reason == f"{reason} ({error})"

    _, shown = await slack.command("/re-subscribe", user="U1", channel="C1")
    assert f"Paused**: {reason} ({error})".replace("**", "*") in all_text(shown["blocks"])
    assert (await slack.tick(NEXT_DAY + timedelta(days=1))).results == [], "a paused subscription is not posted"
    assert len(slack.fake.calls_to("chat.postMessage")) == 1


async def test_a_refused_dm_pauses_the_reminder_with_the_reason(slack: SlackServer):
    await slack.command("/re-remind", "daily 09:00", user="U1")
    slack.fake.fail("chat.postMessage", error="messages_tab_disabled", channel="U1")
    await slack.tick(NEXT_DAY)
    _, listed = await slack.command("/re-remind", "list", user="U1")
    assert "the member turned off messages from the app" in all_text(listed["blocks"])
    assert "remind.resume" in buttons(listed["blocks"])


# -- the reminder's buttons, pressed on the DM ------------------------------------------------------------------------


async def test_done_on_a_reminder_dm_records_it_and_replaces_the_message(slack: SlackServer):
    dm = await slack.reminder_dm("U1")
    done = buttons(dm["blocks"])["remind.done"]
    status, _ = await slack.press(done["action_id"], done["value"], channel=dm["channel"], ephemeral=False, message=dm)
    assert status == 200
    [replaced] = await slack.responses()
    assert replaced["replace_original"] is True
    assert "response_type" not in replaced or replaced["response_type"] is None
    blocks = replaced["blocks"]
    assert_valid_blocks(blocks)
    assert not buttons(blocks), "a finished step has no buttons left"
    assert blocks[:2] == dm["blocks"][:2], "the step itself stays in the DM"
    assert is_status_block(blocks[-1])
    assert "Nice work, recorded. Streak: 1 day(s)" in all_text(blocks[-1:])
    assert [d.item for d in slack.store.api.done_items("slack", "U1")] == [done["value"]]
    assert len(slack.posts("U1")) == 1, "no new message: the reminder itself changed"

    _, progress = await slack.command("/re-progress", user="U1")
    assert "Streak:* 1 day(s)" in all_text(progress["blocks"])


async def test_snooze_on_a_reminder_dm_keeps_its_buttons_and_brings_it_back(slack: SlackServer):
    dm = await slack.reminder_dm("U1")
    slack.clock.now = NEXT_DAY + timedelta(minutes=5)
    snooze = buttons(dm["blocks"])["remind.snooze"]
    for pressed in (1, 2):  # twice, on the message as the first press left it: still one status line
        await slack.press(snooze["action_id"], snooze["value"], channel=dm["channel"], ephemeral=False, message=dm)
        dm = {**dm, "blocks": (await slack.responses(pressed))[-1]["blocks"]}
    replaced = slack.fake.responses[-1]
    assert replaced["replace_original"] is True
    assert set(buttons(replaced["blocks"])) == {"remind.done", "remind.snooze"}
    assert [is_status_block(b) for b in replaced["blocks"]].count(True) == 1
    assert "I'll remind you again at Thu 13 Mar 11:05" in all_text(replaced["blocks"])  # Berlin time
    assert reminder(slack).snooze_at == slack.clock.now + timedelta(hours=1)

    report = await slack.tick(slack.clock.now + timedelta(hours=1))
    assert [(r.kind, r.status) for r in report.results] == [("reminder", "sent")]
    assert len(slack.posts("U1")) == 2


async def test_reminder_button_with_expired_response_url_updates_the_dm_through_the_web_api(slack: SlackServer):
    dm = await slack.reminder_dm("U1")
    slack.fake.fail("response_url")
    done = buttons(dm["blocks"])["remind.done"]
    await slack.press(done["action_id"], done["value"], channel=dm["channel"], ephemeral=False, message=dm)
    [update] = await slack.calls("chat.update")
    assert (update.args["channel"], update.args["ts"]) == (dm["channel"], dm["ts"])
    assert is_status_block(update.args["blocks"][-1])


async def test_a_stale_done_button_answers_privately_and_leaves_the_dm_alone(slack: SlackServer):
    dm = await slack.reminder_dm("U1")
    done = buttons(dm["blocks"])["remind.done"]
    await slack.press(done["action_id"], "prompt:removed-since", channel=dm["channel"], ephemeral=False, message=dm)
    [answer] = await slack.responses()
    assert answer["replace_original"] is False
    assert answer["response_type"] == "ephemeral"
    assert "can't find that study step" in all_text(answer["blocks"])
    assert slack.store.api.done_items("slack", "U1") == []


# -- App Home ---------------------------------------------------------------------------------------------------------


async def _open_home(slack: SlackServer, user: str = "U1") -> list[dict[str, Any]]:
    before = len(slack.fake.calls_to("views.publish"))
    await slack.event({"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"})
    publish = (await slack.calls("views.publish", before + 1))[before]
    assert publish.args["user_id"] == user
    blocks = publish.args["view"]["blocks"]
    assert_valid_blocks(blocks, max_blocks=100)
    return blocks


async def _press_on_home(slack: SlackServer, element: dict[str, Any], user: str = "U1") -> list[dict[str, Any]]:
    before = len(slack.fake.calls_to("views.publish"))
    await slack.press(element["action_id"], element["value"], user=user, view=True)
    blocks = (await slack.calls("views.publish", before + 1))[before].args["view"]["blocks"]
    assert_valid_blocks(blocks, max_blocks=100)
    return blocks


async def test_home_shows_the_reminder_streak_and_todays_paper_with_buttons(slack: SlackServer):
    empty = await _open_home(slack)
    assert "You have no study reminder" in all_text(empty)
    await slack.command("/re-remind", "weekdays 08:30", user="U1")
    home = await _open_home(slack)
    text = all_text(home)
    assert "weekdays at 08:30 (Europe/Berlin)" in text
    assert "Your progress" in text and "Paper of the day" in text
    actions = {action_name(e["action_id"]): e for b in home if b["type"] == "actions" for e in b["elements"]}
    assert {"remind.snooze", "remind.pause", "remind.off", "remind.done", "paper.another"} <= set(actions)
    done_values = [e["value"] for b in home if b["type"] == "actions" for e in b["elements"]
                   if e["action_id"].startswith("remind.done")]  # fmt: skip
    assert any(v.startswith("paper:") for v in done_values) and any(v.startswith("prompt:") for v in done_values)


async def test_home_buttons_change_the_store_and_republish_home(slack: SlackServer):
    await slack.command("/re-remind", "daily 09:00", user="U1")
    home = await _open_home(slack)

    home = await _press_on_home(slack, buttons(home)["remind.pause"])
    assert not reminder(slack).active
    assert "Reminder paused" in all_text(home[:3]), "the result is shown at the top of Home"
    assert "remind.resume" in buttons(home)

    home = await _press_on_home(slack, buttons(home)["remind.resume"])
    assert reminder(slack).active
    assert "remind.pause" in buttons(home)

    home = await _press_on_home(slack, buttons(home)["remind.snooze"])
    assert reminder(slack).snooze_at == slack.clock.now + timedelta(hours=1)

    done = next(e for b in home if b["type"] == "actions" for e in b["elements"]
                if e["action_id"].startswith("remind.done") and e["value"].startswith("paper:"))  # fmt: skip
    home = await _press_on_home(slack, done)
    assert [d.item for d in slack.store.api.done_items("slack", "U1")] == [done["value"]]
    assert "Streak:* 1 day(s)" in all_text(home)

    home = await _press_on_home(slack, buttons(home)["remind.off"])
    assert reminder(slack) is None
    assert "You have no study reminder" in all_text(home)
    assert not slack.fake.responses, "Home buttons answer on Home, not with messages"
