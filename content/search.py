"""The topic matcher behind `/re-faq <free text>`: one place decides which FAQ topic a question means.

Ranking, per topic:
- a BM25 score of the query over the topic's fields, weighted (aliases and title count more than the body);
- how much of the query (by IDF weight) its closest example question covers;
- exact id or alias hits.
Query words the content has never seen are corrected to the nearest known word (rapidfuzz edit distance), so typos
still match; words are stemmed (Snowball) so plurals and verb forms meet; `synonyms.yaml` maps member shorthand
("RE", "SWE", "comp") to the words the content uses. When the best topic does not stand out, the caller gets
`confident=False` and the best three as suggestions.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer
from rapidfuzz import fuzz, process

from content import limits
from content.schema import Content, FaqEntry

_WORD = re.compile(r"[a-z0-9]+(?:\+\+|#)?")
# Words that carry no topic on their own. Kept short: "vs", "how", "much" and the like are signal here.
_STOPWORDS = frozenset(
    """
    a an the and or of to in on at for from with by about as is are was were be been being am it its this
    that these those i me my we our you your he she they them their there here do does did doing done have
    has had having can could would should will shall may might must so if then than too very just also into
    out up any some such no not nor only own same s t don get got ive im id youre please tell know want
    wanna really thing things stuff someone somebody anyone anybody one ones
    """.split()
)

_FIELD_WEIGHTS = {"alias": 3.0, "title": 2.5, "question": 1.5, "body": 0.5}
_K1, _B = 1.2, 0.5


@dataclass(frozen=True)
class Match:
    topic: str | None  # the chosen topic, when confident
    confident: bool
    ranked: tuple[tuple[str, float], ...]  # (topic id, score), best first

    @property
    def suggestions(self) -> tuple[str, ...]:
        return tuple(t for t, s in self.ranked[:3] if s > 0)


@lru_cache(maxsize=1)
def _stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("english")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class TopicMatcher:
    """Built once per loaded content; `match` is cheap (tens of microseconds for a short query)."""

    def __init__(self, content: Content) -> None:
        self._faqs = content.faqs
        self._synonyms = content.synonyms
        self._multiword = {k: v for k, v in content.synonyms.items() if " " in k}
        self._exact: dict[str, str] = {}
        for entry in content.faqs.values():
            for name in (entry.id, *entry.aliases):
                self._exact[name] = entry.id
                self._exact[name.replace("-", " ")] = entry.id

        self._docs: dict[str, Counter[str]] = {}
        self._questions: dict[str, list[set[str]]] = {}
        vocabulary: set[str] = set(self._synonyms)
        for entry in content.faqs.values():
            fields = {
                "alias": " ".join([entry.id.replace("-", " "), *(a.replace("-", " ") for a in entry.aliases)]),
                "title": entry.title,
                "question": " ".join(entry.questions),
                "body": entry.body,
            }
            tf: Counter[str] = Counter()
            for name, text in fields.items():
                vocabulary.update(words(text))
                for term in self._terms(text, correct=False):
                    tf[term] += _FIELD_WEIGHTS[name]
            self._docs[entry.id] = tf
            self._questions[entry.id] = [set(self._terms(q, correct=False)) for q in (entry.title, *entry.questions)]
        self._vocabulary = sorted(w for w in vocabulary if len(w) > 2)
        self._known = set(vocabulary)
        n = len(self._docs)
        df: Counter[str] = Counter()
        for tf in self._docs.values():
            df.update(tf.keys())
        self._idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self._avg_len = sum(sum(tf.values()) for tf in self._docs.values()) / max(n, 1)

    # -- text normalisation -------------------------------------------------------------------------------

    def _correct(self, word: str) -> str:
        """The nearest known word for an unknown one (typos), or the word itself."""
        if word in self._known or len(word) < 4 or word.isdigit():
            return word
        cutoff = 80 if len(word) < 7 else 75
        best = process.extractOne(word, self._vocabulary, scorer=fuzz.ratio, score_cutoff=cutoff)
        return best[0] if best else word

    def _terms(self, text: str, correct: bool = True) -> list[str]:
        lowered = " ".join(words(text))
        for phrase, meaning in self._multiword.items():
            if phrase in lowered:
                lowered = lowered.replace(phrase, " ".join(meaning))
        out: list[str] = []
        for word in lowered.split():
            if correct:
                word = self._correct(word)
            for w in (word, *self._synonyms.get(word, ())):
                for part in w.split():
                    if part not in _STOPWORDS:
                        out.append(_stemmer().stemWord(part))
        return out

    # -- ranking --------------------------------------------------------------------------------------------

    def _bm25(self, terms: list[str], tf: Counter[str]) -> float:
        length = sum(tf.values())
        score = 0.0
        for term in set(terms):
            f = tf.get(term, 0.0)
            if f:
                norm = f * (_K1 + 1) / (f + _K1 * (1 - _B + _B * length / self._avg_len))
                score += self._idf.get(term, 0.0) * norm
        return score

    def _coverage(self, terms: set[str], topic: str) -> float:
        """The largest share of the query's IDF weight that one example question of the topic contains."""
        total = sum(self._idf.get(t, 0.0) for t in terms) or 1.0
        best = 0.0
        for question in self._questions[topic]:
            shared = sum(self._idf.get(t, 0.0) for t in terms & question)
            union = sum(self._idf.get(t, 0.0) for t in terms | question) or 1.0
            best = max(best, 0.7 * shared / total + 0.3 * shared / union)
        return best

    def match(self, query: str) -> Match:
        query = query[: limits.MEMBER_QUERY]
        key = " ".join(words(query))
        if key in self._exact:
            topic = self._exact[key]
            return Match(topic=topic, confident=True, ranked=((topic, float("inf")),))
        terms = self._terms(query)
        if not terms:
            return Match(topic=None, confident=False, ranked=())
        term_set = set(terms)
        scores: dict[str, float] = {}
        for topic, tf in self._docs.items():
            bm25 = self._bm25(terms, tf)
            scores[topic] = bm25 / (bm25 + 6.0) + self._coverage(term_set, topic)
        ranked = tuple(sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])))
        best, best_score = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        confident = best_score >= 0.45 and best_score - runner_up >= 0.08 * best_score
        return Match(topic=best if confident else None, confident=confident, ranked=ranked)

    def entry(self, topic: str) -> FaqEntry:
        return self._faqs[topic]
