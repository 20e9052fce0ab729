"""`re-bot run` as an operator starts it: Slack credentials in the environment, the Web API at the local fake."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from fake_slack import BOT_TOKEN, SIGNING_SECRET, TEAM, FakeSlack, signed_headers

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(fake: FakeSlack, tmp_path: Path, port: int, token: str = BOT_TOKEN) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "RE_BOT_"))}
    env.update(SLACK_BOT_TOKEN=token, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=fake.api_url,
               RE_BOT_HTTP_PORT=str(port), RE_BOT_DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}")  # fmt: skip
    return env


async def _start(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def test_re_bot_run_serves_slack_over_http(fake: FakeSlack, tmp_path: Path):
    port = _free_port()
    proc = await _start(_env(fake, tmp_path, port), tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(300):
                try:
                    async with session.get(f"{base}/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                if proc.returncode is not None:
                    break
                await asyncio.sleep(0.05)
            body = urlencode({"command": "/re-faq", "text": "phd", "user_id": "U1", "channel_id": "C1",
                              "team_id": TEAM, "response_url": fake.response_url()})  # fmt: skip
            async with session.post(f"{base}/slack/events", data=body, headers=signed_headers(body)) as resp:
                assert resp.status == 200
                answer = await resp.json()
            assert "PhD" in str(answer["blocks"])
            async with session.post(f"{base}/slack/events", data=body, headers={"X-Slack-Signature": "v0=0"}) as r:
                assert r.status == 401
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, stderr.decode()
    assert fake.calls_to("auth.test")


def _seed_due_schedules(db: Path) -> None:
    """A reminder for U1 and a subscription for C1 that fell due an hour ago (by the wall clock `re-bot run` reads),
    so the scheduler's first tick, right at start, delivers them: no minute of waiting."""
    from datetime import UTC, datetime, timedelta

    from bot.config import Settings
    from bot.schedule.ticker import open_store
    from handlers.schedule import Rule
    from handlers.store_api import CHANNEL_POST, REMINDER

    store = open_store(Settings(_env_file=None, RE_BOT_DATABASE_URL=f"sqlite:///{db}"))
    wall = datetime.now(UTC)
    due = wall - timedelta(hours=1)
    rule = Rule(due.hour, due.minute, "UTC")
    for kind, target in ((REMINDER, "U1"), (CHANNEL_POST, "C1")):
        store.api.put_schedule(kind, "slack", target, rule, now=wall - timedelta(hours=2), created_by="UADMIN")
    store.engine.dispose()


async def test_re_bot_run_delivers_due_slack_reminders_and_channel_posts(fake: FakeSlack, tmp_path: Path):
    from slack_harness import block_actions, wait_until

    _seed_due_schedules(tmp_path / "bot.db")
    port = _free_port()
    proc = await _start(_env(fake, tmp_path, port), tmp_path)

    def posts(channel: str) -> list:
        return [c for c in fake.calls_to("chat.postMessage") if c.args.get("channel") == channel]

    try:
        await wait_until(lambda: (bool(posts("U1")) and len(posts("C1")) >= 2) or proc.returncode is not None, 30)
        [dm] = posts("U1")  # the reminder, to the member's DM
        assert any(b["type"] == "actions" for b in dm.args["blocks"]), "with its Done / Snooze buttons"
        main, *thread = posts("C1")
        assert "Paper of the day" in main.args["text"]
        assert thread and all(t.args["thread_ts"] == main.answer["ts"] for t in thread)

        # Done, pressed on that DM, reaches the same process and store, and updates the DM in place.
        done = next(e for b in dm.args["blocks"] if b["type"] == "actions" for e in b["elements"]
                    if e["action_id"].startswith("remind.done"))  # fmt: skip
        message = {"ts": dm.answer["ts"], "text": dm.args["text"], "blocks": dm.args["blocks"]}
        payload = block_actions(fake, done["action_id"], done["value"], channel=dm.answer["channel"],
                                ephemeral=False, message=message)  # fmt: skip
        body = urlencode({"payload": json.dumps(payload)})
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{port}/slack/events"
            async with session.post(url, data=body, headers=signed_headers(body)) as resp:
                assert resp.status == 200
        await wait_until(lambda: bool(fake.responses), 10)
        assert fake.responses[0]["replace_original"] is True
        assert "Nice work, recorded" in json.dumps(fake.responses[0]["blocks"])
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, stderr.decode()
    assert len(posts("U1")) == 1 and len([c for c in posts("C1") if "thread_ts" not in c.args]) == 1


async def test_re_bot_run_with_a_bad_token_says_so_and_exits_1(fake: FakeSlack, tmp_path: Path):
    proc = await _start(_env(fake, tmp_path, _free_port(), token="xoxb-wrong"), tmp_path)
    _, stderr = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 1
    text = stderr.decode()
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in text
    assert "Traceback" not in text


async def test_re_bot_run_reloads_content_on_sighup_and_on_file_changes(fake: FakeSlack, tmp_path: Path):
    """SIGHUP swaps in a community topic; a broken file (picked up by RE_BOT_CONTENT_WATCH) is refused, the answer
    and /readyz unchanged, and /metrics counts both outcomes."""
    port = _free_port()
    extra = tmp_path / "community"
    (extra / "faq").mkdir(parents=True)
    env = _env(fake, tmp_path, port) | {"RE_BOT_CONTENT_EXTRA": str(extra), "RE_BOT_CONTENT_WATCH": "true"}
    proc = await _start(env, tmp_path)
    base = f"http://127.0.0.1:{port}"
    body = urlencode({"command": "/re-faq", "text": "pizza-night", "user_id": "U1", "channel_id": "C1",
                      "team_id": TEAM, "response_url": fake.response_url()})  # fmt: skip

    async def answer(session: aiohttp.ClientSession) -> str:
        async with session.post(f"{base}/slack/events", data=body, headers=signed_headers(body)) as resp:
            return str((await resp.json())["blocks"])

    async def reloads(session: aiohttp.ClientSession, outcome: str) -> float:
        async with session.get(f"{base}/metrics") as resp:
            text = await resp.text()
        for line in text.splitlines():
            if line.startswith(f're_bot_content_reloads_total{{outcome="{outcome}"}}'):
                return float(line.split()[-1])
        return 0.0

    async def until(check) -> None:
        for _ in range(400):
            if await check():
                return
            assert proc.returncode is None
            await asyncio.sleep(0.05)
        raise AssertionError("timed out")

    try:
        async with aiohttp.ClientSession() as session:

            async def ready() -> bool:
                try:
                    async with session.get(f"{base}/readyz") as resp:
                        return resp.status == 200
                except aiohttp.ClientError:
                    return False

            await until(ready)
            assert "Pizza" not in await answer(session)
            (extra / "faq" / "pizza-night.md").write_text(
                "---\nid: pizza-night\ntitle: Pizza night\ngroup: Our community\nquestions: [when is pizza night]\n"
                "---\nFirst Friday of the month.\n"
            )
            proc.send_signal(signal.SIGHUP)
            await until(lambda: reloads(session, "ok"))
            assert "Pizza night" in await answer(session)
            (extra / "faq" / "broken.md").write_text("---\nid: broken\n")  # no closing line: invalid
            await until(lambda: reloads(session, "invalid"))
            assert "Pizza night" in await answer(session)
            assert await ready()
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, stderr.decode()
    assert "broken.md:1: front matter is not closed by a '---' line" in stderr.decode()
