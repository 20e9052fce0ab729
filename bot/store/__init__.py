"""The store: SQLAlchemy models, Alembic migrations, and `SqlStore`, the handlers' `ScheduleStore`."""

from bot.store.engine import make_engine, session_factory, upgrade
from bot.store.repo import SqlStore

__all__ = ["SqlStore", "make_engine", "session_factory", "upgrade"]
