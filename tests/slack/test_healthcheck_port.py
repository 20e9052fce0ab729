"""`python -m bot.ops.healthcheck` against `re-bot run` listening on RE_BOT_HTTP_PORT=0 (any free port)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fake_slack import FakeSlack
from test_config_docs import _healthcheck
from test_slack_run import _env, _start


async def test_the_health_check_finds_a_server_on_port_0(tmp_path: Path, fake: FakeSlack):
    """RE_BOT_HTTP_PORT=0 picks a free port; the health check (same variables, same temp folder) still finds it."""
    env = _env(fake, tmp_path, 0)
    env["TMPDIR"] = str(tmp_path)
    proc = await _start(env, tmp_path)
    try:
        for _ in range(300):
            check = await asyncio.to_thread(_healthcheck, tmp_path, RE_BOT_HTTP_PORT="0")
            if check.returncode == 0 or proc.returncode is not None:
                break
            await asyncio.sleep(0.1)
        assert check.returncode == 0, check.stderr
    finally:
        if proc.returncode is None:
            proc.terminate()
        await asyncio.wait_for(proc.communicate(), 30)
    assert not list(tmp_path.glob("re-bot-*.port")), "the port file goes when the server stops"
    stopped = _healthcheck(tmp_path, RE_BOT_HTTP_PORT="0")
    assert stopped.returncode == 1 and "names no port" in stopped.stderr
