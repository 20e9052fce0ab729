"""Live content reload: on SIGHUP, and with RE_BOT_CONTENT_WATCH=true when a file under the content folders changes.

A reload builds and validates the new content and its matcher aside (in a worker thread: building the matcher takes
about a second), then swaps both in at once (`Services.swap`); commands already running finish on the old pair
(`Services.pinned`). Invalid content changes nothing members see: the old content keeps serving, every problem is
logged as `PATH:LINE: message`, and `re_bot_content_reloads_total{outcome="invalid"}` counts it; /readyz stays 200
because the old content is still loaded.

Watching polls the folders' file names, sizes and modification times (no extra dependency, and it works on every
filesystem, bind mounts and ConfigMap volumes included); a change is reloaded once it has held still for one poll,
so a file caught half-written is not loaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from bot.ops import metrics
from content import Content, ContentError, load_content, packaged_content_dir
from content.search import TopicMatcher
from handlers.services import Services

log = logging.getLogger("re_bot.reload")

Fingerprint = tuple[tuple[str, int, int], ...]


class ContentReloader:
    """A `bot.ops.inflight.Component` for `re-bot run`; `reload_now` and `check_files` also serve the console."""

    name = "content-reload"

    def __init__(
        self,
        services: Services,
        directory: str | None,
        extra: str | None = None,
        *,
        watch: bool = False,
        interval: float = 2.0,
        listeners: Iterable[Callable[[Content], None]] = (),
    ) -> None:
        self.services = services
        self.directory, self.extra = directory, extra
        self.watch, self.interval = watch, interval
        self.listeners = list(listeners)
        self._lock = threading.Lock()  # one reload at a time
        self._loaded = self.fingerprint()
        self._seen = self._loaded
        self._task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[bool]] = set()

    def folders(self) -> list[Path]:
        roots = [Path(self.directory) if self.directory else packaged_content_dir()]
        return roots + ([Path(self.extra)] if self.extra else [])

    def fingerprint(self) -> Fingerprint:
        """(path, size, mtime) of every content file; a changed, added or removed file changes it."""
        found = []
        for root in self.folders():
            for path in root.rglob("*"):
                if path.suffix in (".md", ".yaml", ".yml") and "__pycache__" not in path.parts:
                    with contextlib.suppress(OSError):  # deleted while we looked: the next poll sees it
                        stat = path.stat()
                        found.append((str(path), stat.st_size, stat.st_mtime_ns))
        return tuple(sorted(found))

    def reload_now(self, reason: str = "SIGHUP") -> bool:
        """Load, validate and index the content aside, then swap it in. False (old content serving) when invalid."""
        with self._lock:
            before = self.fingerprint()
            try:
                content = load_content(self.directory, self.extra)
                matcher = TopicMatcher(content)
                matcher.warm()  # new or edited example questions get their sentence vectors before the swap
            except ContentError as exc:
                for problem in exc.problems:
                    log.error("%s", problem, extra={"event": "content_problem"})
                log.error(
                    "content reload (%s) refused: %d problem(s); the previous content keeps serving",
                    reason,
                    len(exc.problems),
                    extra={"event": "content_reload", "outcome": "invalid"},
                )
                metrics.observe_content_reload("invalid")
                self._loaded = before  # not again until a file changes
                return False
            except Exception:
                log.exception("content reload (%s) failed; the previous content keeps serving", reason)
                metrics.observe_content_reload("failed")
                return False
            self.services.swap(content, matcher)
            for listener in self.listeners:
                listener(content)
            self._loaded = before
            metrics.observe_content_reload("ok")
            log.info(
                "content reloaded (%s): %d FAQ topics, %d papers, %d prompts",
                reason,
                len(content.faqs),
                len(content.papers),
                len(content.prompts),
                extra={"event": "content_reload", "outcome": "ok"},
            )
            return True

    def check_files(self) -> bool | None:
        """One poll: reload when the files changed and have held still since the last poll. None: nothing to do."""
        now = self.fingerprint()
        settled, self._seen = now == self._seen, now
        if now == self._loaded or not settled:
            return None
        return self.reload_now("file changed")

    # -- as a component of `re-bot run` --------------------------------------------------------------------------

    def _on_sighup(self) -> None:
        task = asyncio.get_running_loop().create_task(asyncio.to_thread(self.reload_now, "SIGHUP"))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await asyncio.to_thread(self.check_files)
            except Exception:
                log.exception("watching the content folders failed; trying again")

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, self._on_sighup)
        if self.watch:
            self._task = loop.create_task(self._poll())

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._pending:
            await asyncio.wait(set(self._pending))
