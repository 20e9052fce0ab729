"""The app's lifecycle in a Slack workspace: `app_uninstalled` and `tokens_revoked` stop what the bot would send there.

Payloads, as Slack sends them inside an `event_callback` envelope that carries `team_id` (and `enterprise_id` on
Enterprise Grid): https://api.slack.com/events/app_uninstalled is `{"type": "app_uninstalled"}`;
https://api.slack.com/events/tokens_revoked is `{"type": "tokens_revoked", "tokens": {"oauth": [user ids],
"bot": [bot user ids]}}` (also in slackapi/bolt-python tests/scenario_tests_async/test_events_token_revocations.py).
bolt skips `auth.test` for both (the token is already gone), so they reach these listeners in either mode.

Either event pauses the workspace's schedules (kept, with the reason "the app was removed from this workspace") and
deletes its installation (OAuth mode); a re-install (OAuth mode), or a start with a token for that workspace (single-
workspace mode), resumes them. A `tokens_revoked` that names only user tokens leaves the bot working: only those
installations are deleted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore

log = logging.getLogger(__name__)


class Lifecycle:
    """The listeners, with the store (`SqlStore.workspaces`, may be None) and installation store (OAuth mode)."""

    def __init__(
        self, workspaces: Any, installations: AsyncInstallationStore | None, clock: Callable[[], datetime]
    ) -> None:
        self.workspaces = workspaces
        self.installations = installations
        self.clock = clock

    async def removed(self, team: str | None, enterprise: str | None, what: str) -> None:
        if self.installations is not None:
            await self.installations.async_delete_all(enterprise_id=enterprise, team_id=team)
        if self.workspaces is None or not team:
            return
        paused = await asyncio.to_thread(self.workspaces.removed, "slack", team, now=self.clock())
        log.warning("Slack: %s in workspace %s; %d schedule(s) paused until it is installed again", what, team, paused)

    async def installed(self, team: str | None, name: str | None) -> None:
        if self.workspaces is None or not team:
            return
        resumed = await asyncio.to_thread(self.workspaces.installed, "slack", team, now=self.clock(), name=name)
        if resumed:
            log.warning("Slack: installed in workspace %s again; %d schedule(s) resumed", team, resumed)

    async def on_app_uninstalled(self, context: dict[str, Any]) -> None:
        await self.removed(context.get("team_id"), context.get("enterprise_id"), "the app was uninstalled")

    async def on_tokens_revoked(self, event: dict[str, Any], context: dict[str, Any]) -> None:
        team, enterprise = context.get("team_id"), context.get("enterprise_id")
        tokens = event.get("tokens") or {}
        if self.installations is not None:
            for user in tokens.get("oauth") or []:
                await self.installations.async_delete_installation(enterprise_id=enterprise, team_id=team, user_id=user)
        if tokens.get("bot"):
            await self.removed(team, enterprise, "the bot token was revoked")

    def register(self, app: AsyncApp) -> None:
        app.event("app_uninstalled")(self.on_app_uninstalled)
        app.event("tokens_revoked")(self.on_tokens_revoked)
