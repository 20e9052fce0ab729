"""SIGTERM to a real process running `serve`: stop taking work, finish what is in flight, exit 0."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp

FAKE = Path(__file__).with_name("fake_runtime.py")
ROOT = Path(__file__).resolve().parents[1]


async def start(journal: Path, *extra: str, **env: str) -> tuple[asyncio.subprocess.Process, int, list[dict]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(FAKE),
        str(journal),
        *extra,
        cwd=journal.parent,  # no stray .env
        env={
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "RE_BOT_LOG_FORMAT": "json",
            "RE_BOT_HTTP_HOST": "127.0.0.1",
            "RE_BOT_HTTP_PORT": "0",
            "RE_BOT_DATABASE_URL": f"sqlite:///{journal.parent / 'bot.db'}",
            **env,
        },
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    logs: list[dict] = []
    while True:
        line = await asyncio.wait_for(proc.stderr.readline(), 30)
        assert line, f"the process ended before serving: {logs}"
        logs.append(json.loads(line))
        if logs[-1].get("event") == "ready":
            break
    port = next(r["port"] for r in logs if r.get("event") == "listening")
    return proc, port, logs


async def wait_for_line(journal: Path, line: str) -> None:
    while not (journal.exists() and line in journal.read_text().splitlines()):
        await asyncio.sleep(0.01)


async def finish(proc: asyncio.subprocess.Process, logs: list[dict]) -> int:
    assert proc.stderr is not None
    rest = await asyncio.wait_for(proc.stderr.read(), 30)
    logs.extend(json.loads(line) for line in rest.splitlines() if line.strip())
    return await asyncio.wait_for(proc.wait(), 30)


async def test_sigterm_during_a_delivery_finishes_it_and_exits_0(tmp_path):
    journal = tmp_path / "journal"
    proc, port, logs = await start(journal)
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/readyz") as r:
        assert r.status == 200
    await asyncio.wait_for(wait_for_line(journal, "start 0"), 30)

    proc.send_signal(signal.SIGTERM)
    status = await finish(proc, logs)

    assert status == 0
    # The delivery in flight at SIGTERM finished; no new one was started.
    assert journal.read_text().splitlines() == ["start 0", "done 0"]
    events = [r.get("event") for r in logs]
    assert events.index("shutdown") < events.index("stopped")
    assert next(r for r in logs if r.get("event") == "stopped")["clean"] is True


async def test_work_that_outlives_the_shutdown_timeout_is_cut_off_with_exit_1(tmp_path):
    journal = tmp_path / "journal"
    proc, _, logs = await start(journal, "--hang", RE_BOT_SHUTDOWN_TIMEOUT="0.5")
    await asyncio.wait_for(wait_for_line(journal, "start 0"), 30)

    proc.send_signal(signal.SIGTERM)
    status = await finish(proc, logs)

    assert status == 1
    assert journal.read_text().splitlines() == ["start 0"]
    assert any("did not finish its work before the shutdown timeout" in r["message"] for r in logs)


async def test_sigterm_while_the_matcher_warms_up_on_a_new_machine_exits_0(tmp_path):
    # An empty cache folder: the warm-up thread unpacks the sentence model and encodes every example question (about
    # 90 s). Exiting under that thread while it is in native code aborts the process ("FATAL: exception not
    # rethrown", no JSON, status -6); shutdown stops it after its batch in hand instead.
    journal = tmp_path / "journal"
    proc, _, logs = await start(journal, RE_BOT_CACHE_DIR=str(tmp_path / "cache"))
    await asyncio.wait_for(wait_for_line(journal, "start 0"), 30)

    proc.send_signal(signal.SIGTERM)
    status = await finish(proc, logs)  # every stderr line is JSON: no abort message

    assert status == 0
    assert next(r for r in logs if r.get("event") == "stopped")["clean"] is True
    assert not any("warm-up did not stop" in r["message"] for r in logs)
