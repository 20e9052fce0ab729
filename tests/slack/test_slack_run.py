"""`re-bot run` as an operator starts it: Slack credentials in the environment, the Web API at the local fake."""

from __future__ import annotations

import asyncio
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


async def test_re_bot_run_with_a_bad_token_says_so_and_exits_1(fake: FakeSlack, tmp_path: Path):
    proc = await _start(_env(fake, tmp_path, _free_port(), token="xoxb-wrong"), tmp_path)
    _, stderr = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 1
    text = stderr.decode()
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in text
    assert "Traceback" not in text
