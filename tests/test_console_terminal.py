"""The console as a person uses it, piped (`re-bot ask -`): rules between replies, numbered buttons, help on separate
lines, no command split at its hyphen; and the prompt back after a delivery printed while typing."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from bot.platforms.console import RULE, WIDTH, LineEditor, render_reply
from handlers import Button, Reply, Section

BIN = Path(sys.executable).parent


def ask(*args: str, stdin: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "RE_BOT_"))}
    return subprocess.run([str(BIN / "re-bot"), "ask", *args], input=stdin, capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=60)  # fmt: skip


def test_piped_replies_are_set_apart_by_a_rule_and_buttons_say_what_to_type(tmp_path):
    result = ask("-", stdin="/re-faq phd\n:press 1\n:press 7\nre-fq phd\n", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    replies = result.stdout.split(RULE)
    assert len(replies) == 4
    assert "[Share in channel] :press 1" in replies[0]
    assert "Shared by U-console" in replies[1]  # :press 1 pressed the first button of the reply before
    assert "There is no button 7" in replies[2]
    assert "e.g. /re-faq phd" in replies[3]
    one = ask("/re-faq phd", stdin="", cwd=tmp_path)
    assert RULE not in one.stdout


def test_json_lines_have_no_rule_and_press_n_works_there_too(tmp_path):
    result = ask("--json", "-", stdin="/re-faq phd\n:press 1\n", cwd=tmp_path)
    first, shared = (json.loads(line) for line in result.stdout.splitlines())
    assert first["ephemeral"] is True and shared["ephemeral"] is False and shared["topic"] == "phd"


def test_help_puts_usage_and_description_on_their_own_lines(tmp_path):
    lines = ask("/re-help", stdin="", cwd=tmp_path).stdout.splitlines()
    usage = lines.index("/re-paper [today|next|AREA|ID|title]")
    assert lines[usage + 1].startswith("A seminal paper to study")
    assert lines[usage + 2].startswith("Examples: /re-paper")


def test_commands_are_never_wrapped_at_their_hyphen():
    long = " ".join(["word"] * 17) + " /re-remind weekdays 08:30 and /re-subscribe papers and /re-unsubscribe"
    reply = Reply(command="x", sections=(Section(text=long), Section(items=(long,))),
                  buttons=tuple(Button(f"Button-number-{n}", "a") for n in range(9)))  # fmt: skip
    for text in (render_reply(reply), render_reply(reply, numbered=True)):
        lines = text.splitlines()
        assert not any(line.rstrip().endswith("/re-") for line in lines), text
        assert all(len(line) <= WIDTH for line in lines if "/re-" not in line or " " in line.strip())
        assert sum("/re-remind" in line for line in lines) == 2


def test_numbers_run_on_through_follow_ups():
    followup = Reply(command="x", buttons=(Button("Done", "remind.done", "p:1"),))
    reply = Reply(command="x", buttons=(Button("A", "a"), Button("B", "b")), followups=(followup,))
    text = render_reply(reply, numbered=True)
    assert "[A] :press 1   [B] :press 2" in text and "[Done] :press 3" in text


def test_a_delivery_printed_while_typing_brings_the_prompt_back():
    out = io.StringIO()
    editor = LineEditor("re-bot> ", out, history=None)
    editor.interject("[Reminder for U1]\nStudy this.\n")
    assert out.getvalue().endswith("Study this.\n\nre-bot> ")
