from __future__ import annotations

from dataclasses import replace

from content.schema import GROUP_ORDER
from handlers import Invocation, Services, dispatch, run_action


def ask(services: Services, text: str, command: str = "re-faq"):
    return dispatch(Invocation(command=command, text=text), services)


def test_no_text_lists_every_topic_grouped(services: Services) -> None:
    reply = ask(services, "")
    groups = [s.text.strip("*") for s in reply.sections if s.items]
    assert groups == [g for g in GROUP_ORDER if g in groups] and len(groups) == len(GROUP_ORDER)
    listed = [item.split("`")[1] for s in reply.sections for item in s.items]
    assert sorted(listed) == sorted(services.content.faqs)
    assert reply.topic is None and reply.ephemeral


def test_answers_by_id_and_alias(services: Services) -> None:
    for entry in services.content.faqs.values():
        assert ask(services, entry.id).topic == entry.id
        assert ask(services, entry.id.upper()).topic == entry.id
        for alias in entry.aliases:
            assert ask(services, alias).topic == entry.id, alias


def test_answer_has_title_body_context_and_share_button(services: Services) -> None:
    reply = ask(services, "phd")
    entry = services.content.faqs["phd"]
    assert reply.title == entry.title
    assert "".join(s.text for s in reply.sections).startswith(entry.body.split("\n")[0])
    assert any(line.startswith("See also:") for line in reply.context)
    assert [(b.action, b.value) for b in reply.buttons] == [
        ("faq.share", "phd"),
        ("faq.helpful", "phd"),
        ("faq.miss", "phd"),
    ]
    assert reply.ephemeral and not reply.error


def test_free_text_with_typos_and_plurals(services: Services) -> None:
    assert ask(services, "do I need a phd").topic == "phd"
    assert ask(services, "do i ned a doctorat").topic == "phd"
    assert ask(services, "salaries").topic == "salary"
    assert ask(services, "interveiw tips").topic == "interviews"


def test_unsure_offers_three_suggestions_as_buttons(services: Services) -> None:
    reply = ask(services, "research")
    assert reply.topic is None
    assert len(reply.suggestions) == 3
    assert [b.value for b in reply.buttons] == list(reply.suggestions)
    assert all(b.action == "faq.show" for b in reply.buttons)


def test_gibberish_gets_a_helpful_reply(services: Services) -> None:
    reply = ask(services, "qwzx vvvv")
    assert reply.topic is None and reply.error
    assert "/re-faq" in " ".join(s.text for s in reply.sections)


def test_echoed_text_cannot_mention_or_format(services: Services) -> None:
    reply = ask(services, "@everyone <!channel> <@U123> *bold* [x](https://evil)")
    text = " ".join(s.text for s in reply.sections)
    assert "@everyone" not in text and "<!channel>" not in text and "<@U123>" not in text
    assert "\\*bold\\*" in text and "\\[x\\]" in text


def test_very_long_text_is_handled(services: Services) -> None:
    reply = ask(services, "phd " * 1000)
    assert reply.topic == "phd" or reply.suggestions


def test_share_action_posts_publicly_with_credit(services: Services) -> None:
    inv = Invocation(command="re-faq", user="U42")
    reply = run_action("faq.share", "salary", inv, services)
    assert reply.topic == "salary" and not reply.ephemeral and reply.shared_by == "U42"
    assert reply.buttons == ()
    # The sharer's private copy keeps the feedback buttons, tied to the question the Share button carried.
    kept = run_action("faq.share", "salary:REF", inv, services).kept_buttons
    assert [(b.label, b.action, b.value) for b in kept] == [
        ("Helpful", "faq.helpful", "salary:REF"),
        ("Not what I asked", "faq.miss", "salary:REF"),
    ]


def test_show_action_answers_the_suggestion(services: Services) -> None:
    assert run_action("faq.show", "switch", Invocation(command="re-faq"), services).topic == "switch"
    assert run_action("faq.show", "nope", Invocation(command="re-faq"), services).topic is None


def test_unknown_command_and_action(services: Services) -> None:
    reply = dispatch(Invocation(command="re-nope"), services)
    assert reply.error and "/re-faq" in " ".join(s.text for s in reply.sections)
    assert run_action("no.such", "", Invocation(command="re-faq"), services).error


def test_a_failing_handler_becomes_an_apology(services: Services, monkeypatch) -> None:
    from handlers import registry

    def boom(inv, svc):
        raise RuntimeError("bug")

    spec = registry.COMMANDS["re-faq"]
    monkeypatch.setitem(registry.COMMANDS, "re-faq", replace(spec, handler=boom))
    reply = ask(services, "phd")
    assert reply.error and "went wrong" in reply.sections[0].text


def test_off_topic_question_gets_the_scope_and_the_topic_list(services: Services) -> None:
    reply = ask(services, "what's a good pizza place near the train station")
    text = " ".join(s.text for s in reply.sections)
    assert reply.topic is None and reply.suggestions == () and reply.buttons == ()
    assert "I answer career questions about ML research engineering" in text
    assert all(f"`{topic}`" in text for topic in services.content.faqs)
