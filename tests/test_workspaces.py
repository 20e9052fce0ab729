"""Workspaces and servers on each backend: removal pauses (and skips what is pending), re-adding resumes only what
removal paused, channel deletion, server defaults (`/re-admin zone`, `/re-admin channel`), and the migration's
Slack tables matching what slack_sdk's SQLAlchemy stores expect."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, select
from test_schedules import run, text_of, ticker

from bot.store.models import Base, Delivery, Schedule
from bot.store.workspaces import CHANNEL_DELETED, REMOVED_REASONS
from handlers import Invocation, dispatch
from handlers.store_api import CHANNEL_POST, REMINDER

T0 = datetime(2025, 1, 6, 6, 0, tzinfo=UTC)  # a Monday


def admin(services, text: str, *, workspace="G1", manager=True, platform="discord", channel="100", user="U1"):
    inv = Invocation(command="re-admin", text=text, user=user, channel=channel, platform=platform,
                     workspace=workspace, workspace_admin=manager, now=T0)  # fmt: skip
    return dispatch(inv, services)


def member(services, line: str, *, user: str, workspace="G1", channel="100", manage=False, now=T0):
    command, _, text = line.lstrip("/").partition(" ")
    inv = Invocation(command=command, text=text, user=user, channel=channel, platform="discord",
                     workspace=workspace, can_manage_channel=manage, now=now)  # fmt: skip
    return dispatch(inv, services)


def schedules(store) -> dict[tuple[str, str], Schedule]:
    with store.sessions() as session:
        return {(s.kind, s.target): s for s in session.scalars(select(Schedule))}


def test_the_migration_creates_the_tables_slack_sdk_stores_use_and_the_models(store):
    """`re-bot db upgrade` creates exactly what our models and slack_sdk's SQLAlchemy stores declare."""
    expected = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(expected)
    SQLAlchemyInstallationStore.build_installations_table(expected, "slack_installations")
    SQLAlchemyInstallationStore.build_bots_table(expected, "slack_bots")
    SQLAlchemyOAuthStateStore.build_oauth_states_table(expected, "slack_oauth_states")
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), expected)
    assert diff == []


def test_removal_pauses_the_servers_subscriptions_keeps_dms_and_readding_resumes(store, store_services, content):
    s = store_services
    assert not member(s, "/re-subscribe papers 09:00 UTC", user="M1", channel="100", manage=True).error
    assert not member(s, "/re-subscribe papers 10:00 UTC", user="M1", channel="200", manage=True).error
    assert not member(s, "/re-remind daily 08:00 UTC", user="U7").error
    assert not member(s, "/re-subscribe papers 09:00 UTC", user="M2", channel="900", workspace="G2", manage=True).error
    # One subscription was already paused for its own reason: re-adding the bot must not resume it.
    store.api.pause_schedule(CHANNEL_POST, "discord", "200", now=T0, until=None, reason="paused by a manager")
    # Something already due sits in the outbox for channel 100.
    t = ticker(store, content, senders={})
    asyncio.run(t.tick(datetime(2025, 1, 6, 9, 0, tzinfo=UTC)))

    paused = store.api.workspaces.removed("discord", "G1", now=T0 + timedelta(hours=3), kinds=(CHANNEL_POST,))
    assert paused == 1
    rows = schedules(store)
    assert rows[(CHANNEL_POST, "100")].status == "paused"
    assert rows[(CHANNEL_POST, "100")].pause_reason == REMOVED_REASONS["discord"]
    assert rows[(CHANNEL_POST, "200")].pause_reason == "paused by a manager"
    assert rows[(REMINDER, "U7")].status == "active"  # DMs are not tied to the server
    assert rows[(CHANNEL_POST, "900")].status == "active"  # another server
    with store.sessions() as session:
        statuses = {d.target: (d.status, d.last_error) for d in session.scalars(select(Delivery))}
    assert statuses["100"] == ("skipped", REMOVED_REASONS["discord"])
    shown = member(s, "/re-subscribe", user="M1", channel="100")
    assert REMOVED_REASONS["discord"] in text_of(shown)

    later = datetime(2025, 1, 8, 12, 0, tzinfo=UTC)
    assert store.api.workspaces.installed("discord", "G1", now=later, name="Study group") == 1
    rows = schedules(store)
    assert rows[(CHANNEL_POST, "100")].status == "active"
    assert rows[(CHANNEL_POST, "100")].next_fire_at == datetime(2025, 1, 9, 9, 0, tzinfo=UTC)
    assert rows[(CHANNEL_POST, "200")].status == "paused"

    summary = {w.workspace: w for w in store.api.workspaces.summary()}
    assert summary["G1"].status == "active" and summary["G1"].name == "Study group"
    assert (summary["G1"].reminders, summary["G1"].subscriptions, summary["G1"].paused) == (1, 2, 1)
    assert summary["G2"].status == "unknown" and summary["G2"].subscriptions == 1


