"""`python -m bot.ops.healthcheck`: exit 0 when this container's `GET /healthz` answers 200, else 1.

The Docker HEALTHCHECK runs it (slim images have no curl). Standard library only, so it starts in milliseconds: it
reads RE_BOT_HTTP_PORT and RE_BOT_HEALTHCHECK_TIMEOUT itself, and a bad value is one line, never a traceback. With
RE_BOT_HTTP_PORT=0 (any free port) the server writes the port it got to `port_file()`, and the check reads it there.
"""

from __future__ import annotations

import os
import sys
import tempfile
import urllib.request
from pathlib import Path

DEFAULT_TIMEOUT = 4.0


def port_file() -> Path:
    """Where `re-bot run` writes the port it listens on when RE_BOT_HTTP_PORT=0 (one per user, in the temp folder)."""
    return Path(tempfile.gettempdir()) / f"re-bot-{os.getuid()}-http.port"


def _timeout() -> float:
    raw = os.environ.get("RE_BOT_HEALTHCHECK_TIMEOUT") or str(DEFAULT_TIMEOUT)
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 60:
        raise ValueError("RE_BOT_HEALTHCHECK_TIMEOUT must be a number of seconds above 0, at most 60")
    return value


def _port() -> int:
    raw = os.environ.get("RE_BOT_HTTP_PORT") or "3000"
    if not raw.isdigit() or not 0 <= int(raw) <= 65535:
        raise ValueError("RE_BOT_HTTP_PORT must be a port number from 1 to 65535 (or 0 for any free port)")
    if int(raw) != 0:
        return int(raw)
    try:
        return int(port_file().read_text().strip())
    except (OSError, ValueError):
        raise ValueError(f"RE_BOT_HTTP_PORT=0 and {port_file()} names no port yet (is re-bot run serving?)") from None


def main() -> int:
    try:
        timeout, port = _timeout(), _port()
    except ValueError as exc:
        print(f"healthcheck: {exc}", file=sys.stderr)
        return 1
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            ok = r.status == 200
    except OSError as exc:
        print(f"healthcheck: {url}: {exc}", file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
