"""Engines, sessions and migrations for SQLite (default) and PostgreSQL (`postgresql+psycopg://...`)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
_UPGRADE_LOCK = 7_262_015_001  # pg_advisory_xact_lock key: one migrating process at a time
# Connections kept open per process (PostgreSQL). Handlers run on as many threads (bot.ops.observed), so a burst of
# commands waits for a thread instead of for a connection; the overflow is left to the scheduler's ticks.
POOL_SIZE = 10
POOL_OVERFLOW = 20


def make_engine(url: str) -> Engine:
    """An engine with the concurrency settings the outbox relies on.

    SQLite has no row locks and no SKIP LOCKED: every transaction starts with BEGIN IMMEDIATE, which takes the
    database's write lock up front, so concurrent tickers serialise instead of both reading the same due rows; WAL
    lets readers run meanwhile and busy_timeout makes writers wait instead of failing.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
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
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def _alembic_config():
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Apply every pending migration (on PostgreSQL under an advisory lock). Returns (before, after) revisions."""
    from alembic import command

    before = current_revision(engine)
    head = head_revision()
    if before == head:
        return before, head
    cfg = _alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return before, head
