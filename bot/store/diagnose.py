"""What went wrong opening the database, as one line an operator can act on: which file or server, and what to do.

SQLite's own messages ("file is not a database", "attempt to write a readonly database") name neither the file nor
a fix, and an OSError from creating the folder arrives as a traceback; `explain` turns each into a sentence.
"""

from __future__ import annotations

import os

from sqlalchemy.engine import make_url

from bot.store.engine import current_revision, head_revision, make_engine, sqlite_path

SHAPES = "Set RE_BOT_DATABASE_URL to sqlite:///path/re-bot.db or postgresql+psycopg://user@host:5432/dbname."


def safe_url(url: str) -> str:
    """The URL with its password hidden (user, host and database stay readable)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable)"


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)  # SQLAlchemy wraps the driver's error; its text is the useful part
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def explain(url: str, exc: BaseException) -> str:
    """One or two lines: what is wrong with the database at `url`, naming the file (SQLite) and the fix."""
    path = sqlite_path(url)
    reason = _reason(exc)
    if path is not None:
        if isinstance(exc, OSError):
            return (
                f"re-bot: cannot create the folder of the SQLite database {path} ({exc.strerror or reason}). "
                "Create that folder, writable by this user, or point RE_BOT_DATABASE_URL at a file in a writable "
                "folder (sqlite:////absolute/path/re-bot.db)."
            )
        lowered = reason.lower()
        if "not a database" in lowered:
            return (
                f"re-bot: {path} is not an SQLite database ({reason}). RE_BOT_DATABASE_URL names the wrong file, or "
                "the file is damaged: point it at the right file, or move this one aside to start with a new database."
            )
        if "malformed" in lowered or "corrupt" in lowered:
            return (
                f"re-bot: the SQLite database {path} is corrupt ({reason}). Restore it from a backup (or try "
                f"`sqlite3 {path} .recover`), or move it aside to start with an empty database."
            )
        if "readonly" in lowered or "read-only" in lowered or "unable to open" in lowered:
            return (
                f"re-bot: cannot write the SQLite database {path} ({reason}). Make the file and its folder writable "
                f"by this user (uid {os.getuid()}; SQLite writes journal files beside it), or point "
                "RE_BOT_DATABASE_URL at a writable location."
            )
    if (server := _server_problem(url, reason)) is not None:
        return server
    return f"re-bot: cannot open the database RE_BOT_DATABASE_URL={safe_url(url)}: {reason}\n{SHAPES}"


def _server_problem(url: str, reason: str) -> str | None:
    """PostgreSQL's commonest refusals, each with the thing to fix (the URL's shape is right in all of them)."""
    try:
        parsed = make_url(url)
    except Exception:
        return None
    if parsed.get_backend_name() != "postgresql":
        return None
    where = f"{parsed.host}:{parsed.port or 5432}"
    name = parsed.database
    lowered = reason.lower()
    if "does not exist" in lowered and "database" in lowered:
        return (f"re-bot: the PostgreSQL database {name} does not exist on {where}: create it (createdb -h "
                f"{parsed.host} {name}) or fix the name in RE_BOT_DATABASE_URL.")  # fmt: skip
    if "read-only transaction" in lowered or "recovery" in lowered:
        return (f"re-bot: the PostgreSQL database {name} on {where} is read-only ({reason}): point RE_BOT_DATABASE_URL"
                " at the writable primary, or turn off default_transaction_read_only.")  # fmt: skip
    if "password authentication failed" in lowered or "no pg_hba.conf entry" in lowered:
        return (f"re-bot: PostgreSQL on {where} refused user {parsed.username} ({reason}): fix the user or password "
                "in RE_BOT_DATABASE_URL, or the server's pg_hba.conf.")  # fmt: skip
    if any(w in lowered for w in ("connection refused", "resolve host", "timeout expired", "no route to host")):
        return (f"re-bot: cannot reach PostgreSQL at {where} ({reason}): is the server running, and is the host in "
                "RE_BOT_DATABASE_URL right?")  # fmt: skip
    return None


def probe(url: str, auto_migrate: bool = True) -> tuple[bool, str]:
    """(usable, one line) for `re-bot config check`: connects and reads the schema revision; creates nothing."""
    from sqlalchemy.exc import ArgumentError, DatabaseError

    path = sqlite_path(url)
    if path is not None and not path.exists():
        folder = next(p for p in path.parents if p.exists())
        if folder.is_dir() and os.access(folder, os.W_OK):
            return True, f"ok (sqlite, {path} does not exist yet; it is created at start)"
        return False, (
            f"re-bot: cannot create the SQLite database {path}: {folder} is not a folder this user may write. "
            "Create the folder, writable by this user, or point RE_BOT_DATABASE_URL at a writable location."
        )
    try:
        engine = make_engine(url)
        try:
            current = current_revision(engine)
        finally:
            engine.dispose()
    except (ArgumentError, DatabaseError, OSError, ValueError) as exc:
        return False, explain(url, exc)
    head = head_revision()
    if current == head:
        state = f"schema at {head}, up to date"
    else:
        todo = "applied at start" if auto_migrate else "run `re-bot db upgrade` (RE_BOT_AUTO_MIGRATE=false)"
        state = f"schema {'empty' if current is None else 'at ' + current}, {head} pending: {todo}"
    where = f"sqlite, {path}" if path is not None else f"{make_url(url).get_backend_name()}, {safe_url(url)}"
    return True, f"ok ({where}; {state})"
