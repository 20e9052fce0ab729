"""Structured logs: JSON or text, one line per command and delivery, never tokens, never what a member typed."""

from __future__ import annotations

import io
import json
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.ops.logs import REDACTED, Redactor, configure_logging, log_delivery
from bot.ops.metrics import observe_delivery
from bot.platforms.console import ConsoleSession
from handlers import Services

BOT_TOKEN = "xoxb-1111111111-2222222222-SeCrEtBoTtOkEnVaLuE"
APP_TOKEN = "xapp-1-A0000000000-3333333333-aPpToKeNsEcReTvAlUe"
USER_TOKEN = "xoxp-4444-5555-UsErToKeNvAlUe"
DISCORD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ALL_SECRETS = (BOT_TOKEN, APP_TOKEN, USER_TOKEN, DISCORD_TOKEN, SIGNING_SECRET)


@pytest.fixture
def captured():
    """re-bot's own handler, writing to a buffer; removed afterwards so other tests see the default."""
    stream = io.StringIO()

    def install(fmt: str = "json", secrets=(SIGNING_SECRET,)):
        configure_logging(fmt, logging.DEBUG, secrets, stream=stream)
        return stream

    yield install
    configure_logging("text", logging.WARNING)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.fixture
def services() -> Services:
    from bot.cli import load_services
    from bot.config import Settings

    return load_services(Settings(_env_file=None))


def test_json_is_one_object_per_line_with_fields(captured):
    stream = captured("json")
    logging.getLogger("re_bot.test").info("hello %s", "world", extra={"platform": "slack", "n": 3})
    (record,) = lines(stream)
    assert record["message"] == "hello world"
    assert record["level"] == "INFO"
    assert record["logger"] == "re_bot.test"
    assert record["platform"] == "slack" and record["n"] == 3
    assert record["time"].endswith("+00:00")


def test_text_format_is_readable_with_fields_on_the_line(captured):
    stream = captured("text")
    logging.getLogger("re_bot.test").warning("disk %s", "full", extra={"platform": "discord"})
    line = stream.getvalue().strip()
    assert "WARNING re_bot.test: disk full  platform=discord" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_one_line_per_command_with_platform_command_latency_outcome(captured, services):
    stream = captured("json")
    session = ConsoleSession(services=services, user="U1", channel="D-private")
    session.handle_line("/re-faq my secret plan to leave my job")
    session.handle_line("/re-faq phd")
    commands = [r for r in lines(stream) if r.get("event") == "command"]
    assert len(commands) == 2
    first, second = commands
    assert {k: first[k] for k in ("platform", "command", "user", "channel")} == {
        "platform": "console",
        "command": "re-faq",
        "user": "U1",
        "channel": "D-private",
    }
    assert first["outcome"] in ("miss", "ok")
    assert second["outcome"] == "ok" and second["topic"] == "phd"
    assert isinstance(second["latency_ms"], float)
    # What the member typed is never logged.
    assert "secret plan" not in stream.getvalue()


def test_one_line_per_delivery_without_its_text(captured):
    stream = captured("json")
    observe_delivery("discord", "reminder", "sent", 0.02, target="U42", schedule=7, fire_time="2025-01-06T09:00:00Z")
    observe_delivery("slack", "channel-post", "failed", target="C9", reason="channel_not_found")
    sent, failed = lines(stream)
    assert (sent["event"], sent["platform"], sent["kind"], sent["outcome"], sent["target"]) == (
        "delivery",
        "discord",
        "reminder",
        "sent",
        "U42",
    )
    assert sent["latency_ms"] == 20.0 and sent["schedule"] == 7
    assert failed["level"] == "ERROR" and failed["reason"] == "channel_not_found"


