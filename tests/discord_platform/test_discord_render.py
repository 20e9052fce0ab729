"""The Discord renderer keeps every reply within Discord's limits, with the longest real content and beyond."""

from __future__ import annotations

import discord
from discord_support import shared_services
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.platforms.discord import render as r
from bot.platforms.discord.render import DiscordMessage, render_all, render_reply
from handlers import Invocation, dispatch
from handlers.types import Button, Reply, Section


def assert_within_limits(messages: list[DiscordMessage]) -> None:
    assert messages
    for message in messages:
        assert message.content is None or 0 < len(message.content) <= r.CONTENT
        assert len(message.embeds) <= r.EMBEDS_PER_MESSAGE
        assert sum(len(e) for e in message.embeds) <= r.EMBED_TOTAL
        assert message.embeds or message.content
        for embed in message.embeds:
            assert len(embed.title or "") <= r.TITLE
            assert len(embed.description or "") <= r.DESCRIPTION
            assert len(embed.fields) <= r.FIELDS
            assert len(embed.footer.text or "") <= r.FOOTER
            assert all(len(f.name or "") <= r.FIELD_NAME and len(f.value or "") <= r.FIELD_VALUE for f in embed.fields)
            embed.to_dict()  # serialisable as discord.py sends it
        assert len(message.buttons) <= r.BUTTONS_PER_MESSAGE
        assert all(len(r.button_id(b)) <= r.CUSTOM_ID for b in message.buttons)


def every_real_reply() -> list[Reply]:
    services = shared_services()
    lines = [("re-faq", "")] + [("re-faq", t) for t in services.content.faqs]
    lines += [("re-paper", p.id) for p in services.content.papers]
    lines += [("re-prompt", p.id) for p in services.content.prompts]
    lines += [("re-help", ""), ("re-faq", "what about money and interviews and a phd")]
    return [dispatch(Invocation(command=c, text=t, platform="discord"), services) for c, t in lines]


def test_every_real_reply_fits_and_loses_no_text():
    for reply in every_real_reply():
        messages = render_all(reply)
        assert_within_limits(messages)
        shown = "\n\n".join(e.description or "" for m in messages for e in m.embeds)
        for block in r.body_blocks(reply):
            for line in block.splitlines():
                assert line.strip() in shown, (reply.command, reply.topic, line)


def test_longest_real_faq_is_one_message_with_its_whole_answer():
    services = shared_services()
    longest = max(services.content.faqs.values(), key=lambda e: len(e.body) + len("".join(e.sources)))
    reply = dispatch(Invocation(command="re-faq", text=longest.id, platform="discord"), services)
    messages = render_reply(reply)
    assert len(messages) == 1
    (embed,) = messages[0].embeds
    assert embed.title == longest.title
    assert embed.description == "\n\n".join(r.body_blocks(reply))
    assert "Sources:" in (embed.footer.text or "")
    assert [b.action for b in messages[0].buttons] == ["faq.share", "faq.helpful", "faq.miss"]


def test_markdown_uses_discord_dialect():
    reply = Reply(
        command="re-faq",
        title="T",
        sections=(Section(text="Read [the paper](https://arxiv.org/abs/1706.03762) **now**.", items=("*one*", "two")),),
    )
    (message,) = render_reply(reply)
    description = message.embeds[0].description
    assert "[the paper](https://arxiv.org/abs/1706.03762)" in description
    assert "**now**" in description
    assert "• *one*\n• two" in description


def test_shared_reply_credits_the_member_in_content_and_errors_are_red():
    (shared,) = render_reply(Reply(command="re-faq", title="T", sections=(Section(text="x"),), shared_by="42"))
    assert shared.content == "Shared by <@42>"
    (error,) = render_reply(Reply(command="re-faq", sections=(Section(text="bad"),), error=True))
    assert error.embeds[0].colour == r.ERROR_COLOUR


def test_a_reply_longer_than_one_message_is_split_in_order_and_buttons_go_last():
    paragraphs = tuple(Section(text=f"Paragraph {i}: " + "word " * 300) for i in range(40))
    reply = Reply(
        command="re-help",
        title="Long",
        sections=paragraphs,
        context=("small " * 500,),
        buttons=(Button("Another", "paper.another", "x"),),
    )
    messages = render_reply(reply)
    assert_within_limits(messages)
    assert len(messages) > 1
    text = "\n\n".join(e.description or "" for m in messages for e in m.embeds)
    assert [int(p.split(":")[0]) for p in text.split("Paragraph ")[1:] if p] == list(range(40))
    assert all(not m.buttons for m in messages[:-1]) and messages[-1].buttons
    assert messages[0].embeds[0].title == "Long"


_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=7000)


@settings(max_examples=60, deadline=None)
@given(
    title=st.one_of(st.none(), st.text(max_size=400)),
    sections=st.lists(
        st.builds(Section, text=_text, items=st.lists(st.text(max_size=1500), max_size=8).map(tuple)), max_size=6
    ),
    context=st.lists(st.text(max_size=3000), max_size=3),
    buttons=st.lists(
        st.builds(
            Button,
            label=st.text(min_size=1, max_size=120),
            action=st.just("faq.show"),
            value=st.text(alphabet="abcdefghij-", max_size=120),
        ),
        max_size=30,
    ),
    shared_by=st.one_of(st.none(), st.text(min_size=1, max_size=2500)),
)
def test_any_reply_fits_discord(title, sections, context, buttons, shared_by):
    reply = Reply(
        command="re-faq",
        title=title,
        sections=tuple(sections),
        context=tuple(context),
        buttons=tuple(buttons),
        shared_by=shared_by,
    )
    assert_within_limits(render_reply(reply))


def test_embed_length_counts_what_discord_counts():
    embed = discord.Embed(title="ab", description="cde")
    embed.set_footer(text="f")
    assert len(embed) == 6
