"""`re-bot discord sync` and `re-bot discord invite`, and `re-bot run`'s Discord platform, against the fake API."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import discord
import pytest
from discord_fake import APP_ID
from discord_support import TOKEN, shared_services

from bot.cli import main
from bot.config import Settings
from bot.platforms.discord.api import DEFAULT_API_BASE, PERMISSIONS, api_base, client_id_from_token
from bot.platforms.discord.client import DiscordPlatform
from bot.runtime import build_platforms, build_web_app


@pytest.fixture
def discord_env(monkeypatch, fake_discord_thread):
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("DISCORD_API_URL", fake_discord_thread.base.removesuffix("/api/v10"))
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    return fake_discord_thread


def test_sync_to_one_guild(discord_env, capsys):
    assert main(["discord", "sync", "--guild", "123456789012345678"]) == 0
    (put,) = discord_env.calls("PUT", f"/applications/{APP_ID}/guilds/123456789012345678/commands")
    names = sorted(c["name"] for c in put.json)
    assert {"re-faq", "re-paper", "re-prompt", "re-help"} <= set(names)
    faq = next(c for c in put.json if c["name"] == "re-faq")
    topic = faq["options"][0]
    assert (topic["name"], topic["type"], topic["autocomplete"], topic["required"]) == ("topic", 3, True, False)
    out = capsys.readouterr().out
    assert out.startswith(f"synced {len(names)} commands to server 123456789012345678")
    assert "/re-faq" in out


def test_sync_globally(discord_env, capsys):
    assert main(["discord", "sync"]) == 0
    assert len(discord_env.calls("PUT", f"/applications/{APP_ID}/commands")) == 1
    assert "globally" in capsys.readouterr().out


def test_sync_with_a_bad_token_says_so(discord_env, capsys):
    discord_env.fail("GET", "/users/@me", 401, {"message": "401: Unauthorized", "code": 0})
    assert main(["discord", "sync"]) == 1
    assert "DISCORD_TOKEN" in capsys.readouterr().err


def test_sync_refused_for_a_guild_explains_the_invite(discord_env, capsys):
    discord_env.fail("PUT", r"/applications/\d+/guilds/\d+/commands", 403, {"message": "Missing Access", "code": 50001})
    assert main(["discord", "sync", "--guild", "42"]) == 1
    err = capsys.readouterr().err
    assert "applications.commands" in err and "re-bot discord invite" in err


@pytest.mark.parametrize("retry_after", [5.0, 86_000.0], ids=["slept-through-then-refused", "past-max-wait"])
def test_sync_past_the_daily_command_create_limit_is_one_line_exit_1(discord_env, capsys, retry_after):
    """429 with code 30034 (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json): whether
    discord.py sleeps through it (retry_after <= 30 s, five tries) or raises RateLimited at once, one line, exit 1."""
    from discord_fake import rate_limited

    body, headers = rate_limited(retry_after, "user")
    body.update(code=30034, message="Max number of daily application command creates has been reached (200)")
    discord_env.fail("PUT", r"/applications/\d+/commands", 429, body, headers, times=5 if retry_after < 30 else 1)
    if retry_after < 30:
        body["retry_after"] = 0.01  # discord.py sleeps the body's retry_after: keep the test quick
    assert main(["discord", "sync"]) == 1
    captured = capsys.readouterr()
    (line,) = captured.err.strip().splitlines()
    assert "30034" in line and "daily limit" in line and "Traceback" not in captured.err


def test_sync_other_api_errors_are_one_line_exit_1(discord_env, capsys):
    discord_env.fail("PUT", r"/applications/\d+/commands", 400, {"message": "Invalid Form Body", "code": 50035})
    assert main(["discord", "sync"]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "50035" in line and "Invalid Form Body" in line


def test_sync_without_a_token(monkeypatch, capsys):
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    assert main(["discord", "sync"]) == 1
    assert "DISCORD_TOKEN" in capsys.readouterr().err


def test_invite_url_from_the_token(monkeypatch, capsys):
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    assert main(["discord", "invite"]) == 0
    url = urlparse(capsys.readouterr().out.strip())
    query = parse_qs(url.query)
    assert query["client_id"] == [str(APP_ID)]
    assert query["scope"] == ["bot applications.commands"]
    permissions = discord.Permissions(int(query["permissions"][0]))
    assert permissions == PERMISSIONS and permissions.send_messages and permissions.embed_links
    assert not permissions.administrator


def test_invite_with_client_id_and_without_anything(monkeypatch, capsys):
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    assert main(["discord", "invite", "--client-id", "123"]) == 0
    assert "client_id=123" in capsys.readouterr().out
    assert main(["discord", "invite"]) == 1
    assert "--client-id" in capsys.readouterr().err


def test_api_base_and_token_parsing():
    assert api_base(None) == DEFAULT_API_BASE
    assert api_base("http://127.0.0.1:9000") == "http://127.0.0.1:9000/api/v10"
    assert api_base("http://127.0.0.1:9000/api/") == "http://127.0.0.1:9000/api/v10"
    assert api_base("https://proxy.example/discord/api/v9") == "https://proxy.example/discord/api/v9"
    assert client_id_from_token(TOKEN) == APP_ID
    assert client_id_from_token("not a token") is None


async def test_run_builds_the_discord_platform_and_logs_in(fake_discord, monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("DISCORD_API_URL", fake_discord.base)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    (platform,) = build_platforms(Settings(), shared_services(), build_web_app())
    assert isinstance(platform, DiscordPlatform)
    assert platform.name == "discord" and platform.sender.platform == "discord"
    assert isinstance(platform.client, discord.AutoShardedClient)
    assert not platform.client.intents.members and not platform.client.intents.message_content
    await platform.start()
    try:
        assert fake_discord.calls("GET", "/users/@me") and fake_discord.calls("GET", "/oauth2/applications/@me")
        assert not fake_discord.calls("PUT")  # commands are never synced at start-up
    finally:
        await platform.stop()
