"""`re-bot workspaces [--json]`: every Slack workspace and Discord server the deployment serves, active or removed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.cli import main
from bot.config import Settings
from bot.schedule.ticker import open_store
from handlers.schedule import Rule
from handlers.store_api import CHANNEL_POST, REMINDER

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def test_workspaces_lists_each_with_counts_and_status(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path}/state.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RE_BOT_DATABASE_URL", url)
    assert main(["workspaces"]) == 0
    assert "no workspaces yet" in capsys.readouterr().out

    store = open_store(Settings(_env_file=None, RE_BOT_DATABASE_URL=url))
    rule = Rule(9, 0, "UTC")
    api, workspaces = store.api, store.api.workspaces
    workspaces.installed("slack", "T1", now=NOW, name="ML study group")
    api.put_schedule(REMINDER, "slack", "U1", rule, now=NOW, created_by="U1", workspace="T1")
    api.put_schedule(REMINDER, "slack", "U2", rule, now=NOW, created_by="U2", workspace="T1")
    api.put_schedule(CHANNEL_POST, "slack", "C1", rule, now=NOW, created_by="U1", workspace="T1")
    workspaces.installed("discord", "800", now=NOW, name="Paper club")
    api.put_schedule(CHANNEL_POST, "discord", "801", rule, now=NOW, created_by="9", workspace="800")
    workspaces.removed("discord", "800", now=NOW, kinds=(CHANNEL_POST,))
    store.engine.dispose()

    assert main(["workspaces", "--json"]) == 0
    got = {(w["platform"], w["workspace"]): w for w in map(json.loads, capsys.readouterr().out.splitlines())}
    assert got[("slack", "T1")] == {"platform": "slack", "workspace": "T1", "name": "ML study group",
                                    "status": "active", "reminders": 2, "subscriptions": 1, "paused": 0}  # fmt: skip
    assert got[("discord", "800")]["status"] == "removed"
    assert (got[("discord", "800")]["subscriptions"], got[("discord", "800")]["paused"]) == (1, 1)

    assert main(["workspaces"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["platform", "workspace", "status", "reminders", "subscriptions", "paused", "name"]
    assert any(line.split()[:6] == ["slack", "T1", "active", "2", "1", "0"] for line in table)
    assert any("removed" in line and "Paper club" in line for line in table)
