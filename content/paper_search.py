"""`/re-paper NAME`: which paper a member means by an id, a title, a common name ("GPT-3"), or a misspelling of one.

Names are compared as words (`content.search.words`: lower case, punctuation dropped), so "gpt-3", "GPT 3" and "gpt3"
are one name. An exact name wins; otherwise rapidfuzz scores each paper by its closest name, and the best paper is
chosen only when it is close enough and clearly ahead of the next, else the closest few are offered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from content.schema import Paper, paper_name_key
from content.search import words

_ANSWER, _LEAD, _OFFER = 85.0, 4.0, 60.0  # score to answer, lead over the runner-up, score to be offered


@dataclass(frozen=True)
class PaperMatch:
    paper: Paper | None  # the paper meant, when one stands out
    suggestions: tuple[Paper, ...] = ()  # otherwise the closest few, best first


def _norm(text: str) -> str:
    return " ".join(words(text))


def names(paper: Paper) -> tuple[str, ...]:
    """Every name a paper goes by: id, title, the title's head before a colon ("LoRA", "BERT"), and its aliases."""
    head = paper.title.split(":", 1)[0] if ":" in paper.title else ""
    return tuple(n for n in (_norm(x) for x in (paper.id, paper.title, head, *paper.aliases)) if n)


def _score(query: str, name: str) -> float:
    score = max(fuzz.ratio(query, name), fuzz.token_sort_ratio(query, name))
    if " " in query and " " in name:  # several words all found in a longer name: "attention all you need"
        score = max(score, fuzz.token_set_ratio(query, name) - 5)
    elif " " not in query and len(query) >= 4:  # one word of a longer name ("atention"): worth offering, no more
        score = max(score, 0.9 * max(fuzz.ratio(query, word) for word in name.split()))
    return score


def find_paper(papers: Sequence[Paper], query: str) -> PaperMatch:
    q = _norm(query[:200])
    if not q:
        return PaperMatch(None)
    compact = paper_name_key(q)
    exact = [p for p in papers if any(paper_name_key(n) == compact for n in names(p))]
    if len(exact) == 1:
        return PaperMatch(exact[0])
    ranked = sorted(((max(_score(q, n) for n in names(p)), p) for p in papers), key=lambda sp: -sp[0])
    if not ranked:
        return PaperMatch(None)
    best_score, best = ranked[0]
    runner_up = ranked[1][0] if len(ranked) > 1 else 0.0
    if best_score >= _ANSWER and best_score - runner_up >= _LEAD:
        return PaperMatch(best)
    return PaperMatch(None, tuple(p for s, p in ranked[:3] if s >= _OFFER))
