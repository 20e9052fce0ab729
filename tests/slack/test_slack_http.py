"""End to end over HTTP: signed requests into the real bolt AsyncApp on the shared aiohttp server, Web API calls and
response_url posts landing at the local fake Slack."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from fake_slack import TEAM
from slack_harness import SlackServer, all_text, assert_valid_blocks, block_actions, buttons, wait_until

from handlers import COMMANDS
from handlers.rotation import rotation

# -- signatures --------------------------------------------------------------------------------------------------------


def _command_body(text: str = "phd") -> str:
    return urlencode({"command": "/re-faq", "text": text, "user_id": "U1", "channel_id": "C1", "team_id": TEAM,
                      "response_url": "http://127.0.0.1:9/never"})  # fmt: skip


async def test_good_signature_answers_faq_in_the_http_response(slack: SlackServer):
    status, body = await slack.command("/re-faq", "phd")
    assert status == 200
    assert body["response_type"] == "ephemeral"
    assert body["blocks"][0]["type"] == "header"
    assert "PhD" in all_text(body["blocks"])
    assert_valid_blocks(body["blocks"])
    # The answer needed no Web API call to post it: only lookups (auth.test, users.info).
    assert not slack.fake.calls_to("chat.postMessage")
    assert not slack.fake.responses


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"X-Slack-Signature": "v0=" + "0" * 64}, id="bad-signature"),
        pytest.param({"X-Slack-Request-Timestamp": None}, id="missing-timestamp"),
        pytest.param({"X-Slack-Signature": None, "X-Slack-Request-Timestamp": None}, id="missing-signature"),
        pytest.param({"stale": True}, id="stale"),
        pytest.param({"secret": "wrong-secret"}, id="wrong-secret"),
    ],
)
async def test_bad_stale_or_missing_signature_is_401_and_runs_nothing(slack: SlackServer, headers):
    from fake_slack import signed_headers

    body = _command_body()
    if headers.get("stale"):
        sent = signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    elif headers.get("secret"):
        sent = signed_headers(body, secret=headers["secret"])
    else:
        sent = signed_headers(body)
        for key, value in headers.items():
            if value is None:
                sent.pop(key)
            else:
                sent[key] = value
    before = len(slack.fake.calls)
    status, _ = await slack.post(body, sent)
    assert status == 401
    assert len(slack.fake.calls) == before, "a rejected request must not reach any listener"


async def test_unsigned_junk_is_401_not_500(slack: SlackServer):
    status, _ = await slack.post("payload=%7Bnot-json", {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 401


async def test_url_verification_challenge(slack: SlackServer):
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "legacy"})
    status, answer = await slack.signed(body, content_type="application/json")
    assert status == 200
    assert answer == {"challenge": "abc123"}


async def test_healthz_is_served_next_to_slack_events(slack: SlackServer):
    async with slack.session.get(f"{slack.url}/healthz") as resp:
        assert resp.status == 200


# -- every command --------------------------------------------------------------------------------------------------


def _examples() -> list[tuple[str, str]]:
    cases = []
    for spec in COMMANDS.values():
        cases.append((spec.name, ""))
        for example in spec.examples:
            name, _, text = example.lstrip("/").partition(" ")
            cases.append((name, text))
    return cases


@pytest.mark.parametrize(("name", "text"), _examples(), ids=[f"{n} {t}".strip() for n, t in _examples()])
async def test_every_command_and_example_answers_with_valid_blocks(slack: SlackServer, name: str, text: str):
    """As a workspace admin with a reminder already set, so every example (`/re-remind pause 3 days`,
    `/re-subscribe papers ...`) does what it says, on the real store."""
    await slack.command("/re-remind", "daily 09:00", user="UADMIN")
    status, body = await slack.command(f"/{name}", text, user="UADMIN", channel="C1")
    assert status == 200, body
    assert body["response_type"] in ("ephemeral", "in_channel")
    assert body["text"]
    assert_valid_blocks(body["blocks"])
    assert "went wrong" not in body["text"]
    assert body["blocks"][0]["type"] == "header", f"an example must not be refused: {body['text']}"


async def test_unknown_command_gets_a_helpful_answer(slack: SlackServer):
    status, body = await slack.command("/re-nope", "x")
    assert status == 200
    assert "/re-faq" in all_text(body["blocks"])
    status, body = await slack.command("/re-fq", "phd")
    assert status == 200 and "Did you mean `/re-faq`?" in all_text(body["blocks"])


async def test_members_slack_zone_is_used_for_today(slack: SlackServer):
    """The fixed clock reads 2025-03-12 09:30 UTC; a member in Tokyo and one in Berlin share a date there, so check
    the zone reached the handler through the paper of the member's own local day."""
    _, berlin = await slack.command("/re-paper", "", user="U1")
    assert [c.args.get("user") for c in slack.fake.calls_to("users.info")] == ["U1"]
    _, again = await slack.command("/re-paper", "", user="U1")
    assert len(slack.fake.calls_to("users.info")) == 1, "the member's zone is cached"
    assert berlin["blocks"] == again["blocks"]


