"""Slack installs in many workspaces: bolt's OAuth flow on slack_sdk's SQLAlchemy stores, on the bot's own database.

slack_sdk's SQLAlchemy installation and OAuth state stores are synchronous (its async variants need an async engine
and driver the bot does not otherwise use), so every call runs in a worker thread: the event loop never waits on the
database. Their tables are created by the bot's own migrations (`0005_installations`), never by `create_tables`.

`WorkspaceTokens` answers "which bot token speaks for workspace T?" in OAuth mode: that workspace's installation's
(single-workspace mode needs no such question: `SLACK_BOT_TOKEN` is the client's own). Tokens live only in the
database rows and in memory; they are never logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Protocol

from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, desc, select

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# The bot scopes an install asks for: the same as slack-manifest.yaml's (tests/slack/test_slack_manifest.py checks).
BOT_SCOPES = ("commands", "chat:write", "users:read", "channels:read", "groups:read", "mpim:read")
STATE_SECONDS = 600  # how long an install link's state stays valid (bolt's default)


class ThreadedInstallationStore(AsyncInstallationStore):
    """slack_sdk's `SQLAlchemyInstallationStore` behind the async interface bolt's `AsyncApp` needs."""

    def __init__(self, client_id: str, engine: Engine) -> None:
        self.sync = SQLAlchemyInstallationStore(client_id=client_id, engine=engine, logger=log)

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        await asyncio.to_thread(self.sync.save, installation)

    async def async_save_bot(self, bot: Bot) -> None:
        await asyncio.to_thread(self.sync.save_bot, bot)

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        return await asyncio.to_thread(
            self.sync.find_bot,
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        return await asyncio.to_thread(
            self.sync.find_installation,
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(self.sync.delete_bot, enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await asyncio.to_thread(
            self.sync.delete_installation, enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
        )

    def team_bot_token(self, team_id: str) -> str | None:
        """The newest bot token for a workspace, whatever its Enterprise Grid org (schedules keep only the team id)."""
        bots = self.sync.bots
        query = (
            select(bots.c.bot_token)
            .where(bots.c.client_id == self.sync.client_id, bots.c.team_id == team_id, bots.c.bot_token.is_not(None))
            .order_by(desc(bots.c.installed_at))
            .limit(1)
        )
        with self.sync.engine.connect() as conn:
            return conn.execute(query).scalar()


class ThreadedStateStore(AsyncOAuthStateStore):
    """slack_sdk's `SQLAlchemyOAuthStateStore` (one-use state values with an expiry) behind the async interface."""

    def __init__(self, engine: Engine, expiration_seconds: int = STATE_SECONDS) -> None:
        self.sync = SQLAlchemyOAuthStateStore(expiration_seconds=expiration_seconds, engine=engine, logger=log)

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return await asyncio.to_thread(self.sync.issue)

    async def async_consume(self, state: str) -> bool:
        return await asyncio.to_thread(self.sync.consume, state)


class WorkspaceTokens(Protocol):
    async def token(self, team: str | None) -> str | None:
        """The bot token for workspace `team`, or None when the app is not installed there."""
        ...


class InstalledTokens:
    """OAuth mode: each workspace's token from its installation (looked up off the event loop, never cached, so a
    re-install's new token is used at once by every replica)."""

    def __init__(self, store: ThreadedInstallationStore) -> None:
        self._store = store

    async def token(self, team: str | None) -> str | None:
        if not team:
            return None
        return await asyncio.to_thread(self._store.team_bot_token, team)


def oauth_flow(
    *,
    client_id: str,
    client_secret: str,
    engine: Engine,
    on_installed: Callable[[Installation], Any],
    redirect_uri: str | None = None,
) -> AsyncOAuthFlow:
    """bolt's OAuth flow: `/slack/install` issues a one-use state (stored in the database, bound to the installer's
    browser by a cookie) and links to Slack's consent page; `/slack/oauth_redirect` checks the state, exchanges the
    code with `oauth.v2.access` through the app's client (so SLACK_API_URL applies), stores the installation, then calls
    `on_installed` (which resumes the workspace's schedules) before showing bolt's success page."""

    async def success(args: AsyncSuccessArgs) -> BoltResponse:
        try:
            await on_installed(args.installation)
        except Exception:  # the install itself worked; the schedules resume at the next install or restart
            log.exception("Slack: installed in %s, but resuming its schedules failed", args.installation.team_id)
        return await args.default.success(args)

    async def failure(args: AsyncFailureArgs) -> BoltResponse:
        log.warning("Slack: an install attempt failed (%s)", args.reason)
        return await args.default.failure(args)

    settings = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(BOT_SCOPES),
        redirect_uri=redirect_uri,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        installation_store=ThreadedInstallationStore(client_id, engine),
        installation_store_bot_only=True,
        state_store=ThreadedStateStore(engine),
        state_expiration_seconds=STATE_SECONDS,
        callback_options=AsyncCallbackOptions(success=success, failure=failure),
        logger=log,
    )
    # No client of its own: bolt's AsyncApp hands the flow its client, configured for SLACK_API_URL.
    return AsyncOAuthFlow(settings=settings, logger=log)


class TargetTokens:
    """OAuth mode, for the scheduler's sends: which workspace a schedule's target (a channel or member id) is in,
    from the schedule itself, and that workspace's token."""

    def __init__(self, workspaces: Any, tokens: WorkspaceTokens) -> None:
        self._workspaces = workspaces  # bot.store.workspaces.Workspaces
        self.tokens = tokens

    async def for_target(self, kind: str, target: str) -> tuple[str | None, str | None]:
        team = await asyncio.to_thread(self._workspaces.of_target, "slack", kind, target)
        return team, await self.tokens.token(team)
