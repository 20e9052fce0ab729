"""The organiser's loop through Discord (discord.py's real CommandTree against the fake API, the real store): an
unanswered question shows in `re-bot report`; a community topic and a SIGHUP later it is answered; a broken file on
reload changes nothing members see; the feedback buttons vote once per member; `/re-admin report` for server managers
only."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import discord
from discord_support import GUILD_ID, MEMBER_ID, callback_of, feed, press, slash

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
MANAGE_GUILD = discord.Permissions(manage_guild=True, use_application_commands=True).value


def report(db: Path, *args: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "RE_BOT_"))}
    env["RE_BOT_DATABASE_URL"] = f"sqlite:///{db}"
    # The tests' clock reads 2026-03 while `re-bot report` counts back from the real now: a long enough period.
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


async def ask(bot, fake, command: str, options: dict, **kwargs) -> dict:
    payload = slash(command, options, **kwargs)
    await feed(bot, payload)
    return callback_of(fake, payload)["data"]


def custom_ids(data: dict) -> dict[str, str]:
    found: dict[str, str] = {}
    for row in data.get("components", []):
        for button in row["components"]:
            found.setdefault(button["custom_id"].split(":")[1], button["custom_id"])
    return found


async def test_the_loop_through_discord(bot, fake_discord, tmp_path: Path) -> None:
    db = tmp_path / "re-bot.db"
    first = await ask(bot, fake_discord, "re-faq", {"topic": QUESTION})
    assert "I answer career questions" in json.dumps(first)  # not a career question until the community adds it
    found = await asyncio.to_thread(report, db, "--workspace", str(GUILD_ID))
    assert found["questions"] == 1 and found["answered"] == 0
    assert found["unanswered"][0]["text"] == QUESTION

    extra = tmp_path / "community"
    (extra / "faq").mkdir(parents=True)
    reloader = ContentReloader(bot.services, None, str(extra))
    await reloader.start()
    try:
        (extra / "faq" / "pizza-night.md").write_text(PIZZA)
        await sighup_and_wait("ok")
        answered = await ask(bot, fake_discord, "re-faq", {"topic": QUESTION})
        assert answered["embeds"][0]["title"] == TITLE

        (extra / "faq" / "broken.md").write_text("no front matter")
        await sighup_and_wait("invalid")
        again = await ask(bot, fake_discord, "re-faq", {"topic": QUESTION})
        assert again["embeds"] == answered["embeds"]
    finally:
        await reloader.stop()

    ids = custom_ids(again)
    assert ids["faq.helpful"].startswith("re:faq.helpful:pizza-night:") and len(ids["faq.helpful"]) <= 100
    for action in ("faq.helpful", "faq.helpful", "faq.miss"):  # a double press, then a change of mind
        payload = press(ids[action], ephemeral=True)
        await feed(bot, payload)
        body = callback_of(fake_discord, payload)
        assert body["type"] == 7  # the private answer updated in place
    assert "One of these may be closer" in json.dumps(body)
    counts = (await asyncio.to_thread(report, db))["topics"]["pizza-night"]
    assert counts == {"asked": 2, "helpful": 0, "not_helpful": 1}

    admin = await ask(bot, fake_discord, "re-admin", {}, sub="report", permissions=MANAGE_GUILD)
    text = json.dumps(admin, ensure_ascii=False)
    assert admin["flags"] & 64 and "3 questions" in text and "pizza-night" in text and QUESTION in text
    refused = await ask(bot, fake_discord, "re-admin", {"period": "7d"}, sub="report", user_id=MEMBER_ID)
    assert "Sorry" in json.dumps(refused) and QUESTION not in json.dumps(refused)