def test_a_deleted_channel_pauses_its_subscription_at_once(store, store_services):
    assert not member(store_services, "/re-subscribe papers 09:00 UTC", user="M1", channel="300", manage=True).error
    assert store.api.workspaces.channel_gone("discord", "300", now=T0) is True
    assert store.api.workspaces.channel_gone("discord", "301", now=T0) is False
    row = schedules(store)[(CHANNEL_POST, "300")]
    assert (row.status, row.pause_reason) == ("paused", CHANNEL_DELETED)


def test_admin_zone_is_the_default_for_members_without_one(store, store_services):
    s = store_services
    asked = member(s, "/re-remind daily 09:00", user="U1")
    assert asked.error and "time zone" in text_of(asked)
    refused = admin(s, "zone Europe/Berlin", manager=False)
    assert refused.error and "manage the server" in text_of(refused)
    assert admin(s, "zone Mars/Olympus").error
    done = admin(s, "zone europe/berlin")
    assert not done.error and "Europe/Berlin" in text_of(done)
    assert "Europe/Berlin" in text_of(admin(s, "zone"))

    reply = member(s, "/re-remind daily 09:00", user="U1")
    assert not reply.error, text_of(reply)
    assert schedules(store)[(REMINDER, "U1")].zone == "Europe/Berlin"
    assert store.api.member_zone("discord", "U1") is None  # the server's default is not recorded as the member's
    # A member's own zone comes first; another server has no default.
    assert not member(s, "/re-remind daily 09:00 Asia/Tokyo", user="U2").error
    assert schedules(store)[(REMINDER, "U2")].zone == "Asia/Tokyo"
    assert member(s, "/re-remind daily 09:00", user="U3", workspace="G9").error
    assert not admin(s, "zone off").error
    assert member(s, "/re-remind daily 09:00", user="U4").error


def test_admin_channel_subscribes_another_channel(store, store_services):
    s = store_services
    reply = admin(s, "channel <#555> papers 09:30 UTC weekdays", channel="100")
    assert not reply.error, text_of(reply)
    assert reply.ephemeral and "555" in text_of(reply)
    row = schedules(store)[(CHANNEL_POST, "555")]
    assert (row.hour, row.minute, row.zone, row.workspace) == (9, 30, "UTC", "G1")
    assert (CHANNEL_POST, "100") not in schedules(store)
    assert "09:30" in text_of(admin(s, "channel <#555>"))
    slack = admin(s, "channel <#C0SLACK1|papers> papers 08:00 UTC", platform="slack", workspace="T1")
    assert not slack.error, text_of(slack)
    assert (CHANNEL_POST, "C0SLACK1") in schedules(store)
    assert "not a channel" in text_of(admin(s, "channel general papers 09:00"))
    assert admin(s, "channel").error
    assert admin(s, "channel <#555> papers 09:30", manager=False).error
    off = admin(s, "channel <#555> off")
    assert not off.error and (CHANNEL_POST, "555") not in schedules(store)


