"""The topic matcher behind `/re-faq <free text>`: one place decides which FAQ topic a question means.

Ranking, per topic:
- a BM25 score of the query over the topic's fields, weighted (aliases and title count more than the body);
- how much of the query (by IDF weight) its closest example question covers;
- exact id or alias hits.
Query words the content has never seen are corrected to the nearest known word (rapidfuzz edit distance), so typos
still match; words are stemmed (Snowball) so plurals and verb forms meet; `synonyms.yaml` maps member shorthand
("RE", "SWE", "comp") to the words the content uses. When the best topic does not stand out, the caller gets
`confident=False` and the runner-ups to offer beside it; when the words fit no topic well enough to answer, no topic
and the best three as suggestions.

Words miss paraphrases that share none with the examples, and a question wrapped in a greeting and a life story.
So, when the sentence model is installed (content/sentence_model.py), each topic also gets the mean cosine of the
query's sentence vector with its closest example questions (and title); the word score joins it at a small weight,
enough to settle near ties by the words members actually used. Without the model the word score decides alone.

Questions that are not about the career at all (shopping, films, how attention works) must get no answer. The
content's `offtopic.yaml` lists such questions; they join the example questions as one more pseudo-topic, and when
the query sits about as close to one of them as to every topic's closest questions, or nothing scores, the match is
`off_topic`.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import snowballstemmer
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from content import limits, sentence_model
from content.cache_dir import default_cache_dir
from content.schema import Content
from content.sentence_cache import SentenceVectors

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

_WORD = re.compile(r"[a-z0-9]+(?:\+\+|#)?")
# Words that carry no topic on their own. Kept short: "vs", "how", "much" and the like are signal here. Employers'
# names are here too: members name the lab they dream of in every kind of question, so they say nothing of the topic.
_STOPWORDS = frozenset(
    """
    a an the and or of to in on at for from with by about as is are was were be been being am it its this
    that these those i me my we our you your he she they them their there here do does did doing done have
    has had having can could would should will shall may might must so if then than too very just also into
    out up any some such no not nor only own same s t don get got ive im id youre please tell know want
    wanna really thing things stuff someone somebody anyone anybody one ones something anything everything
    nothing today hello hi hey thanks thank pls plz lol guys folks okay ok yes yeah hmm question questions
    anthropic openai deepmind google meta microsoft amazon apple nvidia cohere
    """.split()
)

_FIELD_WEIGHTS = {"alias": 3.0, "title": 2.0, "question": 1.0}
_K1, _B = 1.2, 0.5
_SURFACE = 0.6
_HEAD_K, _BODY_K, _BODY_W, _COVER_W, _ANY_W = 6.0, 8.0, 0.3, 1.5, 0.3
_NEAREST = 2
# The pseudo-topic of off-topic example questions; not a valid topic id, so it never collides with one.
_OFF_TOPIC = "(off-topic)"
# Below this score no topic is answered (off-topic or one vague word); below this lead over the runner-up the
# answer comes with the next two topics offered beside it. Set from the score spread of right and wrong answers.
_ANSWER_FLOOR, _CLEAR_MARGIN = 1.1, 0.15
# An off-topic example question this much closer to the query (cosine) than every topic's closest question makes the
# query off-topic; slightly below zero because a career question rarely sits as close to shopping or films.
_OFF_TOPIC_LEAD = -0.06
# With sentence vectors: a topic's semantic score is the mean cosine with its closest _SEMANTIC_K examples; the word
# score is added at _WORDS_W. A query that sits within _SEMANTIC_OFF_LEAD (by that mean) of the off-topic examples'
# score, or above it, is off-topic. Below _SEMANTIC_FLOOR nothing is answered; a lead under _SEMANTIC_MARGIN offers the
# runner-ups beside the answer. Even a near tie is answered (with the runner-ups): with 50-70 examples per topic, the
# best topic was right more often than offering three topics instead gained.
# All set on the development set and the tuning halves of the held-out sets (bench/faq_accuracy.py -v).
_SEMANTIC_K, _WORDS_W = 7, 0.25
_SEMANTIC_OFF_LEAD, _SEMANTIC_FLOOR, _SEMANTIC_MARGIN = -0.03, 0.55, 0.08


@dataclass(frozen=True)
class Match:
    """The matcher's verdict. `topic` is answered; when not `confident`, the runner-ups are worth offering too."""

    topic: str | None  # the topic to answer, or None when the evidence is too weak to pick one
    confident: bool  # the topic stands clearly above the next one
    ranked: tuple[tuple[str, float], ...]  # (topic id, score), best first
    off_topic: bool = False  # the question is not about the career at all: offer no topic

    @property
    def suggestions(self) -> tuple[str, ...]:
        """The best three, offered instead of an answer when there is none (never for an off-topic question)."""
        if self.topic is not None or self.off_topic:
            return ()
        return tuple(t for t, s in self.ranked[:3] if s > 0)

    @property
    def alternatives(self) -> tuple[str, ...]:
        """The next two, offered beside an answer that was a close call."""
        return () if self.confident else tuple(t for t, s in self.ranked[1:3] if s > 0)


