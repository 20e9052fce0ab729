"""The organiser's loop through Slack (signed requests into the real bolt app, the real store): an unanswered question
shows in `re-bot report`; a community topic and a SIGHUP later it is answered; a broken file on reload changes
nothing members see; the feedback buttons vote once per member; `/re-admin report` for admins only."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fake_slack import TEAM
from living_faq_support import PIZZA, QUESTION, TITLE, assert_inert, report, sighup_and_wait, store_hostile_questions
from slack_harness import NOW, SlackServer, all_text, assert_valid_blocks, buttons

from bot.ops.reload import ContentReloader


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


async def test_stored_questions_are_quoted_in_the_admin_report(slack: SlackServer) -> None:
    assert slack.store is not None
    store_hostile_questions(slack.store.api, "slack", TEAM, NOW)
    _, admin = await slack.command("/re-admin", "report", user="UADMIN")
    assert_valid_blocks(admin["blocks"])
    assert_inert(all_text(admin["blocks"]) + admin["text"], markdown_links=False)
