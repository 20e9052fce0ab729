"""Structured logs: one JSON object per line (`RE_BOT_LOG_FORMAT=json`) or readable text, with secrets redacted.

Two event lines matter to operators, and everything that handles a command or a delivery writes them through here:
`log_command` (platform, command, outcome, latency) and `log_delivery` (platform, kind, target, outcome, latency).
Neither takes message text: what a member typed or was sent (a DM above all) never reaches the logs.

Every line passes a `RedactingFilter` on the handler, which replaces anything token-shaped (Slack `xoxb-`/`xapp-`/
`xoxp-`..., Discord bot tokens, `Bot ...`/`Bearer ...` credentials, URL passwords) and every configured secret value,
in the message, the exception traceback and the extra fields alike. The JSON formatter is a few lines of stdlib
rather than a dependency because the redaction has to see the final text anyway.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

REDACTED = "[REDACTED]"

# What a credential looks like, whoever's it is (not only the configured ones: a token in a traceback from a library
# or pasted into the wrong variable must not reach the logs either).
_TOKEN_PATTERNS = [
    (re.compile(r"\b(xox[a-z]|xapp)-[A-Za-z0-9-]+"), lambda m: f"{m.group(1)}-{REDACTED}"),
    # Discord bot token: base64 user id . base64 timestamp . HMAC (also matches JWT-like strings, which is fine).
    (re.compile(r"\b[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{25,}"), lambda m: REDACTED),
    # Authorization header values; 20+ characters so "Bot disconnected" stays readable.
    (re.compile(r"\b(Bot|Bearer)\s+[A-Za-z0-9._~+/=-]{20,}"), lambda m: f"{m.group(1)} {REDACTED}"),
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@"), lambda m: f"{m.group(1)}***@"),
]

# Attributes every LogRecord has; anything else on a record came from `extra=` and becomes a JSON field.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class Redactor:
    """Replaces token-shaped strings and the configured secret values in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._secrets = re.compile("|".join(map(re.escape, values))) if values else None

    def __call__(self, text: str) -> str:
        if self._secrets is not None:
            text = self._secrets.sub(REDACTED, text)
        for pattern, replace in _TOKEN_PATTERNS:
            text = pattern.sub(replace, text)
        return text

    def value(self, v: Any) -> Any:
        if isinstance(v, str):
            return self(v)
        if isinstance(v, dict):
            return {k: self.value(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [self.value(x) for x in v]
        return v


class RedactingFilter(logging.Filter):
    """Rewrites each record before any formatter sees it: message (with its args), traceback, stack, extras."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redact = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRS:
                setattr(record, key, self.redact.value(value))
        return True


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the `extra` fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in _extras(record).items():
            out.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exception"] = record.exc_text
        if record.stack_info:
            out["stack"] = record.stack_info
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`2025-01-31 09:00:00,123 INFO re_bot.command: /re-faq on slack ok in 12 ms  platform=slack ...`"""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = _extras(record)
        if not extras:
            return line
        head, sep, tail = line.partition("\n")  # keep key=value on the message line, before any traceback
        fields = " ".join(f"{k}={v}" for k, v in extras.items())
        return f"{head}  {fields}{sep}{tail}"


_HANDLER_NAME = "re-bot"


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time of each record (it may be replaced after start-up)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def configure_logging(
    log_format: str = "text", level: int | str = logging.INFO, secrets: Iterable[str] = (), stream: TextIO | None = None
) -> logging.Handler:
    """Install (or replace) re-bot's handler on the root logger: standard error, the chosen format, secrets redacted.

    Handlers others installed (pytest's capture, an embedding application's) are left alone."""
    handler: logging.Handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RedactingFilter(Redactor(secrets)))
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == _HANDLER_NAME:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Libraries chatty at INFO (every /healthz probe, every gateway event) only speak up on WARNING, unless DEBUG.
    # Alembic announces every plugin and migration context at INFO: noise at every start.
    for noisy in ("aiohttp.access", "slack_bolt", "slack_sdk", "discord", "apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.NOTSET if root.level <= logging.DEBUG else logging.WARNING)
    return handler


command_log = logging.getLogger("re_bot.command")
delivery_log = logging.getLogger("re_bot.delivery")


def log_command(platform: str, command: str, outcome: str, seconds: float, **fields: Any) -> None:
    """One line per handled command. `fields` may add ids (user, channel, topic); never message text."""
    level = logging.ERROR if outcome == "failed" else logging.INFO
    command_log.log(
        level,
        "/%s on %s: %s in %.0f ms",
        command,
        platform,
        outcome,
        seconds * 1000,
        extra={
            "event": "command",
            "platform": platform,
            "command": command,
            "outcome": outcome,
            "latency_ms": round(seconds * 1000, 1),
            **fields,
        },
    )


def log_delivery(
    platform: str, kind: str, outcome: str, seconds: float | None = None, *, target: str | None = None, **fields: Any
) -> None:
    """One line per delivery attempt outcome (sent, retried, failed). `fields`: schedule id, fire_time, attempt,
    reason; never the text that was sent."""
    level = {"sent": logging.INFO, "retried": logging.WARNING}.get(outcome, logging.ERROR)
    latency = None if seconds is None else round(seconds * 1000, 1)
    delivery_log.log(
        level,
        "%s to %s on %s: %s",
        kind,
        target or "?",
        platform,
        outcome,
        extra={
            "event": "delivery",
            "platform": platform,
            "kind": kind,
            "target": target,
            "outcome": outcome,
            "latency_ms": latency,
            **fields,
        },
    )
