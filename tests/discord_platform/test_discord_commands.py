"""Slash commands and autocomplete: payloads as Discord sends them, through discord.py's real CommandTree, with
every REST call landing at the local fake Discord API."""

from __future__ import annotations

from discord_support import EPHEMERAL, callback_of, feed, shared_services, slash


async def test_faq_answer_is_an_ephemeral_embed_with_share_button(client, fake_discord):
    payload = slash("re-faq", {"topic": "phd"})
    await feed(client, payload)
    body = callback_of(fake_discord, payload)
    assert body["type"] == 4
    data = body["data"]
    assert data["flags"] & EPHEMERAL
    assert data["allowed_mentions"] == {"parse": []}
    embed = data["embeds"][0]
    assert embed["title"] == shared_services().content.faqs["phd"].title
    buttons = [c for row in data["components"] for c in row["components"]]
    assert [(b["label"], b["custom_id"]) for b in buttons] == [("Share in channel", "re:faq.share:phd")]
