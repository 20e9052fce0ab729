"""Retired prompts (`content/retired.yaml`): the content check of the records, and every place that reads an item a
member stored under a retired id (progress, Done buttons, tracks, review cards, reminders waiting in the outbox,
`/re-prompt`), on each backend. Stored rows are never rewritten: each reader resolves the old id."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select, update
from test_loader import edit, problems_of
from test_schedules import press, run, text_of, tick, ticker

from bot.schedule.outbox import claim_due
from bot.store.models import Delivery
from content import Content, load_content
from content.loader import check_content
from content.schema import RetiredPrompt
from handlers import Services, rotation
from handlers.study import current_item, item_title, next_step, reminder_reply

T0 = datetime(2026, 1, 10, 18, 0, tzinfo=UTC)
DROPPED = RetiredPrompt(id="old-task", text="Write the old task up in one page.")


@pytest.fixture(scope="module")
def with_dropped(content: Content) -> Content:
    """The packaged content plus a prompt retired with nothing in its place (the packaged ones all have one)."""
    return replace(content, retired={**content.retired, DROPPED.id: DROPPED})


@pytest.fixture
def dropped_services(store, with_dropped: Content) -> Services:
    return Services.from_content(with_dropped, store=store.api)


# ---------------------------------------------------------------- the packaged records


def test_each_prompt_deleted_by_no_task_twice_is_retired_with_the_paper_prompt_that_sets_its_task(content):
    """f10354e deleted 21 prompts; each task is still set by a paper's prompt (or, for repo-cleanup, by the prompt
    that absorbed it). The record says which, and the old text it keeps is the deleted prompt's."""
    expected = {
        "adam-from-scratch": ("adam", 1), "init-variance-experiment": ("he-init", 1),
        "batchnorm-backward": ("batchnorm", 1), "vit-patch-embedding": ("vit", 1),
        "word-analogies": ("word2vec", 2), "skipgram-negative-sampling": ("word2vec", 1), "lora-linear": ("lora", 1),
        "reward-model-loss": ("instructgpt", 1), "ddpm-forward-process": ("ddpm", 1), "gan-2d-mixture": ("gan", 1),
        "diffusion-2d-toy": ("ddpm", 2), "dqn-cartpole": ("dqn", 1), "ppo-clip-loss": ("ppo", 1),
        "activation-checkpointing": ("gpipe", 3), "read-ml-test-score": ("ml-test-score", 1),
        "read-zero-memory": ("zero", 1), "compute-optimal-budget": ("chinchilla", 1),
        "random-labels": ("rethinking-generalization", 1), "double-descent-rff": ("double-descent", 1),
        "lottery-ticket-mnist": ("lottery-ticket", 1),
    }  # fmt: skip
    assert set(content.retired) == {*expected, "repo-cleanup"}
    for old_id, (paper, number) in expected.items():
        record = content.retired[old_id]
        assert (record.paper, record.paper_prompt, record.prompt) == (paper, number, None), old_id
    assert content.retired["repo-cleanup"].prompt == "portfolio-writeup"
    assert not set(content.retired) & {p.id for p in content.prompts}
    assert "torch.optim.Adam" in content.retired["adam-from-scratch"].text


# ---------------------------------------------------------------- the content check

RETIRED = """\
- id: old-softmax
  prompt: stable-softmax
  text: Write softmax without overflow.
- id: old-adam
  paper: adam
  paper_prompt: 1
  text: Implement Adam.
"""


@pytest.fixture
def retiring_dir(content_dir: Path) -> Path:
    (content_dir / "retired.yaml").write_text(RETIRED, encoding="utf-8")
    return content_dir


