"""RE_BOT_CONTENT_EXTRA: a community folder merged over the content, checked as one set, and the stubs of
`re-bot content new`."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from test_cli import run

from content import load_content
from content.loader import check_content
from content.stubs import faq_stub, write_stub

READING_GROUP = """---
id: reading-group
title: When does our reading group meet?
group: Our community
aliases: [rg]
questions:
  - when does the reading group meet
  - is there a paper reading club
see_also: [phd]
sources: []
---
Thursdays at 18:00 UTC in #reading-group.

Next step: pick this week's paper with `/re-paper`.
"""


@pytest.fixture
def extra(tmp_path: Path) -> Path:
    folder = tmp_path / "community"
    (folder / "faq").mkdir(parents=True)
    return folder


RECALL = (
    '  recall:\n    - {question: "What is it?", answer: "A short answer."}\n'
    '    - {question: "Why?", answer: "Because."}\n'
)


def test_new_ids_add_and_same_ids_replace(content_dir: Path, extra: Path) -> None:
    (extra / "faq" / "reading-group.md").write_text(READING_GROUP, encoding="utf-8")
    (extra / "faq" / "salary.md").write_text(
        (content_dir / "faq" / "salary.md").read_text().replace("title:", "title: Pay in our region,", 1)
    )
    (extra / "papers.yaml").write_text(
        "- id: resnet\n  title: ResNet, our edition\n  authors: [Kaiming He]\n  year: 2015\n  area: vision\n"
        "  level: intro\n  why: Residual connections.\n  prompts: [Train it.]\n"
        + RECALL
        + "- id: attention\n  title: Attention Is All You Need\n  authors: [Ashish Vaswani, et al.]\n  year: 2017\n"
        "  area: language\n  level: intermediate\n  why: Transformers.\n  prompts: [Implement attention.]\n" + RECALL
    )
    (extra / "synonyms.yaml").write_text("doctorate: [doctoral]\nrg: [reading, group]\n")
    content = load_content(content_dir, extra)
    assert set(content.faqs) == {"phd", "salary", "reading-group"}
    assert content.faqs["salary"].title.startswith("Pay in our region")
    assert content.faqs["reading-group"].path == str((extra / "faq" / "reading-group.md").resolve())
    assert [p.id for p in content.papers] == ["adam", "resnet", "attention"]  # replaced in place, new appended
    assert content.paper("resnet").title == "ResNet, our edition"
    assert content.synonyms == {"doctorate": ("phd", "doctoral"), "rg": ("reading", "group")}
    assert content.extra == (str(extra.resolve()),)


def test_problems_name_the_file_in_whichever_folder(content_dir: Path, extra: Path) -> None:
    broken = READING_GROUP.replace("see_also: [phd]", "see_also: [no-such-topic]")
    broken = broken.replace("aliases: [rg]", "aliases: [doctorate-needed]")
    (extra / "faq" / "reading-group.md").write_text(broken, encoding="utf-8")
    (extra / "tracks.yaml").write_text("- id: ours\n  title: Ours\n  description: x\n  steps:\n"
                                       "    - title: W1\n      papers: [not-a-paper]\n")  # fmt: skip
    _, problems = check_content(content_dir, extra)
    shown = {re.sub(r"^.*/", "", p) for p in problems}
    assert "reading-group.md:5: duplicate FAQ id or alias 'doctorate-needed' (first at phd.md:5)" in shown
    assert "reading-group.md:9: unknown see_also topic 'no-such-topic'" in shown
    assert "tracks.yaml:6: unknown paper in track 'ours' 'not-a-paper'" in shown
    assert all(str(extra.resolve()) in p or "community" in p for p in problems)


def test_a_community_folder_may_hold_only_what_it_changes(content_dir: Path, extra: Path) -> None:
    (extra / "prompts.yaml").write_text(
        "- id: our-prompt\n  kind: read\n  area: general\n  level: intro\n  minutes: 10\n  text: Read our wiki.\n"
    )
    content = load_content(content_dir, extra)
    assert content.prompt("our-prompt") is not None and len(content.faqs) == 2
    _, problems = check_content(content_dir, extra / "missing")
    assert [p.split(":", 2)[2].strip() for p in problems] == ["content folder not found"]


@pytest.mark.parametrize("kind", ["faq", "paper", "prompt"])
def test_raw_stubs_are_valid_and_explain_every_field(content_dir: Path, extra: Path, kind: str) -> None:
    path = write_stub(kind, "our-thing", extra)
    content, problems = check_content(content_dir, extra)
    assert problems == []
    text = path.read_text()
    if kind == "faq":
        assert "our-thing" in content.faqs
        fields = ("id", "title", "group", "aliases", "questions", "see_also", "sources")
    elif kind == "paper":
        assert content.paper("our-thing") is not None
        fields = ("id", "title", "authors", "year", "url", "area", "level", "why", "prompts", "recall")
    else:
        assert content.prompt("our-thing") is not None
        fields = ("id", "kind", "area", "level", "minutes", "text")
    for name in fields:
        assert re.search(rf"^\s*# {name}:", text, re.MULTILINE), f"field {name} is not explained"
    with pytest.raises(ValueError, match="already"):
        write_stub(kind, "our-thing", extra)
    if kind != "faq":  # a second entry appends to the same list file; left raw, it repeats the first one's task
        write_stub(kind, "our-other-thing", extra)
        [problem] = check_content(content_dir, extra)[1]
        assert "our-other-thing" in problem and "nearly the same task" in problem


def test_a_filled_in_stub_with_a_mistake_gets_a_clear_message(content_dir: Path, extra: Path) -> None:
    path = write_stub("faq", "our-thing", extra)
    path.write_text(path.read_text().replace("group: Practice", "group: Practice\ncolour: red"))
    [problem] = check_content(content_dir, extra)[1]
    assert re.search(r"our-thing\.md:\d+: front matter: unknown field 'colour'$", problem)
    with pytest.raises(ValueError, match="not a valid id"):
        write_stub("faq", "Bad Id", extra)


def test_stub_questions_are_quoted_yaml(extra: Path, content_dir: Path) -> None:
    stub = faq_stub("odd", ["[member] asked: what's #1?", "- dash first", 'quotes "here"'])
    (extra / "faq" / "odd.md").write_text(stub)
    content = load_content(content_dir, extra)
    assert content.faqs["odd"].questions == ("[member] asked: what's #1?", "- dash first", 'quotes "here"')


def test_cli_content_check_and_new(tmp_path: Path, extra: Path) -> None:
    result = run("content", "new", "faq", "reading-group", env={"RE_BOT_CONTENT_EXTRA": str(extra)}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (extra / "faq" / "reading-group.md").is_file()
    ok = run("content", "check", env={"RE_BOT_CONTENT_EXTRA": str(extra)}, cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"{len(load_content().faqs) + 1} FAQ topics" in ok.stdout and str(extra) in ok.stdout
    (extra / "faq" / "reading-group.md").write_text("no front matter\n")
    bad = run("content", "check", "--extra", str(extra), cwd=tmp_path)
    assert bad.returncode == 1
    assert bad.stdout.splitlines() == [
        "community/faq/reading-group.md:1: must start with a '---' line, then YAML front matter, then '---' "
        "and the answer"
    ]
    again = run("content", "new", "faq", "reading-group", "--dir", str(extra), cwd=tmp_path)
    assert again.returncode == 1 and "already exists" in again.stderr


def test_cli_new_rejects_unknown_kinds(tmp_path: Path) -> None:
    result = run("content", "new", "track", "x", cwd=tmp_path)
    assert result.returncode == 2 and "invalid choice" in result.stderr
    assert isinstance(result, subprocess.CompletedProcess)
