"""Typed schema of the content files. Pydantic gives each problem a field path, which the loader maps to a line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StringConstraints, field_validator, model_validator

from content import limits

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=limits.ALIAS)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=limits.TITLE)]
Area = Literal["optimization", "vision", "language", "generative", "rl", "systems", "scaling", "theory"]
PromptArea = Literal[
    "optimization", "vision", "language", "generative", "rl", "systems", "scaling", "theory",
    "math", "career", "general",
]  # fmt: skip
Level = Literal["intro", "intermediate", "advanced"]
PromptKind = Literal["implement", "read", "reflect", "career"]

AREAS: tuple[str, ...] = Area.__args__  # type: ignore[attr-defined]
LEVELS: tuple[str, ...] = Level.__args__  # type: ignore[attr-defined]
# The order topic groups are listed in; a group not named here is listed after these, alphabetically.
GROUP_ORDER = ("The role", "Getting in", "Learning", "Career and pay", "Practice")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# What `/re-paper WORD` takes before any paper name; no paper alias may be one of these.
PAPER_COMMAND_WORDS = frozenset({"", "today", "next", "another", "tomorrow", *AREAS})
_NAME_WORD = re.compile(r"[a-z0-9]+")


def paper_name_key(name: str) -> str:
    """The form paper names are compared in, so 'GPT-3', 'gpt 3' and 'gpt3' are one name."""
    return "".join(_NAME_WORD.findall(name.lower()))


class FaqFront(_Strict):
    """The YAML front matter of `content/faq/<id>.md`."""

    id: Slug
    title: Title
    group: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    aliases: list[Slug] = Field(default_factory=list)
    questions: list[Annotated[str, StringConstraints(min_length=1, max_length=limits.QUESTION)]] = Field(min_length=1)
    see_also: list[Slug] = Field(default_factory=list)
    sources: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(default_factory=list)


_SENTENCE_END = re.compile(r"[.!?](?=\s+[A-Z(])")  # a full stop followed by a new sentence ("e.g. x" does not count)


class Recall(_Strict):
    """A review card's question and its short answer (one or two sentences), written in the content's own words."""

    question: Annotated[str, StringConstraints(min_length=1, max_length=limits.RECALL_QUESTION)]
    answer: str

    @field_validator("answer")
    @classmethod
    def _short(cls, answer: str) -> str:
        if not answer:
            raise ValueError("the answer is empty: write one or two sentences")
        if len(answer) > limits.RECALL_ANSWER:
            raise ValueError(f"the answer is {len(answer)} characters; keep it under {limits.RECALL_ANSWER}")
        sentences = len(_SENTENCE_END.findall(answer.rstrip(".!? "))) + 1
        if sentences > limits.RECALL_SENTENCES:
            raise ValueError(f"the answer has {sentences} sentences; keep it to one or two")
        return answer


class Paper(_Strict):
    id: Slug
    title: Title
    # Names members know the paper by ("GPT-3", "ResNet"); `/re-paper NAME` finds it by them, as by its id and title.
    aliases: list[Annotated[str, StringConstraints(min_length=1, max_length=limits.ALIAS)]] = Field(
        default_factory=list
    )
    authors: list[Annotated[str, StringConstraints(min_length=1, max_length=80)]] = Field(min_length=1)
    year: int = Field(ge=1900, le=2100)
    venue: Annotated[str, StringConstraints(min_length=1, max_length=80)] | None = None
    url: HttpUrl | None = None
    area: Area
    level: Level
    why: Annotated[str, StringConstraints(min_length=1, max_length=limits.PAPER_WHY)]
    prompts: list[Annotated[str, StringConstraints(min_length=1, max_length=limits.PAPER_PROMPT)]] = Field(
        min_length=1, max_length=6
    )
    recall: list[Recall] = Field(min_length=2, max_length=3)  # the questions of its review card, asked in turn

    @field_validator("url")
    @classmethod
    def _https(cls, url: HttpUrl | None) -> HttpUrl | None:
        if url is not None and url.scheme != "https":
            raise ValueError("must be an https:// URL")
        return url

    @property
    def byline(self) -> str:
        """'Kingma and Ba, 2014, ICLR 2015': authors shortened the way papers are cited."""
        named = [a for a in self.authors if a.rstrip(".").lower() != "et al"]
        more = len(named) < len(self.authors) or len(named) > 2
        if more:
            who = f"{_surname(named[0])} et al." if named else "et al."
        elif len(named) == 2:
            who = f"{_surname(named[0])} and {_surname(named[1])}"
        else:
            who = _surname(named[0])
        return ", ".join(x for x in (who, str(self.year), self.venue) if x)


_PARTICLES = frozenset({"van", "von", "der", "den", "de", "del", "della", "da", "di", "du", "le", "la", "ter", "ten"})


def _surname(name: str) -> str:
    """'Diederik P. Kingma' -> 'Kingma'; 'Drew van Camp' -> 'van Camp' (with its particle)."""
    parts = name.split()
    start = len(parts) - 1
    while start > 1 and parts[start - 1] in _PARTICLES:
        start -= 1
    return " ".join(parts[start:])


class Prompt(_Strict):
    id: Slug
    kind: PromptKind
    area: PromptArea
    level: Level
    minutes: int = Field(ge=1, le=240)
    text: Annotated[str, StringConstraints(min_length=1, max_length=limits.PROMPT_TEXT)]
    recall: list[Recall] = Field(default_factory=list, max_length=1)  # implementation prompts may have one

    @field_validator("recall")
    @classmethod
    def _implement_only(cls, recall: list[Recall], info) -> list[Recall]:
        if recall and info.data.get("kind") != "implement":
            raise ValueError("only implementation prompts have a recall item")
        return recall


class RetiredPrompt(_Strict):
    """A prompt taken out of prompts.yaml, kept so what members stored under its id (finished items, review cards,
    pending reminders, track progress) still means something: the paper prompt or prompt that now sets its task, or
    neither when the task was simply dropped. `text` is what it asked, shown where nothing replaces it."""

    id: Slug
    text: Annotated[str, StringConstraints(min_length=1, max_length=limits.PROMPT_TEXT)]
    paper: Slug | None = None  # the paper one of whose prompts now sets the task...
    paper_prompt: int | None = Field(default=None, ge=1)  # ...and which of them (1 = the first)
    prompt: Slug | None = None  # or the prompt in prompts.yaml that now sets it

    @model_validator(mode="after")
    def _one_replacement(self) -> RetiredPrompt:
        if self.paper is not None and self.prompt is not None:
            raise ValueError("name either a paper (with paper_prompt) or a prompt that replaces it, not both")
        if (self.paper is None) != (self.paper_prompt is None):
            raise ValueError("paper and paper_prompt go together: the paper, and which of its prompts sets the task")
        return self


class TrackStep(_Strict):
    title: Title
    faq: list[Slug] = Field(default_factory=list)
    papers: list[Slug] = Field(default_factory=list)
    prompts: list[Slug] = Field(default_factory=list)


class Track(_Strict):
    id: Slug
    title: Title
    description: Annotated[str, StringConstraints(min_length=1, max_length=limits.TRACK_DESCRIPTION)]
    steps: list[TrackStep] = Field(min_length=1)


@dataclass(frozen=True)
class FaqEntry:
    """One FAQ topic: its front matter plus the Markdown answer."""

    id: str
    title: str
    group: str
    aliases: tuple[str, ...]
    questions: tuple[str, ...]
    see_also: tuple[str, ...]
    sources: tuple[str, ...]
    body: str
    path: str


@dataclass(frozen=True)
class Content:
    """Everything members read, validated and indexed by id."""

    faqs: dict[str, FaqEntry]
    papers: tuple[Paper, ...]
    prompts: tuple[Prompt, ...]
    tracks: tuple[Track, ...] = ()
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    off_topic: tuple[str, ...] = ()  # questions that are not about the career, so the matcher can tell them apart
    directory: str = ""
    extra: tuple[str, ...] = ()  # community folders merged over `directory` (RE_BOT_CONTENT_EXTRA)
    retired: dict[str, RetiredPrompt] = field(default_factory=dict)  # prompts taken out, by their old id

    def paper(self, paper_id: str) -> Paper | None:
        return next((p for p in self.papers if p.id == paper_id), None)

    def prompt(self, prompt_id: str) -> Prompt | None:
        return next((p for p in self.prompts if p.id == prompt_id), None)

    def retired_prompt(self, prompt_id: str) -> RetiredPrompt | None:
        """The record of a prompt taken out of the content; None for a live or unknown id."""
        return self.retired.get(prompt_id)

    def faq_by_alias(self, word: str) -> FaqEntry | None:
        """The topic whose id or alias is exactly `word` (case-insensitive)."""
        word = word.strip().lower()
        if word in self.faqs:
            return self.faqs[word]
        return next((f for f in self.faqs.values() if word in f.aliases), None)
