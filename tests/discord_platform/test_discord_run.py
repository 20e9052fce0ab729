"""`re-bot run` and `re-bot tick` with DISCORD_TOKEN: the scheduler delivers due reminders through the Discord sender,
REST at the local fake (DISCORD_API_URL)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from discord_support import MEMBER_ID, TOKEN
from sqlalchemy import select

from bot.cli import main
from bot.config import Settings
from bot.schedule.ticker import open_store
from bot.store.models import Delivery
from handlers.schedule import Rule
from handlers.store_api import REMINDER

MEMBER = str(MEMBER_ID)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_with_a_reminder(path: Path, due: datetime) -> str:
    """A database (as `re-bot run` opens it) holding one Discord reminder whose next fire is `due`."""
    url = f"sqlite:///{path}"
    store = open_store(Settings(RE_BOT_DATABASE_URL=url))
    try:
        rule = Rule(due.hour, due.minute, "UTC")
        store.api.put_schedule(REMINDER, "discord", MEMBER, rule, now=due - timedelta(minutes=1), created_by=MEMBER)
    finally:
        store.engine.dispose()
    return url


def _env(fake_base: str, database_url: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "RE_BOT_"))}
    env.update(DISCORD_TOKEN=TOKEN, DISCORD_API_URL=fake_base.removesuffix("/api/v10"),
               RE_BOT_DATABASE_URL=database_url, RE_BOT_HTTP_PORT=str(port), RE_BOT_HTTP_HOST="127.0.0.1")  # fmt: skip
    return env


async def test_re_bot_run_delivers_a_due_reminder_through_discord(fake_discord, tmp_path):
    # `re-bot run` reads the real clock, so the reminder is made due a little before now: the scheduler's first tick
    # (at start, not after a minute) delivers it as a catch-up.
    due = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=30)
    url = _database_with_a_reminder(tmp_path / "bot.db", due)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=_env(fake_discord.base, url, _free_port()), cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        (dm,) = await fake_discord.wait_for("POST", r"/channels/\d+/messages", timeout=30)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, stderr.decode()
    assert fake_discord.calls("GET", "/users/@me")[0].headers["Authorization"] == f"Bot {TOKEN}"
    assert fake_discord.calls("POST", "/users/@me/channels")[0].json == {"recipient_id": MEMBER_ID}
    assert dm.json["embeds"][0]["title"].startswith("Your study reminder")
    assert dm.json["enforce_nonce"] is True
    assert len(fake_discord.calls("POST", r"/channels/\d+/messages")) == 1
    assert not fake_discord.calls("PUT")  # commands are never synced at start-up
    store = open_store(Settings(RE_BOT_DATABASE_URL=url))
    try:
        with store.sessions() as session:
            (delivery,) = session.scalars(select(Delivery))
        assert delivery.status == "sent"  # recorded before the process stopped: a restart will not send it again
    finally:
        store.engine.dispose()


def test_re_bot_tick_delivers_through_discord(fake_discord_thread, tmp_path, monkeypatch, capsys):
    due = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    url = _database_with_a_reminder(tmp_path / "bot.db", due)
    for name, value in _env(fake_discord_thread.base, url, _free_port()).items():
        if name.startswith(("DISCORD_", "RE_BOT_")):
            monkeypatch.setenv(name, value)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)

    assert main(["tick", "--at", "2026-03-10T08:01:00Z", "--json"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    result = json.loads(line)
    assert (result["platform"], result["target"], result["kind"], result["status"]) == (
        "discord",
        MEMBER,
        "reminder",
        "sent",
    )
    (dm,) = fake_discord_thread.calls("POST", r"/channels/\d+/messages")
    assert dm.json["embeds"][0]["title"].startswith("Your study reminder")

    assert main(["tick", "--at", "2026-03-10T08:01:00Z", "--json"]) == 0  # idempotent
    assert capsys.readouterr().out == ""
    assert len(fake_discord_thread.calls("POST", r"/channels/\d+/messages")) == 1
