"""`handlers.dispatch` and `handlers.run_action`, counted, timed and logged: what every platform adapter calls.

Same signatures as the handlers' own, so an adapter changes only its import (`from bot.ops.observed import dispatch,
run_action`). handlers/ stays free of prometheus and logging policy; this is the one place that observes commands.
"""

from __future__ import annotations

import time

from bot.ops.metrics import observe_command
from handlers import Invocation, Reply, Services
from handlers import dispatch as _dispatch
from handlers import run_action as _run_action


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
