"""`handlers.report`: the counts, near-identical questions merged, `--suggest` YAML that pastes into valid content."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from living_faq_support import HOSTILE

from content.loader import check_content
from handlers import Invocation, Services, dispatch
from handlers.report import build_report, suggest_yaml, summary_markdown
from handlers.store_api import LoggedQuestion

SINCE = datetime(2026, 1, 1, tzinfo=UTC)


def q(text: str | None, topic: str | None = None, nearest=("papers", "learning"), votes=()) -> LoggedQuestion:
    return LoggedQuestion(text=text, topic=topic, nearest=tuple(nearest), confidence=None, votes=tuple(votes))


QUESTIONS = [
    q("When does the reading group meet?"),
    q("when does the reading group meet"),
    q("when does our reading group meet??", nearest=("learning", "papers")),
    q("is there a pizza night", nearest=()),
    q("do I need a phd", "phd", votes=[("phd", True), ("phd", True)]),
    q("is a doctorate needed", "phd", nearest=("phd", "education"), votes=[("phd", False), ("education", True)]),
    q(None, "salary", votes=[("salary", False)]),
    q("what do research engineers earn", "salary"),
]


def test_counts_and_groups() -> None:
    report = build_report(QUESTIONS, since=SINCE, workspace="T1")
    assert (report.questions, report.answered) == (8, 4)
    assert {t: vars(c) for t, c in report.topics.items()} == {
        "phd": {"asked": 2, "helpful": 2, "not_helpful": 1},
        "education": {"asked": 0, "helpful": 1, "not_helpful": 0},
        "salary": {"asked": 2, "helpful": 0, "not_helpful": 1},
    }
    groups = [(g.text, g.count, g.nearest) for g in report.unanswered]
    assert groups == [
        ("When does the reading group meet?", 3, ["papers", "learning"]),
        ("is a doctorate needed", 1, ["education"]),
        ("is there a pizza night", 1, []),
    ]
    assert report.unanswered_without_text == 1  # the salary miss whose text is past retention
    data = report.as_json()
    assert data["unanswered"][0] == {"text": "When does the reading group meet?", "count": 3,
                                     "nearest": ["papers", "learning"]}  # fmt: skip


def test_suggestions_paste_into_valid_content(content_dir: Path, tmp_path: Path) -> None:
    report = build_report(QUESTIONS, since=SINCE)
    text = suggest_yaml(report, known_topics={"phd", "salary", "education"})
    assert "education:\n  questions:\n    - is a doctorate needed" in text  # members found `education` helpful
    stubs = re.split(r"^# ---- faq/([a-z0-9-]+)\.md.*$", text, flags=re.MULTILINE)
    names = stubs[1::2]
    assert names == ["when-does-the-reading", "there-pizza-night"]
    extra = tmp_path / "extra" / "faq"
    extra.mkdir(parents=True)
    for name, body in zip(names, stubs[2::2], strict=True):
        (extra / f"{name}.md").write_text(body.strip() + "\n")
        assert "when does the reading group meet" in body.lower() or "pizza" in body
    _, problems = check_content(content_dir, extra.parent)
    assert problems == []
    additions = yaml.safe_load(text.split("# 2.")[0])
    assert additions == {"education": {"questions": ["is a doctorate needed"]}}


def test_nothing_to_suggest() -> None:
    report = build_report([q("do I need a phd", "phd")], since=SINCE)
    assert "Nothing to suggest" in suggest_yaml(report, {"phd"})


def test_admin_report_refuses_members_and_needs_a_workspace(services: Services) -> None:
    refused = dispatch(Invocation("re-admin", "report", platform="slack", workspace="T1"), services)
    assert refused.error and "Sorry" in refused.sections[0].text
    no_log = dispatch(
        Invocation("re-admin", "report", platform="slack", workspace="T1", workspace_admin=True), services
    )
    assert no_log.error and "without a database" in no_log.sections[0].text
    in_dm = dispatch(Invocation("re-admin", "report", platform="discord", workspace_admin=True), services)
    assert in_dm.error and "not in a DM" in in_dm.sections[0].text
    bad = dispatch(Invocation("re-admin", "report soon", platform="console", workspace_admin=True), services)
    assert bad.error and "not a period" in bad.sections[0].text
    usage = dispatch(Invocation("re-admin", "delete everything", platform="console", workspace_admin=True), services)
    assert usage.error and "Usage" in usage.sections[0].text


@pytest.mark.parametrize("text", ["report", "zone Europe/Berlin", "channel <#C12345678> off"])
def test_admin_tools_say_try_again_when_the_platform_could_not_tell_who_is_an_admin(
    services: Services, text: str
) -> None:
    """`workspace_admin=None`: the platform's look-up timed out or failed on its side; never a refusal."""
    reply = dispatch(Invocation("re-admin", text, platform="slack", workspace="T1", workspace_admin=None), services)
    shown = " ".join(s.text for s in reply.sections)
    assert reply.error and "Slack" in shown and "try again" in shown
    assert "Sorry" not in shown


def test_members_questions_are_quoted_in_the_summary() -> None:
    """The chat report and the terminal one show stored questions as typed: no mention, no link, no styling."""
    _, _, lines = summary_markdown(build_report([q(text) for text in HOSTILE], since=SINCE))
    shown = "\n".join(lines)
    assert len(lines) == len(HOSTILE) and "<" not in shown and ">" not in shown
    assert "@everyone" not in shown and "@\u200beveryone" in shown
    assert "\\*\\*bold\\*\\*" in shown and "\\_slanted\\_" in shown and "\\[click me\\]\\(https" in shown
