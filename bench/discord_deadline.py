"""Benchmark: Discord's interaction deadline with a slow database. discord.py's real client and CommandTree against a
local fake Discord API, on a store whose every query takes 0.5 s; interactions as Discord sends them, 8 at a time,
a mix of commands that touch the store (/re-remind, /re-progress, /re-subscribe) and buttons. Measures the time from
the interaction reaching the client to its first answer (a reply or a deferral) reaching Discord.

Prints one line: the slowest first answer as a ratio of the 1 s goal (< 1.00 meets it), and how many were deferred.

    .venv/bin/python bench/discord_deadline.py [--interactions 64]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import discord

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "discord_platform"))

from discord_fake import FakeDiscord  # noqa: E402
from discord_support import MANAGE_CHANNELS, press, shared_services, slash  # noqa: E402
from slow_store import SlowStore  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.platforms.discord.client import ReBotClient  # noqa: E402
from bot.schedule.ticker import open_store  # noqa: E402

GOAL = 1.0  # seconds to the first answer (Discord allows 3)
QUERY_SECONDS = 0.5
CONCURRENCY = 8


def _payloads(n: int) -> list[dict]:
    made = []
    for i in range(n):
        user = 810000000000000000 + i % 16
        kind = i % 4
        if kind == 0:
            made.append(slash("re-remind", {"time": "09:00", "zone": "Europe/Berlin"}, sub="daily", user_id=user))
        elif kind == 1:
            made.append(slash("re-progress", user_id=user))
        elif kind == 2:
            made.append(slash("re-subscribe", {"time": "08:00", "zone": "UTC"}, permissions=MANAGE_CHANNELS,
                              user_id=user))  # fmt: skip
        else:
            made.append(press("re:remind.pause:", user_id=user))
    return made


async def main(total: int) -> str:
    fake = FakeDiscord()
    await fake.start()
    discord.http.Route.BASE = fake.base
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Settings(_env_file=None, RE_BOT_DATABASE_URL=f"sqlite:///{tmp}/bench.db"))
        slow = SlowStore(store.api, delay=QUERY_SECONDS)
        client = ReBotClient(replace(shared_services(), store=slow))
        await client.login("fake-token")
        firsts: list[float] = []
        try:
            payloads = _payloads(total)
            pending = iter(payloads)

            async def worker() -> None:
                for payload in pending:
                    path = rf"/interactions/{payload['id']}/{payload['token']}/callback"
                    start = time.perf_counter()
                    client._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
                    await fake.wait_for("POST", path, timeout=30)
                    firsts.append(time.perf_counter() - start)

            await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
            deferred = sum(1 for p in payloads for r in fake.calls("POST", rf"/interactions/{p['id']}/.+/callback")
                           if r.json["type"] in (5, 6))  # fmt: skip
            # The deferred answers arrive later, as edits of the deferral: wait for them all before closing.
            callbacks = {p["token"]: fake.calls("POST", rf"/interactions/{p['id']}/.+/callback") for p in payloads}
            late = {token for token, calls in callbacks.items() if any(r.json["type"] in (5, 6) for r in calls)}
            until = time.monotonic() + 120
            while late and time.monotonic() < until:
                late -= {r.path.split("/")[3] for r in fake.requests if r.path.startswith("/webhooks/")}
                await asyncio.sleep(0.05)
        finally:
            await client.close()
            store.engine.dispose()
            await fake.close()
    worst = max(firsts)
    p50 = statistics.median(firsts)
    verdict = "PASS" if worst < GOAL else "FAIL"
    return (
        f"discord_deadline: {len(firsts)} interactions, {CONCURRENCY} at a time, store {QUERY_SECONDS} s per query: "
        f"first answer p50 {p50 * 1000:.0f} ms, slowest {worst:.3f} s = {worst / GOAL:.2f} of the 1 s goal "
        f"({deferred} deferred, {slow.calls} store calls) {verdict}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=64)
    print(asyncio.run(main(parser.parse_args().interactions)))
