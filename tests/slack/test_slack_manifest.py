"""slack-manifest.yaml installs an app that can reach everything the bot serves."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.platforms.slack.platform import EVENTS_PATH
from handlers import COMMANDS

MANIFEST = Path(__file__).resolve().parents[2] / "slack-manifest.yaml"
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
    assert {"commands", "chat:write", "im:write", "users:read"} <= set(manifest["oauth_config"]["scopes"]["bot"])
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["bot_events"] == ["app_home_opened", "app_uninstalled", "tokens_revoked"]
    assert settings["event_subscriptions"]["request_url"].endswith(EVENTS_PATH)
    assert settings["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
