from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from content import Content, load_content
from handlers import Services

DATA = Path(__file__).parent / "data"
FIXED_NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def content() -> Content:
    """The packaged content, loaded once."""
    return load_content()


@pytest.fixture(scope="session")
def services(content: Content) -> Services:
    return Services.from_content(content, clock=lambda: FIXED_NOW)


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """A small valid content folder, copied so a test can break it."""
    target = tmp_path / "content"
    shutil.copytree(DATA / "content-min", target)
    return target
