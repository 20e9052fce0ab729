"""The bolt `AsyncApp` and its listeners: slash commands, buttons and the App Home tab, all through `handlers`.

Slack payload in -> `Invocation` -> `handlers.dispatch` / `run_action` -> `Reply` -> Block Kit out. Nothing here
decides what to answer; it only decides where the answer goes (HTTP response, response_url, Web API, Home tab).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_sdk.web.async_client import AsyncWebClient

from bot.ops.observed import act, answer, finished_within
from bot.platforms.share_ledger import ledger_for
from bot.platforms.slack.client import configure
from bot.platforms.slack.events import EventScreen
from bot.platforms.slack.installs import WorkspaceTokens
from bot.platforms.slack.members import MemberDirectory
from bot.platforms.slack.render import HOME_BLOCKS_MAX, action_name, message, reply_blocks, updated_message
from bot.platforms.slack.share import share
from handlers import COMMANDS, Invocation, Reply, Services
from handlers.study import done_button, shown_item

log = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong on my side. It has been logged; please try again."
# Slack wants the HTTP answer to a slash command within 3 s of sending it. Work that finishes within this budget is
# answered in the HTTP response itself; slower work is acknowledged empty at this point and answered by response_url.
DIRECT_BUDGET = 1.5
# What the App Home tab shows, in order: each is a command a member could type, so Home and chat never disagree.
# Commands not registered (yet) are left out.
HOME_COMMANDS: tuple[tuple[str, str], ...] = (
    ("re-remind", "list"),
    ("re-progress", ""),
    ("re-paper", "today"),
    ("re-prompt", "today"),
)
# Buttons of a reminder DM: pressed there, they update that message in place (keeping its buttons or not) instead of
# answering with a new one, so the DM history reads "step ... Done, streak 3".
IN_PLACE_ACTIONS: dict[str, bool] = {"remind.done": False, "remind.snooze": True}
# Buttons that belong to one section of a message (a review card's ratings): the result replaces that row only, so
# the other cards stay to be rated; never the whole message.
ROW_ACTION_FAMILIES = ("review.",)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


class SlackBot:
    """The listeners, with what they share: the services, the member directory and the clock."""

    def __init__(
        self,
        services: Services,
        members: MemberDirectory,
        clock: Callable[[], datetime] | None = None,
        direct_budget: float = DIRECT_BUDGET,
    ):
        self.services = services
        self.members = members
        self.clock = clock or services.clock
        self.direct_budget = direct_budget
        self.shares = ledger_for(services.store, services.clock)  # in the database when there is one
        self._background: set[asyncio.Task[None]] = set()

    def after_ack(self, work: Coroutine[Any, Any, None], what: str) -> None:
        """Run `work` after the listener returns, so Slack gets its ack (and the answer) at once. Tracked, so
        `drain` can let it finish at shutdown, and logged, so a failure is never silent."""

        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("%s failed", what)

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self, timeout: float = 10.0) -> None:
        if self._background:
            await asyncio.wait(set(self._background), timeout=timeout)

    async def invocation(self, command: str, text: str, user: str, channel: str, team: str | None) -> Invocation:
        """The member's command with what Slack knows: their zone and, for commands that change a channel, whether
        they may and whether the bot can post there (both lookups at once, under one budget)."""
        spec = COMMANDS.get(command.lower())
        admin = bool(spec and spec.admin)
        found = await self.members.lookup(user, channel, team or "", channel_facts=admin)
        return Invocation(
            command=command,
            text=text,
            user=user,
            channel=channel,
            platform="slack",
            tz=found.tz,
            can_manage_channel=found.can_manage if admin else False,
            cannot_post=found.cannot_post if admin else None,
            workspace_admin=found.member.is_admin if found.member else None,
            workspace=team,
            now=self.clock(),
        )

    # -- slash commands -------------------------------------------------------------------------------------------

    async def on_command(
        self, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        """Quick work is answered in the HTTP response itself (ack with blocks); work that is not done within the
        direct budget (a slow database, a slow Slack lookup) is acknowledged empty at once and answered by
        response_url when it is ready. Followups always go by response_url."""
        name = _text(command.get("command")).lstrip("/")
        user, channel = _text(command.get("user_id")), _text(command.get("channel_id"))
        work = asyncio.ensure_future(self._command_reply(name, command))
        if not await finished_within(work, self.direct_budget):
            await ack()
            self.after_ack(self._answer_later(name, work, respond, client, channel, user), f"slash command /{name}")
            return
        try:
            reply = work.result()
            await ack(response_type="ephemeral" if reply.ephemeral else "in_channel", **message(reply))
        except Exception:
            log.exception("slash command /%s failed", name)
            await ack(text=SORRY, response_type="ephemeral")
            return
        if reply.followups:
            self.after_ack(self._followups(respond, reply), f"followups of /{name}")

    async def _command_reply(self, name: str, command: dict[str, Any]) -> Reply:
        inv = await self.invocation(
            name,
            _text(command.get("text")).strip(),
            _text(command.get("user_id")),
            _text(command.get("channel_id")),
            _text(command.get("team_id")) or None,
        )
        return await answer(inv, self.services)

    async def _answer_later(
        self,
        name: str,
        work: asyncio.Future[Reply],
        respond: AsyncRespond,
        client: AsyncWebClient,
        channel: str,
        user: str,
    ) -> None:
        try:
            reply = await work
        except Exception:
            log.exception("slash command /%s failed", name)
            await respond(text=SORRY, response_type="ephemeral")
            return
        await self._respond(respond, reply, public=not reply.ephemeral, client=client, channel=channel, user=user)
        await self._followups(respond, reply)

    async def _followups(self, respond: AsyncRespond, reply: Reply) -> None:
        for followup in reply.followups:
            await self._respond(respond, followup, public=not reply.ephemeral)

    # -- buttons ----------------------------------------------------------------------------------------------------

    async def on_action(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        self.after_ack(self._run_action(body, action, respond, client), f"button {action.get('action_id')}")

    async def _run_action(
        self, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        name = action_name(_text(action.get("action_id")))
        value = _text(action.get("value")) or _text((action.get("selected_option") or {}).get("value"))
        user = _text((body.get("user") or {}).get("id"))
        container = body.get("container") or {}
        channel = _text((body.get("channel") or {}).get("id")) or _text(container.get("channel_id"))
        team = _text((body.get("team") or {}).get("id")) or _text((body.get("user") or {}).get("team_id")) or None
        family = name.partition(".")[0]
        inv = await self.invocation(f"re-{family}", "", user, channel, team)

        async def deliver(reply: Reply) -> Reply:
            """Put the result where it belongs; returns what to count (a share that could not be posted fails)."""
            if container.get("type") == "view":  # a button on the App Home tab: show the result there
                await self.publish_home(client, user, team, notice=reply)
                return reply
            original = body.get("message")
            if name.startswith(ROW_ACTION_FAMILIES):
                row = _text(action.get("block_id"))
                if row and isinstance(original, dict) and not (reply.error or reply.failed):
                    updated = updated_message(original, reply, keep_buttons=True, row=row)
                    if updated is not None:
                        ts = _text(container.get("message_ts")) or _text(original.get("ts"))
                        await self._replace(respond, updated, client, channel, ts)
                        return reply
                await self._respond(respond, reply, public=False, client=client, channel=channel, user=user)
                return reply
            if name in IN_PLACE_ACTIONS and isinstance(original, dict) and not (reply.error or reply.failed):
                updated = updated_message(original, reply, keep_buttons=IN_PLACE_ACTIONS[name])
                if updated is not None:
                    ts = _text(container.get("message_ts")) or _text(original.get("ts"))
                    await self._replace(respond, updated, client, channel, ts)
                    return reply
            if not reply.ephemeral:  # "Share in channel": one new public message, credited to the member
                key = ("slack", team or "", channel, _text(container.get("message_ts")) or user, name, value)
                return await share(self.shares, key, reply, respond, client, channel, user,
                                   private_copy=bool(container.get("is_ephemeral")))  # fmt: skip
            # The member's own ephemeral message is replaced; a public message (a channel post) stays for everyone
            # and the member gets the result privately.
            replace_original = bool(container.get("is_ephemeral"))
            await self._respond(respond, reply, public=False, replace_original=replace_original, client=client,
                                channel=channel, user=user)  # fmt: skip
            return reply

        await act(name, value, inv, self.services, deliver=deliver)

    async def _respond(
        self,
        respond: AsyncRespond,
        reply: Reply,
        *,
        public: bool,
        replace_original: bool = False,
        client: AsyncWebClient | None = None,
        channel: str = "",
        user: str = "",
    ) -> None:
        """Answer through response_url; when there is none (or it expired), through the Web API."""
        payload = message(reply)
        if respond.response_url:
            resp = await respond(
                response_type="in_channel" if public else "ephemeral",
                replace_original=replace_original,
                **payload,
            )
            if resp.status_code == 200:
                return
            log.warning("response_url answered %s: %s; falling back to the Web API", resp.status_code, resp.body)
        if client is None or not channel:
            return
        if public:
            await client.chat_postMessage(channel=channel, **payload)
        elif user:
            await client.chat_postEphemeral(channel=channel, user=user, **payload)

    async def _replace(
        self, respond: AsyncRespond, payload: dict[str, Any], client: AsyncWebClient, channel: str, ts: str
    ) -> None:
        """Replace the message a button was pressed on: through response_url, else (expired) with chat.update."""
        if respond.response_url:
            resp = await respond(replace_original=True, **payload)
            if resp.status_code == 200:
                return
            log.warning("response_url answered %s: %s; updating through the Web API", resp.status_code, resp.body)
        if channel and ts:
            await client.chat_update(channel=channel, ts=ts, **payload)

    # -- App Home -----------------------------------------------------------------------------------------------------

    async def on_home_opened(self, event: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        user = _text(event.get("user"))
        self.after_ack(self.publish_home(client, user, context.get("team_id")), f"App Home for {user}")

    async def home_view(self, user: str, team: str | None, notice: Reply | None = None) -> dict[str, Any]:
        blocks: list[dict[str, Any]] = []
        if notice is not None:
            blocks += reply_blocks(notice, 20)
            blocks.append({"type": "divider"})
        for command, text in HOME_COMMANDS:
            if command not in COMMANDS:
                continue
            inv = await self.invocation(command, text, user, "", team)
            reply = await answer(inv, self.services)
            item = shown_item(reply) if self.services.store is not None else None
            if item:  # today's paper and prompt: mark them done from Home
                reply = replace(reply, buttons=(done_button(item), *reply.buttons))
            room = HOME_BLOCKS_MAX - len(blocks) - 1
            if room < 3:
                break
            blocks += reply_blocks(replace(reply, shared_by=None), min(room, 30))
            blocks.append({"type": "divider"})
        if blocks and blocks[-1]["type"] == "divider":
            blocks.pop()
        return {"type": "home", "blocks": blocks[:HOME_BLOCKS_MAX]}

    async def publish_home(
        self, client: AsyncWebClient, user: str, team: str | None, notice: Reply | None = None
    ) -> None:
        await client.views_publish(user_id=user, view=await self.home_view(user, team, notice))


def build_app(
    services: Services,
    *,
    token: str | None,
    signing_secret: str | None,
    api_url: str | None = None,
    members: MemberDirectory | None = None,
    clock: Callable[[], datetime] | None = None,
    oauth_flow: AsyncOAuthFlow | None = None,
    tokens: WorkspaceTokens | None = None,
    direct_budget: float = DIRECT_BUDGET,
) -> tuple[AsyncApp, SlackBot]:
    """A bolt app answering every registered command and action. With no signing secret (Socket Mode), requests are
    not signature-checked: they arrive over the app's own authenticated WebSocket.

    With `oauth_flow` (many workspaces) there is no `token`: bolt finds each request's workspace token in the
    installation store, and `tokens` gives the member directory the same."""
    authorize = None
    if oauth_flow is not None:
        settings = oauth_flow.settings
        # bolt's default calls auth.test on every request; the result for a token never changes, so cache it.
        authorize = AsyncInstallationStoreAuthorize(
            installation_store=settings.installation_store,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            bot_only=True,
            cache_enabled=True,
            logger=log,
        )
    app = AsyncApp(
        token=token,
        signing_secret=signing_secret or "",
        request_verification_enabled=bool(signing_secret),
        # Answer as soon as the listener returns, instead of bolt polling every 10 ms for the ack; listeners hand
        # anything slow to `SlackBot.after_ack`.
        process_before_response=True,
        oauth_flow=oauth_flow,
        # Given, so bolt does not build default OAuth settings of its own from SLACK_CLIENT_ID in the environment.
        oauth_settings=oauth_flow.settings if oauth_flow is not None else None,
        authorize=authorize,
        name="re-bot",
    )
    configure(app.client, api_url)  # bolt's own client, so listeners' `client` and the Sender share one setup
    bot = SlackBot(services, members or MemberDirectory(app.client, tokens=tokens), clock, direct_budget)
    app.use(EventScreen().middleware)  # app_rate_limited and retried events, before any listener
    app.command(re.compile(r"^/.+"))(bot.on_command)
    app.action(re.compile(r".+"))(bot.on_action)
    app.event("app_home_opened")(bot.on_home_opened)
    return app, bot
