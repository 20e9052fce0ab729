"""Buttons: custom_ids carry action and value, so a fresh client (a restart) handles buttons on old messages."""

from __future__ import annotations

from discord_support import EPHEMERAL, MEMBER_ID, callback_of, feed, press, shared_services, slash

from bot.platforms.discord.client import ReBotClient
from handlers import rotation


def buttons_of(data: dict) -> list[tuple[str, str]]:
    return [(b["label"], b["custom_id"]) for row in data.get("components", []) for b in row["components"]]


async def test_another_paper_on_a_private_answer_turns_the_page_in_place(client, fake_discord):
    papers = shared_services().content.papers
    first = rotation.rotation(papers)[0]
    payload = press(f"re:paper.another:{first.id}", ephemeral=True)
    await feed(client, payload)
    body = callback_of(fake_discord, payload)
    assert body["type"] == 7  # UPDATE_MESSAGE: the ephemeral answer now shows the next paper
    following = rotation.after(papers, first.id)
    assert following.title in body["data"]["embeds"][0]["description"]
    assert ("Another paper", f"re:paper.another:{following.id}") in buttons_of(body["data"])
    assert body["data"]["allowed_mentions"] == {"parse": []}


async def test_another_paper_on_a_channel_post_answers_only_the_presser(client, fake_discord):
    payload = press("re:paper.another:transformer", ephemeral=False)
    await feed(client, payload)
    body = callback_of(fake_discord, payload)
    assert body["type"] == 4
    assert body["data"]["flags"] & EPHEMERAL


def shared_post(fake_discord, payload: dict) -> dict:
    """The public message a Share press posted: a follow-up of the press (the press itself was deferred)."""
    [post] = fake_discord.calls("POST", rf"/webhooks/\d+/{payload['token']}")
    return post.json


def private_update(fake_discord, payload: dict) -> dict:
    [edit] = fake_discord.calls("PATCH", rf"/webhooks/\d+/{payload['token']}/messages/@original")
    return edit.json


async def test_share_faq_posts_publicly_crediting_the_member_without_pinging(client, fake_discord):
    payload = press("re:faq.share:phd")
    await feed(client, payload)
    assert callback_of(fake_discord, payload)["type"] == 6  # DEFERRED_UPDATE_MESSAGE: the private answer changes
    data = shared_post(fake_discord, payload)
    assert not (data.get("flags") or 0) & EPHEMERAL
    assert data["content"] == f"Shared by <@{MEMBER_ID}>"
    assert data["allowed_mentions"] == {"parse": []}
    assert data["embeds"][0]["title"] == shared_services().content.faqs["phd"].title
    assert buttons_of(data) == []


async def test_suggestion_button_shows_the_topic(client, fake_discord):
    payload = press("re:faq.show:salary")
    await feed(client, payload)
    body = callback_of(fake_discord, payload)
    assert body["type"] == 7
    assert body["data"]["embeds"][0]["title"] == shared_services().content.faqs["salary"].title


async def test_generic_share_copies_the_private_answer_to_the_channel(client, fake_discord):
    message = {
        "embeds": [{"type": "rich", "title": "Paper of the day", "description": "**Attention Is All You Need**"}],
        "components": [
            {
                "type": 1,
                "components": [
                    {"type": 2, "style": 2, "label": "Another paper", "custom_id": "re:paper.another:transformer"},
                    {"type": 2, "style": 1, "label": "Share in channel", "custom_id": "re:share:"},
                ],
            }
        ],
    }
    payload = press("re:share:", message=message)
    await feed(client, payload)
    data = shared_post(fake_discord, payload)
    assert not (data.get("flags") or 0) & EPHEMERAL
    assert data["content"] == f"Shared by <@{MEMBER_ID}>"
    assert data["embeds"][0]["title"] == "Paper of the day"
    assert buttons_of(data) == [("Another paper", "re:paper.another:transformer")]
    # The private answer now says where the post is, and keeps only its other buttons.
    update = private_update(fake_discord, payload)
    assert update["content"].startswith("✓ You shared this in the channel: https://discord.com/channels/")
    assert buttons_of(update) == [("Another paper", "re:paper.another:transformer")]


