"""Shared fixtures: content, services, and a migrated store on SQLite (always) and PostgreSQL (when it answers;
required with CI=true).

Each test session creates its own PostgreSQL database (re_bot_test_<random>) from a connection to `test`, and drops
it at the end, so several test runs can share the server; tests get empty tables (TRUNCATE) on it.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Settings
from bot.schedule.ticker import Store, open_store
from content import Content, load_content
from content.search import TopicMatcher
from handlers import Services

DATA = Path(__file__).parent / "data"
FIXED_NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def content() -> Content:
    """The packaged content, loaded once."""
    return load_content()


@pytest.fixture(scope="session", autouse=True)
def sentence_vectors(content: Content) -> None:
    """The packaged content's example-question vectors, made before any test (and kept in the default cache folder,
    which subprocesses read too). On a new machine that is about 90 s of encoding; made inside whichever test
    asks first, it would push that test's answer past a platform's deadline into a deferral."""
    TopicMatcher(content).warm()


@pytest.fixture(scope="session")
def services(content: Content) -> Services:
    return Services.from_content(content, clock=lambda: FIXED_NOW)


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """A small valid content folder, copied so a test can break it."""
    target = tmp_path / "content"
    shutil.copytree(DATA / "content-min", target)
    return target


PG_HOST = os.environ.get("RE_BOT_TEST_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("RE_BOT_TEST_PG_PORT", "5432")
PG_USERS = ("postgres", "root")


def _pg_admin():
    import psycopg

    errors = []
    for user in PG_USERS:
        try:
            conn = psycopg.connect(
                host=PG_HOST, port=PG_PORT, user=user, dbname="test", autocommit=True, connect_timeout=3
            )
            return conn, user
        except psycopg.Error as exc:
            errors.append(f"{user}: {exc}")
    return None, "; ".join(errors)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    conn, user = _pg_admin()
    if conn is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL at {PG_HOST}:{PG_PORT} is required in CI and did not answer ({user})")
        pytest.skip(f"PostgreSQL at {PG_HOST}:{PG_PORT} not available ({user})")
    name = f"re_bot_test_{secrets.token_hex(6)}"
    conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://{user}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


@pytest.fixture
def private_pg():
    """A PostgreSQL database of this test's own, which the test may close to connections, and the admin connection."""
    conn, user = _pg_admin()
    if conn is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required in CI ({user})")
        pytest.skip(f"PostgreSQL not available ({user})")
    name = f"re_bot_test_{secrets.token_hex(6)}"
    conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield conn, name, f"postgresql+psycopg://{user}@127.0.0.1:5432/{name}"
    finally:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


@pytest.fixture(scope="session")
def pg_store(pg_url: str) -> Iterator[Store]:
    store = open_store(Settings(RE_BOT_DATABASE_URL=pg_url), migrate=True)
    yield store
    store.engine.dispose()


def _truncate(store: Store) -> None:
    from sqlalchemy import text

    from bot.store.models import Base

    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)  # every model's table, new ones too
    tables += ", slack_installations, slack_bots, slack_oauth_states"  # slack_sdk's stores' tables (no models)
    with store.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path) -> Iterator[Store]:
    """A migrated, empty store on each backend."""
    if request.param == "sqlite":
        s = open_store(Settings(RE_BOT_DATABASE_URL=f"sqlite:///{tmp_path}/re-bot.db"))
        yield s
        s.engine.dispose()
    else:
        s = request.getfixturevalue("pg_store")
        _truncate(s)
        yield s


class Clock:
    """A frozen clock tests move by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def store_services(store: Store, content: Content) -> Services:
    """Services with a real store (each backend), for reminders, subscriptions and progress."""
    return Services.from_content(content, store=store.api)
