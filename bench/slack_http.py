"""Benchmark: signed `/re-faq` slash commands, 8 at a time, against `re-bot run` (HTTP mode) and, in the same run,
against a bare bolt AsyncApp that only acks. Both talk to a local fake Slack Web API. Prints one line:
p50/p99 of re-bot and the throughput ratio re-bot / bare bolt. Goals: p99 < 50 ms, ratio >= 0.8.

    .venv/bin/python bench/slack_http.py [--requests N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "slack"))

from fake_slack import BOT_TOKEN, SIGNING_SECRET, TEAM, FakeSlack, signed_headers  # noqa: E402

CONCURRENCY = 8
QUERIES = ["phd", "salary", "interviews", "how do I switch from software engineering?", "role", "do I need a PhD",
           "what does a research engineer do all day", "portfolio", "mlops", "papers"]  # fmt: skip
P99_GOAL_MS = 50.0
RATIO_GOAL = 0.8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_bare(port: int, api_url: str, same_config: bool) -> None:
    """The baseline: bolt's own aiohttp server, one listener that acks and does nothing else. With `same_config`,
    bolt is set up as re-bot sets it up (process_before_response: no 10 ms polling for the ack)."""
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    app = AsyncApp(
        client=AsyncWebClient(token=BOT_TOKEN, base_url=api_url),
        signing_secret=SIGNING_SECRET,
        process_before_response=same_config,
    )

    @app.command("/re-faq")
    async def ack_only(ack):
        await ack()

    from aiohttp import web

    web.run_app(app.web_app(path="/slack/events"), host="127.0.0.1", port=port, print=None)


async def _wait_healthy(session: aiohttp.ClientSession, url: str, proc: asyncio.subprocess.Process) -> None:
    for _ in range(600):
        if proc.returncode is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            async with session.post(url, data=b"") as resp:
                if resp.status in (200, 401, 404):
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    raise SystemExit(f"server at {url} did not come up")


def _bodies() -> list[str]:
    bodies = []
    for i in range(40):
        form = {
            "command": "/re-faq",
            "text": QUERIES[i % len(QUERIES)],
            "user_id": f"U{i % 20:04d}",
            "channel_id": "C1",
            "team_id": TEAM,
            "response_url": "http://127.0.0.1:9/x",
            "trigger_id": "1",
        }
        bodies.append(urlencode(form))
    return bodies


async def _load(session: aiohttp.ClientSession, url: str, total: int) -> tuple[list[float], float]:
    bodies = _bodies()
    signed = [(b.encode(), signed_headers(b)) for b in bodies]
    latencies: list[float] = []
    counter = iter(range(total))

    async def worker() -> None:
        for i in counter:
            body, headers = signed[i % len(signed)]
            start = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as resp:
                await resp.read()
                if resp.status != 200:
                    raise SystemExit(f"{url} answered {resp.status}")
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return latencies, time.perf_counter() - start


async def main(total: int) -> str:
    fake = await FakeSlack(users={f"U{i:04d}": {"id": f"U{i:04d}", "tz": "Europe/Berlin"} for i in range(20)}).start()
    ports = {"re-bot": _free_port(), "bare": _free_port(), "bare-same": _free_port()}
    urls = {name: f"http://127.0.0.1:{port}/slack/events" for name, port in ports.items()}
    results: dict[str, tuple[list[float], float]] = {name: ([], 0.0) for name in ports}
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "RE_BOT_"))}
        env.update(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=fake.api_url,
            RE_BOT_HTTP_PORT=str(ports["re-bot"]),
            RE_BOT_DATABASE_URL=f"sqlite:///{tmp}/bench.db",
        )
        quiet = {
            "stdin": asyncio.subprocess.DEVNULL,
            "stdout": asyncio.subprocess.DEVNULL,
            "stderr": asyncio.subprocess.DEVNULL,
        }
        procs = {
            "re-bot": await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", env=env, cwd=tmp,
                                                           **quiet),
            "bare": await asyncio.create_subprocess_exec(sys.executable, __file__, "--bare", str(ports["bare"]),
                                                         fake.api_url, "default", env=env, cwd=tmp, **quiet),
            "bare-same": await asyncio.create_subprocess_exec(sys.executable, __file__, "--bare",
                                                              str(ports["bare-same"]), fake.api_url, "same", env=env,
                                                              cwd=tmp, **quiet),
        }  # fmt: skip
        try:
            connector = aiohttp.TCPConnector(limit=CONCURRENCY * 2)
            async with aiohttp.ClientSession(connector=connector) as session:
                for name, url in urls.items():
                    await _wait_healthy(session, url, procs[name])
                    await _load(session, url, 200)  # warm up: caches, auth.test, members' zones
                for _ in range(2):  # alternate rounds so drift on the machine hits every server alike
                    for name, url in urls.items():
                        lat, elapsed = await _load(session, url, total // 2)
                        results[name] = (results[name][0] + lat, results[name][1] + elapsed)
        finally:
            for proc in procs.values():
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
                await proc.wait()
            await fake.stop()
    lat, elapsed = results["re-bot"]
    p50, p99 = statistics.median(lat) * 1000, statistics.quantiles(lat, n=100)[98] * 1000
    rps = {name: len(r[0]) / r[1] for name, r in results.items()}
    ratio, ratio_same = rps["re-bot"] / rps["bare"], rps["re-bot"] / rps["bare-same"]
    verdict = "PASS" if p99 < P99_GOAL_MS and ratio >= RATIO_GOAL else "FAIL"
    return (
        f"slack_http: {len(lat)} signed /re-faq at {CONCURRENCY} concurrent: re-bot p50 {p50:.1f} ms p99 {p99:.1f} ms "
        f"(goal < {P99_GOAL_MS:.0f}), {rps['re-bot']:.0f} req/s vs bare bolt {rps['bare']:.0f} req/s: "
        f"ratio {ratio:.2f} (goal >= {RATIO_GOAL}) {verdict}; vs bare bolt with re-bot's process_before_response "
        f"{rps['bare-same']:.0f} req/s: ratio {ratio_same:.2f}"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--bare":
        run_bare(int(sys.argv[2]), sys.argv[3], sys.argv[4] == "same")
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    print(asyncio.run(main(parser.parse_args().requests)))
