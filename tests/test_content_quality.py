"""The editorial rules of the packaged content (the schema checks shapes; these check what members read)."""

from __future__ import annotations

import re
from collections import Counter

from content import Content
from content.schema import AREAS

CONTRACT_TOPICS = set(
    """role re-vs-rs re-vs-swe scientist-vs-engineer phd production reality education switch learning resources
    papers inside-moves interviews skills soft-skills salary market career-path best-practices challenges mlops
    distributed team-questions ethics portfolio publications job-search new-grad certifications""".split()
)


def test_exactly_the_contract_topics(content: Content) -> None:
    assert set(content.faqs) == CONTRACT_TOPICS


def test_answers_are_120_to_350_words_and_end_with_a_next_step(content: Content) -> None:
    for entry in content.faqs.values():
        words = len(re.findall(r"\S+", entry.body))
        assert 120 <= words <= 350, (entry.id, words)
        assert entry.body.splitlines()[-1].startswith("Next step: "), entry.id


def test_topics_have_questions_links_and_titles(content: Content) -> None:
    for entry in content.faqs.values():
        assert len(entry.questions) >= 5, entry.id
        assert 2 <= len(entry.see_also) <= 4, entry.id
        assert len(set(q.lower() for q in entry.questions)) == len(entry.questions), entry.id


def test_papers_cover_every_area_with_two_to_four_prompts(content: Content) -> None:
    assert len(content.papers) >= 60
    per_area = Counter(p.area for p in content.papers)
    assert set(per_area) == set(AREAS) and min(per_area.values()) >= 5, per_area
    for paper in content.papers:
        assert 2 <= len(paper.prompts) <= 4, paper.id
        assert paper.url is None or str(paper.url).startswith("https://"), paper.id


def test_prompts_mix_kinds(content: Content) -> None:
    assert len(content.prompts) >= 60
    kinds = Counter(p.kind for p in content.prompts)
    assert set(kinds) == {"implement", "read", "reflect", "career"}
    assert all(count >= 10 for count in kinds.values()), kinds


def test_tracks(content: Content) -> None:
    tracks = {t.id: t for t in content.tracks}
    assert len(tracks["swe-to-re"].steps) >= 12
    assert any(len(t.steps) >= 8 for key, t in tracks.items() if key != "swe-to-re")
