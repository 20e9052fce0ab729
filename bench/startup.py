"""How long a cold `re-bot ask '/re-faq phd'` takes (a new process each time), against the 1.0 s goal.

Prints one line: the median wall time of the real command (`re-bot ask` in a subprocess, warm content cache, existing
SQLite database) with its ratio to the goal, its CPU time (the figure to trust on a shared, loaded machine), the
phases of that path measured inside a fresh process (import, store, content+matcher, answer), the uncached content
and matcher build times, and the first run's time (no cache, no database: it builds both).
Run from the repository root: `.venv/bin/python bench/startup.py`.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL = 1.0  # seconds, a cold `re-bot ask`
RUNS = 7
BIN = Path(sys.executable).parent
LINE = "/re-faq phd"

# The same path `re-bot ask` takes (bot.cli.cmd_ask), phase by phase, in a fresh interpreter.
PHASES = r"""
import json, sys, time
t0 = time.perf_counter()
from bot import cli
from bot.platforms.console import ConsoleSession
t1 = time.perf_counter()
settings = cli._settings("ask")
store = cli.open_store(settings)
t2 = time.perf_counter()
from content.cache import load_indexed
content, matcher = load_indexed(settings.content_dir, settings.content_extra, settings.content_cache_dir())
t3 = time.perf_counter()
services = cli.load_services(settings, store)
session = cli._session()
import io
session.run([sys.argv[1] + "\n"], io.StringIO())
t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "store": t2 - t1, "content+matcher": t3 - t2, "answer": t4 - t3}))
"""

UNCACHED = r"""
import json, time
from content.loader import load_content
from content.search import TopicMatcher
t0 = time.perf_counter()
content = load_content()
t1 = time.perf_counter()
TopicMatcher(content)
print(json.dumps({"content": t1 - t0, "matcher": time.perf_counter() - t1}))
"""


def env(tmp: Path) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "RE_BOT_"))}
    out.update(RE_BOT_DATABASE_URL=f"sqlite:///{tmp / 're-bot.db'}", RE_BOT_CACHE_DIR=str(tmp / "cache"))
    return out


def ask(tmp: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one `re-bot ask`. CPU time is what the start costs on an idle machine; wall
    time also counts waiting for a core when the machine is shared."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run([str(BIN / "re-bot"), "ask", LINE], env=env(tmp), cwd=tmp, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert result.returncode == 0 and "PhD" in result.stdout, result.stderr
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def child(tmp: Path, code: str, *args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", code, *args], env=env(tmp), cwd=tmp, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        first, _ = ask(tmp)  # creates the database and the cache
        runs = [ask(tmp) for _ in range(RUNS)]
        phases = child(tmp, PHASES, LINE)
        uncached = child(tmp, UNCACHED)
    total = statistics.median(wall for wall, _ in runs)
    cpu = statistics.median(cpu for _, cpu in runs)
    shown = ", ".join(f"{k} {v:.2f}" for k, v in phases.items())
    print(
        f"startup: re-bot ask '{LINE}' {total:.2f} s median of {RUNS} (ratio {total / GOAL:.2f} of the {GOAL:.1f} s "
        f"goal; CPU {cpu:.2f} s, ratio {cpu / GOAL:.2f}; load {os.getloadavg()[0]:.1f}); phases: {shown} s; "
        f"uncached content {uncached['content']:.2f} s, matcher {uncached['matcher']:.2f} s; first run (no cache, "
        f"new database) {first:.2f} s"
    )


if __name__ == "__main__":
    main()
