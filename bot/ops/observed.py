"""`handlers.dispatch` and `handlers.run_action`, counted, timed and logged, and run off the event loop: what every
platform adapter calls.

Handlers are synchronous and may query the store (a PostgreSQL server across the network), so an adapter never calls
them on the event loop: `answer` and `act` run them on a small pool of worker threads, as many as the database pool
has connections. A burst of commands then queues for a thread, never exhausts the pool, and never delays another
member's command, the Discord gateway heartbeat or `/healthz`. `dispatch` and `run_action` (same signatures as the
handlers' own) stay for callers that own no event loop (the console, `re-bot ask`).

handlers/ stays free of prometheus, threads and logging policy; this is the one place that observes commands.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TypeVar

from bot.ops.metrics import observe_command
from bot.store.engine import POOL_SIZE
from handlers import Invocation, Reply, Services
from handlers import dispatch as _dispatch
from handlers import run_action as _run_action

T = TypeVar("T")

HANDLER_THREADS = POOL_SIZE  # bounded concurrency: at most one database connection per running handler
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _ids(inv: Invocation) -> dict[str, str]:
    # Ids say who and where without saying what: the command's text (in DMs above all) is never logged.
    fields = {"user": inv.user, "channel": inv.channel}
    if inv.workspace:
        fields["workspace"] = inv.workspace
    return fields


def dispatch(inv: Invocation, services: Services) -> Reply:
    start = time.perf_counter()
    reply = _dispatch(inv, services)
    observe_command(inv.platform, inv.command, reply, time.perf_counter() - start, **_ids(inv))
    return reply


def run_action(name: str, value: str, inv: Invocation, services: Services) -> Reply:
    start = time.perf_counter()
    reply = _run_action(name, value, inv, services)
    observe_command(inv.platform, f"button:{name}", reply, time.perf_counter() - start, **_ids(inv))
    return reply


def _threads() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=HANDLER_THREADS, thread_name_prefix="re-bot-handler")
        return _pool


async def off_loop(fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Run blocking `fn` (a handler, a store call) on the handler threads; the caller's context vars go along."""
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_threads(), call)


async def answer(inv: Invocation, services: Services) -> Reply:
    """`dispatch`, off the event loop."""
    return await off_loop(dispatch, inv, services)


async def act(
    name: str,
    value: str,
    inv: Invocation,
    services: Services,
    *,
    deliver: Callable[[Reply], Awaitable[Reply]] | None = None,
) -> Reply:
    """`run_action`, off the event loop. With `deliver`, the press is counted once the result has been delivered, with
    the reply `deliver` returns: a "Share in channel" that could not be posted counts as an error, not as ok."""
    if deliver is None:
        return await off_loop(run_action, name, value, inv, services)
    start = time.perf_counter()
    reply = await off_loop(_run_action, name, value, inv, services)
    try:
        reply = await deliver(reply)
    except Exception:
        observe_command(inv.platform, f"button:{name}", replace(reply, failed=True), time.perf_counter() - start,
                        **_ids(inv))  # fmt: skip
        raise
    observe_command(inv.platform, f"button:{name}", reply, time.perf_counter() - start, **_ids(inv))
    return reply


async def finished_within(task: asyncio.Future[T], seconds: float) -> bool:
    """Wait up to `seconds` for `task` without cancelling it: True when it is done (the answer can go out directly),
    False when the caller should acknowledge now and deliver the answer later."""
    done, _ = await asyncio.wait({task}, timeout=seconds)
    return bool(done)