async def test_zone_decides_the_day(fake):
    """Late evening UTC is already tomorrow in Tokyo: the Slack zone changes today's paper."""
    import aiohttp
    from slack_harness import SlackServer, make_services, serve_platform, slack_settings

    services = make_services()
    services.clock = lambda: datetime(2025, 3, 12, 20, 0, tzinfo=UTC)
    platform, runner, url = await serve_platform(slack_settings(fake), services)
    try:
        async with aiohttp.ClientSession() as session:
            server = SlackServer(fake, platform, url, session)
            _, berlin = await server.command("/re-paper", "today", user="U1")
            _, tokyo = await server.command("/re-paper", "today", user="UOWNER")
    finally:
        await runner.cleanup()
    papers = rotation(services.content.papers)
    day = datetime(2025, 3, 12).toordinal()
    assert papers[day % len(papers)].title in all_text(berlin["blocks"])
    assert papers[(day + 1) % len(papers)].title in all_text(tokyo["blocks"])


async def test_users_info_failure_still_answers(slack: SlackServer):
    slack.fake.fail("users.info", status=500)
    status, body = await slack.command("/re-paper", "", user="U1")
    assert status == 200
    assert_valid_blocks(body["blocks"])


# -- echoed text ------------------------------------------------------------------------------------------------------

HOSTILE = "<!channel> <!here> @everyone @here <@U999> <#C1> [x](!channel) *bold* &amp; <https://evil.example|click>"


@pytest.mark.parametrize(
    ("command", "before"),
    [("/re-faq", ""), ("/re-paper", ""), ("/re-prompt", ""), ("/re-help", ""), ("/re-remind", "9am "),
     ("/re-remind", "zone "), ("/re-subscribe", "papers 9 "), ("/re-unsubscribe", "")],
)  # fmt: skip
async def test_echoed_text_is_never_a_live_mention(slack: SlackServer, command: str, before: str):
    _, body = await slack.command(command, before + HOSTILE, user="UADMIN")
    text = all_text(body["blocks"]) + body["text"]
    for live in ("<!channel", "<!here", "<!everyone", "<@U999", "<#C1", "<https://evil"):
        assert live not in text
    assert "@everyone" not in text.replace("@\u200beveryone", "")
    assert "@here" not in text.replace("@\u200bhere", "")


@pytest.mark.parametrize(
    ("command", "text", "expected"),
    [
        ("/re-progress", "", "`/re-remind daily 09:00`"),
        ("/re-remind", "snooze", "`/re-remind daily 09:00`"),
        ("/re-help", "re-admin", "`/re-admin zone Europe/Berlin`"),
        ("/re-faq", "switch", "`/re-faq portfolio`"),
        ("/re-review", "forget", "`/re-review list`"),
    ],
)
async def test_hints_on_slack_keep_the_slash_text(slack: SlackServer, command: str, text: str, expected: str):
    """The same hints a Discord member sees in Discord's options, in the text form Slack takes."""
    _, body = await slack.command(command, text, user="U1")
    shown = all_text(body["blocks"])
    assert expected in shown
    assert not re.search(r"`/re-[^`]*\b(time|topic|zone|action|command):", shown)


async def test_a_reminder_dm_on_slack_keeps_the_slash_text(slack: SlackServer):
    dm = await slack.reminder_dm("U1")
    assert "`/re-remind pause 3 days` or `/re-remind off`" in all_text(dm["blocks"])


# -- buttons ----------------------------------------------------------------------------------------------------------


