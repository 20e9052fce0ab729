"""Slash commands and autocomplete: payloads as Discord sends them, through discord.py's real CommandTree, with
every REST call landing at the local fake Discord API."""

from __future__ import annotations

from discord_support import (
    EPHEMERAL,
    MANAGE_CHANNELS,
    autocomplete,
    callback_of,
    feed,
    shared_services,
    slash,
)

from bot.platforms.discord.commands import DISCORD_COMMANDS, faq_choices, zone_choices
from content.schema import AREAS
from handlers import COMMANDS


def buttons_of(data: dict) -> list[tuple[str, str]]:
    return [(b["label"], b["custom_id"]) for row in data.get("components", []) for b in row["components"]]


def assert_no_mentions(fake) -> None:
    """Every request that creates or edits a message says explicitly that it mentions nobody."""
    for r in fake.requests:
        body = r.json or {}
        message = body.get("data", body) if "callback" in r.path else body
        if (
            r.method in ("POST", "PATCH")
            and isinstance(message, dict)
            and ("embeds" in message or "content" in message)
        ):
            assert message.get("allowed_mentions") == {"parse": []}, (r.path, message)


async def test_faq_answer_is_an_ephemeral_embed_with_share_button(client, fake_discord):
    payload = slash("re-faq", {"topic": "phd"})
    await feed(client, payload)
    body = callback_of(fake_discord, payload)
    assert body["type"] == 4
    data = body["data"]
    assert data["flags"] & EPHEMERAL
    embed = data["embeds"][0]
    assert embed["title"] == shared_services().content.faqs["phd"].title
    assert buttons_of(data) == [
        ("Share in channel", "re:faq.share:phd"),
        ("Helpful", "re:faq.helpful:phd"),
        ("Not what I asked", "re:faq.miss:phd"),
    ]
    assert_no_mentions(fake_discord)


async def test_faq_free_text_question_finds_its_topic(client, fake_discord):
    payload = slash("re-faq", {"topic": "how do I move from software engineering into research engineering?"})
    await feed(client, payload)
    data = callback_of(fake_discord, payload)["data"]
    titles = {e.title: e.id for e in shared_services().content.faqs.values()}
    answered = titles.get(data["embeds"][0].get("title"))
    offered = [cid.split(":")[-1] for _, cid in buttons_of(data) if cid.startswith("re:faq.show:")]
    assert answered == "switch" or "switch" in offered


async def test_faq_without_topic_lists_topics_and_can_be_shared(client, fake_discord):
    payload = slash("re-faq")
    await feed(client, payload)
    data = callback_of(fake_discord, payload)["data"]
    text = data["embeds"][0]["description"]
    assert "`phd`" in text and "`salary`" in text
    assert buttons_of(data) == [("Share in channel", "re:share:")]


async def test_faq_unknown_topic_is_a_private_error_without_share(client, fake_discord):
    payload = slash("re-faq", {"topic": "zzqx qqzz"})
    await feed(client, payload)
    data = callback_of(fake_discord, payload)["data"]
    assert data["flags"] & EPHEMERAL
    assert "I answer career questions" in data["embeds"][0]["description"]  # gibberish is treated as off-topic
    assert buttons_of(data) == []


async def test_paper_area_choice_and_options(client, fake_discord):
    rl = slash("re-paper", {"area": "rl"})
    by_id = slash("re-paper", {"paper": "transformer"})
    following = slash("re-paper", {"next": True})
    for payload in (rl, by_id, following):
        await feed(client, payload)
    assert callback_of(fake_discord, rl)["data"]["embeds"][0]["title"] == "Today's rl paper"
    paper = shared_services().content.paper("transformer")
    assert paper is not None
    assert callback_of(fake_discord, by_id)["data"]["embeds"][0]["title"] == paper.title
    data = callback_of(fake_discord, following)["data"]
    assert data["embeds"][0]["title"] == "Next paper"
    labels = [label for label, _ in buttons_of(data)]
    assert labels == ["Another paper", "Share in channel"]


async def test_paper_command_offers_every_area_as_a_choice(client):
    command = client.tree.get_command("re-paper")
    assert command is not None
    area = next(p for p in command.parameters if p.name == "area")
    assert [c.value for c in area.choices] == list(AREAS)