async def test_sharing_a_real_answer_keeps_its_feedback_buttons_on_the_private_copy(bot, fake_discord):
    """The answer as the bot sent it (a logged question: its buttons carry the question's ref), pressed as Discord
    sends the press (the ephemeral message with its components): the private copy keeps Helpful and Not what I asked,
    with their values and looks, and loses only Share; the public post has no buttons."""
    asked = slash("re-faq", {"topic": "do I need a phd to become a research engineer"})
    await feed(bot, asked)
    answer = callback_of(fake_discord, asked)["data"]
    sent = {b["label"]: b for row in answer["components"] for b in row["components"]}
    assert set(sent) >= {"Share in channel", "Helpful", "Not what I asked"}
    assert sent["Helpful"]["custom_id"].count(":") == 3, "the feedback buttons carry the question's ref"
    message = {"embeds": answer["embeds"], "components": answer["components"]}
    payload = press(sent["Share in channel"]["custom_id"], message=message)
    await feed(bot, payload)
    assert buttons_of(shared_post(fake_discord, payload)) == []
    update = private_update(fake_discord, payload)
    assert update["content"].startswith("✓ You shared this in the channel: https://discord.com/channels/")
    kept = {b["label"]: b for row in update["components"] for b in row["components"]}
    assert "Share in channel" not in kept
    for label in ("Helpful", "Not what I asked"):
        assert (kept[label]["custom_id"], kept[label]["style"]) == (sent[label]["custom_id"], sent[label]["style"])


async def test_share_pressed_twice_posts_once(client, fake_discord):
    first, second = press("re:faq.share:phd"), press("re:faq.share:phd")
    second["message"] = first["message"]  # the same private answer
    await feed(client, first)
    await feed(client, second)
    assert len(fake_discord.calls("POST", r"/webhooks/\d+/[^/]+")) == 1
    again = callback_of(fake_discord, second)
    assert again["type"] == 4 and again["data"]["flags"] & EPHEMERAL
    assert again["data"]["content"].startswith("You already shared this in the channel. https://discord.com/")


async def test_share_pressed_again_after_a_restart_posts_once(bot, fake_discord, scheduling_services):
    """What was shared is in the database: a new process (a restart, or another replica) finds the post."""
    first = press("re:faq.share:phd")
    await feed(bot, first)
    [post] = fake_discord.calls("POST", r"/webhooks/\d+/[^/]+")
    await bot.close()

    restarted = ReBotClient(scheduling_services)
    await restarted.login("fake-token")
    try:
        second = press("re:faq.share:phd")
        second["message"] = first["message"]  # the same private answer, pressed again
        await feed(restarted, second)
    finally:
        await restarted.close()
    assert len(fake_discord.calls("POST", r"/webhooks/\d+/[^/]+")) == 1, "one public copy"
    again = callback_of(fake_discord, second)
    assert again["type"] == 4 and again["data"]["flags"] & EPHEMERAL
    assert again["data"]["content"].startswith("You already shared this in the channel. https://discord.com/")
    assert post.json["content"] == f"Shared by <@{MEMBER_ID}>"