def test_records_load_and_a_track_naming_a_retired_prompt_gets_its_replacement(retiring_dir: Path) -> None:
    edit(retiring_dir / "tracks.yaml", "prompts: [stable-softmax]", "prompts: [old-softmax, old-adam]")
    content = load_content(retiring_dir)
    assert set(content.retired) == {"old-softmax", "old-adam"}
    step = content.tracks[0].steps[0]
    assert (step.prompts, step.papers) == (["stable-softmax"], ["adam"])  # adam once, though named twice now


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("prompt: stable-softmax", "prompt: no-such-prompt", 2,
         "unknown prompt 'no-such-prompt' replacing retired prompt 'old-softmax'"),
        ("paper: adam", "paper: gpt9", 5, "unknown paper 'gpt9' replacing retired prompt 'old-adam'"),
        ("paper_prompt: 1", "paper_prompt: 7", 6,
         "paper 'adam' has 1 prompt(s), so there is no prompt 7 to replace retired prompt 'old-adam'"),
        ("id: old-softmax", "id: ask-an-re", 1,
         "retired prompt 'ask-an-re' is still in prompts.yaml (line 10): a prompt is either live or retired, so "
         "remove it there or drop this record"),
        ("  paper_prompt: 1\n", "", 4,
         "retired prompt 'old-adam': field 'entry': Value error, paper and paper_prompt go together: the paper, and "
         "which of its prompts sets the task"),
        ("prompt: stable-softmax", "prompt: old-adam", 2,
         "'old-softmax' is replaced by 'old-adam', which is retired too: name what sets the task now"),
    ],
)  # fmt: skip
def test_content_check_names_the_line_of_each_bad_record(retiring_dir, old, new, line, message) -> None:
    edit(retiring_dir / "retired.yaml", old, new)
    assert problems_of(retiring_dir) == [("retired.yaml", line, message)]


def test_a_track_step_left_with_nothing_when_its_prompt_was_dropped_is_reported(retiring_dir: Path) -> None:
    (retiring_dir / "retired.yaml").write_text("- id: old-task\n  text: Gone.\n", encoding="utf-8")
    edit(retiring_dir / "tracks.yaml", "papers: [adam]\n      prompts: [stable-softmax]", "prompts: [old-task]")
    assert problems_of(retiring_dir) == [("tracks.yaml", 5, "track 'basics' step 1 needs a paper or a prompt")]


# ---------------------------------------------------------------- community folders (RE_BOT_CONTENT_EXTRA)


def community(tmp_path: Path, **files: str) -> Path:
    """A community folder holding `files` (`tracks="..."` is tracks.yaml)."""
    folder = tmp_path / "community"
    folder.mkdir()
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return folder


def over_packaged(tmp_path: Path, **files: str) -> Content:
    """The packaged content with a community folder holding `files` merged over it, checked to load cleanly."""
    content, problems = check_content(None, community(tmp_path, **files))
    assert problems == []
    return content


def test_a_community_track_written_before_the_retirement_still_loads_over_the_packaged_content(tmp_path) -> None:
    content = over_packaged(
        tmp_path,
        tracks="- id: ours\n  title: Ours\n  description: Our plan.\n  steps:\n"
        "    - title: Week 1\n      prompts: [adam-from-scratch, repo-cleanup, mlp-mnist-numpy]\n",
    )
    ours = next(t for t in content.tracks if t.id == "ours")
    assert ours.steps[0].prompts == ["portfolio-writeup", "mlp-mnist-numpy"]
    assert ours.steps[0].papers == ["adam"]


def test_a_later_folder_revives_a_retired_id_with_its_own_prompt_or_retires_an_earlier_ones(
    retiring_dir: Path, tmp_path: Path
) -> None:
    prompts = yaml.safe_load((retiring_dir / "prompts.yaml").read_text())
    ours = {**prompts[1], "id": "old-softmax", "text": "Present your project at our meetup in five minutes."}
    extra = community(
        tmp_path, prompts=yaml.safe_dump([ours]), retired="- id: ask-an-re\n  text: Ask a research engineer.\n"
    )
    content = load_content(retiring_dir, extra)
    assert [p.id for p in content.prompts] == ["stable-softmax", "old-softmax"]
    assert set(content.retired) == {"old-adam", "ask-an-re"}


