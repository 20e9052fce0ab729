"""The content cache (content/cache.py): a second start reads the loaded content and matcher back instead of
building them; an edited file, a corrupt entry or an unwritable folder never serve stale content or fail."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from test_cli_database import re_bot

from content.cache import cached, load_indexed
from content.loader import ContentError
from content.search import TopicMatcher

DATA = Path(__file__).parent / "data"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(DATA / "content-min", target)
    return target


def test_a_second_load_comes_from_the_cache(folder: Path, tmp_path: Path):
    builds = []

    def build():
        builds.append(1)
        return {"n": len(builds)}

    cache = tmp_path / "cache"
    assert cached("thing", [folder], build, cache) == {"n": 1}
    assert cached("thing", [folder], build, cache) == {"n": 1}
    assert len(builds) == 1
    assert len(list(cache.glob("thing-*.pickle"))) == 1


def test_an_edited_file_builds_afresh_and_replaces_the_old_entry(folder: Path, tmp_path: Path):
    cache = tmp_path / "cache"
    content, _ = load_indexed(folder, None, cache)
    faq = next((folder / "faq").glob("*.md"))
    faq.write_text(faq.read_text().replace("title: ", "title: Edited - ", 1))
    edited, _ = load_indexed(folder, None, cache)
    assert any(e.title.startswith("Edited - ") for e in edited.faqs.values())
    assert not any(e.title.startswith("Edited - ") for e in content.faqs.values())
    assert len(list(cache.glob("content-*.pickle"))) == 1


def test_the_cached_matcher_answers_like_a_fresh_one(tmp_path: Path):
    cache = tmp_path / "cache"
    load_indexed(None, None, cache)
    content, matcher = load_indexed(None, None, cache)
    fresh = TopicMatcher(content)
    questions = [row["q"] for row in yaml.safe_load((DATA / "faq-dev-questions.yaml").read_text())]
    assert questions
    for question in questions:
        assert matcher.match(question) == fresh.match(question), question


def test_a_corrupt_entry_is_rebuilt(folder: Path, tmp_path: Path):
    cache = tmp_path / "cache"
    load_indexed(folder, None, cache)
    [entry] = cache.glob("content-*.pickle")
    entry.write_bytes(b"not a pickle")
    content, matcher = load_indexed(folder, None, cache)
    assert content.faqs and matcher.match(next(iter(content.faqs))).topic
    assert entry.read_bytes() != b"not a pickle"


def test_an_unwritable_cache_folder_only_costs_time(folder: Path, tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    content, _ = load_indexed(folder, None, blocker / "cache")
    assert content.faqs


def test_invalid_content_is_never_cached(folder: Path, tmp_path: Path):
    cache = tmp_path / "cache"
    (folder / "papers.yaml").write_text("- id: [broken\n")
    with pytest.raises(ContentError):
        load_indexed(folder, None, cache)
    assert not list(cache.glob("*.pickle")) if cache.exists() else True


def answer(result) -> tuple[str, str]:
    reply = json.loads(result.stdout)
    return reply["topic"], reply["text"]


def test_re_bot_ask_fills_and_then_uses_the_cache(tmp_path: Path):
    cache = tmp_path / "cache"
    first = re_bot("ask", "--json", "/re-faq phd", cwd=tmp_path, RE_BOT_CACHE_DIR=str(cache))
    assert first.returncode == 0, first.stderr
    [entry] = cache.glob("content-*.pickle")
    stamp = entry.stat().st_mtime_ns
    second = re_bot("ask", "--json", "/re-faq phd", cwd=tmp_path, RE_BOT_CACHE_DIR=str(cache))
    assert answer(second) == answer(first)
    assert entry.stat().st_mtime_ns == stamp, "read, not rewritten"
    off = re_bot("ask", "--json", "/re-faq phd", cwd=tmp_path, RE_BOT_CACHE_DIR="off")
    assert answer(off) == answer(first)
    assert os.listdir(cache) == [entry.name]