async def test_faq_share_posts_publicly_credited_to_the_member(slack: SlackServer):
    _, answer = await slack.command("/re-faq", "phd")
    share = next(e for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"])
    assert share["action_id"].startswith("faq.share")
    status, _ = await slack.press(share["action_id"], share["value"], user="U1")
    assert status == 200
    posted, private = await slack.responses(2)
    assert posted["response_type"] == "in_channel"
    assert posted["replace_original"] is False
    assert "Shared by <@U1>" in all_text(posted["blocks"])
    assert not any(b["type"] == "actions" for b in posted["blocks"]), "a shared answer has no Share button"
    assert_valid_blocks(posted["blocks"])
    # The member's private answer now says it was shared, and has no Share button left to press twice.
    assert private["replace_original"] is True and private["response_type"] == "ephemeral"
    assert "You shared this in the channel" in all_text(private["blocks"])
    assert not any(a.startswith("faq.share") for a in buttons(private["blocks"]))
    assert_valid_blocks(private["blocks"])


async def test_the_shared_private_copy_keeps_its_feedback_buttons_tied_to_the_question(slack: SlackServer):
    """A free-text question is logged; its answer's buttons carry the question's ref. Slack sends no message back with
    a press on an ephemeral answer, so the updated private copy is rebuilt: the same Helpful / Not what I asked
    buttons (same values, so a vote still counts for that question), only Share gone."""
    _, answer = await slack.command("/re-faq", "do I need a phd to become a research engineer", user="U1")
    before = buttons(answer["blocks"])
    share, helpful, miss = before["faq.share"], before["faq.helpful"], before["faq.miss"]
    assert ":" in helpful["value"], "the answer's buttons carry the logged question's ref"
    await slack.press(share["action_id"], share["value"], user="U1", channel="C1")
    posted, private = await slack.responses(2)
    assert posted["response_type"] == "in_channel" and not buttons(posted["blocks"])
    after = buttons(private["blocks"])
    assert set(after) == {"faq.helpful", "faq.miss"}
    assert (after["faq.helpful"]["value"], after["faq.miss"]["value"]) == (helpful["value"], miss["value"])
    assert {e["text"]["text"] for e in after.values()} == {"Helpful", "Not what I asked"}

    # Pressing Helpful on the updated copy records the vote for the member's question.
    await slack.press(after["faq.helpful"]["action_id"], after["faq.helpful"]["value"], user="U1", channel="C1")
    [*_, thanked] = await slack.responses(3)
    assert "Thanks, noted as helpful" in all_text(thanked["blocks"])
    [logged] = slack.store.api.logged_questions(since=datetime(2000, 1, 1, tzinfo=UTC))
    assert logged.votes == ((helpful["value"].partition(":")[0], True),)


async def test_faq_share_falls_back_to_chat_post_when_response_url_expired(slack: SlackServer):
    slack.fake.fail("response_url")
    await slack.press("faq.share#0", "phd", user="U1", channel="C1")
    [post] = await slack.calls("chat.postMessage")
    assert post.args["channel"] == "C1"
    assert "Shared by <@U1>" in all_text(post.args["blocks"])


async def test_suggestion_buttons_show_the_topic_in_place(slack: SlackServer):
    _, body = await slack.command("/re-faq", "zzzz qqqq career money")
    elements = [e for b in body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    buttons = [e for e in elements if e["action_id"].startswith("faq.show#")]
    if not buttons:  # the matcher answered directly; press a suggestion button as Slack would send it anyway
        buttons = [{"action_id": "faq.show#0", "value": "salary"}]
    assert all(e["action_id"].startswith("faq.show#") for e in buttons)
    await slack.press(buttons[0]["action_id"], buttons[0]["value"], ephemeral=True)
    [shown] = await slack.responses()
    assert shown["replace_original"] is True
    assert shown["response_type"] == "ephemeral"
    assert buttons[0]["value"] in all_text(shown["blocks"])  # the Share button carries the topic id


async def test_another_paper_on_a_public_post_answers_privately(slack: SlackServer):
    papers = rotation(slack.platform.bot.services.content.papers)
    await slack.press("paper.another#0", papers[0].id, ephemeral=False)
    [answer] = await slack.responses()
    assert answer["response_type"] == "ephemeral"
    assert answer["replace_original"] is False, "a channel post stays for everyone"
    assert papers[1].title in all_text(answer["blocks"])


async def test_another_prompt_button(slack: SlackServer):
    prompts = rotation(slack.platform.bot.services.content.prompts)
    await slack.press("prompt.another#0", prompts[0].id)
    [answer] = await slack.responses()
    assert prompts[1].id in all_text(answer["blocks"])


def _button_cases() -> list[tuple[str, str]]:
    from slack_harness import make_services

    from handlers import ACTIONS

    content = make_services().content
    values = {
        "faq.show": "phd",
        "faq.share": "phd",
        "paper.another": content.papers[0].id,
        "prompt.another": content.prompts[0].id,
    }
    return [(name, values.get(name, "")) for name in sorted(ACTIONS)]


@pytest.mark.parametrize(("action", "value"), _button_cases(), ids=[a for a, _ in _button_cases()])
async def test_every_button_payload_answers_with_valid_blocks(slack: SlackServer, action: str, value: str):
    """Reminder buttons are pressed where members find them, with the values the bot put there: Done and Snooze on
    a reminder DM the scheduler delivered, Pause / Resume / Turn off on `/re-remind list`."""
    element, where = {"action_id": f"{action}#0", "value": value}, {}
    if action in ("remind.done", "remind.snooze"):
        dm = await slack.reminder_dm("U1")
        element, where = buttons(dm["blocks"])[action], {"channel": dm["channel"], "ephemeral": False, "message": dm}
    elif action.startswith("remind."):
        await slack.command("/re-remind", "daily 09:00")
        if action == "remind.resume":
            await slack.command("/re-remind", "pause")
        _, listed = await slack.command("/re-remind", "list")
        element = buttons(listed["blocks"])[action]
    status, _ = await slack.press(element["action_id"], element["value"], **where)
    assert status == 200
    for answer in await slack.responses():
        assert_valid_blocks(answer["blocks"])
        assert "went wrong" not in answer["text"]
        assert "no reminder" not in all_text(answer["blocks"]) and "can't find" not in all_text(answer["blocks"])


async def test_stale_button_with_unknown_action_answers_kindly(slack: SlackServer):
    status, _ = await slack.press("gone.away#0", "x")
    assert status == 200
    [answer] = await slack.responses()
    assert "no longer" in answer["text"] or "no longer" in all_text(answer["blocks"])


async def test_button_payload_with_missing_fields_is_not_a_5xx(slack: SlackServer):
    payload = block_actions(slack.fake, "faq.show#0", "phd")
    del payload["user"], payload["response_url"], payload["channel"]
    status, _ = await slack.signed(urlencode({"payload": json.dumps(payload)}))
    assert status < 500


# -- App Home ---------------------------------------------------------------------------------------------------------


async def test_app_home_opened_publishes_the_home_tab(slack: SlackServer):
    status, _ = await slack.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home",
                                   "event_ts": "1700000000.1"})  # fmt: skip
    assert status == 200
    [publish] = await slack.calls("views.publish")
    assert publish.args["user_id"] == "U1"
    view = publish.args["view"]
    assert view["type"] == "home"
    assert_valid_blocks(view["blocks"], max_blocks=100)
    text = all_text(view["blocks"])
    assert "Paper of the day" in text
    assert "paper.another#" in text