def test_the_packaged_records_hold_with_a_community_folder_that_adds_prompts(tmp_path: Path) -> None:
    content = over_packaged(
        tmp_path,
        prompts="- id: random-labels\n  kind: career\n  area: career\n  level: intro\n  minutes: 20\n"
        "  text: Introduce yourself in our community's welcome channel and name one paper you want to reproduce.\n",
    )
    assert content.prompt("random-labels") is not None and "random-labels" not in content.retired
    assert len(content.retired) == 20


# ---------------------------------------------------------------- reading stored items


def test_current_item_and_titles(content, with_dropped) -> None:
    assert current_item(content, "prompt:adam-from-scratch") == "paper:adam"
    assert current_item(content, "prompt:repo-cleanup") == "prompt:portfolio-writeup"
    assert current_item(content, "prompt:mlp-mnist-numpy") == "prompt:mlp-mnist-numpy"
    assert current_item(content, "paper:adam") == "paper:adam"
    assert current_item(with_dropped, "prompt:old-task") == "prompt:old-task"
    adam = "Paper: Adam: A Method for Stochastic Optimization (prompt 1)"
    assert item_title(content, "prompt:adam-from-scratch") == adam
    assert item_title(content, "prompt:repo-cleanup").startswith("Prompt: Turn one of your re-implementations")
    assert item_title(with_dropped, "prompt:old-task") == "Prompt: Write the old task up in one page."


def test_progress_shows_what_replaced_each_retired_item_and_the_old_text_of_a_dropped_one(
    store, dropped_services
) -> None:
    for n, item in enumerate(["prompt:adam-from-scratch", "prompt:repo-cleanup", "prompt:old-task"]):
        store.api.record_done("console", "U1", item, date(2026, 1, 8 + n), now=T0)
    reply = run(dropped_services, "/re-progress", now=T0)
    assert not reply.error
    assert reply.sections[-1].items == (
        "2026-01-10: Prompt: Write the old task up in one page.",
        "2026-01-09: Prompt: Turn one of your re-implementations into a repository a hiring manager can read in five…",
        "2026-01-08: Paper: Adam: A Method for Stochastic Optimization (prompt 1)",
    )
    assert "**Streak:** 3 day(s) · **papers:** 0 · **prompts:** 3" in text_of(reply)  # as the member did them


def test_done_on_a_reminder_sent_before_the_retirement_records_the_replacement(store, dropped_services) -> None:
    reply = press(dropped_services, "remind.done", "prompt:adam-from-scratch", T0)
    assert not reply.error and "Nice work, recorded." in text_of(reply)
    assert [d.item for d in store.api.done_items("console", "U1")] == ["paper:adam"]
    assert [c.item for c in store.api.cards("console", "U1")] == ["paper:adam"]  # Adam's recall questions
    again = press(dropped_services, "remind.done", "paper:adam", T0 + timedelta(hours=1))
    assert "Already recorded" in text_of(again)
    dropped = press(dropped_services, "remind.done", "prompt:old-task", T0)
    assert not dropped.error
    assert {d.item for d in store.api.done_items("console", "U1")} == {"paper:adam", "prompt:old-task"}
    assert press(dropped_services, "remind.done", "prompt:never-existed", T0).error


@pytest.mark.parametrize(
    ("track_id", "old", "new"),
    [("swe-to-re", "prompt:repo-cleanup", "prompt:portfolio-writeup"),
     ("language-models", "prompt:lora-linear", "paper:lora")],
)  # fmt: skip
def test_a_track_counts_a_retired_item_as_its_replacement(store, store_services, content, track_id, old, new):
    from handlers.tracks import step_items

    track = next(t for t in content.tracks if t.id == track_id)
    index = next(i for i, s in enumerate(track.steps) if new in step_items(s))
    for step in track.steps[: index + 1]:
        for item in step_items(step):
            store.api.record_done("console", "U1", old if item == new else item, date(2026, 1, 9), now=T0)
    lines = run(store_services, f"/re-track {track_id}", now=T0).sections[1].items
    assert lines[index].startswith("✓") and lines[index + 1].startswith("→"), lines


