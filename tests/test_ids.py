"""Member and channel ids the store cannot keep (over 64 characters, or with a NUL) are refused at the edge, the same
way on SQLite and PostgreSQL: a member gets a helpful reply and nothing is written; an operator gets one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from test_cli_database import re_bot

from bot.ops.observed import dispatch
from bot.store.models import Schedule
from handlers import Invocation, Services
from handlers.ids import MAX_ID_LENGTH

LONG = "U" + "x" * MAX_ID_LENGTH
BAD_IDS = [LONG, "U-with\x00nul"]


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize(("command", "text", "field"), [("re-remind", "daily 09:00 UTC", "user"),
                                                        ("re-subscribe", "papers 09:00 UTC", "channel")])  # fmt: skip
def test_a_bad_id_gets_a_helpful_reply_and_stores_nothing(store_services: Services, bad, command, text, field):
    ids = {"user": "U1", "channel": "C1", field: bad}
    inv = Invocation(command=command, text=text, platform="console", can_manage_channel=True, **ids)
    reply = dispatch(inv, store_services)
    assert reply.error and not reply.failed
    assert f"at most {MAX_ID_LENGTH} characters" in " ".join(s.text for s in reply.sections)
    with store_services.store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Schedule)) == 0


def test_a_good_id_of_the_longest_length_works(store_services: Services):
    user = "U" + "x" * (MAX_ID_LENGTH - 1)
    reply = dispatch(Invocation(command="re-remind", text="daily 09:00 UTC", user=user, channel="C1",
                                platform="console"), store_services)  # fmt: skip
    assert not reply.error, reply
    assert store_services.store.get_schedule("reminder", "console", user) is not None


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize("option", ["--user", "--channel"])
def test_ask_refuses_a_bad_id_in_one_line(backend: str, option: str, tmp_path: Path, request):
    url = f"sqlite:///{tmp_path / 'bot.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    result = re_bot("ask", option, LONG, "/re-remind daily 09:00 UTC", url=url, cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert option in line and f"at most {MAX_ID_LENGTH} characters" in line
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_console_refuses_a_bad_id_and_keeps_the_acting_member(backend: str, tmp_path: Path, request):
    url = f"sqlite:///{tmp_path / 'bot.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    lines = f":user {LONG}\n:channel C\x00X\n/re-remind daily 09:00 UTC\n/re-remind list\n"
    result = re_bot("ask", "-", url=url, cwd=tmp_path, stdin=lines)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(f"at most {MAX_ID_LENGTH} characters") == 2
    assert "every day at 09:00" in result.stdout and "Traceback" not in result.stderr
