"""`re-bot run` with platforms: one asyncio loop serving HTTP, Slack, Discord and the scheduler until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any, Protocol

from aiohttp import web

from bot.config import Settings
from bot.delivery import Sender
from handlers import Services

log = logging.getLogger(__name__)


class PlatformRuntime(Protocol):
    """One connected platform: how it starts, stops and delivers scheduled messages."""

    name: str
    sender: Sender

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def build_web_app() -> web.Application:
    """The HTTP server every platform shares (Slack's events endpoint is added by the Slack platform)."""
    app = web.Application()
    app.router.add_get("/healthz", healthz)
    return app


def build_platforms(settings: Settings, services: Services, app: web.Application) -> list[PlatformRuntime]:
    platforms: list[PlatformRuntime] = []
    if settings.slack_enabled:
        raise NotImplementedError("the Slack platform is not built yet")
    if settings.discord_enabled:
        raise NotImplementedError("the Discord platform is not built yet")
    return platforms


async def serve(settings: Settings, services: Services, store: Any = None) -> int:
    app = build_web_app()
    platforms = build_platforms(settings, services, app)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", settings.http_port).start()
    log.warning("serving HTTP on port %d (/healthz)", settings.http_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    scheduler = None
    try:
        for platform in platforms:
            await platform.start()
        if store is not None:
            from bot.ticker import start_scheduler

            scheduler = start_scheduler(settings, store, services.content, {p.name: p.sender for p in platforms})
        await stop.wait()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        for platform in reversed(platforms):
            await platform.stop()
        await runner.cleanup()
    return 0
