"""What members type, through the real `re-bot ask` in a subprocess: bytes that are not UTF-8, markup, new phrasings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def ask(args: list[bytes], stdin: bytes = b"", cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "RE_BOT_"))}
    full_env.update(env)
    return subprocess.run(
        [os.fsencode(BIN / "re-bot"), b"ask", *args], input=stdin, capture_output=True, env=full_env, cwd=cwd,
        timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize("locale", ["C.UTF-8", "C"])  # "C" turns on Python's UTF-8 mode (surrogateescape on stdio)
def test_ask_json_prints_valid_utf8_whatever_bytes_come_in(tmp_path, locale):
    bad_arg = ask([b"--json", b"/re-remind \xff\xfe 9am"], cwd=tmp_path, LC_ALL=locale)
    bad_stdin = ask([b"--json", b"-"], stdin=b"/re-faq \xc3\x28 phd\n/re-subscribe papers \xe2\x82 9\n", cwd=tmp_path,
                    LC_ALL=locale)  # fmt: skip
    for result in (bad_arg, bad_stdin):
        assert result.returncode == 0, result.stderr
        text = result.stdout.decode("utf-8")  # strict: raises on any invalid byte
        replies = [json.loads(line) for line in text.splitlines()]
        assert replies and all("\ufffd" in r["text"] or r["topic"] for r in replies)
    assert json.loads(bad_arg.stdout)["error"] is True


def test_ask_accepts_the_phrasings_people_type_and_keeps_markup_inert(tmp_path):
    result = ask([b"--json", b"-"], cwd=tmp_path, stdin=b"\n".join([
        b"/re-remind every day at 9 Europe/Berlin",
        b"/re-remind 9:00 AM",
        b"/re-remind [click](https://evil.example) 9am",
        b"/re-remind 9am CET",
        b"/re-remind zone",
        b"/re-unsubscribe now please",
    ]))  # fmt: skip
    replies = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [r["error"] for r in replies] == [False, False, True, True, True, True]
    assert "every day at 09:00 (Europe/Berlin)" in replies[0]["text"]
    assert "every day at 09:00 (Europe/Berlin)" in replies[1]["text"]  # the zone was remembered
    assert "“[click](https://evil.example)”" in replies[2]["text"]  # shown as typed, not as a link
    assert "did you mean Europe/Berlin" in replies[3]["text"]
    assert "/re-remind zone Europe/Berlin" in replies[4]["text"]
    assert "nothing was changed" in replies[5]["text"]
