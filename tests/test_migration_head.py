"""The migration head read from the revision files (so a start at head never imports alembic) is alembic's own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.store.engine import _alembic_head, _head_from_files

PROBE = """
import sys
from bot.cli import main
code = main(["ask", "/re-faq phd"])
print("alembic imported" if "alembic" in sys.modules else "alembic not imported", code)
"""


def test_the_head_read_from_the_files_is_alembics():
    assert _head_from_files() == _alembic_head()


def test_a_start_at_head_does_not_import_alembic(tmp_path: Path):
    env = {"RE_BOT_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "PATH": "/usr/bin:/bin"}

    def probe() -> str:
        result = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=tmp_path, capture_output=True, text=True,
                                timeout=60)  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1]

    assert probe() == "alembic imported 0"  # a new database: migrated
    assert probe() == "alembic not imported 0"