def test_next_step_does_not_serve_the_replacement_of_a_finished_retired_prompt(content) -> None:
    day = next(d for d in (date(2026, 1, 1) + timedelta(n) for n in range(400))
               if rotation.unseen(content.papers, d, set()).id == "adam")  # fmt: skip
    assert next_step(content, day, {"prompt:mlp-mnist-numpy", "prompt:gradient-check"}) == "paper:adam"
    assert next_step(content, day, {"prompt:mlp-mnist-numpy", "prompt:adam-from-scratch"}) != "paper:adam"


def test_a_review_card_of_a_retired_prompt_asks_its_replacements_questions(store, store_services, content) -> None:
    run(store_services, "/re-remind daily 19:00 UTC", now=T0)
    assert store.api.add_card("console", "U1", "prompt:adam-from-scratch", now=T0)  # a card from before
    questions = [r.question for r in content.paper("adam").recall]
    t = ticker(store, content)
    [dm] = [r for r in tick(t, datetime(2026, 1, 11, 8, tzinfo=UTC)) if r.kind == "review"]
    assert dm.text.startswith("Time to review: 1 card") and questions[0] in dm.text
    assert "Adam: A Method for Stochastic Optimization (prompt 1)" in dm.text
    rated = press(store_services, "review.good", "prompt:adam-from-scratch", datetime(2026, 1, 11, 9, tzinfo=UTC))
    assert not rated.error and "Answer:" in text_of(rated) and rated.title.startswith("Good: next review")
    later = datetime(2026, 1, 11, 9, tzinfo=UTC)
    assert "`adam-from-scratch` Paper: Adam" in text_of(run(store_services, "/re-review list", now=later))
    assert not run(store_services, "/re-review forget adam-from-scratch", now=later).error
    assert store.api.cards("console", "U1") == []


def test_a_pending_reminder_claimed_before_the_retirement_sends_the_replacement(store, store_services, content):
    run(store_services, "/re-remind daily 09:00 UTC", now=T0)
    fire = datetime(2026, 1, 11, 9, tzinfo=UTC)
    claim_due(store.sessions, content, fire, catchup=timedelta(hours=3))
    with store.sessions.begin() as s:  # the step chosen then, now retired
        s.execute(update(Delivery).values(item="prompt:adam-from-scratch"))
    [sent] = tick(ticker(store, content), fire)
    assert sent.status == "sent" and "Adam: A Method for Stochastic Optimization" in sent.text
    with store.sessions() as s:
        assert s.scalars(select(Delivery.status)).all() == ["sent"]
    reply = reminder_reply(content, "prompt:adam-from-scratch", fire.date())
    assert [b.value for b in reply.buttons] == ["paper:adam", "1h"]  # its Done records the paper


def test_a_pending_reminder_of_a_dropped_prompt_sends_the_days_prompt(with_dropped) -> None:
    day = date(2026, 1, 11)
    reply = reminder_reply(with_dropped, "prompt:old-task", day)
    assert reply.prompt == rotation.for_day(with_dropped.prompts, day).id


def test_re_prompt_with_a_retired_id_shows_what_sets_its_task_now(dropped_services) -> None:
    paper = run(dropped_services, "/re-prompt adam-from-scratch")
    assert not paper.error and paper.command == "re-prompt" and paper.paper == "adam"
    assert paper.context[0] == "`adam-from-scratch` was retired: prompt 1 of this paper now sets its task."
    prompt = run(dropped_services, "/re-prompt repo-cleanup")
    assert prompt.prompt == "portfolio-writeup" and "this prompt now sets its task" in prompt.context[0]
    dropped = run(dropped_services, "/re-prompt old-task")
    assert dropped.error and re.search(r"`old-task` was retired and no other prompt sets its task", text_of(dropped))
