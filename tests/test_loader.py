"""Every validation rule of the content loader, each with a broken fixture, reported as PATH:LINE: message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from content import ContentError, load_content
from content.loader import check_content

LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): (?P<message>.+)$")


def problems_of(directory: Path) -> list[tuple[str, int, str]]:
    _, problems = check_content(directory)
    parsed = []
    for problem in problems:
        m = LINE.match(problem)
        assert m, f"not PATH:LINE: message: {problem!r}"
        parsed.append((Path(m["path"]).name, int(m["line"]), m["message"]))
    return parsed


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_minimal_content_is_valid(content_dir: Path) -> None:
    content = load_content(content_dir)
    assert set(content.faqs) == {"phd", "salary"}
    assert [p.id for p in content.papers] == ["adam", "resnet"]
    assert content.tracks[0].steps[0].papers == ["adam"]
    assert content.synonyms == {"doctorate": ("phd",)}


def test_packaged_content_is_valid() -> None:
    content, problems = check_content(None)
    assert problems == []
    assert len(content.faqs) == 30


def test_bad_yaml_in_front_matter(content_dir: Path) -> None:
    edit(content_dir / "faq/phd.md", "aliases: [doctorate-needed]", "aliases: [doctorate-needed")
    [(name, line, message)] = problems_of(content_dir)
    assert name == "phd.md" and message.startswith("invalid YAML")
    assert 4 <= line <= 6


def test_bad_yaml_in_list_file(content_dir: Path) -> None:
    edit(content_dir / "prompts.yaml", "  minutes: 20\n", "  minutes: 20\n   bad: [\n")
    [(name, line, message)] = problems_of(content_dir)
    assert name == "prompts.yaml" and "invalid YAML" in message and line >= 11


def test_missing_field(content_dir: Path) -> None:
    edit(content_dir / "papers.yaml", "  why: Residual connections.\n", "")
    [(name, line, message)] = problems_of(content_dir)
    assert (name, line) == ("papers.yaml", 16)
    assert message == "paper 'resnet': missing field 'why'"


def test_unknown_field(content_dir: Path) -> None:
    edit(content_dir / "papers.yaml", "  level: intro\n  why: The", "  level: intro\n  colour: red\n  why: The")
    [(name, line, message)] = problems_of(content_dir)
    assert (name, line, message) == ("papers.yaml", 9, "paper 'adam': unknown field 'colour'")


def test_unknown_front_matter_field(content_dir: Path) -> None:
    edit(content_dir / "faq/phd.md", "sources: []", "sources: []\ntags: [x]")
    [(name, line, message)] = problems_of(content_dir)
    assert (name, line, message) == ("phd.md", 11, "front matter: unknown field 'tags'")


def test_bad_enum_value(content_dir: Path) -> None:
    edit(content_dir / "papers.yaml", "area: vision", "area: astrology")
    [(name, line, message)] = problems_of(content_dir)
    assert (name, line) == ("papers.yaml", 20) and "field 'area'" in message and "vision" in message


def test_duplicate_ids(content_dir: Path) -> None:
    edit(content_dir / "papers.yaml", "- id: resnet", "- id: adam")
    [(name, line, message)] = problems_of(content_dir)
    assert (name, line) == ("papers.yaml", 16)
    assert message == "duplicate paper id 'adam' (first at papers.yaml:1)"


def test_duplicate_alias_across_files(content_dir: Path) -> None:
    edit(content_dir / "faq/salary.md", "aliases: [pay]", "aliases: [pay, doctorate-needed]")
    [(name, line, message)] = problems_of(content_dir)
    assert (name, line) == ("salary.md", 5)
    assert message == "duplicate FAQ id or alias 'doctorate-needed' (first at phd.md:5)"


def test_alias_equal_to_another_topic_id(content_dir: Path) -> None:
    edit(content_dir / "faq/salary.md", "aliases: [pay]", "aliases:\n  - pay\n  - phd")
    [(name, line, message)] = problems_of(content_dir)
    assert (name, line, message) == ("salary.md", 7, "duplicate FAQ id or alias 'phd' (first at phd.md:2)")


def test_empty_answer(content_dir: Path) -> None:
    path = content_dir / "faq/salary.md"
    path.write_text(path.read_text().split("---\n", 2)[0] + "---\n" + path.read_text().split("---\n")[1] + "---\n\n")
    [(name, line, message)] = problems_of(content_dir)
    assert (name, line) == ("salary.md", 12) and "answer is empty" in message


def test_unknown_see_also(content_dir: Path) -> None:
    edit(content_dir / "faq/phd.md", "see_also: [salary]", "see_also:\n  - salary\n  - salry")
    [(name, line, message)] = problems_of(content_dir)
    assert (name, line, message) == ("phd.md", 11, "unknown see_also topic 'salry'")


def test_non_utf8_file(content_dir: Path) -> None:
    path = content_dir / "faq/phd.md"
    path.write_bytes(path.read_bytes().replace(b"Usually not", b"Usually \xe9 not"))
    [(name, line, message)] = problems_of(content_dir)
    assert (name, line) == ("phd.md", 12) and "not UTF-8" in message


def test_over_long_title(content_dir: Path) -> None:
    edit(content_dir / "faq/phd.md", "title: Do I need a PhD?", "title: " + "x" * 151)
    [(name, line, message)] = problems_of(content_dir)
    assert (name, line) == ("phd.md", 3) and "field 'title'" in message and "150" in message


def test_over_long_paragraph(content_dir: Path) -> None:
    edit(content_dir / "faq/phd.md", "Usually not for applied industry roles.", "word " * 700)
    [(name, line, message)] = problems_of(content_dir)
    assert (name, line) == ("phd.md", 12) and "split it" in message


def test_over_long_paper_text(content_dir: Path) -> None:
    edit(content_dir / "papers.yaml", "why: The default optimizer.", "why: " + "y" * 1001)
    [(name, line, message)] = problems_of(content_dir)
    assert (name, line) == ("papers.yaml", 9) and "field 'why'" in message


def test_id_must_match_file_name(content_dir: Path) -> None:
    edit(content_dir / "faq/phd.md", "id: phd", "id: doctor")
    found = problems_of(content_dir)
    assert ("phd.md", 2, "id 'doctor' must match the file name 'phd.md'") in found


def test_front_matter_must_be_closed(content_dir: Path) -> None:
    path = content_dir / "faq/phd.md"
    path.write_text(path.read_text().replace("sources: []\n---\n", "sources: []\n"))
    [(name, line, message)] = problems_of(content_dir)
    assert (name, line) == ("phd.md", 1) and "not closed" in message


def test_missing_file(content_dir: Path) -> None:
    (content_dir / "prompts.yaml").unlink()
    [(name, line, message)] = problems_of(content_dir)
    assert (name, line, message) == ("prompts.yaml", 1, "missing file prompts.yaml")


def test_track_references_are_checked(content_dir: Path) -> None:
    edit(content_dir / "tracks.yaml", "papers: [adam]", "papers: [adam, gpt9]")
    edit(content_dir / "tracks.yaml", "faq: [phd]", "faq: [phd, astrology]")
    edit(content_dir / "tracks.yaml", "prompts: [stable-softmax]", "prompts: [stable-softmax, lora-linear]")
    found = problems_of(content_dir)
    assert ("tracks.yaml", 6, "unknown FAQ topic in track 'basics' 'astrology'") in found
    assert ("tracks.yaml", 7, "unknown paper in track 'basics' 'gpt9'") in found
    assert ("tracks.yaml", 8, "unknown prompt in track 'basics' 'lora-linear'") in found


def test_every_problem_is_reported_at_once(content_dir: Path) -> None:
    edit(content_dir / "papers.yaml", "area: vision", "area: astrology")
    edit(content_dir / "prompts.yaml", "minutes: 30", "minutes: -1")
    edit(content_dir / "faq/phd.md", "see_also: [salary]", "see_also: [nope]")
    assert {name for name, _, _ in problems_of(content_dir)} == {"papers.yaml", "prompts.yaml", "phd.md"}


def test_load_content_raises_with_every_line(content_dir: Path) -> None:
    edit(content_dir / "papers.yaml", "area: vision", "area: astrology")
    with pytest.raises(ContentError) as err:
        load_content(content_dir)
    assert len(err.value.problems) == 1 and "papers.yaml:20:" in err.value.problems[0]


def test_missing_folder(tmp_path: Path) -> None:
    _, problems = check_content(tmp_path / "nowhere")
    assert problems and problems[0].endswith(": content folder not found")


# -- recall items (review cards) ---------------------------------------------------------------------------------------


def test_a_paper_without_recall_items_is_reported_at_its_line(content_dir: Path) -> None:
    text = (content_dir / "papers.yaml").read_text()
    start = text.index("  recall:\n    - question: What does a residual block")
    (content_dir / "papers.yaml").write_text(text[:start])
    [(name, line, message)] = problems_of(content_dir)
    assert (name, line, message) == ("papers.yaml", 16, "paper 'resnet': missing field 'recall'")


def test_a_single_recall_item_is_too_few(content_dir: Path) -> None:
    text = (content_dir / "papers.yaml").read_text()
    start = text.index("    - question: What problem did residual connections")
    (content_dir / "papers.yaml").write_text(text[:start])
    [(name, line, message)] = problems_of(content_dir)
    assert (name, line) == ("papers.yaml", 24) and "field 'recall'" in message and "at least 2" in message


def test_an_over_long_recall_answer_is_reported_at_its_line(content_dir: Path) -> None:
    edit(content_dir / "papers.yaml", "y = x + F(x).", "y = x + F(x), " + "and so on " * 40 + "until the end.")
    [(name, line, message)] = problems_of(content_dir)
    assert (name, line) == ("papers.yaml", 26)
    assert "paper 'resnet': field 'recall.answer'" in message and "keep it under 320" in message


def test_a_recall_answer_of_three_sentences_is_reported(content_dir: Path) -> None:
    edit(content_dir / "papers.yaml", "y = x + F(x).", "y = x + F(x). It is short. It has three sentences.")
    [(name, line, message)] = problems_of(content_dir)
    assert (name, line) == ("papers.yaml", 26) and "3 sentences; keep it to one or two" in message


def test_only_implementation_prompts_have_a_recall_item(content_dir: Path) -> None:
    edit(content_dir / "prompts.yaml", "  kind: implement", "  kind: reflect")
    [(name, _line, message)] = problems_of(content_dir)
    assert name == "prompts.yaml" and "only implementation prompts have a recall item" in message


def test_near_duplicate_prompts_are_rejected(content_dir: Path) -> None:
    # The same task reworded, once as a daily prompt and once as a paper's prompt: a member would get it twice.
    edit(
        content_dir / "prompts.yaml",
        "text: Write a numerically stable softmax.",
        "text: Implement the Adam update rule in NumPy and check it against torch.optim.Adam on a quadratic.",
    )
    edit(
        content_dir / "papers.yaml",
        'prompts: ["Implement the update rule."]',
        'prompts: ["Implement the Adam update in NumPy; check it matches torch.optim.Adam on a small quadratic."]',
    )
    [(name, line, message)] = problems_of(content_dir)
    assert (name, line) == ("papers.yaml", 10)
    assert message.startswith(
        "paper 'adam' prompt 1 sets nearly the same task as prompt 'stable-softmax' (prompts.yaml:1"
    )


def test_prompts_on_one_topic_that_set_different_tasks_pass(content_dir: Path) -> None:
    edit(
        content_dir / "prompts.yaml",
        "text: Write a numerically stable softmax.",
        "text: Read Section 2 of the Adam paper and explain what bias correction fixes in the first steps.",
    )
    assert problems_of(content_dir) == []


def test_off_topic_examples_must_be_questions(content_dir: Path) -> None:
    (content_dir / "offtopic.yaml").write_text('- "how do I bake bread"\n- 42\n- ""\n', encoding="utf-8")
    found = problems_of(content_dir)
    assert [(name, line) for name, line, _ in found] == [("offtopic.yaml", 2), ("offtopic.yaml", 3)]
    assert found[0][2] == "each item must be a question of 1 to 200 characters"


def test_off_topic_examples_load(content_dir: Path) -> None:
    (content_dir / "offtopic.yaml").write_text('- "how do I bake bread"\n', encoding="utf-8")
    assert load_content(content_dir).off_topic == ("how do I bake bread",)
