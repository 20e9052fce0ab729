"""Live content reload in process: build aside, swap atomically, keep the old content on invalid content, SIGHUP and
file watching, and what /readyz and /metrics say meanwhile."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from pathlib import Path

import pytest

from bot.ops.metrics import REGISTRY
from bot.ops.reload import ContentReloader
from bot.runtime import HEALTH, build_web_app
from content import load_content, sentence_model
from content.search import TopicMatcher
from handlers import Invocation, Services, dispatch

TOPIC = """---
id: meetups
title: When are our meetups?
group: Our community
questions:
  - when is the next meetup
see_also: []
sources: []
---
Every second Tuesday.

Next step: RSVP in #events.
"""


def reloads(outcome: str) -> float:
    return REGISTRY.get_sample_value("re_bot_content_reloads_total", {"outcome": outcome}) or 0.0


@pytest.fixture
def setup(content_dir: Path, tmp_path: Path) -> tuple[Services, ContentReloader, Path]:
    extra = tmp_path / "extra"
    (extra / "faq").mkdir(parents=True)
    services = Services.from_content(load_content(content_dir, extra))
    return services, ContentReloader(services, str(content_dir), str(extra), interval=0.05), extra


def test_reload_swaps_in_new_content_and_tells_listeners(setup) -> None:
    services, reloader, extra = setup
    seen = []
    reloader.listeners.append(seen.append)
    (extra / "faq" / "meetups.md").write_text(TOPIC)
    before = reloads("ok")
    assert reloader.reload_now() is True
    assert "meetups" in services.content.faqs and seen == [services.content]
    assert dispatch(Invocation("re-faq", "when is the next meetup"), services).topic == "meetups"
    assert reloads("ok") == before + 1


def test_invalid_content_keeps_the_old_and_logs_every_problem(setup, caplog) -> None:
    services, reloader, extra = setup
    old_content, old_matcher = services.content, services.matcher
    (extra / "faq" / "meetups.md").write_text(TOPIC.replace("group: Our community\n", ""))
    (extra / "papers.yaml").write_text("- id: x\n  title: [unclosed\n")
    before = reloads("invalid")
    with caplog.at_level(logging.ERROR, logger="re_bot.reload"):
        assert reloader.reload_now() is False
    assert services.content is old_content and services.matcher is old_matcher
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.endswith("meetups.md:2: front matter: missing field 'group'") for m in messages), messages
    assert any("papers.yaml:3: invalid YAML" in m for m in messages), messages
    assert reloads("invalid") == before + 1
    health = build_web_app()[HEALTH]
    health.services, health.started = services, True
    ready, checks = asyncio.run(health.readiness())
    assert ready and checks["content"] == "ok"


def test_a_command_in_flight_finishes_on_the_content_it_started_with(setup) -> None:
    services, reloader, extra = setup
    pinned = services.pinned()
    (extra / "faq" / "meetups.md").write_text(TOPIC)
    reloader.reload_now()
    assert "meetups" not in pinned.content.faqs and pinned.matcher.match("next meetup").topic != "meetups"
    assert "meetups" in services.pinned().content.faqs


def test_watching_reloads_a_changed_file_once_it_holds_still(setup) -> None:
    services, reloader, extra = setup
    assert reloader.check_files() is None  # nothing changed
    (extra / "faq" / "meetups.md").write_text(TOPIC)
    assert reloader.check_files() is None  # changed just now: wait one poll for it to hold still
    assert reloader.check_files() is True
    assert "meetups" in services.content.faqs
    assert reloader.check_files() is None  # loaded: not again
    (extra / "faq" / "meetups.md").write_text("broken")
    reloader.check_files()
    assert reloader.check_files() is False and "meetups" in services.content.faqs
    assert reloader.check_files() is None  # the same broken files are not retried until they change


async def test_sighup_and_the_watcher_as_a_component(setup) -> None:
    services, reloader, extra = setup
    reloader.watch = True
    await reloader.start()
    try:
        (extra / "faq" / "meetups.md").write_text(TOPIC)
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(200):
            if "meetups" in services.content.faqs:
                break
            await asyncio.sleep(0.05)
        assert "meetups" in services.content.faqs
        (extra / "faq" / "meetups.md").unlink()
        for _ in range(200):  # the watcher sees the file gone
            if "meetups" not in services.content.faqs:
                break
            await asyncio.sleep(0.05)
        assert "meetups" not in services.content.faqs
    finally:
        await reloader.stop()


def test_matching_while_a_matcher_is_built_in_another_thread(content, monkeypatch) -> None:
    """The reload builds a matcher in a worker thread while commands are matched: neither disturbs the other."""
    # What two threads share here is the word ranking (stemmers, indexes); without the sentence model each match
    # costs microseconds instead of a 50 ms forward pass slowed by the builder holding the GIL.
    monkeypatch.setattr(sentence_model, "model", lambda cache_dir=None: None)
    matcher = TopicMatcher(content)
    questions = ["do I need a phd", "how much do research engineers earn", "switching from swe", "interview prep"]
    expected = [matcher.match(q).topic for q in questions]
    stop = threading.Event()
    failures: list[BaseException] = []

    def build() -> None:
        try:
            while not stop.is_set():
                TopicMatcher(content)
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    builder = threading.Thread(target=build)
    builder.start()
    try:
        for _ in range(30):
            assert [matcher.match(q).topic for q in questions] == expected
    finally:
        stop.set()
        builder.join()
    assert failures == []
