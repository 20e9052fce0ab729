"""Prometheus metrics (served at `GET /metrics`) and the `observe_*` calls that record them and log the event.

One call per event does both, so a command or delivery is counted and logged the same way on every platform:

    observe_command(platform, command, reply, seconds)     # bot.ops.observed.dispatch does this for every command
    observe_delivery(platform, kind, "sent" | "retried" | "failed", seconds, target=..., schedule=..., reason=...)
    observe_rate_limit(platform, seconds)                  # each time a sender waits for a rate limit
    observe_tick(seconds, delivered=n, backlog=m)          # after each scheduler pass; `backlog` = due, not yet sent
    set_deliveries_held(platform, {reason: n})             # pending deliveries a bot-wide fault holds back

Metrics live in their own `REGISTRY` (not prometheus-client's global one), so importing a library that registers
metrics cannot collide with ours and tests can read exact values. Labels only take values from small fixed sets
(platforms, registered commands, delivery kinds): nothing a member types becomes a label.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.exposition import choose_encoder

from bot.ops.logs import log_command, log_delivery
from handlers.registry import ACTIONS, COMMANDS
from handlers.types import Reply

REGISTRY = CollectorRegistry(auto_describe=True)

PLATFORMS = ("console", "slack", "discord")
DELIVERY_KINDS = ("reminder", "channel-post", "review")
FAQ_COMMAND = "re-faq"

# Latency buckets for work a member waits on: Slack wants an answer in 3 s.
_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

COMMANDS_HANDLED = Counter(
    "re_bot_commands",
    "Slash commands and button presses handled, by outcome: ok, miss (FAQ without one answer), error (input the "
    "member must fix), failed (a bug; logged with its traceback).",
    ["platform", "command", "outcome"],
    registry=REGISTRY,
)
COMMAND_SECONDS = Histogram(
    "re_bot_command_duration_seconds",
    "Time to turn a command into a reply (handlers only, not the platform round trip).",
    ["platform", "command"],
    buckets=_FAST,
    registry=REGISTRY,
)
FAQ_MISSES = Counter(
    "re_bot_faq_misses",
    "/re-faq questions without a single answer: kind=suggested (choices offered) or none (nothing close). "
    "Content authors: these are the questions to write answers or aliases for.",
    ["platform", "kind"],
    registry=REGISTRY,
)
DELIVERIES = Counter(
    "re_bot_deliveries",
    "Scheduled messages by final outcome: sent, or failed (permanent error, or retries exhausted).",
    ["platform", "kind", "outcome"],
    registry=REGISTRY,
)
DELIVERY_RETRIES = Counter(
    "re_bot_delivery_retries",
    "Delivery attempts that failed transiently (429, 5xx, timeout) and will be retried.",
    ["platform", "kind"],
    registry=REGISTRY,
)
DELIVERY_SECONDS = Histogram(
    "re_bot_delivery_duration_seconds",
    "Time for one delivery attempt against the platform's API.",
    ["platform", "kind"],
    buckets=_FAST,
    registry=REGISTRY,
)
RATE_LIMIT_WAITS = Counter(
    "re_bot_rate_limit_waits",
    "Times a sender waited for a platform rate limit (a 429's Retry-After, or the bot's own budget).",
    ["platform"],
    registry=REGISTRY,
)
RATE_LIMIT_WAIT_SECONDS = Counter(
    "re_bot_rate_limit_wait_seconds",
    "Seconds spent waiting for platform rate limits.",
    ["platform"],
    registry=REGISTRY,
)
TICK_SECONDS = Histogram(
    "re_bot_tick_duration_seconds",
    "Duration of one scheduler pass (claim what is due, deliver it).",
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0),
    registry=REGISTRY,
)
TICK_DELIVERED = Counter(
    "re_bot_tick_delivered",
    "Deliveries claimed by scheduler passes.",
    registry=REGISTRY,
)
DUE_BACKLOG = Gauge(
    "re_bot_due_backlog",
    "Schedules due but not yet delivered after the last pass (should return to 0; growing means falling behind).",
    registry=REGISTRY,
)
DELIVERIES_HELD = Gauge(
    "re_bot_deliveries_held",
    "Pending deliveries held back by a bot-wide fault of their platform, by the fault's reason: the bot token revoked "
    "or refused (Slack's error code such as token_revoked or invalid_auth; Discord: unauthorized), or the gateway "
    "closed for good (gateway_closed). Nothing is paused: they go out by themselves once it is fixed, within the "
    "catch-up window. Above 0 means sending stopped; /readyz says why.",
    ["platform", "reason"],
    registry=REGISTRY,
)
_HELD_REASONS: dict[str, set[str]] = {}  # the reasons each platform's held series were set for (they drop to 0)
_REASON = re.compile(r"[a-z][a-z0-9_]{0,39}")
PLATFORM_NOTICES = Counter(
    "re_bot_platform_notices",
    "What a platform told the bot about itself rather than a member: notice=app_rate_limited (Slack dropped events "
    "over its limit), event_retry_skipped (a retried event already handled, answered 200 and not run again).",
    ["platform", "notice"],
    registry=REGISTRY,
)
CONTENT_RELOADS = Counter(
    "re_bot_content_reloads",
    "Content reloads (SIGHUP or a changed file): ok (swapped in), invalid (problems logged as PATH:LINE; the old "
    "content keeps serving), failed (an unexpected error; the old content keeps serving).",
    ["outcome"],
    registry=REGISTRY,
)
RELOAD_OUTCOMES = ("ok", "invalid", "failed")
BUILD = Info("re_bot_build", "The running re-bot version.", registry=REGISTRY)

try:
    BUILD.info({"version": version("re-bot")})
except PackageNotFoundError:  # running from a source tree without installing
    BUILD.info({"version": "unknown"})


def _platform(name: str) -> str:
    return name if name in PLATFORMS else "other"


def _command_label(command: str) -> str:
    name = command.lstrip("/").lower()
    if name in COMMANDS:
        return name
    if name.startswith("button:") and name.removeprefix("button:") in ACTIONS:
        return name
    return "unknown"


def command_outcome(command: str, reply: Reply) -> str:
    """ok | miss | error | failed, from what the handler answered."""
    if reply.failed:
        return "failed"
    if command == FAQ_COMMAND and reply.topic is None and (reply.suggestions or reply.error):
        return "miss"
    return "error" if reply.error else "ok"


def observe_command(platform: str, command: str, reply: Reply, seconds: float, **log_fields: Any) -> str:
    """Count, time and log one handled command (or `button:<action>` press). Returns the outcome."""
    label = _command_label(command)
    outcome = command_outcome(label, reply)
    p = _platform(platform)
    COMMANDS_HANDLED.labels(p, label, outcome).inc()
    COMMAND_SECONDS.labels(p, label).observe(seconds)
    if outcome == "miss":
        FAQ_MISSES.labels(p, "suggested" if reply.suggestions else "none").inc()
    fields = {k: v for k, v in {"topic": reply.topic, "paper": reply.paper}.items() if v}
    log_command(platform, label, outcome, seconds, **fields, **log_fields)
    return outcome


def observe_delivery(
    platform: str,
    kind: str,
    outcome: str,
    seconds: float | None = None,
    *,
    target: str | None = None,
    **log_fields: Any,
) -> None:
    """Count and log one delivery attempt's outcome: `sent`, `retried` (transient failure, will try again) or
    `failed` (permanent, or out of retries; pass `reason=`). Log fields: schedule, fire_time, attempt, reason..."""
    if outcome not in ("sent", "retried", "failed"):
        raise ValueError(f"delivery outcome must be sent, retried or failed, not {outcome!r}")
    p = _platform(platform)
    k = kind if kind in DELIVERY_KINDS else "other"
    if outcome == "retried":
        DELIVERY_RETRIES.labels(p, k).inc()
    else:
        DELIVERIES.labels(p, k, outcome).inc()
    if seconds is not None:
        DELIVERY_SECONDS.labels(p, k).observe(seconds)
    log_delivery(platform, kind, outcome, seconds, target=target, **log_fields)


def observe_rate_limit(platform: str, seconds: float) -> None:
    """A sender is about to wait `seconds` for a rate limit."""
    p = _platform(platform)
    RATE_LIMIT_WAITS.labels(p).inc()
    RATE_LIMIT_WAIT_SECONDS.labels(p).inc(max(seconds, 0.0))


def observe_platform_notice(platform: str, notice: str) -> None:
    """Count one notice from a platform (a fixed set of names chosen by the caller, never a payload's text)."""
    PLATFORM_NOTICES.labels(_platform(platform), notice).inc()


def observe_tick(seconds: float, *, delivered: int = 0, backlog: int | None = None) -> None:
    """One scheduler pass finished: its duration, how many deliveries it claimed, what is still due."""
    TICK_SECONDS.observe(seconds)
    TICK_DELIVERED.inc(delivered)
    if backlog is not None:
        DUE_BACKLOG.set(backlog)


def set_deliveries_held(platform: str, held: Mapping[str, int]) -> None:
    """The pending deliveries of `platform` that its active faults hold back, by the fault's code (a word from the
    sender's fixed set; anything else counts as `other`). Reasons not in `held` (faults cleared) drop to 0."""
    p = _platform(platform)
    counts: dict[str, int] = {}
    for reason, count in held.items():
        label = reason if _REASON.fullmatch(reason) else "other"
        counts[label] = counts.get(label, 0) + count
    seen = _HELD_REASONS.setdefault(p, set())
    for reason in seen - counts.keys():
        DELIVERIES_HELD.labels(p, reason).set(0)
    for reason, count in counts.items():
        DELIVERIES_HELD.labels(p, reason).set(count)
    seen.update(counts)


def observe_content_reload(outcome: str) -> None:
    CONTENT_RELOADS.labels(outcome if outcome in RELOAD_OUTCOMES else "failed").inc()


def set_due_backlog(count: int) -> None:
    DUE_BACKLOG.set(count)


def preinit(platforms: Iterable[str]) -> None:
    """Create the zero-valued series for each connected platform, so dashboards and rate() see 0, not nothing."""
    for outcome in RELOAD_OUTCOMES:
        CONTENT_RELOADS.labels(outcome)
    for platform in map(_platform, platforms):
        for command in COMMANDS:
            COMMANDS_HANDLED.labels(platform, command, "ok")
        FAQ_MISSES.labels(platform, "suggested")
        FAQ_MISSES.labels(platform, "none")
        RATE_LIMIT_WAITS.labels(platform)
        for kind in DELIVERY_KINDS:
            DELIVERIES.labels(platform, kind, "sent")
            DELIVERIES.labels(platform, kind, "failed")
            DELIVERY_RETRIES.labels(platform, kind)


def exposition(accept: str | None) -> tuple[bytes, str]:
    """The registry in the format the scraper asked for (Prometheus text, or OpenMetrics), and its content type."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(REGISTRY), content_type
