"""`re-bot run` in Socket Mode, as the README's small-community path starts it: only SLACK_BOT_TOKEN and
SLACK_APP_TOKEN (no signing secret), the real slack_sdk Socket Mode client connecting to the local fake's websocket.

The fake (tests/slack/fake_slack.py) answers `apps.connections.open` with a `ws://127.0.0.1:PORT/socket` URL it serves
itself, sends `hello` on connect, and pushes envelopes. Their shapes follow Slack's documentation
(https://docs.slack.dev/apis/events-api/using-socket-mode/: a `hello` message, then envelopes with `envelope_id`,
`type`, `payload`, `accepts_response_payload`; the app acknowledges with `{"envelope_id": ..., "payload": ...}`) and
slackapi/python-slack-sdk's own test server (tests/slack_sdk/socket_mode/mock_socket_mode_server.py, its
`slash_commands` envelope).
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from fake_slack import APP_TOKEN, BOT_TOKEN, TEAM, FakeSlack
from slack_harness import all_text
from test_slack_run import _env, _free_port, _start


def _socket_env(fake: FakeSlack, tmp_path: Path) -> dict[str, str]:
    env = _env(fake, tmp_path, _free_port(), token=BOT_TOKEN)
    del env["SLACK_SIGNING_SECRET"]  # Socket Mode needs none: the README's set-up gives none
    env["SLACK_APP_TOKEN"] = APP_TOKEN
    return env


async def test_re_bot_run_serves_slash_commands_over_socket_mode_without_a_signing_secret(
    fake: FakeSlack, tmp_path: Path
):
    proc = await _start(_socket_env(fake, tmp_path), tmp_path)
    try:
        # As Slack sends a slash command over the socket (envelope shape: python-slack-sdk's socket mode tests).
        envelope = {
            "envelope_id": "1d3c79ab-0ffb-41f3-a080-d19e85f53649",
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": {
                "token": "verification-token", "team_id": TEAM, "team_domain": "test", "channel_id": "C111",
                "channel_name": "random", "user_id": "U111", "user_name": "member", "command": "/re-faq",
                "text": "phd", "api_app_id": "A111", "response_url": fake.response_url(), "trigger_id": "111.222.x",
            },
        }  # fmt: skip
        answered = asyncio.create_task(fake.send_envelope(envelope, timeout=60))
        exited = asyncio.create_task(proc.wait())
        await asyncio.wait({answered, exited}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        exited.cancel()
        assert answered.done(), "re-bot run stopped (or hung) before acknowledging the envelope"
        ack = answered.result()
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), 30)
    text = stderr.decode()
    assert ack["envelope_id"] == envelope["envelope_id"]
    assert ack["payload"]["response_type"] == "ephemeral"
    assert "PhD" in all_text(ack["payload"]["blocks"])
    assert proc.returncode == 0, text
    assert "Traceback" not in text and "signing_secret" not in text
    assert "socket mode" in text
    [opened] = fake.calls_to("apps.connections.open")
    assert opened.headers["Authorization"] == f"Bearer {APP_TOKEN}"
