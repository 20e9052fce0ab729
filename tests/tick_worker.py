"""A ticking process for the concurrency and crash tests: `python tests/tick_worker.py DB_URL FAKE_URL ISO...`.

It runs the real claim and dispatch code against DB_URL, delivering through `HttpSender` to the fake platform.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime, timedelta

from fake_platform import HttpSender

from bot.config import Settings
from bot.schedule.dispatcher import DispatchPolicy
from bot.schedule.ticker import Ticker, open_store
from content.loader import load_content


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("fake")
    parser.add_argument("at", nargs="+")
    parser.add_argument("--lease", type=float, default=120)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    store = open_store(Settings(RE_BOT_DATABASE_URL=args.db), migrate=False)
    sender = HttpSender(args.fake)
    policy = DispatchPolicy(lease=timedelta(seconds=args.lease), concurrency=args.concurrency, backoff_initial=0.01)
    ticker = Ticker(store.sessions, load_content(), {"console": sender}, policy=policy)
    try:
        for at in args.at:
            await ticker.tick(datetime.fromisoformat(at))
    finally:
        await sender.close()


if __name__ == "__main__":
    asyncio.run(main())
