"""Every setting the code reads is shown by `re-bot config check` and documented in the README's configuration
table; config check tries the database; the health check's own variables are config errors, never tracebacks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from test_cli_database import re_bot

from bot.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def readme_configuration_variables() -> set[str]:
    """The variables named in the first column of the README's "## Configuration" table."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


def test_the_readme_table_lists_every_setting_and_nothing_else():
    fields = set(Settings.variables().values())
    documented = readme_configuration_variables()
    assert fields - documented == set(), "settings missing from the README's configuration table"
    assert documented - fields == set(), "README rows for variables no setting reads"


def test_config_check_shows_every_setting(tmp_path: Path):
    result = re_bot("config", "check", cwd=tmp_path, RE_BOT_DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}")
    assert result.returncode == 0, result.stdout + result.stderr
    shown = {line.split()[0] for line in result.stdout.splitlines() if line.startswith("  ")}
    assert set(Settings.variables().values()) <= shown
    for name in ("RE_BOT_AUTO_MIGRATE", "RE_BOT_DELIVERY_LEASE_SECONDS", "RE_BOT_RATE_SLACK",
                 "RE_BOT_RATE_DISCORD_PER_TARGET", "RE_BOT_HEALTHCHECK_TIMEOUT"):  # fmt: skip
        assert name in shown


def test_no_variable_is_read_outside_the_settings():
    """os.environ is read for RE_BOT_* only by the settings and the standard-library health check (which mirrors
    two of them), so the README table and config check cover everything."""
    read: set[str] = set()
    for path in [*(ROOT / "bot").rglob("*.py"), *(ROOT / "handlers").rglob("*.py"), *(ROOT / "content").rglob("*.py")]:
        read.update(re.findall(r"environ(?:\.get)?\(?\[?\"((?:RE_BOT|SLACK|DISCORD)_[A-Z_]+)\"", path.read_text()))
    assert read <= set(Settings.variables().values())


def test_config_check_tries_the_database(tmp_path: Path):
    ok = re_bot("config", "check", cwd=tmp_path, RE_BOT_DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}")
    assert "database: ok" in ok.stdout
    down = re_bot("config", "check", cwd=tmp_path, RE_BOT_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert down.returncode == 1
    assert "cannot reach PostgreSQL at 127.0.0.1:1" in down.stdout + down.stderr
    assert "Traceback" not in down.stderr


def test_config_check_reports_a_postgresql_schema(private_pg, tmp_path: Path):
    _, _, url = private_pg
    result = re_bot("config", "check", cwd=tmp_path, RE_BOT_DATABASE_URL=url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"database: ok \(postgresql.*empty", result.stdout), result.stdout
    assert re_bot("db", "upgrade", url=url, cwd=tmp_path).returncode == 0
    again = re_bot("config", "check", cwd=tmp_path, RE_BOT_DATABASE_URL=url)
    assert "up to date" in again.stdout


def test_a_healthcheck_timeout_that_is_not_a_number_is_a_config_error(tmp_path: Path):
    result = re_bot("config", "check", cwd=tmp_path, RE_BOT_HEALTHCHECK_TIMEOUT="abc")
    assert result.returncode == 1
    assert any(line.startswith("RE_BOT_HEALTHCHECK_TIMEOUT:") for line in result.stdout.splitlines())
    check = _healthcheck(tmp_path, RE_BOT_HEALTHCHECK_TIMEOUT="abc")
    assert check.returncode == 1
    assert check.stderr.strip() == (
        "healthcheck: RE_BOT_HEALTHCHECK_TIMEOUT must be a number of seconds above 0, at most 60"
    )


def _healthcheck(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "RE_BOT_"))}
    full.update(TMPDIR=str(tmp_path), **env)
    return subprocess.run([sys.executable, "-m", "bot.ops.healthcheck"], env=full, capture_output=True, text=True,
                          timeout=30, cwd=tmp_path)  # fmt: skip
