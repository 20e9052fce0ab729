"""Slack in many workspaces: bolt's real OAuth flow end to end against the fake `oauth.v2.access`, each workspace's
token chosen for what is sent there, and the lifecycle events (`app_uninstalled`, `tokens_revoked`) signed as Slack
sends them through bolt's real pipeline, on the real store (SQLite and PostgreSQL).

Slack's side of an install: the installer's browser opens `/slack/install` (bolt sets a state cookie and links to
Slack's consent page with the same state), Slack sends the browser back to `/slack/oauth_redirect?code=...&state=...`
(https://api.slack.com/authentication/oauth-v2), and the app exchanges the code with `oauth.v2.access`.
"""

from __future__ import annotations

import html
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from fake_slack import CLIENT_ID, CLIENT_SECRET, SIGNING_SECRET, FakeSlack
from slack_harness import Clock, SlackServer, make_services, serve_platform

from bot.config import Settings
from bot.platforms.slack.installs import BOT_SCOPES, INSTALL_PATH, REDIRECT_PATH
from bot.store.workspaces import REMOVED_REASONS
from handlers.store_api import REMINDER

T1, T2 = "T0ONE", "T0TWO"
TOKENS = {T1: "xoxb-1-one-SeCrEt", T2: "xoxb-2-two-SeCrEt"}
COOKIE = "slack-app-oauth-state"
REMOVED = REMOVED_REASONS["slack"]


def oauth_settings(fake: FakeSlack) -> Settings:
    return Settings(_env_file=None, SLACK_CLIENT_ID=CLIENT_ID, SLACK_CLIENT_SECRET=CLIENT_SECRET,
                    SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=fake.api_url)  # fmt: skip


@pytest.fixture
async def oauth(fake: FakeSlack, store) -> AsyncIterator[SlackServer]:
    fake.users.update({"U2": {"id": "U2", "tz": "Asia/Tokyo"}})
    clock = Clock()
    platform, runner, url = await serve_platform(oauth_settings(fake), make_services(store, clock))
    # The installer's browser: cookies are sent by hand (aiohttp's jar ignores cookies for IP addresses).
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        yield SlackServer(fake, platform, url, session, store, clock)
    await platform.stop()
    await runner.cleanup()


async def start_install(server: SlackServer) -> tuple[str, str]:
    """GET /slack/install: bolt's page linking to Slack's consent screen. Returns (state, authorize URL)."""
    async with server.session.get(server.url + INSTALL_PATH) as resp:
        assert resp.status == 200
        page = await resp.text()
        cookie = resp.headers["Set-Cookie"]
    state = cookie.split(f"{COOKIE}=", 1)[1].split(";", 1)[0]
    link = html.unescape(page.split('<a href="', 1)[1].split('"', 1)[0])
    return state, link


async def finish_install(server: SlackServer, code: str, state: str, cookie: str | None = None) -> tuple[int, str]:
    headers = {"Cookie": f"{COOKIE}={cookie or state}"} if cookie != "" else {}
    params = {"code": code, "state": state}
    async with server.session.get(server.url + REDIRECT_PATH, params=params, headers=headers) as resp:
        return resp.status, await resp.text()


async def install(server: SlackServer, team: str, name: str = "Study group") -> None:
    state, _ = await start_install(server)
    status, page = await finish_install(server, server.fake.issue_code(team, name, TOKENS[team]), state)
    assert status == 200, page


def bot_token(server: SlackServer, team: str) -> str | None:
    return server.platform.installations.team_bot_token(team)


def reminder(server: SlackServer, user: str):
    assert server.store is not None
    return server.store.api.get_schedule(REMINDER, "slack", user)


async def test_install_checks_the_state_and_stores_the_workspace_token(oauth: SlackServer):
    state, link = await start_install(oauth)
    query = parse_qs(urlsplit(link).query)
    assert link.startswith("https://slack.com/oauth/v2/authorize")
    assert query["client_id"] == [CLIENT_ID] and query["state"] == [state]
    assert query["scope"] == [",".join(BOT_SCOPES)]

    # A state the app never issued (a forged link) is refused before any code is exchanged.
    forged = oauth.fake.issue_code(T1, "Study group", TOKENS[T1])
    status, _ = await finish_install(oauth, forged, "forged-state")
    assert status == 401
    # The right state from another browser (no cookie) is refused too.
    status, _ = await finish_install(oauth, forged, state, cookie="")
    assert status == 400
    assert not oauth.fake.calls_to("oauth.v2.access") and bot_token(oauth, T1) is None

    status, page = await finish_install(oauth, forged, state)
    assert status == 200, page
    exchange = oauth.fake.calls_to("oauth.v2.access")
    assert len(exchange) == 1 and exchange[0].ok
    assert bot_token(oauth, T1) == TOKENS[T1]
    assert oauth.store is not None and oauth.store.api.workspaces.status("slack", T1) == "active"

    # A state works once: replaying the redirect is refused.
    status, _ = await finish_install(oauth, oauth.fake.issue_code(T1, "Study group", TOKENS[T1]), state)
    assert status == 401
    # A code Slack did not issue is refused after the state check.
    state, _ = await start_install(oauth)
    status, _ = await finish_install(oauth, "not-a-code", state)
    assert status == 401


