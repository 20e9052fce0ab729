"""`re-bot run` with platforms: one asyncio loop serving HTTP, Slack, Discord and the scheduler until SIGTERM.

HTTP (shared by every platform; Slack adds `POST /slack/events` to the same app):
- `GET /healthz`: 200 while the process serves (liveness; the Docker HEALTHCHECK); 503 once a platform has ended
  for good (`fatal`: e.g. Discord closed the gateway with 4004 "authentication failed"), so an orchestrator restarts
  the container or alerts instead of leaving a process that can no longer deliver.
- `GET /readyz`: 200 only when the content is loaded, every platform has started and reports `ready`, every
  readiness check passes (the store adds "database"), and the process is not shutting down; else 503. The JSON body
  names each check, so an operator sees which one is failing; a platform that cannot send says why (its `problem`:
  a revoked token, a closed gateway).
- `GET /metrics`: Prometheus exposition of `bot.ops.metrics.REGISTRY`.

Shutdown on SIGTERM (or SIGINT): /readyz turns 503 at once, then components stop in reverse order of start (the
scheduler before the platforms it delivers through; each `stop()` stops taking work and finishes what is in flight),
then the HTTP server, all within RE_BOT_SHUTDOWN_TIMEOUT. Exit 0 when everything finished, 1 when the timeout cut
work off (the store's outbox makes that work due again on the next start) or a platform had ended for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field

from aiohttp import web

from bot.config import Settings
from bot.ops import metrics
from bot.ops.healthcheck import port_file
from bot.ops.inflight import Component, PlatformRuntime
from handlers import Services

log = logging.getLogger("re_bot.runtime")

# A readiness check raises (or returns False) when what it checks is not usable, e.g. `SELECT 1` on the database.
ReadinessCheck = Callable[[], Awaitable[object]]
READINESS_CHECK_TIMEOUT = 3.0


@dataclass
class Health:
    """What /readyz looks at. `serve` fills it in as it starts and stops."""

    services: Services | None = None
    platforms: list[PlatformRuntime] = field(default_factory=list)
    checks: dict[str, ReadinessCheck] = field(default_factory=dict)
    started: bool = False
    stopping: bool = False

    async def readiness(self) -> tuple[bool, dict[str, str]]:
        results: dict[str, str] = {}
        content = self.services.content if self.services is not None else None
        results["content"] = "ok" if content is not None and content.faqs else "not loaded"
        for platform in self.platforms:
            connected = self.started and getattr(platform, "ready", True)
            problem = getattr(platform, "problem", None)
            results[f"platform:{platform.name}"] = "ok" if connected else (problem or "not connected")
        names = list(self.checks)
        outcomes = await asyncio.gather(*(_run_check(self.checks[n]) for n in names))
        results.update(zip(names, outcomes, strict=True))
        if not self.started:
            results["startup"] = "starting"
        if self.stopping:
            results["shutdown"] = "shutting down"
        return all(v == "ok" for v in results.values()), results

    def dead(self) -> dict[str, str]:
        """Platforms that ended for good in this process (`fatal` set), with why."""
        return {p.name: fatal for p in self.platforms if (fatal := getattr(p, "fatal", None))}


async def _run_check(check: ReadinessCheck) -> str:
    try:
        result = await asyncio.wait_for(check(), READINESS_CHECK_TIMEOUT)
    except TimeoutError:
        return f"no answer within {READINESS_CHECK_TIMEOUT:g} s"
    except Exception as exc:
        # The type only: an exception's text can carry a connection URL with its password.
        return f"failed ({type(exc).__name__})"
    return "failed" if result is False else "ok"


HEALTH = web.AppKey("health", Health)


async def healthz(request: web.Request) -> web.Response:
    dead = request.app[HEALTH].dead()
    if dead:
        return web.json_response({"status": "failed", "platforms": dead}, status=503)
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    ready, checks = await request.app[HEALTH].readiness()
    return web.json_response(
        {"status": "ready" if ready else "not ready", "checks": checks}, status=200 if ready else 503
    )


async def metrics_endpoint(request: web.Request) -> web.Response:
    body, content_type = metrics.exposition(request.headers.get("Accept"))
    return web.Response(body=body, headers={"Content-Type": content_type})


def build_web_app(health: Health | None = None) -> web.Application:
    """The HTTP server every platform shares (Slack's events endpoint is added by the Slack platform)."""
    app = web.Application()
    app[HEALTH] = health or Health()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_endpoint)
    return app


