from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handlers import Invocation, Services, dispatch, rotation, run_action
from handlers.help import help_  # noqa: F401  (registered)
from handlers.registry import COMMANDS

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def cmd(services: Services, command: str, text: str = "", now: datetime = NOW, tz: str | None = None):
    return dispatch(Invocation(command=command, text=text, now=now, tz=tz), services)


def test_paper_of_the_day_is_deterministic_and_changes_daily(services: Services) -> None:
    first = cmd(services, "re-paper")
    assert first.paper and first.paper == cmd(services, "re-paper", "today").paper
    month = {cmd(services, "re-paper", now=NOW + timedelta(days=d)).paper for d in range(30)}
    assert len(month) == 30  # a month of different papers


def test_today_follows_the_members_zone(services: Services) -> None:
    late_utc = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)  # already March 11 in Berlin
    berlin = cmd(services, "re-paper", now=late_utc, tz="Europe/Berlin").paper
    assert berlin == cmd(services, "re-paper", now=late_utc + timedelta(hours=1)).paper
    assert (
        cmd(services, "re-paper", now=late_utc, tz="Not/AZone").paper == cmd(services, "re-paper", now=late_utc).paper
    )


def test_next_area_and_id(services: Services) -> None:
    today = cmd(services, "re-paper").paper
    assert cmd(services, "re-paper", "next").paper == rotation.after(services.content.papers, today).id
    rl = cmd(services, "re-paper", "rl")
    assert services.content.paper(rl.paper).area == "rl"
    some = services.content.papers[0]
    reply = cmd(services, "re-paper", some.id)
    assert reply.paper == some.id and reply.title == some.title


def test_paper_reply_has_why_prompts_and_another_button(services: Services) -> None:
    reply = cmd(services, "re-paper")
    paper = services.content.paper(reply.paper)
    body = "\n".join(s.text for s in reply.sections)
    assert paper.why in body and paper.byline in body
    assert list(reply.sections[-1].items) == list(paper.prompts)
    assert reply.buttons[0].action == "paper.another"
    nxt = run_action("paper.another", paper.id, Invocation(command="re-paper", now=NOW), services)
    assert nxt.paper == rotation.after(services.content.papers, paper.id).id


def test_unknown_paper_is_helpful(services: Services) -> None:
    reply = cmd(services, "re-paper", "resnte")
    assert reply.error and "resnet" in " ".join(s.text for s in reply.sections)


def test_prompts(services: Services) -> None:
    today = cmd(services, "re-prompt")
    assert today.title == "Today's study prompt" and today.sections[0].text
    assert cmd(services, "re-prompt", "implement").context[0].startswith("implement")
    assert cmd(services, "re-prompt", "career").context[0].startswith("career · ")  # kind and area, said once
    assert cmd(services, "re-prompt", "nonsense").error
    some = services.content.prompts[0]
    assert cmd(services, "re-prompt", some.id).sections[0].text == some.text


def test_help_lists_every_command(services: Services) -> None:
    reply = cmd(services, "re-help")
    text = "\n".join(s.text for s in reply.sections)
    for name in COMMANDS:
        assert f"/{name}" in text
    assert len(cmd(services, "re-help", "faq").sections) == 1
    assert cmd(services, "re-help", "nope").error


def test_rotation_unseen_exhausts_before_repeating(services: Services) -> None:
    papers = services.content.papers
    seen: set[str] = set()
    day = NOW.date()
    for _ in range(len(papers)):
        pick = rotation.unseen(papers, day, seen)
        assert pick.id not in seen
        seen.add(pick.id)
        day += timedelta(days=1)
    assert seen == {p.id for p in papers}
