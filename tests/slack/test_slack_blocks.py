"""Block Kit rendering within Slack's limits, checked with slack_sdk's own models, on the longest real content and on
replies built to break every limit."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from slack_harness import all_text, assert_valid_blocks, make_services

from bot.platforms.slack.render import (
    HOME_BLOCKS_MAX,
    MESSAGE_BLOCKS_MAX,
    TRUNCATED_NOTE,
    fallback_text,
    message,
    reply_blocks,
    split_mrkdwn,
)
from handlers import Button, Invocation, Reply, Section, dispatch
from handlers.faq import answer, topic_list
from handlers.papers import paper_reply


def _section_texts(blocks) -> str:
    return "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")


def test_every_faq_answer_fits_whole():
    services = make_services()
    lengths = []
    for entry in services.content.faqs.values():
        blocks = reply_blocks(answer(entry, services))
        assert_valid_blocks(blocks)
        assert TRUNCATED_NOTE not in all_text(blocks), f"{entry.id} lost text"
        lengths.append((len(entry.body), entry.id))
    longest = max(lengths)[1]
    blocks = reply_blocks(answer(services.content.faqs[longest], services))
    body = services.content.faqs[longest].body
    last_words = body.split()[-1].strip("*_.)`")
    assert last_words in _section_texts(blocks)


def test_topic_list_every_paper_and_help_fit():
    services = make_services()
    assert_valid_blocks(reply_blocks(topic_list(services)))
    for paper in services.content.papers:
        blocks = reply_blocks(paper_reply(paper))
        assert_valid_blocks(blocks)
        assert TRUNCATED_NOTE not in all_text(blocks)
    help_reply = dispatch(Invocation("re-help"), services)
    assert_valid_blocks(reply_blocks(help_reply))


def test_markdown_becomes_slack_mrkdwn():
    reply = Reply(
        command="x",
        sections=(
            Section(text="**Bold** and *italic*, `code` and [a link](https://example.com)."),
            Section(text="Steps:", items=("first **one**", "second")),
            Section(text="- a\n- b"),
        ),
    )
    text = _section_texts(reply_blocks(reply))
    assert "*Bold* and _italic_, `code` and <https://example.com|a link>." in text
    assert "Steps:\n• first *one*\n• second" in text
    assert "• a\n• b" in text


def test_long_title_label_and_paragraph_are_cut_to_slack_limits():
    long_paragraph = " ".join(f"word{i}" for i in range(2500))  # ~19,000 characters, one line
    reply = Reply(
        command="x",
        title="T" * 400,
        sections=(Section(text=long_paragraph),),
        context=tuple(f"note {i}" for i in range(15)),
        buttons=tuple(Button("L" * 100, "faq.show", f"v{i}") for i in range(30)),
    )
    blocks = reply_blocks(reply)
    assert_valid_blocks(blocks)
    assert len(blocks[0]["text"]["text"]) == 150
    sections = [b for b in blocks if b["type"] == "section"]
    assert len(sections) >= 7
    assert " ".join(b["text"]["text"] for b in sections).split() == long_paragraph.split(), "no words lost"
    actions = [b for b in blocks if b["type"] == "actions"]
    assert [len(a["elements"]) for a in actions] == [25, 5]
    assert sum(len(c["elements"]) for c in blocks if c["type"] == "context") == 15


def test_too_many_sections_keep_header_context_and_buttons():
    reply = Reply(
        command="x",
        title="Many",
        sections=tuple(Section(text=f"para {i}") for i in range(120)),
        context=("small print",),
        buttons=(Button("Share in channel", "faq.share", "phd", "primary"),),
    )
    blocks = reply_blocks(reply)
    assert_valid_blocks(blocks)
    assert len(blocks) == MESSAGE_BLOCKS_MAX
    assert blocks[0]["type"] == "header"
    assert [b["type"] for b in blocks[-3:]] == ["section", "context", "actions"]
    assert blocks[-3]["text"]["text"] == TRUNCATED_NOTE
    assert len(reply_blocks(reply, HOME_BLOCKS_MAX)) == 1 + 100 - 3 + 2


def test_split_keeps_lines_whole():
    lines = [f"• item {i} <https://example.com/{i}|link {i}>" for i in range(400)]
    pieces = split_mrkdwn("\n".join(lines))
    assert all(len(p) <= 3000 for p in pieces)
    assert "\n".join(pieces).split("\n") == lines


def test_fallback_text_is_escaped_and_short():
    reply = Reply(command="x", title="<!channel> & " + "x" * 5000)
    text = fallback_text(reply)
    assert "<!channel>" not in text and "&lt;!channel&gt; &amp;" in text
    assert len(text) <= 3000
    assert message(Reply(command="x"))["text"]


def test_rendering_is_cached_and_never_mutated_by_sending():
    from copy import deepcopy

    reply = Reply(command="x", title="t", sections=(Section(text="a"),), buttons=(Button("b", "faq.show", "phd"),))
    first = reply_blocks(reply)
    snapshot = deepcopy(first)
    message(reply)  # what bolt's ack and chat.postMessage are given
    assert reply_blocks(reply) == snapshot
    assert reply_blocks(reply) is not first  # each caller gets its own list to extend


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=4000)


@settings(max_examples=60, deadline=None)
@given(
    title=st.none() | _text,
    sections=st.lists(st.builds(Section, text=_text, items=st.lists(_text, max_size=5).map(tuple)), max_size=70),
    context=st.lists(_text, max_size=25).map(tuple),
    buttons=st.lists(
        st.builds(Button, label=_text, action=st.sampled_from(["faq.show", "paper.another"]), value=_text),
        max_size=40,
    ).map(tuple),
    shared_by=st.none() | st.sampled_from(["U123ABC", "<!channel>", "W9"]),
)
def test_any_reply_renders_within_limits(title, sections, context, buttons, shared_by):
    reply = Reply(command="x", title=title, sections=tuple(sections), context=context, buttons=buttons,
                  shared_by=shared_by)  # fmt: skip
    blocks = reply_blocks(reply)
    if blocks:
        assert_valid_blocks(blocks)
    assert len(message(reply)["text"]) <= 3000


def test_only_web_and_mail_links_become_slack_links():
    from bot.markup import render

    assert render("[x](!channel)", "slack") == "x"  # would be <!channel|x>: a live @channel
    assert render("[x](slack://open)", "slack") == "x"
    assert render("[x](https://example.com)", "slack") == "<https://example.com|x>"
    assert render("[m](mailto:a@example.com)", "slack") == "<mailto:a@example.com|m>"
