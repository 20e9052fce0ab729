"""Benchmark: Slack's 3-second deadline when things are slow. `re-bot run` (Slack over HTTP) on PostgreSQL reached
through a TCP proxy that adds 5 ms each way, driven with signed slash commands against a local fake Slack Web API.

1. 8 members at once run /re-remind, /re-progress and /re-paper for 15 s while /healthz is polled: every HTTP answer
   must be 200 within 3 s (a slow one is acknowledged and answered by response_url) and /healthz p99 < 50 ms.
2. Slack's users.info and conversations.info answer after 2.5 s: every slash command is still answered within 3 s,
   and the channel creator's /re-subscribe takes effect (its answer arrives by response_url).

Prints one line, each figure a ratio against its limit (< 1.00 meets it).

    .venv/bin/python bench/slack_deadline.py [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import secrets
import signal
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "slack"))

from fake_slack import BOT_TOKEN, SIGNING_SECRET, TEAM, FakeSlack, signed_headers  # noqa: E402

MEMBERS = 8
DEADLINE = 3.0  # Slack's limit for the HTTP answer to a slash command
HEALTHZ_P99_GOAL = 0.050
LATENCY = 0.005  # added by the proxy, each way
SLOW_LOOKUP = 2.5  # users.info / conversations.info in part 2
COMMANDS = [("/re-remind", "daily 09:00 Europe/Berlin"), ("/re-progress", ""), ("/re-paper", "today"),
            ("/re-remind", "list"), ("/re-paper", "next")]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- PostgreSQL 5 ms away ---------------------------------------------------------------------------------------


class LatencyProxy:
    """A TCP proxy to PostgreSQL that delivers every chunk LATENCY seconds after it arrived, in both directions,
    without holding later chunks back (a longer wire, not a slower one). Runs on its own thread and event loop."""

    def __init__(self, target: tuple[str, int], latency: float) -> None:
        self.target, self.latency = target, latency
        self.port = _free_port()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()
        self._ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", self.port))
        self._ready.set()
        self._loop.run_forever()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, chunk = await queue.get()
                if not chunk:
                    writer.close()
                    return
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                writer.write(chunk)
                await writer.drain()

        sending = asyncio.create_task(deliver())
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(65536):
                queue.put_nowait((time.monotonic() + self.latency, chunk))
        queue.put_nowait((0.0, b""))
        with contextlib.suppress(ConnectionError):
            await sending

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))


def _pg_database() -> tuple[str, str, object]:
    """A fresh database on the local server; returns its name, the user, and the admin connection (to drop it)."""
    import psycopg

    for user in ("postgres", "root"):
        try:
            conn = psycopg.connect(host="127.0.0.1", port=5432, user=user, dbname="test", autocommit=True)
        except psycopg.Error:
            continue
        name = f"re_bot_bench_{secrets.token_hex(4)}"
        conn.execute(f'CREATE DATABASE "{name}"')
        return name, user, conn
    raise SystemExit("slack_deadline: PostgreSQL at 127.0.0.1:5432 did not answer")


# -- load ---------------------------------------------------------------------------------------------------------


def _form(command: str, text: str, user: str, channel: str, response_url: str) -> str:
    return urlencode({"command": command, "text": text, "user_id": user, "channel_id": channel, "team_id": TEAM,
                      "response_url": response_url, "trigger_id": "1", "api_app_id": "A1"})  # fmt: skip


async def _command(session: aiohttp.ClientSession, url: str, body: str) -> tuple[int, float, bool]:
    """Status, seconds to the HTTP answer, and whether the answer came in it (False: acknowledged empty)."""
    start = time.perf_counter()
    async with session.post(url, data=body.encode(), headers=signed_headers(body)) as resp:
        raw = await resp.read()
    return resp.status, time.perf_counter() - start, bool(raw.strip())


async def _members(session: aiohttp.ClientSession, url: str, fake: FakeSlack, seconds: float) -> list[tuple]:
    results: list[tuple[int, float, bool]] = []
    stop = time.monotonic() + seconds

    async def member(i: int) -> None:
        for n in itertools.count():
            if time.monotonic() > stop:
                return
            command, text = COMMANDS[(i + n) % len(COMMANDS)]
            body = _form(command, text, f"UM{i:03d}", "C1", fake.response_url(f"m{i}-{n}"))
            results.append(await _command(session, url, body))

    await asyncio.gather(*(member(i) for i in range(MEMBERS)))
    return results


async def _healthz(session: aiohttp.ClientSession, base: str, stop: asyncio.Event) -> list[float]:
    samples: list[float] = []
    while not stop.is_set():
        start = time.perf_counter()
        async with session.get(f"{base}/healthz") as resp:
            await resp.read()
            if resp.status != 200:
                raise SystemExit(f"/healthz answered {resp.status}")
        samples.append(time.perf_counter() - start)
        await asyncio.sleep(0.02)
    return samples


async def _wait_up(session: aiohttp.ClientSession, base: str, proc: asyncio.subprocess.Process) -> None:
    for _ in range(600):
        if proc.returncode is not None:
            raise SystemExit(f"re-bot run exited with {proc.returncode}")
        try:
            async with session.get(f"{base}/readyz") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    raise SystemExit("re-bot run did not become ready")


async def _slow_slack(session: aiohttp.ClientSession, url: str, fake: FakeSlack) -> tuple[list[float], bool]:
    """Part 2: lookups answer after 2.5 s. New members and a new channel, so nothing is cached."""
    fake.delays.update({"users.info": SLOW_LOOKUP, "conversations.info": SLOW_LOOKUP})
    fake.users["UCREATOR"] = {"id": "UCREATOR", "tz": "UTC"}
    fake.channels["C-NEW"] = {"id": "C-NEW", "creator": "UCREATOR", "is_member": True}
    bodies = [_form(c, t, f"US{i:03d}", "C-NEW", fake.response_url(f"s{i}")) for i, (c, t) in enumerate(COMMANDS)]
    bodies.append(_form("/re-subscribe", "papers 09:00 UTC", "UCREATOR", "C-NEW", fake.response_url("subscribe")))
    answers = await asyncio.gather(*(_command(session, url, b) for b in bodies))
    if any(status != 200 for status, _, _ in answers):
        raise SystemExit(f"a slash command answered {[a[0] for a in answers]}")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        done = [r for r in fake.responses if r["name"] == "subscribe"]
        if done:
            return [t for _, t, _ in answers], "Subscribed" in str(done[0].get("blocks"))
        await asyncio.sleep(0.05)
    return [t for _, t, _ in answers], False


async def main(seconds: float) -> str:
    name, user, admin = _pg_database()
    proxy = LatencyProxy(("127.0.0.1", 5432), LATENCY)
    fake = await FakeSlack(users={f"UM{i:03d}": {"id": f"UM{i:03d}", "tz": "Europe/Berlin"} for i in range(MEMBERS)}
                           | {f"US{i:03d}": {"id": f"US{i:03d}", "tz": "UTC"} for i in range(len(COMMANDS))},
                           channels={"C1": {"id": "C1", "creator": "UM000", "is_member": True}}).start()  # fmt: skip
    port = _free_port()
    base, url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/slack/events"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "RE_BOT_"))}
    env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=fake.api_url,
               RE_BOT_HTTP_PORT=str(port),
               RE_BOT_DATABASE_URL=f"postgresql+psycopg://{user}@127.0.0.1:{proxy.port}/{name}")  # fmt: skip
    try:
        with tempfile.TemporaryDirectory() as tmp:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=env, cwd=tmp, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            try:
                async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:
                    await _wait_up(session, base, proc)
                    await _members(session, url, fake, 1.0)  # warm up: members' zones, connections
                    stop = asyncio.Event()
                    poller = asyncio.create_task(_healthz(session, base, stop))
                    results = await _members(session, url, fake, seconds)
                    stop.set()
                    health = await poller
                    lookups, subscribed = await _slow_slack(session, url, fake)
            finally:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
                await proc.wait()
    finally:
        await fake.stop()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[attr-defined]
    bad = [s for s, _, _ in results if s != 200]
    worst = max(t for _, t, _ in results)
    deferred = sum(1 for _, _, direct in results if not direct)
    p99 = statistics.quantiles(health, n=100)[98]
    worst_lookup = max(lookups)
    ok = not bad and worst < DEADLINE and p99 < HEALTHZ_P99_GOAL and worst_lookup < DEADLINE and subscribed
    return (
        f"slack_deadline: {len(results)} commands from {MEMBERS} members in {seconds:.0f} s on PostgreSQL "
        f"+{LATENCY * 1000:.0f} ms each way: non-200 {len(bad)}, slowest answer {worst:.3f} s = {worst / DEADLINE:.2f} "
        f"of 3 s ({deferred} acked and answered by response_url), /healthz p99 {p99 * 1000:.1f} ms = "
        f"{p99 / HEALTHZ_P99_GOAL:.2f} of 50 ms; lookups at {SLOW_LOOKUP} s: slowest answer {worst_lookup:.3f} s = "
        f"{worst_lookup / DEADLINE:.2f} of 3 s, creator's /re-subscribe {'took effect' if subscribed else 'FAILED'} "
        f"{'PASS' if ok else 'FAIL'}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    print(asyncio.run(main(parser.parse_args().seconds)))