def test_admin_unknown_tool_lists_them_all(store_services):
    unknown = admin(store_services, "frobnicate")
    assert unknown.error and all(f"/re-admin {name}" in text_of(unknown) for name in ("report", "zone", "channel"))
    console = run(store_services, "/re-admin zone UTC")  # the console has no workspace
    assert console.error


def test_servers_that_removed_the_bot_while_it_was_offline_are_found(store, store_services):
    workspaces = store.api.workspaces
    workspaces.installed("discord", "G1", now=T0)
    workspaces.installed("discord", "G2", now=T0)
    assert not member(store_services, "/re-subscribe papers 09:00 UTC", user="M1", channel="100", manage=True).error
    assert workspaces.reconcile("discord", ["G2"], now=T0) == ["G1"]
    row = schedules(store)[(CHANNEL_POST, "100")]
    assert (row.status, row.pause_reason) == ("paused", REMOVED_REASONS["discord"])
    assert workspaces.reconcile("discord", ["G2"], now=T0) == []  # already known to be removed
    assert workspaces.status("discord", "G2") == "active"


def test_a_review_dms_workspace_is_its_members_reminders(store):
    """A review DM goes out with the token of its member's reminder's workspace, which its own schedule records,
    whether the reminder or the first card came first."""
    from handlers.schedule import Rule

    store.api.put_schedule(REMINDER, "slack", "U1", Rule(9, 0, "UTC"), now=T0, created_by="U1", workspace="T1")
    assert store.api.add_card("slack", "U1", "paper:adam", now=T0)
    assert store.api.add_card("slack", "U3", "paper:adam", now=T0)
    store.api.put_schedule(REMINDER, "slack", "U3", Rule(9, 0, "UTC"), now=T0, created_by="U3", workspace="T2")
    assert store.api.workspaces.of_target("slack", "review", "U1") == "T1"
    assert store.api.workspaces.of_target("slack", REMINDER, "U1") == "T1"
    assert store.api.workspaces.of_target("slack", "review", "U3") == "T2"
    assert store.api.workspaces.of_target("slack", REMINDER, "U2") is None


LEGACY = [  # (kind, target, workspace): review schedules written before they took the reminder's workspace
    ("reminder", "U1", "T1"), ("review", "U1", None),  # filled from the reminder
    ("review", "U2", None),  # no reminder: stays empty
    ("reminder", "U3", "T1"), ("review", "U3", "T9"),  # already has one: kept
    ("channel-post", "C1", None),  # not a review: untouched
]  # fmt: skip


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_migration_gives_older_review_schedules_their_reminders_workspace_once(backend, tmp_path, request):
    from alembic import command
    from sqlalchemy import insert

    from bot.store.engine import _alembic_config, make_engine

    url = f"sqlite:///{tmp_path}/old.db" if backend == "sqlite" else request.getfixturevalue("private_pg")[2]
    engine = make_engine(url)
    cfg = _alembic_config()

    def migrate(how, to: str) -> None:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            how(cfg, to)

    try:
        migrate(command.upgrade, "0006_shared_posts")
        with engine.begin() as conn:
            conn.execute(insert(Schedule), [
                {"kind": kind, "platform": "slack", "target": target, "workspace": workspace, "days": "mon",
                 "hour": 9, "minute": 0, "zone": "UTC", "status": "active", "next_fire_at": T0, "created_by": target,
                 "created_at": T0, "updated_at": T0}
                for kind, target, workspace in LEGACY
            ])  # fmt: skip
        expected = {("review", "U1"): "T1", ("review", "U2"): None, ("review", "U3"): "T9",
                    ("reminder", "U1"): "T1", ("reminder", "U3"): "T1", ("channel-post", "C1"): None}  # fmt: skip
        for _ in range(2):  # upgraded, then down and up again: the same
            migrate(command.upgrade, "head")
            with engine.connect() as conn:
                found = {
                    (k, t): w for k, t, w in conn.execute(select(Schedule.kind, Schedule.target, Schedule.workspace))
                }
            assert found == expected
            migrate(command.downgrade, "0006_shared_posts")
    finally:
        engine.dispose()