_local = threading.local()


def _stemmer() -> snowballstemmer.stemmer:
    """One stemmer per thread: a Snowball stemmer keeps the word it works on in itself, so two threads sharing one
    (a content reload building a matcher while commands are answered) corrupt each other's words."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = snowballstemmer.stemmer("english")
    return stemmer


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def content_words(text: str) -> frozenset[str]:
    """The stems of a text's words that carry meaning (no stopwords, no bare numbers), for comparing two texts."""
    stemmer = _stemmer()
    return frozenset(stemmer.stemWord(w) for w in words(text) if w not in _STOPWORDS and not w.isdigit())


class _Index:
    """BM25 over one kind of text (the topics' "head": id, aliases, title and questions; or their bodies)."""

    def __init__(self, docs: dict[str, Counter[str]]) -> None:
        self.docs = docs
        n = len(docs)
        df: Counter[str] = Counter()
        for tf in docs.values():
            df.update(tf.keys())
        # An exact word form ("=tips") counts half: its stem already carries most of the meaning.
        self.idf = {
            t: math.log(1 + (n - d + 0.5) / (d + 0.5)) * (_SURFACE if t.startswith("=") else 1.0) for t, d in df.items()
        }
        self.avg_len = sum(sum(tf.values()) for tf in docs.values()) / max(n, 1)
        self.unseen_idf = math.log(1 + (n + 0.5) / 0.5)

    def coverage(self, terms: set[str], topic: str) -> float:
        """The share of the query's weight that appears anywhere in the topic."""
        total = sum(self.idf.get(t, 0.0) for t in terms) or 1.0
        return sum(self.idf.get(t, 0.0) for t in terms if t in self.docs[topic]) / total

    def score(self, terms: set[str], topic: str) -> float:
        tf = self.docs[topic]
        length = sum(tf.values())
        total = 0.0
        for term in terms:
            f = tf.get(term, 0.0)
            if f:
                total += self.idf[term] * f * (_K1 + 1) / (f + _K1 * (1 - _B + _B * length / self.avg_len))
        return total


def _nearest(word: str, vocabulary: list[str]) -> str | None:
    """The vocabulary word a typo most likely meant, or None when none is close enough."""
    # Damerau-Levenshtein counts a swap ("reserach") as one edit: the commonest typo costs the least.
    cutoff = 0.8 if len(word) < 7 else 0.75
    best = process.extractOne(word, vocabulary, scorer=DamerauLevenshtein.normalized_similarity, score_cutoff=cutoff)
    return best[0] if best else None


@cache
def _dictionary() -> frozenset[str]:
    """English words (pyspellchecker's list, about 160,000) that are spelled right even when close to another."""
    from spellchecker import SpellChecker

    return frozenset(SpellChecker(distance=1).word_frequency.dictionary)


# pyspellchecker's list spells the American way; the content is British. A word whose American form is listed counts.
_AMERICAN = ((re.compile(r"is(e|ed|es|ing|ation|ations)$"), r"iz\1"), (re.compile(r"ys(e|ed|es|ing)$"), r"yz\1"),
             (re.compile(r"our(s|ed|ing)?$"), r"or\1"))  # fmt: skip


def _english(word: str, dictionary: frozenset[str]) -> bool:
    return word in dictionary or any(rule.sub(american, word) in dictionary for rule, american in _AMERICAN)


