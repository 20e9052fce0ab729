"""The Slack platform for `re-bot run`: the bolt app served on the shared aiohttp server (HTTP mode) or over
Socket Mode when `SLACK_APP_TOKEN` is set, plus the `Sender` the scheduler delivers through."""

from __future__ import annotations

import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.signature import SignatureVerifier

from bot.config import Settings
from bot.errors import StartupError
from bot.platforms.slack.app import build_app
from bot.platforms.slack.client import http_session
from bot.platforms.slack.installs import INSTALL_PATH, REDIRECT_PATH, InstalledTokens, TargetTokens, oauth_flow
from bot.platforms.slack.lifecycle import Lifecycle
from bot.platforms.slack.sender import SlackSender
from handlers import Services

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


class SlackConfigError(StartupError):
    """The operator's Slack settings do not work (bad token, unreachable API): start-up stops with this message."""


def _bad_request(status: int, error: str) -> web.Response:
    return web.json_response({"error": error}, status=status)


class SlackPlatform:
    name = "slack"
    started = False  # True once auth.test passed (and, in Socket Mode, the socket is open)

    def __init__(self, settings: Settings, services: Services, web_app: web.Application) -> None:
        secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
        app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
        store = services.store  # SqlStore, or None (no database)
        self.oauth = None
        self.installations = None
        tokens = targets = None
        if settings.slack_oauth:  # many workspaces: each one's token comes with its install
            assert settings.slack_client_id is not None and settings.slack_client_secret is not None
            if store is None:
                raise SlackConfigError("re-bot: Slack installs in many workspaces need the database")
            self.oauth = oauth_flow(
                client_id=settings.slack_client_id,
                client_secret=settings.slack_client_secret.get_secret_value(),
                engine=store.engine,
                on_installed=self._installed,
            )
            self.installations = self.oauth.settings.installation_store
            tokens = InstalledTokens(self.installations)
            targets = TargetTokens(store.workspaces, tokens)
            token = None
        else:
            assert settings.slack_bot_token is not None
            token = settings.slack_bot_token.get_secret_value()
        self.app, self.bot = build_app(
            services,
            token=token,
            signing_secret=None if app_token else secret,
            api_url=settings.slack_api_url,
            oauth_flow=self.oauth,
            tokens=tokens,
        )
        self.lifecycle = Lifecycle(store.workspaces if store is not None else None, self.installations, services.clock)
        self.lifecycle.register(self.app)
        self.client = self.app.client
        self.sender = SlackSender(self.client, targets=targets)
        self.socket: AsyncSocketModeHandler | None = None
        # Only HTTP mode verifies signatures: Socket Mode needs no signing secret (slack_sdk refuses an empty one).
        self._verifier: SignatureVerifier | None = None
        if app_token:
            self.socket = AsyncSocketModeHandler(self.app, app_token, web_client=self.client)
        else:
            assert secret, "Settings requires SLACK_SIGNING_SECRET without SLACK_APP_TOKEN"
            self._verifier = SignatureVerifier(secret)
            web_app.router.add_post(EVENTS_PATH, self.handle_http)
        if self.oauth is not None:  # the install pages are plain browser requests, in either mode
            web_app.router.add_get(INSTALL_PATH, self.handle_oauth)
            web_app.router.add_get(REDIRECT_PATH, self.handle_oauth)

    @property
    def ready(self) -> bool:
        """Started and able to send (no bot-wide fault such as a revoked token)."""
        return self.started and not self.sender.faults.active

    @property
    def problem(self) -> str | None:
        """Why Slack cannot send now, for /readyz (None when it can)."""
        return self.sender.faults.problem()

    @property
    def mode(self) -> str:
        return "socket" if self.socket else "http"

    async def handle_http(self, request: web.Request) -> web.Response:
        """Slack's requests into bolt. bolt checks signatures (401) and routes; we only keep junk from becoming a
        500: a body bolt cannot even parse is 401 when unsigned and 400 when signed."""
        raw = await request.read()
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _bad_request(400, "body is not UTF-8")
        try:
            bolt_request = AsyncBoltRequest(body=body, query=request.query_string, headers=dict(request.headers))
        except Exception:
            assert self._verifier is not None  # HTTP mode only
            if not self._verifier.is_valid_request(body, dict(request.headers)):
                return _bad_request(401, "invalid request")
            return _bad_request(400, "unreadable body")
        try:
            bolt_response = await self.app.async_dispatch(bolt_request)
        except Exception:
            log.exception("bolt failed on a request")
            return _bad_request(400, "unprocessable request")
        if bolt_response.status >= 500:
            # bolt answers 500 when its built-in middleware trips over a signed body of the wrong shape (e.g. an
            # event that is not an object). Our listeners never fail before ack, so this is the sender's fault.
            log.warning("bolt could not process a signed request (HTTP %s); answering 400", bolt_response.status)
            return _bad_request(400, "unprocessable request")
        return await to_aiohttp_response(bolt_response)

    async def handle_oauth(self, request: web.Request) -> web.Response:
        """GET /slack/install and /slack/oauth_redirect, answered by bolt's OAuth flow (state check included)."""
        assert self.oauth is not None
        bolt_request = AsyncBoltRequest(body="", query=request.query_string, headers=dict(request.headers))
        if request.path == INSTALL_PATH:
            response = await self.oauth.handle_installation(bolt_request)
        else:
            response = await self.oauth.handle_callback(bolt_request)
        return await to_aiohttp_response(response)

    async def _installed(self, installation: Installation) -> None:
        await self.lifecycle.installed(installation.team_id, installation.team_name)

    async def start(self) -> None:
        session = http_session()  # one HTTP session for every Web API call of this process: bolt's and the sender's
        self.client.session = session
        self.sender.use_session(session)
        if self.oauth is not None:  # no token of its own: each workspace's arrives with its install
            log.info("Slack: serving installs at %s (%s mode)", INSTALL_PATH, self.mode)
            if self.socket:
                await self.socket.connect_async()
            self.started = True
            return
        try:
            auth = await self.client.auth_test()
        except SlackApiError as exc:
            await session.close()
            code = exc.response.get("error") if isinstance(exc.response.data, dict) else exc.response.status_code
            raise SlackConfigError(
                f"re-bot: Slack refused SLACK_BOT_TOKEN ({code}). Copy the Bot User OAuth Token (xoxb-...) from "
                "your app's OAuth & Permissions page."
            ) from None
        except Exception as exc:
            await session.close()
            raise SlackConfigError(f"re-bot: cannot reach the Slack Web API at {self.client.base_url}: {exc}") from None
        log.info("Slack: connected as %s in %s (%s mode)", auth.get("user"), auth.get("team"), self.mode)
        # The token works in this workspace: whatever an earlier uninstall paused there resumes.
        await self.lifecycle.installed(auth.get("team_id"), auth.get("team"))
        if self.socket:
            await self.socket.connect_async()
        self.started = True

    async def stop(self) -> None:
        self.started = False
        if self.socket:
            await self.socket.close_async()
        await self.bot.drain()
        if self.client.session is not None:
            await self.client.session.close()
