"""The console as a person uses it: piped (`re-bot ask -`) and on a real terminal (a pseudo-terminal running
`re-bot console`): rules between replies, numbered buttons, help on separate lines, no command split at its hyphen,
line history, Ctrl-C and Ctrl-D, and the prompt back after a delivery."""

from __future__ import annotations

import contextlib
import io
import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
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


class Terminal:
    """`re-bot console` on a pseudo-terminal, as a person at a terminal runs it."""

    def __init__(self, cwd: Path, home: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "RE_BOT_"))}
        env.update(HOME=str(home), TERM="xterm", INPUTRC="/dev/null")
        self.pid, self.master = pty.fork()  # the child's controlling terminal: Ctrl-C reaches it as a terminal's does
        if self.pid == 0:  # pragma: no cover - the child
            os.chdir(cwd)
            os.execve(str(BIN / "re-bot"), [str(BIN / "re-bot"), "console"], env)
        self.seen = ""
        self.status: int | None = None

    def expect(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} not seen in {self.seen[-2000:]!r}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the child closed the terminal
                    chunk = b""
                assert chunk, f"terminal closed before {text!r}: {self.seen[-2000:]!r}"
                self.seen += chunk.decode("utf-8", "replace")
        found = self.seen
        self.seen = self.seen[self.seen.index(text) + len(text) :]
        return found

    def send(self, data: str) -> None:
        os.write(self.master, data.encode())

    def alive(self) -> bool:
        return os.waitpid(self.pid, os.WNOHANG) == (0, 0)

    def close(self, timeout: float = 30.0) -> int:
        """The exit code, once the child has ended (killed after `timeout`)."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                with contextlib.suppress(OSError):  # keep draining, so the child never blocks on a full terminal
                    if select.select([self.master], [], [], 0.1)[0]:
                        self.seen += os.read(self.master, 4096).decode("utf-8", "replace")
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    return os.waitstatus_to_exitcode(status)
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            raise AssertionError(f"re-bot console did not end: {self.seen[-2000:]!r}")
        finally:
            os.close(self.master)


def test_terminal_session_has_history_ctrl_c_clears_and_ctrl_d_quits(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    term = Terminal(tmp_path, home)
    ended = False
    try:
        term.expect("re-bot> ")
        term.send("/re-paper gpt-3\r")
        term.expect("Language Models are Few-Shot Learners")
        term.expect("re-bot> ")
        term.send("/re-faq half typed")
        term.send("\x03")  # Ctrl-C: the line is dropped, the session goes on
        term.expect("re-bot> ")
        assert term.alive()
        term.send("/re-help re-paper\r")  # runs alone: the half-typed line is gone
        term.expect("A seminal paper to study")
        term.expect("re-bot> ")
        term.send("\x1b[A\x1b[A\r")  # up arrow twice: the line before, from history
        term.expect("Language Models are Few-Shot Learners")
        term.expect("re-bot> ")
        term.send("\x04")  # Ctrl-D quits
        ended = True
        assert term.close() == 0
    finally:
        if not ended:  # a failed step: end the child without hiding the failure
            os.kill(term.pid, signal.SIGKILL)
            os.waitpid(term.pid, 0)
            os.close(term.master)
    history = (home / ".re_bot_history").read_text()
    assert "/re-paper gpt-3" in history and "half typed" not in history