async def test_prompt_and_help(client, fake_discord):
    prompt = slash("re-prompt", {"kind": "implement"})
    helped = slash("re-help")
    await feed(client, prompt)
    await feed(client, helped)
    assert callback_of(fake_discord, prompt)["data"]["embeds"][0]["title"] == "Today's implement prompt"
    help_text = callback_of(fake_discord, helped)["data"]["embeds"][0]["description"]
    assert "/re-faq" in help_text and "/re-paper" in help_text


async def test_commands_work_in_a_dm_with_the_bot(client, fake_discord):
    payload = slash("re-faq", {"topic": "salary"}, guild=False)
    await feed(client, payload)
    data = callback_of(fake_discord, payload)["data"]
    assert data["embeds"][0]["title"] == shared_services().content.faqs["salary"].title


async def test_faq_autocomplete_through_the_tree(client, fake_discord):
    payload = autocomplete("re-faq", {"topic": "interv"}, focused="topic")
    await feed(client, payload)
    body = callback_of(fake_discord, payload)
    assert body["type"] == 8  # APPLICATION_COMMAND_AUTOCOMPLETE_RESULT
    choices = body["data"]["choices"]
    assert choices[0]["value"] == "interviews"
    assert 1 <= len(choices) <= 25


async def test_faq_autocomplete_empty_lists_25_topics(client, fake_discord):
    payload = autocomplete("re-faq", {"topic": ""}, focused="topic")
    await feed(client, payload)
    choices = callback_of(fake_discord, payload)["data"]["choices"]
    assert len(choices) == 25
    assert all(len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in choices)


def test_faq_choices_for_free_text_use_the_matcher():
    services = shared_services()
    choices = faq_choices(services, "how much money do research engineers make")
    values = [c.value for c in choices]
    assert "salary" in values[:3]
    long_question = "what should I learn first " * 20
    choices = faq_choices(services, long_question)
    assert 1 <= len(choices) <= 25
    assert all(len(c.name) <= 100 and len(c.value) <= 100 for c in choices)
    # an alias
    assert faq_choices(services, "comp")[0].value in services.content.faqs


def test_zone_choices():
    assert zone_choices("berlin")[0].value == "Europe/Berlin"
    assert zone_choices("new york")[0].value == "America/New_York"
    assert zone_choices("Asia/Kol")[0].value == "Asia/Kolkata"
    assert len(zone_choices("")) <= 25
    assert len(zone_choices("a")) == 25
    assert zone_choices("berlni")  # typo: still suggests something


def test_only_registered_handlers_become_discord_commands(client):
    names = {c.name for c in client.tree.get_commands()}
    assert names == {n for n in DISCORD_COMMANDS if n in COMMANDS}
    assert {"re-faq", "re-paper", "re-prompt", "re-help"} <= names


def test_every_registered_command_has_a_discord_command():
    assert set(COMMANDS) <= set(DISCORD_COMMANDS)


# /re-remind, /re-subscribe, /re-unsubscribe and /re-progress against the real handlers and store:
# test_discord_schedules.py.


async def test_subscribe_command_definition_asks_discord_to_restrict_it(client):
    command = client.tree.get_command("re-subscribe")
    assert command is not None
    payload = command.to_dict(client.tree)
    assert int(payload["default_member_permissions"]) == MANAGE_CHANNELS
    assert payload["contexts"] == [0]  # guilds only


async def test_remind_has_its_sub_commands_with_zone_autocomplete(client):
    group = client.tree.get_command("re-remind")
    assert group is not None
    subs = {c.name: c for c in group.commands}
    assert set(subs) == {"daily", "weekdays", "weekends", "days", "list", "off", "pause", "resume", "snooze", "zone"}
    for name in ("daily", "weekdays", "weekends", "days", "zone"):
        zone = next(o for o in subs[name].to_dict(client.tree)["options"] if o["name"] == "zone")
        assert zone["autocomplete"] is True


async def test_without_a_store_schedules_say_so(client, fake_discord):
    payload = slash("re-remind", {"time": "09:00"}, sub="daily")
    await feed(client, payload)
    data = callback_of(fake_discord, payload)["data"]
    assert "database" in data["embeds"][0]["description"] and data["flags"] & EPHEMERAL
    assert not fake_discord.calls("POST", "/users/@me/channels")
