"""Review cards on Slack, end to end: Done through a signed button press, the review DM ticked through the Slack sender
to the fake Web API, and a rating pressed on that DM replacing only its card's buttons."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_harness import SlackServer, all_text, assert_valid_blocks

from bot.platforms.slack.render import ROW_BLOCK_PREFIX, STATUS_BLOCK_ID, action_name
from handlers.review import MAX_CARDS
from handlers.store_api import REVIEW

# The harness clock reads 2025-03-12 09:30 UTC; U1's Slack zone is Europe/Berlin, so the first review DM goes out
# when the default quiet hours end, 08:00 in Berlin on the 13th.
REVIEW_TIME = datetime(2025, 3, 13, 7, 0, tzinfo=UTC)


def rows(blocks: list[dict]) -> dict[str, dict]:
    """The rating rows of a review DM by block id."""
    return {b["block_id"]: b for b in blocks if b.get("block_id", "").startswith(ROW_BLOCK_PREFIX)}


async def review_dm(slack: SlackServer, items: list[str]) -> dict:
    await slack.command("/re-remind", "daily 19:00", user="U1")
    for item in items:  # Done pressed on the member's own (ephemeral) message, as from /re-track
        await slack.press("remind.done#0", item, channel="C1")
    await slack.responses(len(items))
    report = await slack.tick(REVIEW_TIME)
    assert [(r.kind, r.status) for r in report.results] == [("review", "sent")]
    [post] = slack.posts("U1")
    return {"ts": post.answer["ts"], "channel": post.answer["channel"], "text": post.args["text"],
            "blocks": post.args["blocks"]}  # fmt: skip


async def test_review_dm_has_one_rating_row_per_card_and_a_press_replaces_only_that_row(slack: SlackServer):
    dm = await review_dm(slack, ["paper:transformer", "paper:resnet"])
    assert dm["text"] == "Time to review: 2 cards"
    assert_valid_blocks(dm["blocks"])
    found = rows(dm["blocks"])
    assert len(found) == 2
    first_id, first = next(iter(found.items()))
    assert [action_name(e["action_id"]) for e in first["elements"]] == [
        "review.again", "review.hard", "review.good", "review.easy"
    ]  # fmt: skip
    good = first["elements"][2]
    card = good["value"]
    ids = [e["action_id"] for b in found.values() for e in b["elements"]]
    assert len(ids) == len(set(ids)), "action ids are unique across the whole DM"

    slack.clock.now = REVIEW_TIME.replace(minute=10)
    status, _ = await slack.press(good["action_id"], card, channel=dm["channel"], ephemeral=False, message=dm,
                                  block_id=first_id)  # fmt: skip
    assert status == 200
    replaced = (await slack.responses(3))[-1]
    assert replaced["replace_original"] is True
    assert_valid_blocks(replaced["blocks"])
    after = rows(replaced["blocks"])
    assert first_id not in after and len(after) == 1, "the other card keeps its buttons"
    [result] = [b for b in replaced["blocks"] if b.get("block_id") == f"{STATUS_BLOCK_ID}-{first_id}"]
    assert "Good: next review" in all_text([result]) and "Answer:" in all_text([result])
    assert replaced["blocks"].index(result) == dm["blocks"].index(first), "the answer shows under its card"
    [rated] = [c for c in slack.store.api.cards("slack", "U1") if c.item == card]
    assert rated.reviews == 1 and rated.due > slack.clock.now
    assert len(slack.posts("U1")) == 1, "no new message: the DM itself changed"


async def test_review_command_lists_cards_due_and_a_rating_there_answers_privately(slack: SlackServer):
    await slack.command("/re-remind", "daily 19:00", user="U1")
    await slack.press("remind.done#0", "paper:adam", channel="C1")
    await slack.responses(1)
    _, reply = await slack.command("/re-review", user="U1")
    assert reply["response_type"] == "ephemeral"
    assert_valid_blocks(reply["blocks"])
    [row] = rows(reply["blocks"]).values()
    good = row["elements"][2]
    await slack.press(good["action_id"], good["value"], channel="C1", ephemeral=True)
    answer = (await slack.responses(2))[-1]
    assert "Good: next review" in all_text(answer["blocks"])
    assert answer.get("replace_original") is not True, "the list of other cards is not replaced"


async def test_a_review_dm_holds_at_most_what_one_slack_message_can(slack: SlackServer):
    content = slack.platform.bot.services.content
    items = [f"paper:{p.id}" for p in content.papers[: MAX_CARDS + 3]]
    for item in items:
        slack.store.api.add_card("slack", "U1", item, now=slack.clock.now)
    await slack.command("/re-remind", "daily 19:00", user="U1")
    assert slack.store.api.get_schedule(REVIEW, "slack", "U1").active
    await slack.tick(REVIEW_TIME)
    [post] = slack.posts("U1")
    assert_valid_blocks(post.args["blocks"])
    assert len(rows(post.args["blocks"])) == MAX_CARDS
    assert "3 more due" in all_text(post.args["blocks"])
