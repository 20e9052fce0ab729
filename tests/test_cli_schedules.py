"""The contract's `re-bot tick --at ISO [--json]`, `re-bot db upgrade` and the console printing what falls due."""

from __future__ import annotations

import io
import json

import pytest

from bot.cli import main


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RE_BOT_DATABASE_URL", f"sqlite:///{tmp_path}/state.db")
    return tmp_path


def lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def test_ask_then_tick_json_delivers_once(db, capsys):
    assert main(["ask", "--json", "/re-remind daily 09:00 Europe/Berlin"]) == 0
    assert main(["ask", "--json", "--channel", "C-team", "/re-subscribe papers 08:00 UTC weekdays"]) == 0
    capsys.readouterr()
    assert main(["tick", "--at", "2031-01-06T08:00:00Z", "--json", "--force"]) == 0
    got = lines(capsys)
    assert {(d["platform"], d["target"], d["kind"], d["fire_time"]) for d in got} == {
        ("console", "U-console", "reminder", "2031-01-06T08:00:00+00:00"),
        ("console", "C-team", "channel-post", "2031-01-06T08:00:00+00:00"),
    }
    assert all(d["text"] for d in got)
    assert main(["tick", "--at", "2031-01-06T08:00:00Z", "--json", "--force"]) == 0
    assert lines(capsys) == []  # idempotent


def test_tick_rejects_a_bad_instant(db, capsys):
    assert main(["tick", "--at", "tomorrow-ish"]) == 1
    assert "ISO-8601" in capsys.readouterr().err


def test_db_upgrade_reports_the_revision(db, capsys):
    from bot.store.engine import head_revision

    assert main(["db", "upgrade"]) == 0
    assert f"-> {head_revision()}" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_unreachable_database_is_an_operator_message(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RE_BOT_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert main(["ask", "/re-remind list"]) == 1
    assert "cannot reach PostgreSQL at 127.0.0.1:1" in capsys.readouterr().err


def test_console_prints_scheduled_posts_due_while_running(db, monkeypatch, capsys):
    from datetime import UTC, datetime

    from bot import cli

    session = cli._session()
    session.services.clock = lambda: datetime(2031, 1, 6, 7, 0, tzinfo=UTC)
    out = io.StringIO()
    session.run(["/re-remind daily 08:00 UTC\n"], out)
    session.services.clock = lambda: datetime(2031, 1, 7, 8, 0, tzinfo=UTC)
    session.run(["/re-progress\n"], out)
    text = out.getvalue()
    assert "[Reminder for U-console]" in text and text.index("[Reminder for") < text.index("Your progress")


def test_tick_json_lists_the_review_dm_with_kind_review(db, capsys, monkeypatch):
    lines_in = "/re-remind daily 09:00 Europe/Berlin\n:press remind.done paper:transformer\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(lines_in))
    assert main(["ask", "--json", "-"]) == 0
    capsys.readouterr()
    assert main(["tick", "--at", "2031-01-06T07:00:00Z", "--json", "--force"]) == 0  # 08:00 in Berlin: quiet hours end
    got = lines(capsys)
    assert [(d["kind"], d["target"], d["fire_time"]) for d in got] == [
        ("review", "U-console", "2031-01-06T07:00:00+00:00")
    ]
    assert got[0]["text"].startswith("Time to review: 1 card") and "[Good]" in got[0]["text"]
    assert main(["tick", "--at", "2031-01-06T07:00:00Z", "--json", "--force"]) == 0
    assert lines(capsys) == []  # idempotent


def test_a_reminder_printed_in_the_console_has_buttons_to_press(db, monkeypatch):
    from datetime import UTC, datetime

    from bot import cli

    session = cli._session()
    session.services.clock = lambda: datetime(2031, 1, 6, 7, 0, tzinfo=UTC)
    out = io.StringIO()
    session.run(["/re-remind daily 08:00 UTC\n"], out)
    session.services.clock = lambda: datetime(2031, 1, 7, 8, 0, tzinfo=UTC)
    delivered = session.deliver_due()
    assert delivered is not None and "[Reminder for U-console]" in delivered
    assert "[Done] :press 1" in delivered, delivered  # numbered like any reply
    done = session.handle_line(":press 1")
    assert done is not None and "There is no button" not in done
    progress = session.handle_line("/re-progress")
    assert progress is not None and "study days: 1" in progress, progress  # the Done was recorded
