"""Finding what members name: papers by title, common name or a misspelling; commands by a typo; progress by title;
plus the small print members read (prompt tags, bylines) and the content rules behind paper aliases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_loader import edit, problems_of
from test_schedules import run, text_of

from content.paper_search import find_paper
from handlers import Invocation, Services, dispatch
from handlers.prompts import prompt_reply

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def cmd(services: Services, command: str, text: str = ""):
    return dispatch(Invocation(command=command, text=text, now=NOW), services)


@pytest.mark.parametrize(
    ("query", "paper"),
    [
        ("attention is all you need", "transformer"),
        ("Attention Is All You Need", "transformer"),
        ("atention is all you ned", "transformer"),
        ("gpt-3", "gpt3"),
        ("GPT 3", "gpt3"),
        ("language models are few-shot learners", "gpt3"),
        ("resnet", "resnet"),
        ("ResNet", "resnet"),
        ("resnt", "resnet"),
        ("deep residual learning", "resnet"),
        ("vision transformer", "vit"),
        ("stable diffusion", "latent-diffusion"),
        ("lora", "lora"),
        ("batch norm", "batchnorm"),
        ("RLHF", "rl-human-preferences"),
        ("chinchila", "chinchilla"),
    ],
)
def test_re_paper_finds_papers_by_title_common_name_and_typo(services, query, paper):
    reply = cmd(services, "re-paper", query)
    assert not reply.error and reply.paper == paper
    assert reply.title == services.content.paper(paper).title


def test_a_vague_or_unknown_paper_name_offers_the_closest_titles(services):
    reply = cmd(services, "re-paper", "attention")
    text = " ".join(s.text for s in reply.sections)
    assert reply.error and "`/re-paper transformer` (Attention Is All You Need)" in text
    reply = cmd(services, "re-paper", "weather in paris")
    assert reply.error and "Did you mean" not in " ".join(s.text for s in reply.sections)
    assert find_paper(services.content.papers, "   ").paper is None


def test_areas_and_rotation_words_still_come_first(services):
    assert services.content.paper(cmd(services, "re-paper", "vision").paper).area == "vision"
    assert cmd(services, "re-paper", "next").title == "Next paper"


@pytest.mark.parametrize(("typed", "meant"), [("re-fq", "re-faq"), ("faq", "re-faq"), ("re-remnd", "re-remind")])
def test_an_unknown_command_gets_the_one_it_probably_meant(services, typed, meant):
    reply = cmd(services, typed, "phd")
    assert reply.error and f"Did you mean `/{meant}`?" in " ".join(s.text for s in reply.sections)
    reply = cmd(services, "re-help", typed)  # `/re-help faq` is `/re-help re-faq`; a typo gets the same hint
    helped = " ".join(s.text for s in reply.sections)
    assert (reply.error and f"`/re-help {meant}`" in helped) or (not reply.error and f"/{meant}" in helped)


def test_an_unknown_command_echoes_the_name_inert(services):
    reply = cmd(services, "[x](https://evil.example)")
    text = " ".join(s.text for s in reply.sections)
    assert reply.error and "[x](https" not in text and "Did you mean" not in text


def test_prompt_card_tags_are_not_repeated(services):
    career = next(p for p in services.content.prompts if p.kind == "career" and p.area == "career")
    [small] = prompt_reply(career).context
    assert small.startswith(f"career · {career.level} · about {career.minutes} min")


def test_byline_keeps_the_surname_particle(services):
    assert services.content.paper("mdl-weights").byline == "Hinton and van Camp, 1993, COLT 1993"
    assert services.content.paper("adam").byline.startswith("Kingma and Ba,")


def test_progress_shows_titles_not_ids(store_services):
    paper = store_services.content.papers[0]
    prompt = store_services.content.prompts[0]
    day = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    for item in (f"paper:{paper.id}", f"prompt:{prompt.id}"):
        inv = Invocation(command="", user="U1", now=day)
        from handlers import run_action

        assert not run_action("remind.done", item, inv, store_services).error
    shown = text_of(run(store_services, "/re-progress", day))
    assert paper.title in shown and prompt.text[:40] in shown
    assert f"`{prompt.id}`" not in shown and f"`{paper.id}`" not in shown


def test_paper_aliases_are_one_namespace_with_ids(content_dir: Path):
    papers = content_dir / "papers.yaml"
    edit(papers, 'title: "Adam: A Method for Stochastic Optimization"',
         'title: "Adam: A Method for Stochastic Optimization"\n  aliases: ["Adam optimizer", "Res-Net"]')  # fmt: skip
    [(name, line, message)] = problems_of(content_dir)
    assert name == "papers.yaml" and "duplicate paper id or alias 'resnet'" in message
    edit(papers, '"Res-Net"', '"Vision"')
    [(name, line, message)] = problems_of(content_dir)
    assert (name, line) == ("papers.yaml", 3) and "a word /re-paper already takes" in message