def _misspellings(candidates: set[str], vocabulary: list[str]) -> dict[str, str]:
    """The candidates that look like typos of a vocabulary word, each with that word: one edit away from it (a letter
    missing, extra, wrong or swapped: nearly every typo) and not an English word themselves. "banking" is one edit
    from "ranking" but spelled right; "reserch" is not a word."""
    unknown = {w for w in candidates if len(w) >= 4 and not w.isdigit()}
    if not unknown:
        return {}
    dictionary = _dictionary()
    by_length: dict[int, list[str]] = {}
    for word in vocabulary:
        by_length.setdefault(len(word), []).append(word)
    typos = {}
    for word in (w for w in unknown if not _english(w, dictionary)):
        # A word one edit away is at most one letter longer or shorter, and the closest such word is the nearest.
        near = _nearest(word, [v for n in (-1, 0, 1) for v in by_length.get(len(word) + n, ())])
        if near and DamerauLevenshtein.distance(word, near) == 1:
            typos[word] = near
    return typos


class TopicMatcher:
    """Built once per loaded content. `match` costs tens of microseconds by words, plus a few milliseconds for the
    query's sentence vector; the example questions' vectors are made on first use (or `warm()`) and remembered in
    `vector_dir` (None: the default cache folder; False: in memory only, as with RE_BOT_CACHE_DIR=off)."""

    def __init__(self, content: Content, vector_dir: Path | Literal[False] | None = None) -> None:
        self._faqs = content.faqs
        self._synonyms = content.synonyms
        self._multiword = {k: v for k, v in content.synonyms.items() if " " in k}
        self._exact: dict[str, str] = {}
        for entry in content.faqs.values():
            for name in (entry.id, *entry.aliases):
                self._exact[name] = entry.id
                self._exact[name.replace("-", " ")] = entry.id

        # Which words are spelled right, before any text is indexed: example questions may hold typos on purpose
        # (members make them), and an indexed typo would be a known word that pulls its own misspelling to one topic.
        prose: set[str] = set(self._synonyms)
        for entry in content.faqs.values():
            prose.update(words(f"{entry.id} {' '.join(entry.aliases)} {entry.title} {entry.body}"))
        asked = {w for entry in content.faqs.values() for q in entry.questions for w in words(q)}
        self._misspelt = _misspellings(asked - prose, sorted(w for w in prose if len(w) > 2))
        # Typos are corrected toward the content's own words only; words of the off-topic examples count as known
        # (so "movies" stays "movies") but are never a correction ("interal" must become "internal", not "integral").
        vocabulary = (prose | asked) - self._misspelt.keys()
        self._vocabulary = sorted(w for w in vocabulary if len(w) > 2)
        self._known = vocabulary.union(*(words(text) for text in content.off_topic)) - self._misspelt.keys()

        heads: dict[str, Counter[str]] = {}
        bodies: dict[str, Counter[str]] = {}
        questions: dict[str, list[set[str]]] = {}
        for entry in content.faqs.values():
            names = " ".join([entry.id.replace("-", " "), *(a.replace("-", " ") for a in entry.aliases)])
            head: Counter[str] = Counter()
            for text, weight in ((names, _FIELD_WEIGHTS["alias"]), (entry.title, _FIELD_WEIGHTS["title"]),
                                 *((q, _FIELD_WEIGHTS["question"]) for q in entry.questions)):  # fmt: skip
                for term in self._terms(text):
                    head[term] += weight
            heads[entry.id] = head
            bodies[entry.id] = Counter(self._terms(entry.body, correct=False))
            questions[entry.id] = [set(self._terms(q)) for q in (names, entry.title, *entry.questions)]
        self._head = _Index(heads)
        self._body = _Index(bodies)
        self._all = _Index({t: heads[t] + bodies[t] for t in heads})
        # Example questions as an inverted index (term -> the questions holding it) with each question's weight,
        # so a query touches only the questions it shares a word with.
        # The off-topic examples join only this index, not the topics' BM25 statistics, so they never shift a
        # word's weight; a word only they use weighs as a word no topic uses.
        questions[_OFF_TOPIC] = [set(self._terms(q, correct=False)) for q in content.off_topic]
        self._question_weight: dict[tuple[str, int], float] = {}
        self._postings: dict[str, list[tuple[str, int]]] = {}
        for topic, items in questions.items():
            for index, question in enumerate(items):
                self._question_weight[topic, index] = sum(self._weight(t) for t in question) or 1.0
                for term in question:
                    self._postings.setdefault(term, []).append((topic, index))
        # The texts whose sentence vectors stand for each topic, grouped by topic (off-topic last); spelled as a
        # query is, so "reserch" in an example reads as "research" to the model too.
        self._examples: list[tuple[str, list[str]]] = [
            (e.id, [e.title, *map(self._spelled, e.questions)]) for e in content.faqs.values()
        ] + [(_OFF_TOPIC, list(content.off_topic))]
        self._vector_dir = default_cache_dir() if vector_dir is None else vector_dir or None
        self._vectors: np.ndarray | None = None
        self._vectors_lock = threading.Lock()
        self._warming = False  # warm_later() is making the vectors: rank by words meanwhile, never wait
        self._stop_warming = threading.Event()
        self._warm_thread: threading.Thread | None = None

    def __getstate__(self) -> dict[str, object]:
        # Pickled by the content cache: vectors come back from their own cache; locks, events and threads cannot be
        # pickled.
        state = dict(self.__dict__)
        for name in ("_vectors", "_vectors_lock", "_stop_warming", "_warm_thread"):
            state[name] = None
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._vectors_lock = threading.Lock()
        self._stop_warming = threading.Event()

    def warm(self) -> bool:
        """Makes the example questions' sentence vectors now (seconds on a machine that never saw them) rather than
        on the first member's question. False when there is no sentence model (the matcher ranks by words), or when
        `stop_warming()` interrupted it."""
        return self._example_vectors() is not None

    def warm_later(self) -> threading.Thread:
        """`warm()` in a background thread. Until it is done, questions are ranked by words instead of waiting for
        it: a member's answer stays within the platform's deadline on a new machine too. Call `stop_warming()`
        before the process exits."""
        self._warming = True

        def run() -> None:
            try:
                ready = self.warm()
            except Exception:
                log.exception("FAQ matcher: sentence vectors not made; questions are ranked by words")
                ready = False
            finally:
                self._warming = False
            if not self._stop_warming.is_set():
                log.info("FAQ matcher ready (%s)", "sentence vectors and words" if ready else "words only")

        self._warm_thread = thread = threading.Thread(target=run, name="warm-matcher", daemon=True)
        thread.start()
        return thread

    def stop_warming(self, timeout: float) -> bool:
        """Ends `warm_later()`'s work after the batch in hand (the vectors made so far are kept) and waits up to
        `timeout` seconds for it; True when it has ended. A process must not exit while that thread is inside the
        model's native code (loading weights, a matrix product): the interpreter's exit kills such a thread with an
        abort ("FATAL: exception not rethrown") instead of a clean status."""
        self._stop_warming.set()
        thread = self._warm_thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def _example_vectors(self) -> np.ndarray | None:
        with self._vectors_lock:
            if self._vectors is None:
                texts = [text for _, group in self._examples for text in group]
                self._vectors = SentenceVectors(self._vector_dir).of(texts, stop=self._stop_warming)
            return self._vectors

    # -- text normalisation -------------------------------------------------------------------------------

    def _correct(self, word: str) -> str:
        """The nearest known word for an unknown one (typos), or the word itself."""
        if word in self._known or len(word) < 4 or word.isdigit():
            return word
        return self._misspelt.get(word) or _nearest(word, self._vocabulary) or word

    def _spelled(self, text: str) -> str:
        """The text with its typos corrected toward the content's words, for the sentence model (which reads
        "reserch" as unrelated word pieces); the text itself when nothing needed correcting."""
        found = words(text)
        fixed = [self._correct(w) for w in found]
        return text if fixed == found else " ".join(fixed)

    def _terms(self, text: str, correct: bool = True) -> list[str]:
        """Stems of the content words, plus each word's exact form ("=word") when the stem differs.

        The exact form keeps "responsibilities" closer to "responsibilities" than to "responsible" (same stem).
        """
        lowered = " ".join(words(text))
        for phrase, meaning in self._multiword.items():
            if phrase in lowered:
                lowered = lowered.replace(phrase, " ".join(meaning))
        out: list[str] = []
        for word in lowered.split():
            if correct and word not in self._known:  # the test first: most words are known, a call costs more
                word = self._correct(word)
            for w in (word, *self._synonyms.get(word, ())):
                for part in w.split():
                    if part not in _STOPWORDS:
                        stem = _stemmer().stemWord(part)
                        out.append(stem)
                        if stem != part:
                            out.append("=" + part)
        return out

    # -- ranking --------------------------------------------------------------------------------------------

    def _weight(self, term: str) -> float:
        """A term's IDF over the topics' heads; a term no topic uses weighs as the rarest."""
        return self._head.idf.get(term, self._head.unseen_idf)

    def _nearest_questions(self, terms: set[str]) -> dict[str, float]:
        """Per topic, the mean IDF-weighted cosine of the query with its two closest example questions (or title)."""
        # A word no topic uses counts as a rare word in the query's norm: "weather" must dilute "what".
        norm = sum(self._weight(t) for t in terms) or 1.0
        shared: dict[tuple[str, int], float] = {}
        for term in terms:
            for key in self._postings.get(term, ()):
                shared[key] = shared.get(key, 0.0) + self._weight(term)
        per_topic: dict[str, list[float]] = {}
        for key, weight in shared.items():
            per_topic.setdefault(key[0], []).append(weight / math.sqrt(norm * self._question_weight[key]))
        return {topic: sum(sorted(sims, reverse=True)[:_NEAREST]) / _NEAREST for topic, sims in per_topic.items()}

    def _rank(self, query: str) -> tuple[dict[str, float], float]:
        """Each topic's score, and how much closer the query sits to an off-topic example than to any topic's."""
        terms = set(self._terms(query[: limits.MEMBER_QUERY]))
        if not terms:
            return {}, 0.0
        nearest = self._nearest_questions(terms)
        off = nearest.pop(_OFF_TOPIC, 0.0)
        result = {}
        for topic in self._faqs:
            head = self._head.score(terms, topic)
            body = self._body.score(terms, topic)
            result[topic] = (
                head / (head + _HEAD_K)
                + _BODY_W * body / (body + _BODY_K)
                + _COVER_W * nearest.get(topic, 0.0)
                + _ANY_W * self._all.coverage(terms, topic)
            )
        return result, off - max(nearest.values(), default=0.0)

    def _semantic(self, query: str) -> dict[str, float] | None:
        """Per topic (and the off-topic pseudo-topic), the mean cosine of the query with its closest examples."""
        if self._vectors is None and self._warming:
            return None
        model = sentence_model.model(self._vector_dir)
        examples = self._example_vectors() if model is not None else None
        if model is None or examples is None:
            return None
        import numpy as np

        vector = SentenceVectors.known(query)  # an example question asked word for word: its vector is made
        similarity = examples @ (vector if vector is not None else model.encode([query])[0])
        out, start = {}, 0
        for topic, group in self._examples:
            mine = similarity[start : start + len(group)]
            start += len(group)
            k = min(_SEMANTIC_K, len(mine))
            out[topic] = float(np.partition(mine, len(mine) - k)[-k:].mean()) if k else 0.0
        return out

    def match(self, query: str) -> Match:
        text = query[: limits.MEMBER_QUERY]
        key = " ".join(words(text))
        if key in self._exact:
            topic = self._exact[key]
            return Match(topic=topic, confident=True, ranked=((topic, float("inf")),))
        scores, off_lead = self._rank(query)
        # No content word ("the and of"): nothing to rank. One word ("engineer", "salery"): the words decide, against
        # the aliases and titles with typos corrected; a sentence vector of one vague word is confidently arbitrary.
        sentence = len(content_words(text)) > 1
        semantic = self._semantic(self._spelled(text)) if scores and sentence else None
        if semantic is not None:
            return self._decide(scores, semantic)
        ranked = tuple(sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])))
        best, best_score = ranked[0] if ranked else (None, 0.0)
        if best is None or best_score <= 0 or off_lead >= _OFF_TOPIC_LEAD:
            return Match(topic=None, confident=False, ranked=ranked, off_topic=True)
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        if best_score < _ANSWER_FLOOR:
            return Match(topic=None, confident=False, ranked=ranked)
        return Match(topic=best, confident=best_score - runner_up >= _CLEAR_MARGIN, ranked=ranked)

    def _decide(self, words_score: dict[str, float], semantic: dict[str, float]) -> Match:
        """The verdict from sentence vectors, with the word score beside them."""
        off = semantic.pop(_OFF_TOPIC, 0.0)
        scores = {t: semantic.get(t, 0.0) + _WORDS_W * words_score.get(t, 0.0) for t in self._faqs}
        ranked = tuple(sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])))
        best, best_score = ranked[0]
        if off - max(semantic.values(), default=0.0) >= _SEMANTIC_OFF_LEAD:
            return Match(topic=None, confident=False, ranked=ranked, off_topic=True)
        if best_score < _SEMANTIC_FLOOR:  # close to nothing the content holds: gibberish or another subject
            return Match(topic=None, confident=False, ranked=ranked, off_topic=True)
        lead = best_score - (ranked[1][1] if len(ranked) > 1 else 0.0)
        return Match(topic=best, confident=lead >= _SEMANTIC_MARGIN, ranked=ranked)
