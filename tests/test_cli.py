"""End to end through the installed `re-bot` console script, in a subprocess, as a member or operator runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def run(*args: str, stdin: str = "", env: dict[str, str] | None = None, cwd: Path | None = None):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "RE_BOT_"))}
    full_env.update(env or {})
    return subprocess.run(
        [str(BIN / "re-bot"), *args], input=stdin, capture_output=True, text=True, env=full_env, cwd=cwd, timeout=60
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


def test_ask_answers_a_question(workdir: Path) -> None:
    result = run("ask", "/re-faq do I need a phd", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "PhD" in result.stdout.splitlines()[0] and "Next step:" in result.stdout


def test_ask_json_has_the_contract_fields(workdir: Path) -> None:
    result = run("ask", "--json", "/re-faq phd", cwd=workdir)
    reply = json.loads(result.stdout)
    assert {"command", "text", "ephemeral", "topic", "paper", "suggestions"} <= set(reply)
    assert reply["command"] == "re-faq" and reply["topic"] == "phd" and reply["ephemeral"] is True
    assert reply["paper"] is None and reply["suggestions"] == []
    paper = json.loads(run("ask", "--json", "/re-paper", cwd=workdir).stdout)
    assert paper["paper"] and paper["topic"] is None
    off_topic = json.loads(run("ask", "--json", "/re-faq best pizza in Naples", cwd=workdir).stdout)
    assert off_topic["topic"] is None and off_topic["suggestions"] == []


def test_ask_reads_lines_from_stdin_with_user_and_channel(workdir: Path) -> None:
    stdin = "/re-faq salary\n:user U-alice\n:channel C-general\n/re-faq research\n\n/re-paper next\n"
    result = run("ask", "--json", "-", stdin=stdin, cwd=workdir)
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["command"] for r in replies] == ["re-faq", "re-faq", "re-paper"]
    assert replies[0]["topic"] == "salary"
    assert replies[1]["topic"] is None and len(replies[1]["suggestions"]) == 3


def test_ask_rejects_a_line_without_a_slash(workdir: Path) -> None:
    result = run("ask", "re-faq phd", cwd=workdir)
    assert result.returncode == 2 and "slash command" in result.stderr


def test_python_dash_m_bot_works(workdir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "/re-help"], capture_output=True, text=True, cwd=workdir, timeout=60
    )
    assert result.returncode == 0 and "/re-faq" in result.stdout


def test_run_without_credentials_is_the_console(workdir: Path) -> None:
    result = run("run", stdin="/re-faq phd\n/re-prompt\n", cwd=workdir)
    assert result.returncode == 0
    assert "Do I need a PhD" in result.stdout and "study prompt" in result.stdout
    assert "SLACK_BOT_TOKEN" in result.stderr and "DISCORD_TOKEN" in result.stderr


def test_console_handles_bad_lines_and_buttons(workdir: Path) -> None:
    result = run("console", stdin="hello\n:bogus\n:press faq.show switch\n/re-nope\n", cwd=workdir)
    assert result.returncode == 0
    assert "Commands start with a slash" in result.stdout
    assert "Console commands" in result.stdout
    assert "switch from software engineer" in result.stdout.lower()
    assert "I don't know the command /re-nope" in result.stdout


def test_content_check_packaged_and_broken(workdir: Path) -> None:
    ok = run("content", "check", cwd=workdir)
    assert ok.returncode == 0 and ok.stdout.startswith("content ok: 30 FAQ topics")
    broken = workdir / "broken"
    broken.mkdir()
    (broken / "faq").mkdir()
    (broken / "faq" / "x.md").write_text("---\nid: x\n---\n\n", encoding="utf-8")
    result = run("content", "check", str(broken), cwd=workdir)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines and all(line.split(":")[1].isdigit() for line in lines)


def test_the_bot_refuses_to_start_on_invalid_content(workdir: Path) -> None:
    broken = workdir / "broken"
    (broken / "faq").mkdir(parents=True)
    result = run("ask", "/re-faq phd", env={"RE_BOT_CONTENT_DIR": str(broken)}, cwd=workdir)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "broken/papers.yaml:1: missing file papers.yaml" in result.stderr
