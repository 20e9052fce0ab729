"""Matcher accuracy floors (never timings). Raise a floor when the matcher improves; never lower one."""

from __future__ import annotations

from pathlib import Path

import yaml

from content import Content
from content.search import TopicMatcher, _misspellings

DATA = Path(__file__).parent / "data"
# Measured with the sentence model installed (as `make test` installs it), a hair under the figures: BLAS sums may
# round differently on another CPU and flip a near tie.
DEV_FLOOR = 0.97  # measured 41/42 on the development set
HELDOUT_FLOOR = 0.95  # measured 209/216 on the first independently written set
# The second independent set (bench/faq_accuracy.py): the matcher was tuned on its even rows only.
HELDOUT2_TUNE_FLOOR = 0.97  # measured 147/150
HELDOUT2_CHECK_FLOOR = 0.96  # measured 148/150 on the rows never tuned on
OFF_TOPIC_ANSWERED_CEILING = 1  # of its 40 off-topic questions, measured 0 answered (goal 0)
WRONG_DIRECT_CEILING = 0.03  # share of its direct answers that name the wrong topic, measured 4/299 (goal 0.05)
# The third independent set: 480 indirect questions, the hardest style (bench/faq_accuracy.py).
HELDOUT3_INDIRECT_FLOOR = 0.94  # measured 457/480


def rows_of(name: str) -> list[dict]:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


def accuracy(matcher: TopicMatcher, rows: list[dict]) -> float:
    on_topic = [r for r in rows if r["ok"]]
    hits = sum(matcher.match(r["q"]).topic in r["ok"] for r in on_topic)  # a withheld answer counts as wrong
    return hits / len(on_topic)


def test_a_paraphrase_sharing_no_word_with_any_example_finds_its_topic(content: Content) -> None:
    # Words alone cannot see it; the sentence model can.
    matcher = TopicMatcher(content)
    assert matcher.match("who turns the scientists' ideas into training code?").ranked[0][0] in ("role", "re-vs-rs")
    story = (
        "hello all! I've been teaching high-school chemistry for nine years and I love it, but I've been doing "
        "fast.ai in the evenings and built a couple of Kaggle notebooks. My partner says I'm too old for this. "
        "Realistically, can a teacher get hired to build models at a lab, and where would I start?"
    )
    assert matcher.match(story).ranked[0][0] in ("switch", "career-path", "learning")


def test_dev_set_accuracy_floor(content: Content) -> None:
    assert accuracy(TopicMatcher(content), rows_of("faq-dev-questions.yaml")) >= DEV_FLOOR


def test_heldout_set_accuracy_floor(content: Content) -> None:
    assert accuracy(TopicMatcher(content), rows_of("faq-heldout-questions.yaml")) >= HELDOUT_FLOOR


def test_second_heldout_set_floors(content: Content) -> None:
    matcher = TopicMatcher(content)
    rows = rows_of("faq-heldout-2.yaml")
    assert accuracy(matcher, rows[0::2]) >= HELDOUT2_TUNE_FLOOR
    assert accuracy(matcher, rows[1::2]) >= HELDOUT2_CHECK_FLOOR
    off_topic = [r["q"] for r in rows if not r["ok"]]
    assert sum(matcher.match(q).topic is not None for q in off_topic) <= OFF_TOPIC_ANSWERED_CEILING
    direct = [(r, matcher.match(r["q"]).topic) for r in rows if r["ok"]]
    direct = [(r, topic) for r, topic in direct if topic is not None]
    assert sum(topic not in r["ok"] for r, topic in direct) / len(direct) <= WRONG_DIRECT_CEILING


def test_indirect_questions_floor(content: Content) -> None:
    assert accuracy(TopicMatcher(content), rows_of("faq-heldout-3-indirect.yaml")) >= HELDOUT3_INDIRECT_FLOOR


def test_off_topic_questions_get_no_topic_and_no_suggestions(content: Content) -> None:
    matcher = TopicMatcher(content)
    for query in ("which hiking boots should I buy for the Alps", "how do I bake a chocolate cake",
                  "who won the tennis final last sunday"):  # fmt: skip
        match = matcher.match(query)
        assert match.topic is None and match.off_topic and match.suggestions == (), query
    # A career question that names the same everyday things is still answered.
    assert matcher.match("how much do research engineers earn in London").topic == "salary"


def test_off_topic_examples_never_correct_a_typo(content: Content) -> None:
    # "interal" is as close to an off-topic example's "integral" as to the content's "internal".
    assert TopicMatcher(content).match("interal transfer to the ml team").topic == "inside-moves"


def test_every_example_question_finds_its_topic(content: Content) -> None:
    matcher = TopicMatcher(content)
    wrong = [
        (entry.id, q, matcher.match(q).ranked[0][0])
        for entry in content.faqs.values()
        for q in entry.questions
        if matcher.match(q).ranked[0][0] != entry.id
    ]
    assert wrong == []


def test_typos_are_corrected(content: Content) -> None:
    matcher = TopicMatcher(content)
    for query, topic in [("salery", "salary"), ("reserach scientist vs reserach engineer", "re-vs-rs"),
                         ("distrubuted trainig", "distributed"), ("intervew prep", "interviews")]:  # fmt: skip
        assert matcher.match(query).ranked[0][0] == topic, query


def test_a_typo_written_into_an_example_question_still_reads_as_the_word_it_misspells(content: Content) -> None:
    # `switch` holds the example "dev → ml reserch eng?": were "reserch" a known word, it would pull every member's
    # "reserch" to `switch` and never be corrected.
    assert any("reserch" in q for q in content.faqs["switch"].questions)
    matcher = TopicMatcher(content)
    typo, spelled = matcher.match("what does a reserch engineer do"), matcher.match("what does a research engineer do")
    assert typo.ranked == spelled.ranked


def test_only_words_one_edit_from_the_content_and_not_english_count_as_typos() -> None:
    vocabulary = ["favour", "internal", "priorities", "ranking", "research"]
    candidates = {"reserch", "interal", "banking", "flavour", "prioritise", "kubeflow", "resarch"}
    typos = {"reserch": "research", "interal": "internal", "resarch": "research"}
    assert _misspellings(candidates, vocabulary) == typos


def test_empty_and_stopword_queries_are_unsure(content: Content) -> None:
    matcher = TopicMatcher(content)
    for query in ("", "   ", "the and of", "!!!"):
        match = matcher.match(query)
        assert not match.confident and match.topic is None and match.suggestions == ()
