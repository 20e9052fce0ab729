"""Review cards on Discord end to end: Done pressed through discord.py's real interaction dispatch, the review DM ticked
through the dispatcher and the `DiscordSender` to the fake Discord API, and ratings pressed on it."""

from __future__ import annotations

from datetime import UTC, datetime

from discord_support import EPHEMERAL, MEMBER_ID, callback_of, feed, press, slash
from test_discord_delivery import dm_channel, posts, set_reminder

from bot.platforms.discord.render import BUTTONS_PER_MESSAGE, ROWS_PER_MESSAGE

MEMBER = str(MEMBER_ID)
REVIEW_TIME = datetime(2026, 3, 11, 7, 0, tzinfo=UTC)  # 08:00 in Berlin the morning after the harness's clock


def rows(message: dict) -> list[list[dict]]:
    return [row["components"] for row in message.get("components", [])]


async def test_review_dm_splits_into_messages_of_five_cards_and_a_rating_answers_privately(
    bot, fake_discord, discord_store, ticker, clock
):
    await set_reminder(bot)
    items = [f"paper:{p.id}" for p in bot.services.content.papers[:7]]
    for item in items:
        await feed(bot, press(f"re:remind.done:{item}"))
    assert len(discord_store.api.cards("discord", MEMBER)) == 7

    report = await ticker.tick(REVIEW_TIME)
    assert [(r.kind, r.status) for r in report.results] == [("review", "sent")]
    first, second = posts(fake_discord, dm_channel(fake_discord))
    assert first.json["embeds"][0]["title"] == "Time to review: 7 cards"
    for message, cards in ((first.json, 5), (second.json, 2)):
        found = rows(message)
        assert len(found) == cards <= ROWS_PER_MESSAGE
        assert sum(len(r) for r in found) <= BUTTONS_PER_MESSAGE
        assert all([b["custom_id"].split(":")[1] for b in row] == [
            "review.again", "review.hard", "review.good", "review.easy"
        ] for row in found)  # fmt: skip
    labels = [b["label"] for row in rows(first.json) + rows(second.json) for b in row]
    assert labels[:4] == ["1 · Again", "1 · Hard", "1 · Good", "1 · Easy"] and labels[-1] == "7 · Easy"
    assert rows(second.json)[0][0]["custom_id"] == f"re:review.again:{items[5]}"

    clock.now = REVIEW_TIME.replace(minute=20)
    good = rows(first.json)[0][2]["custom_id"]
    message = {"embeds": first.json["embeds"], "components": first.json["components"]}
    pressed = press(good, message=message, ephemeral=False, guild=False)
    await feed(bot, pressed)
    answer = callback_of(fake_discord, pressed)
    assert answer["type"] == 4 and answer["data"]["flags"] & EPHEMERAL  # the DM keeps the other cards
    assert answer["data"]["embeds"][0]["title"].startswith("Good: next review")
    assert "Answer:" in answer["data"]["embeds"][0]["description"]
    rated = next(c for c in discord_store.api.cards("discord", MEMBER) if c.item == items[0])
    assert rated.reviews == 1 and rated.due > clock.now

    again = press(good, message=message, ephemeral=False, guild=False)
    await feed(bot, again)
    assert callback_of(fake_discord, again)["data"]["embeds"][0]["title"].startswith("Already rated")


async def test_review_command_options_map_to_the_handlers_grammar(bot, fake_discord, discord_store, clock):
    await set_reminder(bot)
    await feed(bot, press("re:remind.done:paper:transformer"))
    quiet = slash("re-review", {"action": "quiet", "value": "23:00-07:30"})
    await feed(bot, quiet)
    assert "Quiet hours set to 23:00-07:30" in callback_of(fake_discord, quiet)["data"]["embeds"][0]["description"]
    listed = slash("re-review", {"action": "list"})
    await feed(bot, listed)
    assert "`transformer`" in callback_of(fake_discord, listed)["data"]["embeds"][0]["description"]
    due = slash("re-review")
    await feed(bot, due)
    body = callback_of(fake_discord, due)["data"]
    assert body["flags"] & EPHEMERAL and body["embeds"][0]["title"] == "Cards to review now: 1"
    good = rows(body)[0][2]["custom_id"]
    pressed = press(good, message={"embeds": body["embeds"], "components": body["components"]}, ephemeral=True)
    await feed(bot, pressed)
    answer = callback_of(fake_discord, pressed)
    assert answer["type"] == 4, "a rating never replaces the list of other cards"
    forget = slash("re-review", {"action": "forget", "value": "transformer"})
    await feed(bot, forget)
    assert discord_store.api.cards("discord", MEMBER) == []
