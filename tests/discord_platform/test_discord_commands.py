"""Slash commands and autocomplete: payloads as Discord sends them, through discord.py's real CommandTree, with
every REST call landing at the local fake Discord API."""

from __future__ import annotations

import pytest
from discord_support import (
    EPHEMERAL,
    GUILD_ID,
    MANAGE_CHANNELS,
    MEMBER_ID,
    autocomplete,
    callback_of,
    feed,
    shared_services,
    slash,
)

from bot.discord_platform.client import ReBotClient
from bot.discord_platform.commands import DISCORD_COMMANDS, faq_choices, zone_choices
from content.schema import AREAS
from handlers import COMMANDS
from handlers.registry import CommandSpec
from handlers.types import Reply, Section


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
    assert buttons_of(data) == [("Share in channel", "re:faq.share:phd")]
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
    assert "couldn" in data["embeds"][0]["description"]
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


# -- commands whose handlers come from the scheduling work: the option -> text mapping and the permission check ----


@pytest.fixture
def echo_handlers():
    """Handlers that echo what they were asked, in place of /re-remind and /re-subscribe (restored afterwards): the
    Discord side's option -> text mapping and permission check, apart from what the real handlers do."""
    seen = []

    def echo(inv, services):
        seen.append(inv)
        return Reply(command=inv.command, sections=(Section(text=f"echo: {inv.text}"),))

    saved = dict(COMMANDS)
    for name, admin in (("re-remind", False), ("re-subscribe", True), ("re-unsubscribe", True)):
        COMMANDS[name] = CommandSpec(name, f"{name} stand-in", f"/{name}", (), echo, admin)
    yield seen
    COMMANDS.clear()
    COMMANDS.update(saved)


@pytest.fixture
async def echo_client(echo_handlers, fake_discord):
    bot = ReBotClient(shared_services())
    await bot.login("fake-token")
    yield bot
    await bot.close()


@pytest.mark.parametrize(
    ("sub", "options", "text"),
    [
        ("daily", {"time": "09:00", "zone": "Europe/Berlin"}, "daily 09:00 Europe/Berlin"),
        ("weekdays", {"time": "7am"}, "weekdays 7am"),
        ("list", {}, "list"),
        ("off", {}, "off"),
        ("pause", {"days": 3}, "pause 3 days"),
        ("pause", {}, "pause"),
        ("resume", {}, "resume"),
        ("snooze", {"duration": "1h"}, "snooze 1h"),
    ],
)
async def test_remind_subcommands_become_the_handlers_text(
    echo_client, echo_handlers, fake_discord, sub, options, text
):
    payload = slash("re-remind", options, sub=sub)
    await feed(echo_client, payload)
    inv = echo_handlers[-1]
    assert (inv.command, inv.text, inv.platform, inv.tz) == ("re-remind", text, "discord", None)
    assert inv.user == str(MEMBER_ID) and inv.workspace == str(GUILD_ID)
    assert callback_of(fake_discord, payload)["data"]["flags"] & EPHEMERAL


async def test_remind_zone_autocomplete_through_the_tree(echo_client, fake_discord):
    payload = autocomplete("re-remind", {"time": "09:00", "zone": "kolk"}, focused="zone", sub="daily")
    await feed(echo_client, payload)
    choices = callback_of(fake_discord, payload)["data"]["choices"]
    assert choices[0] == {"name": "Asia/Kolkata", "value": "Asia/Kolkata"}


async def test_subscribe_is_refused_to_members_who_cannot_manage_the_channel(echo_client, echo_handlers, fake_discord):
    payload = slash("re-subscribe", {"time": "09:00", "zone": "Europe/Berlin"})
    await feed(echo_client, payload)
    assert echo_handlers == []  # the handler never ran
    data = callback_of(fake_discord, payload)["data"]
    assert data["flags"] & EPHEMERAL
    assert "Manage Channels" in data["content"]


async def test_subscribe_by_a_channel_manager_reaches_the_handler(echo_client, echo_handlers, fake_discord):
    payload = slash(
        "re-subscribe", {"time": "08:30", "zone": "Asia/Kolkata", "days": "weekdays"}, permissions=MANAGE_CHANNELS
    )
    await feed(echo_client, payload)
    inv = echo_handlers[-1]
    assert inv.can_manage_channel
    assert inv.text == "papers 08:30 Asia/Kolkata weekdays"


async def test_subscribe_command_definition_asks_discord_to_restrict_it(echo_client):
    command = echo_client.tree.get_command("re-subscribe")
    assert command is not None
    payload = command.to_dict(echo_client.tree)
    assert int(payload["default_member_permissions"]) == MANAGE_CHANNELS
    assert payload["contexts"] == [0]  # guilds only


async def test_subscribe_without_a_time_asks_for_the_current_schedule(echo_client, echo_handlers, fake_discord):
    await feed(echo_client, slash("re-subscribe", permissions=MANAGE_CHANNELS))
    assert echo_handlers[-1].text == ""
    await feed(echo_client, slash("re-unsubscribe"))
    assert len(echo_handlers) == 1  # a member without Manage Channels cannot unsubscribe the channel either


class PauseRecorder:
    """Stands in for the schedule store's `pause_schedule`, the one store call the Discord side makes itself."""

    def __init__(self):
        self.paused = []

    def pause_schedule(self, kind, platform, target, *, now, until, reason):
        self.paused.append((kind, platform, target, until, reason))


@pytest.fixture
async def store_client(echo_handlers, fake_discord):
    from dataclasses import replace

    store = PauseRecorder()
    bot = ReBotClient(replace(shared_services(), store=store))
    await bot.login("fake-token")
    yield bot, store
    await bot.close()


async def test_setting_a_reminder_checks_dms_with_a_first_message(store_client, fake_discord):
    bot, store = store_client
    await feed(bot, slash("re-remind", {"time": "09:00", "zone": "Europe/Berlin"}, sub="daily"))
    (dm,) = fake_discord.calls("POST", r"/channels/\d+/messages")
    assert dm.json["embeds"][0]["title"] == "Your study reminders arrive here"
    assert fake_discord.calls("POST", "/users/@me/channels")[0].json == {"recipient_id": MEMBER_ID}
    assert store.paused == []


async def test_closed_dms_are_told_once_in_the_channel_and_the_reminder_paused(store_client, fake_discord):
    bot, store = store_client
    fake_discord.closed_dms.add(MEMBER_ID)
    payload = slash("re-remind", {"time": "09:00"}, sub="weekdays")
    await feed(bot, payload)
    (notice,) = fake_discord.calls("POST", rf"/webhooks/\d+/{payload['token']}")
    assert notice.json["flags"] & EPHEMERAL
    assert "DMs are closed" in notice.json["content"] and "/re-remind resume" in notice.json["content"]
    assert notice.json["allowed_mentions"] == {"parse": []}
    ((kind, platform, target, until, reason),) = store.paused
    assert (kind, platform, target, until) == ("reminder", "discord", str(MEMBER_ID), None)
    assert "50007" in reason


async def test_list_and_errors_send_no_dm(store_client, fake_discord):
    bot, _ = store_client
    await feed(bot, slash("re-remind", sub="list"))
    assert not fake_discord.calls("POST", "/users/@me/channels")
