"""Alembic environment: runs on the connection `bot.store.engine.upgrade` hands over (no alembic.ini needed)."""

from alembic import context

from bot.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - `alembic` CLI use; re-bot always passes a connection
    raise SystemExit("run migrations with `re-bot db upgrade`")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
)
with context.begin_transaction():
    context.run_migrations()
