"""The loop an organiser runs, end to end through the `re-bot` console script: a question nothing answers shows up in
`re-bot report`; a topic added under RE_BOT_CONTENT_EXTRA and a SIGHUP later, the same question is answered by the
running bot; a broken file on the next reload changes nothing members see."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from living_faq_support import PIZZA, QUESTION, TITLE
from test_cli import BIN, run


class Running:
    """`re-bot run` (the console platform: no credentials) with standard input and output as pipes."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        full = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "RE_BOT_"))} | env
        self.proc = subprocess.Popen([str(BIN / "re-bot"), "run"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=full, cwd=cwd)  # fmt: skip
        self.out: list[str] = []
        self.err: list[str] = []
        for stream, sink in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=lambda s=stream, k=sink: k.extend(iter(s.readline, "")), daemon=True).start()

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def wait_for(self, text: str, *, stream: list[str] | None = None, count: int = 1, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while "".join(stream if stream is not None else self.out).count(text) < count:
            assert self.proc.poll() is None, "".join(self.err)
            assert time.monotonic() < deadline, f"no {text!r} in:\n{''.join(self.out)}\n{''.join(self.err)}"
            time.sleep(0.05)

    def close(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        return self.proc.wait(timeout=30)


def test_unanswered_question_then_community_topic_and_sighup(tmp_path: Path) -> None:
    extra = tmp_path / "community"
    (extra / "faq").mkdir(parents=True)
    env = {"RE_BOT_DATABASE_URL": f"sqlite:///{tmp_path}/re-bot.db", "RE_BOT_CONTENT_EXTRA": str(extra)}
    bot = Running(env, tmp_path)
    try:
        bot.send(f"/re-faq {QUESTION}")
        bot.wait_for("I answer career questions")  # not a career question: no topic, the FAQ's scope instead

        report = json.loads(run("report", "--json", env=env, cwd=tmp_path).stdout)
        assert report["questions"] == 1 and report["answered"] == 0
        [group] = report["unanswered"]
        assert group["text"] == QUESTION and group["count"] == 1 and len(group["nearest"]) >= 1

        (extra / "faq" / "pizza-night.md").write_text(PIZZA, encoding="utf-8")
        bot.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while TITLE not in "".join(bot.out):  # the reload runs beside the input
            assert time.monotonic() < deadline, "".join(bot.err)
            bot.send(f"/re-faq {QUESTION}")
            time.sleep(0.5)
        answers = "".join(bot.out).count(TITLE)

        (extra / "faq" / "broken.md").write_text("id: broken\n", encoding="utf-8")
        bot.proc.send_signal(signal.SIGHUP)
        bot.wait_for("broken.md:1: must start with a '---' line", stream=bot.err)
        bot.send(f"/re-faq {QUESTION}")
        bot.wait_for(TITLE, count=answers + 1)  # still served from the old content
    finally:
        assert bot.close() == 0

    report = json.loads(run("report", "--json", env=env, cwd=tmp_path).stdout)
    assert report["topics"]["pizza-night"]["asked"] >= 2
    assert report["unanswered"][0]["text"] == QUESTION
    suggest = run("report", "--suggest", env=env, cwd=tmp_path).stdout
    assert "when is the community pizza night" in suggest


def test_ask_and_press_through_the_console(tmp_path: Path) -> None:
    """`re-bot ask -`: the answer's buttons, a vote changed with a second press, "Not what I asked" offering the next
    best topics; the report counts one member's vote once."""
    env = {"RE_BOT_DATABASE_URL": f"sqlite:///{tmp_path}/re-bot.db"}
    first = json.loads(run("ask", "--json", "/re-faq do I need a phd to be a research engineer", env=env,
                           cwd=tmp_path).stdout)  # fmt: skip
    assert first["topic"] == "phd"
    values = {b["action"]: b["value"] for b in first["buttons"]}
    assert {"faq.helpful", "faq.miss"} <= set(values)
    lines = "\n".join([f":press faq.helpful {values['faq.helpful']}", f":press faq.miss {values['faq.miss']}",
                       ":user U-other", f":press faq.helpful {values['faq.helpful']}"])  # fmt: skip
    output = run("ask", "--json", "-", stdin=lines, env=env, cwd=tmp_path).stdout
    replies = [json.loads(line) for line in output.splitlines() if line]
    assert replies[0]["topic"] == "phd" and "Thanks, noted as helpful." in replies[0]["text"]
    assert replies[1]["suggestions"] and "phd" not in replies[1]["suggestions"]
    assert all(b["action"] == "faq.show" for b in replies[1]["buttons"])
    report = json.loads(run("report", "--json", env=env, cwd=tmp_path).stdout)
    assert report["topics"]["phd"] == {"asked": 1, "helpful": 1, "not_helpful": 1}
    assert report["unanswered"][0]["text"] == "do I need a phd to be a research engineer"
    text = run("report", env=env, cwd=tmp_path).stdout
    assert "1 questions" in text and "phd: asked 1, helpful 1, not helpful 1" in text


def test_report_flags(tmp_path: Path) -> None:
    env = {"RE_BOT_DATABASE_URL": f"sqlite:///{tmp_path}/re-bot.db"}
    bad = run("report", "--since", "forever", env=env, cwd=tmp_path)
    assert bad.returncode == 1 and "--since takes a period like 30d" in bad.stderr
    empty = json.loads(run("report", "--json", "--since", "12h", "--workspace", "T9", env=env, cwd=tmp_path).stdout)
    assert empty["questions"] == 0 and empty["unanswered"] == [] and empty["workspace"] == "T9"
