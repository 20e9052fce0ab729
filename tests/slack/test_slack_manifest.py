"""slack-manifest.yaml installs an app that can reach everything the bot serves."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from slack_sdk.web.async_client import AsyncWebClient

from bot.platforms.slack.platform import EVENTS_PATH
from handlers import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "slack-manifest.yaml"
CONTRACT_COMMANDS = {"re-faq", "re-paper", "re-prompt", "re-remind", "re-subscribe", "re-unsubscribe", "re-progress",
                     "re-help", "re-track", "re-admin", "re-review"}  # fmt: skip
ESCAPED = {"re-admin"}  # takes a #channel, which Slack sends as its id only when escaping is on


def _manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def test_manifest_declares_every_command_at_the_events_url():
    commands = _manifest()["features"]["slash_commands"]
    names = {c["command"].lstrip("/") for c in commands}
    assert names == CONTRACT_COMMANDS
    assert set(COMMANDS) <= names, "a registered command is missing from the manifest"
    for c in commands:
        assert c["url"].endswith(EVENTS_PATH)
        assert len(c["description"]) <= 100  # Slack's limit for a command description
        assert c["should_escape"] is (c["command"].lstrip("/") in ESCAPED)


def test_manifest_scopes_events_interactivity_and_home():
    manifest = _manifest()
    assert {"commands", "chat:write", "users:read"} <= set(manifest["oauth_config"]["scopes"]["bot"])
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["bot_events"] == ["app_home_opened", "app_uninstalled", "tokens_revoked"]
    assert settings["event_subscriptions"]["request_url"].endswith(EVENTS_PATH)
    assert settings["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


# Bot scopes each Web API method needs, from its page in Slack's method reference (https://docs.slack.dev/reference/
# methods/<method>, "Required scopes"). conversations.info needs the scope of the conversation's type: channels:read,
# groups:read, mpim:read (and im:read for DMs, which the bot never looks up: it knows a DM from its D... id).
# A method the code starts to call must be added here, with its scopes, before this test passes.
SCOPES_BY_METHOD = {
    "auth_test": set(),
    "chat_postMessage": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "chat_update": {"chat:write"},
    "chat_getPermalink": set(),
    "users_info": {"users:read"},
    "conversations_info": {"channels:read", "groups:read", "mpim:read"},
    "conversations_open": {"im:write"},
    "views_publish": set(),
}


def web_api_methods_called() -> set[str]:
    """Every Slack Web API method the bot's source calls, found as `.<method>(` calls of AsyncWebClient methods."""
    methods = {name for name in dir(AsyncWebClient) if not name.startswith("_") and "_" in name} - {"api_call"}
    called: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        called |= set(re.findall(r"\.([a-z]+_[A-Za-z_]+)\(", path.read_text(encoding="utf-8"))) & methods
    return called


def test_manifest_scopes_are_exactly_what_the_code_calls():
    called = web_api_methods_called()
    assert {"chat_postMessage", "users_info", "conversations_info", "views_publish"} <= called  # the scan works
    unknown = called - set(SCOPES_BY_METHOD)
    assert not unknown, f"add the scopes these Web API methods need to SCOPES_BY_METHOD: {sorted(unknown)}"
    needed = {"commands"}.union(*(SCOPES_BY_METHOD[m] for m in called))  # slash commands need `commands`
    assert set(_manifest()["oauth_config"]["scopes"]["bot"]) == needed


def test_oauth_installs_ask_for_the_manifests_scopes():
    from bot.platforms.slack.installs import BOT_SCOPES

    assert set(BOT_SCOPES) == set(_manifest()["oauth_config"]["scopes"]["bot"])
