"""`python -m bot.ops.healthcheck`: exit 0 when this container's `GET /healthz` answers 200, else 1.

The Docker HEALTHCHECK runs it (slim images have no curl). Standard library only, so it starts in milliseconds.
"""

from __future__ import annotations

import os
import sys
import urllib.request


def main() -> int:
    port = os.environ.get("RE_BOT_HTTP_PORT") or "3000"
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=float(os.environ.get("RE_BOT_HEALTHCHECK_TIMEOUT", "4"))) as r:
            ok = r.status == 200
    except OSError as exc:
        print(f"healthcheck: {url}: {exc}", file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
