"""The organiser's loop through Slack (signed requests into the real bolt app, the real store): an unanswered question
shows in `re-bot report`; a community topic and a SIGHUP later it is answered; a broken file on reload changes
nothing members see; the feedback buttons vote once per member; `/re-admin report` for admins only."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from fake_slack import TEAM
from slack_harness import SlackServer, all_text, buttons

from bot.ops.metrics import REGISTRY
from bot.ops.reload import ContentReloader

QUESTION = "when is the community pizza night"
TITLE = "When is our community pizza night?"
PIZZA = f"""---
id: pizza-night
title: {TITLE}
group: Our community
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
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "RE_BOT_"))}
    env["RE_BOT_DATABASE_URL"] = f"sqlite:///{db}"
    # The harness's clock reads 2025 while `re-bot report` counts back from the real now: a long enough period.
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


async def test_the_loop_through_slack(slack: SlackServer, tmp_path: Path) -> None:
    db = tmp_path / "re-bot.db"
    _, first = await slack.command("/re-faq", QUESTION)
    assert "I answer career questions" in all_text(first["blocks"])  # not a career question until the community adds it
    found = await asyncio.to_thread(report, db, "--workspace", TEAM)
    assert found["questions"] == 1 and found["answered"] == 0
    assert found["unanswered"][0]["text"] == QUESTION and found["unanswered"][0]["nearest"]

    extra = tmp_path / "community"
    (extra / "faq").mkdir(parents=True)
    reloader = ContentReloader(slack.platform.bot.services, None, str(extra))
    await reloader.start()
    try:
        (extra / "faq" / "pizza-night.md").write_text(PIZZA)
        await sighup_and_wait("ok")
        _, answered = await slack.command("/re-faq", QUESTION)
        assert answered["blocks"][0]["text"]["text"] == TITLE

        (extra / "faq" / "broken.md").write_text("no front matter")
        await sighup_and_wait("invalid")
        _, again = await slack.command("/re-faq", QUESTION)
        assert again["blocks"][:-1] == answered["blocks"][:-1]  # the same answer; only the question ref differs
    finally:
        await reloader.stop()

    # Helpful, then a change of mind, from the same member: one vote, the last one.
    feedback = buttons(again["blocks"])
    await slack.press(feedback["faq.helpful"]["action_id"], feedback["faq.helpful"]["value"])
    [thanks] = await slack.responses(1)
    assert thanks["replace_original"] is True and "Thanks, noted as helpful." in all_text(thanks["blocks"])
    await slack.press(feedback["faq.miss"]["action_id"], feedback["faq.miss"]["value"])
    missed = (await slack.responses(2))[1]
    assert "One of these may be closer" in all_text(missed["blocks"])
    assert all(b["action_id"].startswith("faq.show") for b in buttons(missed["blocks"]).values())
    counts = (await asyncio.to_thread(report, db))["topics"]["pizza-night"]
    assert counts == {"asked": 2, "helpful": 0, "not_helpful": 1}

    _, admin = await slack.command("/re-admin", "report", user="UADMIN")
    text = all_text(admin["blocks"])
    assert admin["response_type"] == "ephemeral"
    assert "3 questions" in text and "pizza-night" in text and QUESTION in text
    _, refused = await slack.command("/re-admin", "report", user="U1")
    assert "Sorry" in all_text(refused["blocks"]) and QUESTION not in all_text(refused["blocks"])