async def test_a_slow_share_ledger_defers_the_press_within_discords_deadline(bot, fake_discord, discord_store):
    """The ledger's database answering far past the direct budget: the press is deferred at once, then posted;
    a second press is deferred too, and told privately that it was shared."""
    from slow_store import SlowStore

    from bot.platforms.share_ledger import StoredShareLedger
    from bot.store.shares import SharedPosts

    bot.direct_budget = 0.05
    bot.shares = StoredShareLedger(SlowStore(SharedPosts(discord_store.api.sessions), delay=0.3), bot.services.clock)
    first = press("re:faq.share:phd")
    await feed(bot, first)
    assert callback_of(fake_discord, first)["type"] == 6  # DEFERRED_UPDATE_MESSAGE, before the ledger answered
    assert len(fake_discord.calls("POST", r"/webhooks/\d+/[^/]+")) == 1

    bot.shares = StoredShareLedger(SlowStore(SharedPosts(discord_store.api.sessions), delay=0.3), bot.services.clock)
    second = press("re:faq.share:phd")
    second["message"] = first["message"]
    await feed(bot, second)
    assert callback_of(fake_discord, second)["type"] == 6
    [_, notice] = fake_discord.calls("POST", r"/webhooks/\d+/[^/]+")
    assert notice.json["flags"] & EPHEMERAL
    assert notice.json["content"].startswith("You already shared this in the channel. https://discord.com/")


async def test_a_share_discord_refuses_tells_the_member_the_missing_permission(client, fake_discord):
    import discord

    from bot.ops.metrics import REGISTRY

    def count(outcome: str) -> float:
        labels = {"platform": "discord", "command": "button:faq.share", "outcome": outcome}
        return REGISTRY.get_sample_value("re_bot_commands_total", labels) or 0.0

    before = count("error")
    payload = press("re:faq.share:phd")
    payload["app_permissions"] = str(discord.Permissions(view_channel=True).value)
    fake_discord.fail("POST", r"/webhooks/\d+/[^/]+", 403, {"message": "Missing Permissions", "code": 50013})
    await feed(client, payload)
    [_, notice] = fake_discord.calls("POST", rf"/webhooks/\d+/{payload['token']}")
    assert notice.json["flags"] & EPHEMERAL
    assert "**Send Messages** and **Embed Links**" in notice.json["content"]
    assert count("error") == before + 1


async def test_prompt_another(client, fake_discord):
    prompts = shared_services().content.prompts
    first = rotation.rotation(prompts)[0]
    payload = press(f"re:prompt.another:{first.id}")
    await feed(client, payload)
    data = callback_of(fake_discord, payload)["data"]
    assert rotation.after(prompts, first.id).id in data["embeds"][0]["footer"]["text"]


async def test_unknown_action_gets_a_helpful_private_answer(client, fake_discord):
    payload = press("re:retired.action:x", ephemeral=False)
    await feed(client, payload)
    data = callback_of(fake_discord, payload)["data"]
    assert data["flags"] & EPHEMERAL
    assert "no longer" in data["embeds"][0]["description"]


async def test_buttons_work_after_a_restart(fake_discord):
    """A message sent by one process; its button pressed after that process is gone and a new one started."""
    first = ReBotClient(shared_services())
    await first.login("fake-token")
    answer = slash("re-paper", {"paper": "transformer"})
    await feed(first, answer)
    sent = callback_of(fake_discord, answer)["data"]
    await first.close()

    restarted = ReBotClient(shared_services())
    await restarted.login("fake-token")
    try:
        custom_id = dict(buttons_of(sent))["Another paper"]
        payload = press(custom_id, message={"embeds": sent["embeds"], "components": sent["components"]})
        await feed(restarted, payload)
        body = callback_of(fake_discord, payload)
        assert body["type"] == 7
        following = rotation.after(shared_services().content.papers, "transformer")
        assert following.title in body["data"]["embeds"][0]["description"]
    finally:
        await restarted.close()


def test_every_custom_id_fits_discord():
    from bot.platforms.discord.render import CUSTOM_ID, button_id
    from handlers import Invocation, dispatch

    services = shared_services()
    lines = [("re-faq", t) for t in services.content.faqs] + [("re-paper", p.id) for p in services.content.papers]
    lines += [("re-prompt", p.id) for p in services.content.prompts] + [("re-faq", "")]
    for command, text in lines:
        reply = dispatch(Invocation(command=command, text=text, platform="discord"), services)
        assert all(len(button_id(b)) <= CUSTOM_ID for b in reply.buttons), (command, text)