def build_platforms(settings: Settings, services: Services, app: web.Application) -> list[PlatformRuntime]:
    platforms: list[PlatformRuntime] = []
    if settings.slack_enabled:
        from bot.platforms.slack.platform import SlackPlatform  # imported only when used: bolt is slow to import

        platforms.append(SlackPlatform(settings, services, app))
    if settings.discord_enabled:
        from bot.platforms.discord.client import DiscordPlatform

        assert settings.discord_token is not None
        platforms.append(
            DiscordPlatform(settings.discord_token.get_secret_value(), services, api_url=settings.discord_api_url)
        )
    return platforms


async def _stop_all(components: Iterable[Component], deadline: float) -> bool:
    """Stop each component in turn within the shared deadline. True when every one finished."""
    loop = asyncio.get_running_loop()
    clean = True
    for component in components:
        remaining = max(deadline - loop.time(), 0.0)
        try:
            await asyncio.wait_for(component.stop(), remaining)
        except TimeoutError:
            clean = False
            log.error("%s did not finish its work before the shutdown timeout; left for the next start", component.name)
        except Exception:
            clean = False
            log.exception("%s failed while stopping", component.name)
    return clean


def _write_port_file(port: int) -> None:
    path = port_file()
    try:
        tmp = path.with_name(f"{path.name}.{os.getpid()}")
        tmp.write_text(f"{port}\n")
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("cannot write %s (%s): the health check will not find port %d", path, exc, port)


def _remove_port_file(port: int) -> None:
    path = port_file()
    with contextlib.suppress(OSError, ValueError):
        if int(path.read_text().strip()) == port:  # another process may have written its own since
            path.unlink()


async def serve(
    settings: Settings,
    services: Services,
    *,
    app: web.Application | None = None,
    platforms: Sequence[PlatformRuntime] | None = None,
    components: Sequence[Component] = (),
    readiness_checks: dict[str, ReadinessCheck] | None = None,
    stop: asyncio.Event | None = None,
) -> int:
    """Serve until SIGTERM/SIGINT (or `stop` is set), then shut down gracefully. Returns the exit status.

    `platforms` default to `build_platforms(settings, services, app)`; `components` (the scheduler) start after them
    and stop before them; `readiness_checks` join /readyz (e.g. {"database": store.ping})."""
    app = app or build_web_app()
    health = app[HEALTH]
    health.services = services
    health.checks.update(readiness_checks or {})
    platform_list = list(build_platforms(settings, services, app) if platforms is None else platforms)
    health.platforms = platform_list
    metrics.preinit(p.name for p in platform_list)

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    runner = web.AppRunner(app, shutdown_timeout=settings.shutdown_timeout)
    await runner.setup()
    await web.TCPSite(runner, settings.http_host, settings.http_port).start()
    port = runner.addresses[0][1] if runner.addresses else settings.http_port
    if settings.http_port == 0:  # any free port: tell the health check which one
        _write_port_file(port)
    log.info(
        "serving HTTP on %s:%d (/healthz, /readyz, /metrics)",
        settings.http_host,
        port,
        extra={"event": "listening", "port": port, "platforms": [p.name for p in platform_list]},
    )
    # The example questions' sentence vectors take seconds on a machine that never made them: made beside start-up,
    # not on the first member's question.
    warming = services.matcher  # a content reload may swap another in meanwhile: this one's thread is stopped below
    warming.warm_later()
    started: list[Component] = []
    clean = True
    try:
        for component in [*platform_list, *components]:
            await component.start()
            started.append(component)
        health.started = True
        log.info("ready", extra={"event": "ready"})
        await stop.wait()
    finally:
        health.stopping = True
        log.info(
            "shutting down: finishing in-flight work (up to %g s)",
            settings.shutdown_timeout,
            extra={"event": "shutdown"},
        )
        deadline = loop.time() + settings.shutdown_timeout
        clean = await _stop_all(reversed(started), deadline)
        await runner.cleanup()
        # The matcher's warm-up thread stops after its batch in hand: exiting under it could abort the process.
        if not await asyncio.to_thread(warming.stop_warming, max(deadline - loop.time(), 5.0)):
            log.warning("the FAQ matcher's warm-up did not stop in time; exiting anyway")
        if settings.http_port == 0:
            _remove_port_file(port)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    dead = health.dead()
    if dead:  # a platform ended for good while serving: the exit status says so (restart policies act on it)
        log.error("exiting with status 1: %s", "; ".join(f"{n}: {why}" for n, why in dead.items()))
    log.info("stopped", extra={"event": "stopped", "clean": clean})
    return 0 if clean and not dead else 1
