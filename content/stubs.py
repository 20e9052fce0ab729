"""Stubs for new content (`re-bot content new faq|paper|prompt ID`, `re-bot report --suggest`), every field explained.

Each stub is valid as written (so `re-bot content check` passes on it at once) and says, field by field, what to
write; the placeholders are plain words an author replaces.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import yaml

from content.schema import AREAS, LEVELS

KINDS = ("faq", "paper", "prompt")
ID_RULE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def yaml_scalar(text: str) -> str:
    """A YAML scalar for one line of text (quoted when YAML would read it as something else)."""
    dumped = yaml.safe_dump(text, default_flow_style=True, allow_unicode=True, width=10_000)
    return dumped.removesuffix("\n").removesuffix("\n...").strip()


def faq_stub(topic_id: str, questions: Sequence[str] = (), title: str = "") -> str:
    asked = "\n".join(f"  - {yaml_scalar(q)}" for q in questions) or "  - How do I ask about this topic?"
    return f"""---
# A FAQ topic: this front matter (YAML, between the two --- lines), then the answer in Markdown below it.
# Lines starting with # are comments. `re-bot content check` validates the file and names PATH:LINE of a problem.
#
# id: how members ask for it, `/re-faq {topic_id}`. Lowercase letters, digits and dashes; equal to the file name.
# A topic with the id of a packaged one replaces it for your community.
id: {topic_id}
# title: the heading of the answer, a short question members recognise (at most 150 characters).
title: {yaml_scalar(title or "What members of our community want to know about " + topic_id)}
# group: the section of the topic list (`/re-faq`): The role, Getting in, Learning, Career and pay, Practice,
# or a name of your own (listed after those).
group: Practice
# aliases: other words for `/re-faq WORD`, lowercase with dashes; each may name only one topic. Optional.
aliases: []
# questions: how members really ask, one per line, in their own words (at least one). The matcher learns from
# them: `re-bot report --suggest` proposes phrasings members used that found no answer.
questions:
{asked}
# see_also: ids of related topics, offered under the answer (`re-bot content check` rejects unknown ids).
see_also: []
# sources: where the facts come from, e.g. "Reading group calendar, https://example.org/rg". Optional.
sources: []
---
Write the answer here in standard Markdown: a few short paragraphs (at most 4,000 characters in all), lists if
they help, and end with one next step the member can take today.
"""


def paper_stub(paper_id: str) -> str:
    return f"""# A paper for /re-paper and the paper of the day. Add it to papers.yaml (a YAML list); a paper with the
# id of a packaged one replaces it. `re-bot content check` validates it and names PATH:LINE of a problem.
# id: lowercase letters, digits and dashes, unique among papers (`/re-paper {paper_id}`).
- id: {paper_id}
  # title: the paper's title as published.
  title: The title of the paper
  # authors: a list, as printed on the paper; "et al." may end a long list.
  authors: [First Author, Second Author]
  # year: of first publication (arXiv counts); venue: where it appeared, optional.
  year: 2020
  venue: arXiv
  # url: an https:// link to the paper (optional).
  url: https://arxiv.org/abs/0000.00000
  # area: one of {", ".join(AREAS)}.
  area: systems
  # level: one of {", ".join(LEVELS)}.
  level: intro
  # why: one or two sentences on why a research engineer should read it.
  why: Why a research engineer should read this paper, in one or two sentences.
  # prompts: 1 to 6 things to do with it (implement, reproduce, explain), shown as study prompts.
  prompts:
    - Re-implement the core idea in a notebook and reproduce one figure.
  # recall: 2 or 3 review questions (spaced repetition, /re-review), each with a short answer of one or two
  # sentences (at most 320 characters), technically exact and in your own words.
  recall:
    - question: What is the paper's main idea, in one sentence?
      answer: The main idea, stated precisely enough that a reader could check it against the paper.
    - question: What result or experiment supports it?
      answer: The key result, with the setting it was measured in.
"""


def prompt_stub(prompt_id: str) -> str:
    return f"""# A daily study prompt for /re-prompt and reminders. Add it to prompts.yaml (a YAML list); a prompt with
# the id of a packaged one replaces it. `re-bot content check` validates it and names PATH:LINE of a problem.
# id: lowercase letters, digits and dashes, unique among prompts.
- id: {prompt_id}
  # kind: implement, read, reflect or career.
  kind: implement
  # area: one of {", ".join(AREAS)}, math, career or general.
  area: general
  # level: one of {", ".join(LEVELS)}.
  level: intro
  # minutes: how long it takes, 1 to 240.
  minutes: 30
  # text: what to do, in one or two sentences.
  text: Describe one concrete thing to build, read or think through today.
  # recall: optional, implement prompts only: one review question (question + a one- or two-sentence answer);
  # a member who finishes the prompt then gets it as a review card (/re-review). Leave it out if unsure.
"""


def write_stub(kind: str, item_id: str, folder: Path) -> Path:
    """Write the stub into `folder` (a content folder layout): faq/ID.md, or appended to papers.yaml / prompts.yaml.

    Raises ValueError (with a message for the operator) for a bad id, an unknown kind or an existing entry."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind '{kind}'; one of {', '.join(KINDS)}")
    if not ID_RULE.match(item_id) or len(item_id) > 40:
        raise ValueError(f"'{item_id}' is not a valid id: lowercase letters, digits and dashes, at most 40")
    if kind == "faq":
        path = folder / "faq" / f"{item_id}.md"
        if path.exists():
            raise ValueError(f"{path} already exists")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(faq_stub(item_id), encoding="utf-8")
        return path
    path = folder / ("papers.yaml" if kind == "paper" else "prompts.yaml")
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    if re.search(rf"^- id: {re.escape(item_id)}\s*$", existing, re.MULTILINE):
        raise ValueError(f"{path} already has a {kind} with id '{item_id}'")
    stub = paper_stub(item_id) if kind == "paper" else prompt_stub(item_id)
    folder.mkdir(parents=True, exist_ok=True)
    separator = "" if not existing or existing.endswith("\n\n") else ("\n" if existing.endswith("\n") else "\n\n")
    path.write_text(existing + separator + stub, encoding="utf-8")
    return path
