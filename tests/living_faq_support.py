"""What the organiser's-loop tests share (console, Slack, Discord): the question nothing answers and the community
topic that answers it, `re-bot report` as a subprocess, a SIGHUP reload waited for, and stored questions written to
ping or render in `/re-admin report`."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from bot.ops.metrics import REGISTRY
from handlers.store_api import AskedQuestion

QUESTION = "when is the community pizza night"
TITLE = "When is our community pizza night?"
PIZZA = f"""---
id: pizza-night
title: {TITLE}
group: Our community
aliases: [pizza]
questions:
  - when is the community pizza night
  - is there a pizza night for members
see_also: []
sources: []
---
First Friday of the month, 19:00, at the usual place.

Next step: say hello in #social.
"""


def report(db: Path, *args: str) -> dict:
    """`re-bot report --json` on the SQLite database `db`, as an organiser runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "RE_BOT_"))}
    env["RE_BOT_DATABASE_URL"] = f"sqlite:///{db}"
    # The tests' clocks are frozen in the past while `re-bot report` counts back from the real now: a long period.
    result = subprocess.run([str(Path(sys.executable).parent / "re-bot"), "report", "--json", "--since", "520w", *args],
                            capture_output=True, text=True, env=env, timeout=60, check=True)  # fmt: skip
    return json.loads(result.stdout)


def reloads(outcome: str) -> float:
    return REGISTRY.get_sample_value("re_bot_content_reloads_total", {"outcome": outcome}) or 0.0


async def sighup_and_wait(outcome: str) -> None:
    before = reloads(outcome)
    os.kill(os.getpid(), signal.SIGHUP)
    for _ in range(400):
        if reloads(outcome) > before:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"no {outcome} reload")


# Stored questions that would ping, link or style if echoed as they are (each different enough to be its own group),
# with words of each that must still show.
HOSTILE = {
    "<!channel> when is the meetup": "when is the meetup",
    "@everyone @here who reads papers tonight": "who reads papers tonight",
    "ask <@U999> in <#C1> about **bold** _slanted_ ~struck~ `code` things": "things",
    "[click me](https://evil.example) or <https://evil.example|this> for jobs": "for jobs",
}
LIVE = ("<!channel", "<!here", "<!everyone", "<@U999", "<#C1", "<https://evil")  # Slack's mention and link syntax
MASKED_LINK = re.compile(r"(?<!\\)\]\(https://evil")  # Discord's [text](url), its bracket not escaped


def store_hostile_questions(api, platform: str, workspace: str, now: datetime) -> None:
    """The questions log as members' own words left it: questions nothing answered (the report lists them)."""
    for text in HOSTILE:
        api.record_question(AskedQuestion(platform, workspace, text, None, ("phd",), None), now=now)


def assert_inert(text: str, *, markdown_links: bool) -> None:
    """Every hostile question is listed, and none of them as a live mention or a link (a bare URL stays text that
    the client may link, as in any message). `markdown_links`: the platform makes `[text](url)` a link (Discord)."""
    for words in HOSTILE.values():
        assert words in text
    for live in LIVE:
        assert live not in text, live
    assert not (markdown_links and MASKED_LINK.search(text))
    for mention in ("@everyone", "@here"):
        assert mention not in text.replace("@\u200b", "@·"), mention
