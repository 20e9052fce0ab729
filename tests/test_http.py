"""/healthz, /readyz and /metrics on a real aiohttp server (ephemeral port), through `serve` itself."""

from __future__ import annotations

import asyncio
import json
import logging
import sys

import aiohttp
import pytest
from fake_runtime import FakePlatform
from prometheus_client.parser import text_string_to_metric_families

from bot.cli import load_services
from bot.config import Settings
from bot.runtime import Health, build_web_app, serve
from handlers import Invocation


@pytest.fixture(scope="module")
def services():
    return load_services(Settings(_env_file=None))


def settings(**env) -> Settings:
    return Settings(_env_file=None, RE_BOT_HTTP_HOST="127.0.0.1", RE_BOT_HTTP_PORT="0", **env)


class Running:
    """`serve` in a task on this loop; the port comes from its 'listening' log line."""

    def __init__(self, caplog, **kwargs) -> None:
        self.caplog = caplog
        self.kwargs = kwargs
        self.stop = asyncio.Event()

    async def __aenter__(self) -> Running:
        self.caplog.set_level(logging.INFO, logger="re_bot.runtime")
        self.task = asyncio.create_task(serve(stop=self.stop, **self.kwargs))
        while not (records := [r for r in self.caplog.records if getattr(r, "event", None) == "listening"]):
            await asyncio.sleep(0.01)
            if self.task.done():
                self.task.result()
        self.base = f"http://127.0.0.1:{records[-1].port}"
        self.http = aiohttp.ClientSession()
        return self

    async def get(self, path: str, **headers: str) -> tuple[int, str, str]:
        async with self.http.get(self.base + path, headers=headers) as r:
            return r.status, r.headers["Content-Type"], await r.text()

    async def wait_started(self) -> None:
        while not any(getattr(r, "event", None) == "ready" for r in self.caplog.records):
            await asyncio.sleep(0.01)

    async def __aexit__(self, *exc) -> None:
        await self.http.close()
        self.stop.set()
        self.exit_status = await self.task


async def test_healthz_readyz_metrics_when_everything_is_up(caplog, services):
    platform = FakePlatform("slack")

    async def database() -> None:
        return None

    async with Running(
        caplog, settings=settings(), services=services, platforms=[platform], readiness_checks={"database": database}
    ) as srv:
        await srv.wait_started()
        status, _, body = await srv.get("/healthz")
        assert status == 200

        status, _, body = await srv.get("/readyz")
        assert status == 200, body
        checks = json.loads(body)["checks"]
        assert checks == {"content": "ok", "platform:slack": "ok", "database": "ok"}

        from bot.ops.observed import dispatch

        dispatch(Invocation(command="re-faq", text="phd", platform="slack"), services)
        status, content_type, body = await srv.get("/metrics")
        assert status == 200
        assert content_type.startswith("text/plain")
        families = {f.name: f for f in text_string_to_metric_families(body)}
        for name in (
            "re_bot_commands",
            "re_bot_faq_misses",
            "re_bot_deliveries",
            "re_bot_delivery_retries",
            "re_bot_rate_limit_waits",
            "re_bot_tick_duration_seconds",
            "re_bot_due_backlog",
        ):
            assert name in families, name
        samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in families["re_bot_commands"].samples}
        key = ("re_bot_commands_total", (("command", "re-faq"), ("outcome", "ok"), ("platform", "slack")))
        assert samples[key] >= 1
    assert srv.exit_status == 0
    assert platform.started and platform.stopped


async def test_metrics_speaks_openmetrics_when_asked(caplog, services):
    async with Running(caplog, settings=settings(), services=services, platforms=[]) as srv:
        status, content_type, body = await srv.get("/metrics", Accept="application/openmetrics-text; version=1.0.0")
        assert status == 200
        assert content_type.startswith("application/openmetrics-text")
        assert body.rstrip().endswith("# EOF")


@pytest.mark.parametrize(
    ("failing", "expected"),
    [
        ("platform", {"platform:discord": "not connected"}),
        ("database-error", {"database": "failed (ConnectionRefusedError)"}),
        ("database-false", {"database": "failed"}),
    ],
)
async def test_readyz_is_503_naming_what_is_not_ready(caplog, services, failing, expected):
    async def database():
        if failing == "database-error":
            raise ConnectionRefusedError("postgresql://re_bot:hunter2@db/re_bot refused")
        return failing != "database-false"

    platform = FakePlatform("discord", ready=failing != "platform")
    async with Running(
        caplog, settings=settings(), services=services, platforms=[platform], readiness_checks={"database": database}
    ) as srv:
        await srv.wait_started()
        status, _, body = await srv.get("/readyz")
        assert status == 503
        payload = json.loads(body)
        assert payload["status"] == "not ready"
        for name, outcome in expected.items():
            assert payload["checks"][name] == outcome
        assert "hunter2" not in body
        # Liveness does not depend on readiness: a restart would not reconnect Discord faster.
        assert (await srv.get("/healthz"))[0] == 200


async def test_readyz_is_503_until_started_and_once_shutting_down(services):
    health = Health(services=services, platforms=[FakePlatform()])
    ready, checks = await health.readiness()
    assert not ready and checks["startup"] == "starting"
    health.started = True
    assert (await health.readiness())[0]
    health.stopping = True
    ready, checks = await health.readiness()
    assert not ready and checks["shutdown"] == "shutting down"


async def test_readyz_check_that_hangs_times_out(services, monkeypatch):
    from bot import runtime

    monkeypatch.setattr(runtime, "READINESS_CHECK_TIMEOUT", 0.05)

    async def hangs():
        await asyncio.Event().wait()

    health = Health(services=services, checks={"database": hangs}, started=True)
    ready, checks = await health.readiness()
    assert not ready and checks["database"].startswith("no answer within")


async def test_healthcheck_module_against_a_real_server(services, monkeypatch):
    """The Docker HEALTHCHECK command (`python -m bot.ops.healthcheck`) passes against a serving process."""
    from aiohttp import web

    runner = web.AppRunner(build_web_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.ops.healthcheck", env={"RE_BOT_HTTP_PORT": str(port), "PATH": ""}
        )
        assert await proc.wait() == 0
    finally:
        await runner.cleanup()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.ops.healthcheck",
        env={"RE_BOT_HTTP_PORT": str(port), "PATH": ""},
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert await proc.wait() == 1  # nothing listens any more