async def test_each_workspace_is_answered_and_sent_to_with_its_own_token(oauth: SlackServer):
    await install(oauth, T1)
    await install(oauth, T2, "Paper club")
    status, body = await oauth.command("/re-remind", "daily 09:00", user="U1", team=T1)
    assert status == 200 and "Reminder set" in str(body)
    status, body = await oauth.command("/re-remind", "daily 09:00", user="U2", team=T2)
    assert status == 200 and "Reminder set" in str(body)
    lookups = {c.args["user"]: oauth.fake.token_of(c) for c in oauth.fake.calls_to("users.info")}
    assert lookups == {"U1": TOKENS[T1], "U2": TOKENS[T2]}  # each member's zone asked of their own workspace
    assert reminder(oauth, "U2").rule.zone == "Asia/Tokyo"

    report = await oauth.tick(datetime(2025, 3, 14, 8, 0, tzinfo=UTC))  # 09:00 Berlin
    report2 = await oauth.tick(datetime(2025, 3, 15, 0, 0, tzinfo=UTC))  # 09:00 Tokyo
    assert [r.status for r in (*report.results, *report2.results)] == ["sent", "sent"]
    sent = {c.args["channel"]: oauth.fake.token_of(c) for c in oauth.fake.calls_to("chat.postMessage")}
    assert sent == {"U1": TOKENS[T1], "U2": TOKENS[T2]}

    # One workspace's token stops working (no uninstall event yet): only that workspace waits, nobody is paused.
    oauth.fake.revoke(TOKENS[T1])
    report = await oauth.tick(datetime(2025, 3, 15, 8, 0, tzinfo=UTC))
    report2 = await oauth.tick(datetime(2025, 3, 16, 0, 0, tzinfo=UTC))
    outcome = {r.target: r.status for r in (*report.results, *report2.results)}
    assert outcome["U2"] == "sent" and outcome["U1"] != "sent"
    assert reminder(oauth, "U1").active and reminder(oauth, "U2").active


async def test_uninstall_pauses_the_workspace_and_a_reinstall_resumes_it(oauth: SlackServer, caplog):
    caplog.set_level(logging.DEBUG)
    await install(oauth, T1)
    await install(oauth, T2, "Paper club")
    await oauth.command("/re-remind", "daily 09:00", user="U1", team=T1)
    await oauth.command("/re-remind", "daily 09:00", user="U2", team=T2)

    oauth.fake.revoke(TOKENS[T1])
    status, _ = await oauth.event({"type": "app_uninstalled"}, team=T1)
    assert status == 200
    assert not reminder(oauth, "U1").active and reminder(oauth, "U1").pause_reason == REMOVED
    assert reminder(oauth, "U2").active
    assert bot_token(oauth, T1) is None  # the installation (and its token) is deleted
    assert oauth.store is not None and oauth.store.api.workspaces.status("slack", T1) == "removed"
    status, _ = await oauth.command("/re-remind", "list", user="U1", team=T1)
    assert status == 200  # bolt tells the member the app is not installed; nothing is sent with a dead token

    # tokens_revoked naming only a user token leaves the bot (and the schedules) alone...
    status, _ = await oauth.event({"type": "tokens_revoked", "tokens": {"oauth": ["UINSTALLER"]}}, team=T2)
    assert status == 200 and reminder(oauth, "U2").active and bot_token(oauth, T2) == TOKENS[T2]
    # ...a revoked bot token stops the workspace like an uninstall.
    status, _ = await oauth.event({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}, team=T2)
    assert status == 200 and reminder(oauth, "U2").pause_reason == REMOVED and bot_token(oauth, T2) is None

    report = await oauth.tick(datetime(2025, 3, 14, 8, 0, tzinfo=UTC))
    assert report.results == [] and not oauth.fake.calls_to("chat.postMessage")

    await install(oauth, T1)  # a new token for the same workspace
    assert reminder(oauth, "U1").active and reminder(oauth, "U1").pause_reason is None
    assert not reminder(oauth, "U2").active
    report = await oauth.tick(datetime(2025, 3, 15, 8, 0, tzinfo=UTC))
    assert [(r.target, r.status) for r in report.results] == [("U1", "sent")]

    async with oauth.session.get(oauth.url + "/metrics") as resp:
        metrics = await resp.text()
    for token in (*TOKENS.values(), CLIENT_SECRET, SIGNING_SECRET):
        assert token not in caplog.text and token not in metrics


async def test_single_workspace_mode_pauses_on_uninstall_and_resumes_on_start(slack: SlackServer):
    status, _ = await slack.command("/re-remind", "daily 09:00", user="U1")
    assert status == 200
    status, _ = await slack.event({"type": "app_uninstalled"})
    assert status == 200
    assert reminder(slack, "U1").pause_reason == REMOVED
    await slack.platform.start()  # started again with a token for the workspace (re-installed)
    assert reminder(slack, "U1").active
