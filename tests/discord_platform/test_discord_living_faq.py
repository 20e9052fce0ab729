"""The organiser's loop through Discord (discord.py's real CommandTree against the fake API, the real store): an
unanswered question shows in `re-bot report`; a community topic and a SIGHUP later it is answered; a broken file on
reload changes nothing members see; the feedback buttons vote once per member; `/re-admin report` for server managers
only."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import discord
from discord_support import GUILD_ID, MEMBER_ID, NOW, callback_of, feed, press, slash
from living_faq_support import PIZZA, QUESTION, TITLE, assert_inert, report, sighup_and_wait, store_hostile_questions

from bot.ops.reload import ContentReloader

MANAGE_GUILD = discord.Permissions(manage_guild=True, use_application_commands=True).value


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


async def test_stored_questions_are_quoted_in_the_admin_report(bot, fake_discord, discord_store) -> None:
    store_hostile_questions(discord_store.api, "discord", str(GUILD_ID), NOW)
    admin = await ask(bot, fake_discord, "re-admin", {}, sub="report", permissions=MANAGE_GUILD)
    assert admin["allowed_mentions"] == {"parse": []}  # no mention pings, whatever the text
    assert_inert(json.dumps(admin, ensure_ascii=False), markdown_links=True)
