"""What an operator sees when starting or setting up re-bot, from outside (`re-bot` in a subprocess): the Discord
invite link from the token, one line when Discord is unreachable, start-up logs free of library noise, concurrent
`db upgrade` runs that say what each did, SIGTERM in the console platform, and the image's platform requirement."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cli_database import re_bot

BIN = Path(sys.executable).parent
APP_ID = 123456789012345678


def _token(first: str) -> str:
    return f"{first}.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket is closed


def test_discord_invite_reads_the_application_id_from_the_token(tmp_path: Path):
    token = _token(base64.b64encode(str(APP_ID).encode()).decode().rstrip("="))
    result = re_bot("discord", "invite", cwd=tmp_path, DISCORD_TOKEN=token)
    assert result.returncode == 0, result.stderr
    assert f"client_id={APP_ID}" in result.stdout


def test_discord_invite_says_when_the_token_carries_no_application_id(tmp_path: Path):
    result = re_bot("discord", "invite", cwd=tmp_path, DISCORD_TOKEN=_token("not-an-id-at-all"))
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert "DISCORD_TOKEN does not carry an application id" in line and "--client-id" in line
    assert "Traceback" not in result.stderr


def test_discord_unreachable_at_start_is_one_line(tmp_path: Path):
    token = _token(base64.b64encode(str(APP_ID).encode()).decode().rstrip("="))
    result = re_bot("run", cwd=tmp_path, DISCORD_TOKEN=token, DISCORD_API_URL=f"http://127.0.0.1:{_closed_port()}",
                    RE_BOT_HTTP_PORT="0", RE_BOT_DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}")  # fmt: skip
    assert result.returncode == 1
    assert "cannot reach Discord at http://127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stderr and "Unclosed" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if "re-bot:" in line]
    assert len(errors) == 1, result.stderr


def test_start_up_logs_are_free_of_library_noise(tmp_path: Path):
    """Discord's voice warnings and alembic's plugin lines say nothing an operator needs; migrating a new database is
    the log's first news."""
    token = _token(base64.b64encode(str(APP_ID).encode()).decode().rstrip("="))
    result = re_bot("run", cwd=tmp_path, DISCORD_TOKEN=token, DISCORD_API_URL=f"http://127.0.0.1:{_closed_port()}",
                    RE_BOT_HTTP_PORT="0", RE_BOT_DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}")  # fmt: skip
    assert "voice will NOT be supported" not in result.stderr
    assert "alembic" not in result.stderr, result.stderr


def _upgrade_concurrently(url: str, cwd: Path, n: int = 3) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "RE_BOT_"))}
    env["RE_BOT_DATABASE_URL"] = url
    procs = [subprocess.Popen([str(BIN / "re-bot"), "db", "upgrade"], env=env, cwd=cwd, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(n)]  # fmt: skip
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outs.append(out.strip())
    return outs


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_db_upgrades_say_what_each_really_did(backend: str, tmp_path: Path, request):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'bot.db'}"
    else:
        _, _, url = request.getfixturevalue("private_pg")
    outs = _upgrade_concurrently(url, tmp_path)
    assert sum("upgraded an empty database ->" in out for out in outs) == 1, outs
    assert all("up to date" in out for out in outs if "upgraded" not in out), outs
    again = re_bot("db", "upgrade", url=url, cwd=tmp_path)
    assert again.stdout.strip().endswith("up to date") and "another process" not in again.stdout


def _console(tmp_path: Path, *args: str, **env: str) -> subprocess.Popen:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "RE_BOT_"))}
    full.update(RE_BOT_DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}", **env)
    return subprocess.Popen([str(BIN / "re-bot"), *args], env=full, cwd=tmp_path, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


@pytest.mark.parametrize("command", [("run",), ("console",), ("ask", "-")])
def test_sigterm_stops_the_console_platform_cleanly(tmp_path: Path, command):
    """Standard input stays open (a container's console platform waits on it forever): SIGTERM must end it, exit 0."""
    proc = _console(tmp_path, *command)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(":user U-ready\n")  # answered once the session is up: then SIGTERM meets the read loop
    proc.stdin.flush()
    assert "(acting as member U-ready)" in proc.stdout.readline()
    time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    try:
        _, stderr = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("SIGTERM did not stop it")
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr


def test_the_image_refuses_to_run_without_platform_credentials(tmp_path: Path):
    result = re_bot("run", cwd=tmp_path, RE_BOT_REQUIRE_PLATFORM="true",
                    RE_BOT_DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}")  # fmt: skip
    assert result.returncode == 1
    assert "RE_BOT_REQUIRE_PLATFORM" in result.stderr and "SLACK_BOT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr
