"""`re-bot tick --at` an instant in the future: refused beyond a day ahead unless --force, never a traceback, and
what it moved shows its year in `/re-remind list`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_cli_database import re_bot


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 're-bot.db'}"
    assert re_bot("ask", "/re-remind daily 09:00 UTC", url=url, cwd=tmp_path).returncode == 0
    return url


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def test_a_tick_more_than_a_day_ahead_is_refused_with_what_it_would_do(url: str, tmp_path: Path):
    at = datetime.now(UTC) + timedelta(days=400)
    result = re_bot("tick", "--at", _iso(at), url=url, cwd=tmp_path)
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert "ahead of the clock" in line and "moves every schedule past" in line and "--force" in line
    listed = re_bot("ask", "/re-remind list", url=url, cwd=tmp_path).stdout
    assert str(at.year) not in listed.split("Next:")[1].split(".")[0], "nothing moved"


def test_a_tick_within_a_day_runs_without_force(url: str, tmp_path: Path):
    result = re_bot("tick", "--at", _iso(datetime.now(UTC) + timedelta(hours=23)), url=url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_forced_future_tick_runs_and_the_list_shows_the_year(url: str, tmp_path: Path):
    at = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=800)
    result = re_bot("tick", "--at", _iso(at), "--force", "--json", url=url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert '"kind": "reminder"' in result.stdout
    listed = re_bot("ask", "/re-remind list", url=url, cwd=tmp_path).stdout
    next_at = at + timedelta(days=1)
    assert f"Next: {next_at.strftime('%a %d %b %Y 09:00')}" in listed


@pytest.mark.parametrize("force", [False, True])
def test_the_end_of_the_calendar_is_one_line_not_a_traceback(url: str, tmp_path: Path, force: bool):
    result = re_bot("tick", "--at", "9999-12-31T09:00:00Z", *(["--force"] if force else []), url=url, cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "too far in the future" in line