async def test_messages_tab_opened_publishes_nothing(slack: SlackServer):
    await slack.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "messages"})
    await slack.command("/re-help")  # a later request: the event has surely been handled by now
    assert not slack.fake.calls_to("views.publish")


async def test_home_button_republishes_home_with_the_result(slack: SlackServer):
    papers = rotation(slack.platform.bot.services.content.papers)
    await slack.press("paper.another#0", papers[0].id, view=True)
    [publish] = await slack.calls("views.publish")
    blocks = publish.args["view"]["blocks"]
    assert_valid_blocks(blocks, max_blocks=100)
    assert papers[1].title in all_text(blocks[:8])
    assert not slack.fake.responses


async def test_sending_never_mutates_the_cached_blocks(slack: SlackServer):
    from bot.platforms.slack.render import _blocks_cached, reply_blocks
    from handlers import Invocation, dispatch

    _, first = await slack.command("/re-faq", "phd")
    _, second = await slack.command("/re-faq", "phd")
    reply = dispatch(Invocation("re-faq", "phd"), slack.platform.bot.services)
    await slack.platform.sender.send("C1", reply, kind="channel-post", nonce="n")
    fresh = list(_blocks_cached.__wrapped__(reply, 50))
    assert reply_blocks(reply) == fresh
    # Each answer's feedback buttons carry their own question ref; everything above them is the same.
    assert first["blocks"][:-1] == second["blocks"][:-1] == fresh[:-1]


async def test_commands_and_buttons_are_counted_in_metrics(slack: SlackServer):
    from bot.ops.metrics import REGISTRY

    def count(command: str) -> float:
        labels = {"platform": "slack", "command": command, "outcome": "ok"}
        return REGISTRY.get_sample_value("re_bot_commands_total", labels) or 0.0

    before_cmd, before_button = count("re-faq"), count("button:faq.show")
    await slack.command("/re-faq", "phd")
    await slack.press("faq.show#0", "phd")
    await slack.responses()
    assert count("re-faq") == before_cmd + 1
    await wait_until(lambda: count("button:faq.show") == before_button + 1)  # counted once delivered
    assert slack.platform.ready
