"""Metrics recorded by the observe_* calls and by every command that passes bot.ops.observed."""

from __future__ import annotations

import pytest

from bot.cli import load_services
from bot.config import Settings
from bot.ops import metrics
from bot.ops.metrics import REGISTRY, observe_delivery, observe_rate_limit, observe_tick
from bot.platforms.console import ConsoleSession
from handlers import Invocation, Reply, registry


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture(scope="module")
def services():
    return load_services(Settings(_env_file=None))


def test_commands_counted_by_platform_command_and_outcome(services):
    session = ConsoleSession(services=services)
    ok = value("re_bot_commands_total", platform="console", command="re-faq", outcome="ok")
    suggested = value("re_bot_faq_misses_total", platform="console", kind="suggested")
    none = value("re_bot_faq_misses_total", platform="console", kind="none")
    miss = value("re_bot_commands_total", platform="console", command="re-faq", outcome="miss")
    unknown = value("re_bot_commands_total", platform="console", command="unknown", outcome="error")
    timed = value("re_bot_command_duration_seconds_count", platform="console", command="re-faq")

    session.handle_line("/re-faq phd")
    session.handle_line("/re-faq qwxzv plmkj")  # nothing close
    session.handle_line("/re-does-not-exist-123")

    assert value("re_bot_commands_total", platform="console", command="re-faq", outcome="ok") == ok + 1
    assert value("re_bot_commands_total", platform="console", command="re-faq", outcome="miss") == miss + 1
    assert (value("re_bot_faq_misses_total", platform="console", kind="suggested") - suggested) + (
        value("re_bot_faq_misses_total", platform="console", kind="none") - none
    ) == 1
    # What a member types never becomes a label: unknown commands share one series.
    assert value("re_bot_commands_total", platform="console", command="unknown", outcome="error") == unknown + 1
    assert value("re_bot_command_duration_seconds_count", platform="console", command="re-faq") == timed + 2


def test_a_failing_handler_is_counted_as_failed_not_as_a_member_error(services, monkeypatch):
    def broken(inv, services):
        raise RuntimeError("bug")

    spec = registry.COMMANDS["re-prompt"]
    monkeypatch.setitem(registry.COMMANDS, "re-prompt", spec.__class__(**{**spec.__dict__, "handler": broken}))
    before = value("re_bot_commands_total", platform="slack", command="re-prompt", outcome="failed")
    from bot.ops.observed import dispatch

    reply = dispatch(Invocation(command="re-prompt", platform="slack"), services)
    assert reply.failed and reply.error
    assert value("re_bot_commands_total", platform="slack", command="re-prompt", outcome="failed") == before + 1


def test_button_presses_are_counted(services):
    from bot.ops.observed import run_action

    before = value("re_bot_commands_total", platform="discord", command="button:faq.show", outcome="ok")
    reply = run_action("faq.show", "phd", Invocation(command="re-faq", platform="discord"), services)
    assert reply.topic == "phd"
    assert value("re_bot_commands_total", platform="discord", command="button:faq.show", outcome="ok") == before + 1


def test_deliveries_sent_failed_retried():
    labels = {"platform": "slack", "kind": "reminder"}
    sent = value("re_bot_deliveries_total", **labels, outcome="sent")
    failed = value("re_bot_deliveries_total", **labels, outcome="failed")
    retried = value("re_bot_delivery_retries_total", **labels)
    observe_delivery("slack", "reminder", "retried", 0.1, target="U1", attempt=1)
    observe_delivery("slack", "reminder", "sent", 0.1, target="U1", attempt=2)
    observe_delivery("slack", "reminder", "failed", target="U2", reason="cannot_dm_bot")
    assert value("re_bot_deliveries_total", **labels, outcome="sent") == sent + 1
    assert value("re_bot_deliveries_total", **labels, outcome="failed") == failed + 1
    assert value("re_bot_delivery_retries_total", **labels) == retried + 1
    with pytest.raises(ValueError):
        observe_delivery("slack", "reminder", "lost")


def test_rate_limit_waits_tick_and_backlog():
    waits = value("re_bot_rate_limit_waits_total", platform="discord")
    seconds = value("re_bot_rate_limit_wait_seconds_total", platform="discord")
    ticks = value("re_bot_tick_duration_seconds_count")
    observe_rate_limit("discord", 1.5)
    observe_tick(0.2, delivered=3, backlog=12)
    assert value("re_bot_rate_limit_waits_total", platform="discord") == waits + 1
    assert value("re_bot_rate_limit_wait_seconds_total", platform="discord") == seconds + 1.5
    assert value("re_bot_tick_duration_seconds_count") == ticks + 1
    assert value("re_bot_due_backlog") == 12
    observe_tick(0.1, backlog=0)
    assert value("re_bot_due_backlog") == 0


def test_preinit_creates_zero_series_for_connected_platforms():
    metrics.preinit(["discord"])
    assert (
        REGISTRY.get_sample_value(
            "re_bot_commands_total", {"platform": "discord", "command": "re-help", "outcome": "ok"}
        )
        is not None
    )


def test_outcomes():
    assert metrics.command_outcome("re-faq", Reply(command="re-faq", topic="phd")) == "ok"
    assert metrics.command_outcome("re-faq", Reply(command="re-faq")) == "ok"  # the topic list
    assert metrics.command_outcome("re-faq", Reply(command="re-faq", suggestions=("phd",))) == "miss"
    assert metrics.command_outcome("re-remind", Reply(command="re-remind", error=True)) == "error"
    assert metrics.command_outcome("re-remind", Reply(command="re-remind", error=True, failed=True)) == "failed"


def test_handlers_do_not_import_prometheus():
    import pathlib

    for path in (pathlib.Path(__file__).parents[1] / "handlers").glob("*.py"):
        assert "prometheus" not in path.read_text(), path
