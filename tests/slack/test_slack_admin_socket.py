"""Who may manage a channel (admin commands), and the same bolt app served over Socket Mode."""

from __future__ import annotations

import json

import aiohttp
import pytest
from fake_slack import TEAM, FakeSlack
from slack_harness import SlackServer, all_text, assert_valid_blocks, make_services, serve_platform, slack_settings

from handlers import COMMANDS, Invocation, Reply, Section, Services
from handlers.registry import CommandSpec


def _whoami(inv: Invocation, services: Services) -> Reply:
    return Reply(command=inv.command, sections=(Section(text=f"manage={inv.can_manage_channel} tz={inv.tz}"),))


@pytest.fixture
def admin_command(monkeypatch):
    """A channel-changing command, registered the way /re-subscribe is (`admin=True`)."""
    monkeypatch.setitem(COMMANDS, "re-test-admin", CommandSpec("re-test-admin", "test", "/re-test-admin", (),
                                                               _whoami, admin=True))  # fmt: skip
    monkeypatch.setitem(COMMANDS, "re-test-plain", CommandSpec("re-test-plain", "test", "/re-test-plain", (), _whoami))


@pytest.mark.parametrize(
    ("user", "channel", "allowed"),
    [
        ("UADMIN", "C1", True),  # workspace admin
        ("UOWNER", "C1", True),  # workspace owner
        ("UCREATOR", "C1", True),  # the channel's creator
        ("U1", "C1", False),  # a member
        ("U1", "D123", True),  # the member's own DM with the bot
        ("U1", "C404", False),  # a channel the bot cannot see
        ("UNKNOWN", "C1", False),  # users.info fails: no rights
    ],
)
async def test_admin_commands_check_the_member_may_manage_the_channel(
    slack: SlackServer, admin_command, user: str, channel: str, allowed: bool
):
    _, body = await slack.command("/re-test-admin", user=user, channel=channel)
    assert f"manage={allowed}" in all_text(body["blocks"])


async def test_plain_commands_skip_the_channel_lookup(slack: SlackServer, admin_command):
    _, body = await slack.command("/re-test-plain", user="UCREATOR", channel="C1")
    assert "manage=False tz=UTC" in all_text(body["blocks"])
    assert not slack.fake.calls_to("conversations.info")


async def test_channel_creator_is_cached(slack: SlackServer, admin_command):
    for _ in range(3):
        await slack.command("/re-test-admin", user="U1", channel="C1")
    assert len(slack.fake.calls_to("conversations.info")) == 1
    assert len(slack.fake.calls_to("users.info")) == 1


# -- Socket Mode ------------------------------------------------------------------------------------------------------


@pytest.fixture
async def socket_platform(fake: FakeSlack):
    platform, runner, url = await serve_platform(slack_settings(fake, socket=True), make_services())
    yield platform, url
    await platform.stop()
    await runner.cleanup()


async def test_socket_mode_connects_with_the_app_token_and_serves_no_http_endpoint(fake: FakeSlack, socket_platform):
    platform, url = socket_platform
    assert platform.mode == "socket"
    [opened] = fake.calls_to("apps.connections.open")
    assert opened.headers["Authorization"] == "Bearer xapp-test-token"
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/slack/events", data="x") as resp:
            assert resp.status in (404, 405)
        async with session.get(f"{url}/healthz") as resp:
            assert resp.status == 200


async def test_socket_mode_slash_command_is_answered_in_the_envelope_ack(fake: FakeSlack, socket_platform):
    ack = await fake.send_envelope({
        "envelope_id": "env-1",
        "type": "slash_commands",
        "accepts_response_payload": True,
        "payload": {"command": "/re-faq", "text": "phd", "user_id": "U1", "channel_id": "C1", "team_id": TEAM,
                    "api_app_id": "A1", "response_url": fake.response_url(), "trigger_id": "1"},
    })  # fmt: skip
    assert ack["payload"]["response_type"] == "ephemeral"
    assert "PhD" in all_text(ack["payload"]["blocks"])
    assert_valid_blocks(ack["payload"]["blocks"])


async def test_socket_mode_button_and_home(fake: FakeSlack, socket_platform):
    from slack_harness import block_actions, wait_until

    ack = await fake.send_envelope({"envelope_id": "env-2", "type": "interactive", "accepts_response_payload": False,
                                    "payload": block_actions(fake, "faq.share#0", "phd")})  # fmt: skip
    assert ack["envelope_id"] == "env-2"
    await wait_until(lambda: bool(fake.responses))
    assert fake.responses[0]["response_type"] == "in_channel"

    event = {"type": "event_callback", "team_id": TEAM, "api_app_id": "A1", "event_id": "Ev2", "event_time": 1,
             "event": {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}}  # fmt: skip
    await fake.send_envelope({"envelope_id": "env-3", "type": "events_api", "payload": event})
    await wait_until(lambda: bool(fake.calls_to("views.publish")))
    view = fake.calls_to("views.publish")[0].args["view"]
    assert_valid_blocks(view["blocks"], max_blocks=100)
    assert json.dumps(view)