def test_delivery_log_takes_no_message_text():
    import inspect

    # The signature itself keeps DM contents out: there is no parameter for them.
    assert not {"text", "reply", "message", "body"} & set(inspect.signature(log_delivery).parameters)


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_tokens_are_redacted_everywhere(captured, fmt):
    stream = captured(fmt, secrets=(SIGNING_SECRET,))
    log = logging.getLogger("re_bot.test")
    log.info("token %s and %s", BOT_TOKEN, APP_TOKEN)
    log.info("discord says %s", DISCORD_TOKEN, extra={"headers": {"Authorization": f"Bot {DISCORD_TOKEN}"}})
    log.info("user token %s, signing secret %s", USER_TOKEN, SIGNING_SECRET)
    log.info("header Authorization: Bearer %s", "abcdefghijklmnop12345")
    log.info("db %s", "postgresql+psycopg://re_bot:hunter2hunter2@db/re_bot")
    try:
        raise RuntimeError(f"auth failed for {BOT_TOKEN}")
    except RuntimeError:
        log.exception("while calling Slack with %s", SIGNING_SECRET)
    out = stream.getvalue()
    for secret in (*ALL_SECRETS, "abcdefghijklmnop12345", "hunter2hunter2"):
        assert secret not in out
    assert "xoxb-" + REDACTED in out  # the kind of token stays visible for debugging
    assert "postgresql+psycopg://re_bot:***@db/re_bot" in out
    assert "RuntimeError: auth failed for xoxb-" + REDACTED in out


def test_redactor_leaves_ordinary_text_alone():
    redact = Redactor(secrets=[SIGNING_SECRET])
    for text in (
        "/re-faq phd delivered to U123 in C456 at 2025-01-06T09:00:00+00:00 (schedule 42, attempt 2)",
        "Bot disconnected from the gateway; reconnecting",
        'File "/opt/re-bot/lib/python3.11/site-packages/discord/http.py", line 745, in request',
        "sqlite:////data/re-bot.db",
    ):
        assert redact(text) == text


def test_library_loggers_are_redacted_too(captured):
    # Tokens logged by slack_sdk or discord.py (not our code) pass the same handler and filter.
    stream = captured("text")
    message = "Sending a request - url: https://slack.com/api/chat.postMessage, headers: {'token': '%s'}"
    logging.getLogger("slack_sdk.web").warning(message, BOT_TOKEN)
    assert BOT_TOKEN not in stream.getvalue()
    assert "xoxb-" + REDACTED in stream.getvalue()


def test_configure_logging_keeps_other_handlers_and_replaces_its_own():
    root = logging.getLogger()
    before = [h for h in root.handlers if h.get_name() != "re-bot"]
    configure_logging("json", logging.INFO)
    configure_logging("text", logging.WARNING)
    ours = [h for h in root.handlers if h.get_name() == "re-bot"]
    assert len(ours) == 1
    assert [h for h in root.handlers if h.get_name() != "re-bot"] == before


def test_a_crash_is_logged_redacted_not_printed_raw(monkeypatch, capsys):
    import bot.cli

    def crash(args):
        raise RuntimeError(f"invalid_auth for token {BOT_TOKEN} and secret {SIGNING_SECRET}")

    monkeypatch.setattr(bot.cli, "cmd_content_check", crash)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    assert bot.cli.main(["content", "check"]) == 1
    _, err = capsys.readouterr()
    assert "RuntimeError: invalid_auth for token xoxb-" + REDACTED in err
    assert BOT_TOKEN not in err
    assert SIGNING_SECRET not in err  # not token-shaped: redacted because the environment holds it


@given(
    prefix=st.sampled_from(["xoxb-", "xoxp-", "xapp-", "xoxa-", "xoxr-"]),
    body=st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=8, max_size=60),
    before=st.text(max_size=30),
    after=st.text(max_size=30),
)
def test_any_slack_token_shape_is_redacted(prefix, body, before, after):
    token = prefix + body
    redacted = Redactor()(f"{before} {token} {after}")
    assert token not in redacted


@given(
    secret=st.text(min_size=4, max_size=40).filter(lambda s: s.strip() and s not in REDACTED), text=st.text(max_size=40)
)
def test_configured_secrets_are_redacted_whatever_they_look_like(secret, text):
    assert secret not in Redactor([secret])(text + secret + text)
