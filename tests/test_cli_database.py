"""The database going wrong under `re-bot`, seen from outside: subprocesses on real SQLite files and PostgreSQL.

An operator gets one line naming the database and what to do (never a traceback); a member in the console gets an
apology for the line that could not check deliveries, and the session goes on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def _env(url: str | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "RE_BOT_"))}
    if url:
        env["RE_BOT_DATABASE_URL"] = url
    env.update(extra)
    return env


def re_bot(*args: str, url: str | None = None, cwd: Path | None = None, stdin: str = "", **extra: str):
    return subprocess.run([str(BIN / "re-bot"), *args], input=stdin, capture_output=True, text=True,
                          env=_env(url, **extra), cwd=cwd, timeout=60)  # fmt: skip


def _close_database(conn, name: str, allow: bool) -> None:
    conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {"true" if allow else "false"}')
    if not allow:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))


def test_console_apologises_for_a_line_when_the_database_fails_and_keeps_going(private_pg, tmp_path: Path):
    conn, name, url = private_pg
    proc = subprocess.Popen([str(BIN / "re-bot"), "ask", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env(url), cwd=tmp_path)  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None

    def answer(line: str) -> str:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(line + "\n:user U-console\n")  # its one-line acknowledgement marks where this answer ends
        proc.stdin.flush()
        out = []
        while not (text := proc.stdout.readline()).startswith("(acting as member"):
            assert text, "re-bot ask stopped"
            out.append(text)
        return "".join(out)

    try:
        assert "PhD" in answer("/re-faq phd")
        _close_database(conn, name, allow=False)
        failed = answer("/re-faq phd")
        assert "Sorry: scheduled reminders and posts could not be checked" in failed
        assert "PhD" in failed, "the command itself still runs"
        _close_database(conn, name, allow=True)
        assert "could not be checked" not in answer("/re-faq salary")
    finally:
        _close_database(conn, name, allow=True)
        _, stderr = proc.communicate("", timeout=30)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and "CRITICAL" not in stderr


def _not_a_database(path: Path) -> str:
    path.write_text("name,email\nada,ada@example.org\n" * 50)
    return f"sqlite:///{path}"


def _corrupt(path: Path) -> str:
    assert re_bot("ask", "/re-remind daily 09:00 UTC", url=f"sqlite:///{path}", cwd=path.parent).returncode == 0
    with path.open("r+b") as f:  # overwrite the schema page after the 100-byte header: "malformed"
        f.seek(100)
        f.write(b"\xff" * 3000)
    for journal in path.parent.glob(path.name + "-*"):
        journal.unlink()
    return f"sqlite:///{path}"


def _under_a_file(path: Path) -> str:
    path.write_text("a file, not a folder")
    return f"sqlite:///{path}/data/re-bot.db"


def _read_only(path: Path) -> str:
    path.touch()  # an empty file: SQLite must write to create the tables, and may not (mode=ro, even for root)
    return f"sqlite:///file:{path}?mode=ro&uri=true"


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (_not_a_database, "is not an SQLite database"),
        (_corrupt, "is corrupt"),
        (_under_a_file, "cannot create the folder of the SQLite database"),
        (_read_only, "cannot write the SQLite database"),
    ],
)
@pytest.mark.parametrize("command", [("ask", "/re-faq phd"), ("tick", "--at", "2026-01-05T09:00:00Z")])
def test_a_broken_sqlite_database_is_one_line_naming_the_file(tmp_path: Path, make, says: str, command):
    path = tmp_path / "re-bot.db"
    url = make(path)
    result = re_bot(*command, url=url, cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert says in lines[0] and str(path) in lines[0]
    assert "Traceback" not in result.stderr and not result.stdout


def _pg_missing(conn, name: str, url: str) -> tuple[str, str]:
    return url.rsplit("/", 1)[0] + "/re_bot_no_such_database", "does not exist"


def _pg_read_only(conn, name: str, url: str) -> tuple[str, str]:
    conn.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')  # new sessions cannot write
    return url, "is read-only"


def _pg_unreachable(conn, name: str, url: str) -> tuple[str, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return url.replace("127.0.0.1:5432", f"127.0.0.1:{port}"), "cannot reach PostgreSQL"


@pytest.mark.parametrize("make", [_pg_missing, _pg_read_only, _pg_unreachable])
@pytest.mark.parametrize("command", [("ask", "/re-faq phd"), ("tick", "--at", "2026-01-05T09:00:00Z")])
def test_a_postgresql_database_that_cannot_be_used_is_one_line(private_pg, tmp_path: Path, make, command):
    conn, name, url = private_pg
    url, says = make(conn, name, url)
    result = re_bot(*command, url=url, cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert says in lines[0] and "Traceback" not in result.stderr
