"""Engines, sessions and migrations for SQLite (default) and PostgreSQL (`postgresql+psycopg://...`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
CONNECT_TIMEOUT = 10  # seconds, PostgreSQL
_UPGRADE_LOCK = 7_262_015_001  # pg_advisory_xact_lock key: one migrating process at a time
# Connections kept open per process (PostgreSQL). Handlers run on as many threads (bot.ops.observed), so a burst of
# commands waits for a thread instead of for a connection; the overflow is left to the scheduler's ticks.
POOL_SIZE = 10
POOL_OVERFLOW = 20


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, absolute (None for other databases and in-memory SQLite)."""
    try:
        parsed = make_url(url)
    except Exception:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    name = parsed.database.removeprefix("file:") if parsed.query.get("uri") else parsed.database
    return Path(name.split("?", 1)[0]).absolute()


def make_engine(url: str) -> Engine:
    """An engine with the concurrency settings the outbox relies on.

    SQLite has no row locks and no SKIP LOCKED: every transaction starts with BEGIN IMMEDIATE, which takes the
    database's write lock up front, so concurrent tickers serialise instead of both reading the same due rows; WAL
    lets readers run meanwhile and busy_timeout makes writers wait instead of failing.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if (path := sqlite_path(url)) is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection, _record) -> None:
            dbapi_connection.isolation_level = None  # let the "begin" hook below issue BEGIN itself
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # A server that does not answer fails start-up (and `config check`) in seconds, not after the TCP timeout.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        connect_args={"connect_timeout": CONNECT_TIMEOUT},
    )


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def _alembic_config():
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    """The newest migration. Read from the revision files' own `revision = "..."` / `down_revision = "..."` lines
    (what alembic's script template writes), so a start whose schema is already at head never imports alembic (a
    fifth of `re-bot ask`'s start); anything else (a merge, a tuple, a missing line) is alembic's to answer."""
    return _head_from_files() or _alembic_head()


_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(?:\"([^\"]*)\"|'([^']*)'|None)\s*$", re.M)


def _head_from_files() -> str | None:
    revisions: dict[str, str | None] = {}
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = {m.group(1): m.group(2) or m.group(3) for m in _ASSIGNMENT.finditer(path.read_text())}
        if "revision" in found and "down_revision" in found:
            revisions[found["revision"]] = found["down_revision"]
        elif path.name != "__init__.py":
            return None
    heads = set(revisions) - set(revisions.values())
    return heads.pop() if len(heads) == 1 else None


def _alembic_head() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def _revision(conn) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return _revision(conn)


@dataclass(frozen=True)
class Upgrade:
    """What `upgrade` found and did: `before` is read under the migration lock, so when another process migrated
    while this one waited, `before == after` and `seen` (read before waiting) shows the older revision."""

    seen: str | None
    before: str | None
    after: str

    @property
    def applied(self) -> bool:
        return self.before != self.after

    def describe(self) -> str:
        if self.applied:
            return f"upgraded {self.before or 'an empty database'} -> {self.after}"
        if self.seen != self.after:
            return f"at {self.after}, up to date (another process upgraded it from {self.seen or 'empty'} meanwhile)"
        return f"at {self.after}, up to date"


def upgrade(engine: Engine) -> Upgrade:
    """Apply every pending migration, one process at a time: PostgreSQL under an advisory lock, SQLite under its
    write lock (BEGIN IMMEDIATE). The revision is read again under the lock, so concurrent runs migrate once."""
    seen = current_revision(engine)
    head = head_revision()
    if seen == head:
        return Upgrade(seen, seen, head)
    from alembic import command

    cfg = _alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK})
        before = _revision(conn)
        if before != head:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    return Upgrade(seen, before, head)
