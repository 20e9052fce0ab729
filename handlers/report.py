"""What members asked, for organisers: `re-bot report` and `/re-admin report` build the same summary here.

From the questions log (`QueryLog.logged_questions`): how many questions, how many answered directly, per topic how
often it was answered and voted helpful or not, and the questions that found no answer or were "not what I asked",
near-identical ones merged (rapidfuzz's edit-distance ratio on normalised text), most frequent first. `suggest_yaml`
turns those into ready-to-paste `questions:` lines for the topic members found helpful, and stubs for new topics.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from rapidfuzz import fuzz, process

from content import limits
from content.stubs import faq_stub, yaml_scalar
from handlers.safe_text import quote
from handlers.store_api import LoggedQuestion

SAME_QUESTION = 85  # similarity (0-100) of the normalised questions at or above which they count as one
_PUNCT = re.compile(r"[^\w\s\[\]]+")
SHOWN = 20  # groups shown in a chat reply (the CLI shows them all)


@dataclass
class TopicCounts:
    asked: int = 0
    helpful: int = 0
    not_helpful: int = 0


@dataclass
class QuestionGroup:
    """Near-identical unanswered questions: the most common wording, how many, and where members were sent."""

    text: str
    count: int = 0
    nearest: list[str] = field(default_factory=list)
    wordings: list[str] = field(default_factory=list)
    helpful_topics: Counter[str] = field(default_factory=Counter)  # topics members then found helpful

    def as_json(self) -> dict[str, object]:
        return {"text": self.text, "count": self.count, "nearest": self.nearest}


@dataclass
class Report:
    since: datetime
    workspace: str | None
    questions: int = 0
    answered: int = 0
    topics: dict[str, TopicCounts] = field(default_factory=dict)
    unanswered: list[QuestionGroup] = field(default_factory=list)
    unanswered_without_text: int = 0  # past retention or RE_BOT_QUERY_RETENTION_DAYS=0: counted, not shown

    def as_json(self) -> dict[str, object]:
        return {
            "since": self.since.isoformat(),
            "workspace": self.workspace,
            "questions": self.questions,
            "answered": self.answered,
            "topics": {t: vars(c) for t, c in sorted(self.topics.items())},
            "unanswered": [g.as_json() for g in self.unanswered],
            "unanswered_without_text": self.unanswered_without_text,
        }


def _normal(text: str) -> str:
    """Lower case, punctuation and extra spaces gone: what is left is compared by edit-distance ratio (rapidfuzz's
    fastest comparison), which forgives typos and a changed word or two."""
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


def _missed(question: LoggedQuestion) -> bool:
    """No direct answer, or a member said the answer was not what they asked."""
    return question.topic is None or any(t == question.topic and not ok for t, ok in question.votes)


def build_report(questions: list[LoggedQuestion], *, since: datetime, workspace: str | None = None) -> Report:
    report = Report(since=since, workspace=workspace, questions=len(questions))
    groups: list[QuestionGroup] = []
    keys: list[str] = []
    exact: dict[str, int] = {}  # normalised text -> group: repeats skip the fuzzy search
    nearest: list[Counter[str]] = []
    for q in questions:
        if q.topic is not None:
            report.answered += 1
            report.topics.setdefault(q.topic, TopicCounts()).asked += 1
        for topic, helpful in q.votes:
            counts = report.topics.setdefault(topic, TopicCounts())
            if helpful:
                counts.helpful += 1
            else:
                counts.not_helpful += 1
        if not _missed(q):
            continue
        if not q.text:
            report.unanswered_without_text += 1
            continue
        key = _normal(q.text)
        index = exact.get(key)
        if index is None:  # not asked in these very words before: the fuzzy comparison with every group
            found = process.extractOne(key, keys, scorer=fuzz.ratio, score_cutoff=SAME_QUESTION)
            if found is None:
                groups.append(QuestionGroup(text=q.text))
                keys.append(key)
                nearest.append(Counter())
                index = len(groups) - 1
            else:
                index = found[2]
            exact[key] = index
        group = groups[index]
        group.count += 1
        group.wordings.append(q.text)
        # Nearest topics by rank: the best-ranked topic of each question scores most.
        for rank, topic in enumerate(t for t in q.nearest if t != q.topic or q.topic is None):
            nearest[index][topic] += 3 - min(rank, 2)
        group.helpful_topics.update(t for t, ok in q.votes if ok)
    for group, counter in zip(groups, nearest, strict=True):
        group.text = Counter(group.wordings).most_common(1)[0][0]  # the most common wording names the group
        group.nearest = [t for t, _ in counter.most_common(3)]
    report.unanswered = sorted(groups, key=lambda g: (-g.count, g.text.lower()))
    return report


def summary_markdown(report: Report, *, limit: int | None = None) -> tuple[str, list[str], list[str]]:
    """(headline, topic lines, question lines) in Markdown, for a chat reply or the terminal."""
    share = f"{report.answered / report.questions:.0%}" if report.questions else "n/a"
    headline = (
        f"{report.questions} questions since {report.since:%Y-%m-%d}, {report.answered} answered directly ({share})."
    )
    ranked = sorted(report.topics.items(), key=lambda kv: (-kv[1].asked, kv[0]))
    topic_lines = [f"`{t}`: asked {c.asked}, helpful {c.helpful}, not helpful {c.not_helpful}" for t, c in ranked]
    shown = report.unanswered if limit is None else report.unanswered[:limit]
    # The questions are members' own words: quoted, so a stored `<!channel>`, `@everyone` or link cannot ping or render.
    question_lines = [
        f"{g.count}× “{quote(g.text, limits.MEMBER_QUERY)}”"
        + (f" (nearest: {', '.join(f'`{t}`' for t in g.nearest)})" if g.nearest else "")
        for g in shown
    ]
    if limit is not None and len(report.unanswered) > limit:
        question_lines.append(f"… and {len(report.unanswered) - limit} more (`re-bot report` lists them all)")
    if report.unanswered_without_text:
        question_lines.append(f"{report.unanswered_without_text} more whose text is not kept (retention)")
    return headline, topic_lines, question_lines


def _slug(text: str) -> str:
    words = [w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2][:4]
    return "-".join(words)[: limits.ALIAS].strip("-") or "new-topic"


def suggest_yaml(report: Report, known_topics: set[str]) -> str:
    """Ready-to-paste YAML: phrasings to add to a topic's `questions`, and stubs for topics nothing answered."""
    additions: dict[str, list[str]] = {}
    new_topics: list[QuestionGroup] = []
    for group in report.unanswered:
        helped = [t for t, _ in group.helpful_topics.most_common() if t in known_topics]
        if helped:
            phrasings = additions.setdefault(helped[0], [])
            phrasings += [w for w in dict.fromkeys(group.wordings) if w not in phrasings]
        else:
            new_topics.append(group)
    out = ["# re-bot report --suggest: paste what fits into your content (RE_BOT_CONTENT_EXTRA), then run",
           "# `re-bot content check` and reload (SIGHUP)."]  # fmt: skip
    if additions:
        out += ["", "# 1. Phrasings members used that the matcher missed, though the topic helped them."]
        for topic, phrasings in sorted(additions.items()):
            out += [f"#    Add to the `questions:` list in faq/{topic}.md:", f"{topic}:", "  questions:"]
            out += [f"    - {yaml_scalar(p[: limits.QUESTION])}" for p in phrasings]
    if new_topics:
        out += ["", "# 2. Questions nothing answered: a stub per group. Save each as faq/<id>.md, pick the id,",
                "#    write the title and the answer."]  # fmt: skip
        taken = set(known_topics)
        for group in new_topics:
            slug = base = _slug(group.text)
            n = 2
            while slug in taken:
                slug, n = f"{base}-{n}", n + 1
            taken.add(slug)
            near = f" (nearest existing topics: {', '.join(group.nearest)})" if group.nearest else ""
            out += ["", f"# ---- faq/{slug}.md: asked {group.count}×{near}"]
            wordings = [w[: limits.QUESTION] for w in dict.fromkeys(group.wordings)]
            out += faq_stub(slug, wordings, title=group.text[: limits.TITLE]).rstrip("\n").splitlines()
    if not additions and not new_topics:
        out += ["", "# Nothing to suggest: every question in this period found its answer."]
    return "\n".join(out) + "\n"
