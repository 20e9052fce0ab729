"""The `re-bot` command line (also `python -m bot`). Each sub-command is one small function."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from bot.config import PLATFORM_VARIABLES, Settings, config_problems, secrets_in_environment
from bot.errors import StartupError
from bot.ops.logs import configure_logging
from bot.platforms.console import ConsoleSession, LineEditor, first_line, member_input
from content import ContentError
from content.loader import check_content, load_content
from handlers import Services

log = logging.getLogger("re-bot")


def load_services(settings: Settings, store: Any = None) -> Services:
    """The content and its matcher (from the content cache when these files were loaded before), and the store."""
    from content.cache import load_indexed

    try:
        content, matcher = load_indexed(settings.content_dir, settings.content_extra, settings.content_cache_dir())
    except ContentError as exc:
        raise StartupError("\n".join([*exc.problems, "re-bot: the content is invalid; fix the lines above."])) from None
    return Services(content=content, matcher=matcher, store=store.api if store is not None else None)


def open_store(settings: Settings, migrate: bool | None = None):
    """The database (migrated at start unless RE_BOT_AUTO_MIGRATE=false); one that cannot be opened, read or written
    stops start-up with one line naming it and the fix (bot.store.diagnose)."""
    from sqlalchemy.exc import ArgumentError, DatabaseError

    from bot.schedule.ticker import open_store as _open
    from bot.store.diagnose import explain

    try:
        return _open(settings, migrate)
    except (ArgumentError, DatabaseError, OSError, ValueError) as exc:
        raise StartupError(explain(settings.database_url, exc)) from None


def _settings(command: str = "") -> Settings:
    """The validated settings; logging reconfigured from them (format, level, and their secrets redacted)."""
    try:
        settings = Settings()
    except ValidationError as exc:
        lines = config_problems(exc)
        raise StartupError("\n".join(["re-bot: invalid configuration:", *lines, CONFIG_HINT])) from None
    configure_logging(settings.log_format, settings.effective_log_level(command), settings.secret_values())
    return settings


CONFIG_HINT = "re-bot: fix the variables above (environment or .env); `re-bot config check` shows the rest."


def cmd_config_check(args: argparse.Namespace) -> int:
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = config_problems(exc)
        for line in problems:
            print(line)
        print(f"{len(problems)} configuration problem(s) found.", file=sys.stderr)
        return 1
    problems = []
    try:
        content = load_content(settings.content_dir, settings.content_extra)
        where = " + ".join((content.directory, *content.extra))
        content_line = f"ok: {len(content.faqs)} FAQ topics, {len(content.papers)} papers ({where})"
    except ContentError as exc:
        problems.append(
            f"RE_BOT_CONTENT_DIR: the content has {len(exc.problems)} problem(s); run `re-bot content check "
            f"{settings.content_dir or ''}`".rstrip()
            + " to see them"
        )
        content_line = "invalid"
    width = max(len(name) for name, _ in settings.describe())
    print("re-bot configuration (environment and .env; secrets hidden):")
    for name, value in settings.describe():
        print(f"  {name.ljust(width)}  {value}")
    print(f"platforms: {settings.platforms_summary()}")
    print(f"content: {content_line}")
    from content import sentence_model

    model_problem = sentence_model.available(settings.content_cache_dir())
    print(f"faq matcher: {'words only' if model_problem else 'sentence vectors (all-mpnet-base-v2) and words'}")
    if model_problem:
        print(f"warning: {model_problem}", file=sys.stderr)
    from bot.store.diagnose import probe

    database_ok, database_line = probe(settings.database_url, settings.auto_migrate)
    print(f"database: {database_line}" if database_ok else "database: unusable")
    if not database_ok:
        problems.append(database_line)
    for warning in settings.warnings():
        print(f"warning: {warning}", file=sys.stderr)
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} configuration problem(s) found.", file=sys.stderr)
        return 1
    return 0


def cmd_content_check(args: argparse.Namespace) -> int:
    extra = args.extra if args.extra is not None else os.environ.get("RE_BOT_CONTENT_EXTRA") or None
    content, problems = check_content(args.dir, extra)
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} problem(s) found.", file=sys.stderr)
        return 1
    where = " + ".join((content.directory, *content.extra))
    print(
        f"content ok: {len(content.faqs)} FAQ topics, {len(content.papers)} papers, "
        f"{len(content.prompts)} prompts ({len(content.retired)} retired), {len(content.tracks)} tracks ({where})"
    )
    return 0


def cmd_content_new(args: argparse.Namespace) -> int:
    from pathlib import Path

    from content.stubs import write_stub

    folder = Path(args.dir or os.environ.get("RE_BOT_CONTENT_EXTRA") or ".")
    try:
        path = write_stub(args.kind, args.id, folder)
    except ValueError as exc:
        raise StartupError(f"re-bot content new: {exc}") from None
    print(f"wrote {path}: fill in each field (the comments say what goes where), then `re-bot content check`.")
    return 0


def _parse_since(text: str) -> timedelta:
    import re

    m = re.fullmatch(r"\s*(\d+)\s*([hdw])\s*", text.lower())
    if not m or int(m[1]) == 0:
        raise StartupError(f"re-bot report: --since takes a period like 30d, 12h or 2w, not “{text}”")
    return int(m[1]) * {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}[m[2]]


def cmd_report(args: argparse.Namespace) -> int:
    from handlers.report import build_report, suggest_yaml, summary_markdown

    since = datetime.now(UTC) - _parse_since(args.since)
    settings = _settings()
    store = open_store(settings)
    report = build_report(
        store.api.logged_questions(since=since, workspace=args.workspace), since=since, workspace=args.workspace
    )
    suggestions = None
    if args.suggest:
        try:
            known = set(load_content(settings.content_dir, settings.content_extra).faqs)
        except ContentError:
            known = set()  # the stubs are still right; only "add to topic X" needs to know the topics
        suggestions = suggest_yaml(report, known)
    if args.json:
        extra = {"suggest": suggestions} if args.suggest else {}
        print(json.dumps({**report.as_json(), **extra}, ensure_ascii=False))
        return 0
    if suggestions is not None:
        sys.stdout.write(suggestions)
        return 0
    from bot.markup import render

    headline, topics, questions = summary_markdown(report)
    scope = f"workspace {args.workspace}" if args.workspace else "all workspaces"
    print(f"re-bot report ({scope}): {headline}")
    print("\nTopics (asked, helpful, not helpful):" if topics else "\nNo topic answered yet.")
    for line in topics:
        print("  " + render(line, "plain"))
    print("\nUnanswered or “not what I asked”, most frequent first:" if questions else "\nNo unanswered questions.")
    for line in questions:
        print("  " + render(line, "plain"))
    return 0


def _session(args: argparse.Namespace | None = None, as_json: bool = False) -> ConsoleSession:
    from bot.platforms.console import ConsoleSender
    from bot.schedule.ticker import Ticker

    settings = _settings(getattr(args, "command", None) or "console")
    store = open_store(settings)
    services = load_services(settings, store)
    sender = ConsoleSender()
    ticker = Ticker.from_settings(settings, store, services.content, {"console": sender}, platforms={"console"})
    return ConsoleSession(
        services=services,
        user=getattr(args, "user", None) or "U-console",
        channel=getattr(args, "channel", None) or "C-console",
        as_json=as_json,
        ticker=ticker,
        sender=sender,
    )


def _reloader(settings: Settings, services: Services, listeners: Sequence = ()):
    from bot.ops.reload import ContentReloader

    return ContentReloader(services, settings.content_dir, settings.content_extra, watch=settings.content_watch,
                           listeners=listeners)  # fmt: skip


def run_console(session: ConsoleSession, settings: Settings | None = None) -> int:
    """Read commands from standard input; while waiting, a tick every minute prints what falls due. With `settings`
    (`re-bot run` without credentials), SIGHUP and RE_BOT_CONTENT_WATCH reload the content as in server mode."""
    import signal
    import threading

    from apscheduler.schedulers.background import BackgroundScheduler

    from bot.schedule.ticker import every_minute

    editor = LineEditor("re-bot> ", sys.stdout, LineEditor.default_history()) if sys.stdin.isatty() else None
    if editor is not None:
        print("re-bot console. Type /re-help for commands; Ctrl-C clears the line, Ctrl-D quits.")
    scheduler = BackgroundScheduler(timezone="UTC")
    if settings is not None:
        ticker = session.ticker
        reloader = _reloader(settings, session.services, [ticker.use_content] if ticker is not None else [])
        # The reload runs beside the input loop (a signal handler must return quickly).
        signal.signal(signal.SIGHUP, lambda *_: threading.Thread(target=reloader.reload_now, daemon=True).start())
        if settings.content_watch:
            scheduler.add_job(reloader.check_files, "interval", seconds=reloader.interval, id="content-watch")

    def tick() -> None:
        try:
            if due := session.deliver_due():
                if editor is not None:
                    editor.interject(due)
                else:
                    print("\n" + due, flush=True)
        except Exception as exc:  # the database is down: say so in one line; the next minute's pass retries
            log.warning("console tick failed: %s", first_line(exc))

    every_minute(scheduler, tick)
    scheduler.start()
    try:
        if editor is not None:
            session.run(editor.lines(), sys.stdout, interactive=True)
        else:
            session.run(member_input(sys.stdin), sys.stdout)
    finally:
        scheduler.shutdown(wait=True)
        if editor is not None:
            editor.save()
    return 0


def cmd_console(args: argparse.Namespace) -> int:
    return run_console(_session(args))


# How far ahead of the clock `tick --at` goes without --force. A pass as of a future instant delivers what falls due
# until then and moves every schedule past it: nothing more is delivered until the clock catches up.
TICK_AHEAD_LIMIT = timedelta(days=1)
# The latest instant a pass can be run as of: a schedule's next fire time must still fit in a `datetime`.
TICK_LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def _parse_instant(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise StartupError(f"re-bot tick: “{text}” is not an ISO-8601 instant, e.g. 2025-03-30T07:00:00Z") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # a bare time is read as UTC


def _check_tick_instant(at: datetime, now: datetime, force: bool) -> None:
    """Refuse an instant no pass can run as of, and one more than a day ahead of the clock unless --force."""
    if at >= TICK_LATEST:
        raise StartupError(f"re-bot tick: {at.isoformat()} is too far in the future; the latest instant is "
                           f"{(TICK_LATEST - timedelta(seconds=1)).isoformat()}.")  # fmt: skip
    if at - now > TICK_AHEAD_LIMIT and not force:
        clock = now.isoformat(timespec="seconds")
        raise StartupError(
            f"re-bot tick: {at.isoformat()} is {_span(at - now)} ahead of the clock ({clock}). A pass in the "
            "future delivers everything due until then and moves every schedule past that instant, so members get "
            "nothing until the clock catches up. Pass --force to do it anyway (e.g. on a copy of the database)."
        )


def _span(delta: timedelta) -> str:
    days = delta.total_seconds() / 86400
    return f"{days:,.0f} days" if days >= 2 else f"{delta.total_seconds() / 3600:.0f} hours"


async def _platform_senders(settings: Settings, services: Services) -> tuple[dict, list]:
    """Senders of the platforms whose credentials are set (started, so they can send), plus the console's."""
    from aiohttp import web

    from bot.runtime import build_platforms

    if not (settings.slack_enabled or settings.discord_enabled):
        return {}, []
    try:
        platforms = build_platforms(settings, services, web.Application())
    except NotImplementedError as exc:
        print(f"re-bot tick: {exc}; its deliveries stay in the outbox.", file=sys.stderr)
        return {}, []
    for platform in platforms:
        await platform.start()
    return {p.name: p.sender for p in platforms}, platforms


def cmd_tick(args: argparse.Namespace) -> int:
    from bot.platforms.console import ConsoleSender
    from bot.schedule.ticker import Ticker
    from handlers.services import utc_now

    at = _parse_instant(args.at)
    _check_tick_instant(at, utc_now(), args.force)
    settings = _settings()
    store = open_store(settings)
    services = load_services(settings, store)

    async def one_pass():
        senders, platforms = await _platform_senders(settings, services)
        senders["console"] = ConsoleSender(None if args.json else sys.stdout)
        try:
            return await Ticker.from_settings(settings, store, services.content, senders).tick(at)
        finally:
            for platform in reversed(platforms):
                await platform.stop()

    report = asyncio.run(one_pass())
    for result in report.results:
        if args.json:
            print(json.dumps(result.as_json(), ensure_ascii=False), flush=True)
        elif result.platform != "console" or result.status != "sent":
            print(
                f"{result.status}: {result.kind} to {result.platform}:{result.target} for {result.fire_time}"
                + (f" ({result.error})" if result.error else "")
            )
    sent = sum(r.status == "sent" for r in report.results)
    print(
        f"re-bot tick at {at.isoformat()}: {report.claimed} due, {sent} delivered, {report.skipped} skipped as "
        f"too late, {len(report.results) - sent} not delivered",
        file=sys.stderr,
    )
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from bot.store.diagnose import safe_url
    from bot.store.engine import upgrade

    settings = _settings()
    store = open_store(settings, migrate=False)
    print(f"database {safe_url(settings.database_url)}: {upgrade(store.engine).describe()}")
    return 0


def cmd_workspaces(args: argparse.Namespace) -> int:
    """Every Slack workspace and Discord server the deployment serves or served, with its schedules."""
    store = open_store(_settings())
    found = store.api.workspaces.summary()
    if args.json:
        for workspace in found:
            print(json.dumps(workspace.as_json(), ensure_ascii=False))
        return 0
    if not found:
        print("no workspaces yet: none installed the app, added the bot or set a schedule")
        return 0
    header = ("platform", "workspace", "status", "reminders", "subscriptions", "paused", "name")
    rows = [header] + [
        (w.platform, w.workspace, w.status, str(w.reminders), str(w.subscriptions), str(w.paused), w.name or "")
        for w in found
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    for row in rows:
        print("  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]]).rstrip())
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from handlers.ids import MAX_ID_LENGTH, id_problem

    for option, value in (("--user", args.user), ("--channel", args.channel)):
        if problem := id_problem(value):
            print(f"re-bot ask: {option} {problem}; ids are at most {MAX_ID_LENGTH} characters, without NUL",
                  file=sys.stderr)  # fmt: skip
            return 2
    session = _session(args, as_json=args.json)
    lines = member_input(sys.stdin) if args.line == "-" else [args.line]
    if args.line != "-" and not args.line.strip().startswith("/"):
        print("re-bot ask: LINE must be a slash command, e.g. re-bot ask '/re-faq phd'", file=sys.stderr)
        return 2
    session.run(lines, sys.stdout)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings("run")
    if not (settings.slack_enabled or settings.discord_enabled):
        if settings.require_platform:
            raise StartupError(
                "re-bot: no Slack or Discord credentials are set, and RE_BOT_REQUIRE_PLATFORM=true (the container "
                "image sets it: a container has no terminal for the console platform). "
                f"{PLATFORM_VARIABLES} To try the console platform in a container: docker run -it re-bot console"
            )
        _settings("console")  # the console's quieter log level: standard output and error are the member's screen
        print(f"re-bot: no platform credentials set; running the console platform. {PLATFORM_VARIABLES}",
              file=sys.stderr)  # fmt: skip
        return run_console(_session(), settings)
    from bot.runtime import build_platforms, build_web_app, serve
    from bot.schedule.ticker import SchedulerComponent

    store = open_store(settings)
    services = load_services(settings, store)

    async def main() -> int:
        app = build_web_app()
        platforms = build_platforms(settings, services, app)
        scheduler = SchedulerComponent(settings, store, services.content, {p.name: p.sender for p in platforms})
        reloader = _reloader(settings, services, [scheduler.ticker.use_content])
        return await serve(settings, services, app=app, platforms=platforms, components=[reloader, scheduler],
                           readiness_checks={"database": store.ping})  # fmt: skip

    return asyncio.run(main())


def cmd_discord_sync(args: argparse.Namespace) -> int:
    from bot.platforms.discord.cli import DiscordSetupError, sync_commands

    settings = _settings()
    if settings.discord_token is None:
        raise StartupError("re-bot: set DISCORD_TOKEN to sync Discord commands.")
    token = settings.discord_token.get_secret_value()
    try:
        names = asyncio.run(sync_commands(token, load_services(settings), settings.discord_api_url, args.guild))
    except DiscordSetupError as exc:
        raise StartupError(str(exc)) from None
    where = f"to server {args.guild} (available now)" if args.guild else "globally (may take a few minutes to appear)"
    print(f"synced {len(names)} commands {where}: {' '.join('/' + n for n in names)}")
    return 0


def cmd_discord_invite(args: argparse.Namespace) -> int:
    from bot.platforms.discord.cli import DiscordSetupError, invite

    settings = _settings()
    token = settings.discord_token.get_secret_value() if settings.discord_token else None
    try:
        print(invite(token, args.client_id))
    except DiscordSetupError as exc:
        raise StartupError(str(exc)) from None
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="re-bot",
        description="A study companion on the way to ML research engineering, for Slack, Discord and the console.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run every platform whose credentials are set (the console when none are)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("console", help="interactive session: type slash commands as in Slack")
    p.set_defaults(func=cmd_console)

    p = sub.add_parser("ask", help="run one slash-command line (or '-' for one per line of standard input)")
    p.add_argument("line", metavar="LINE", help="e.g. '/re-faq phd', or '-' to read lines from standard input")
    p.add_argument("--user", default="U-console", help="acting member id (default U-console)")
    p.add_argument("--channel", default="C-console", help="channel id (default C-console)")
    p.add_argument("--json", action="store_true", help="print one JSON object per reply")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("tick", help="one delivery pass as of an instant (idempotent; also the catch-up tool)")
    p.add_argument("--at", required=True, metavar="ISO-8601", help="the instant, e.g. 2025-03-30T07:00:00Z")
    p.add_argument("--json", action="store_true", help="one JSON line per delivery")
    p.add_argument(
        "--force",
        action="store_true",
        help="allow an instant more than a day ahead of the clock (it moves every schedule past it)",
    )
    p.set_defaults(func=cmd_tick)

    p = sub.add_parser("workspaces", help="every Slack workspace and Discord server served, active or removed")
    p.add_argument("--json", action="store_true", help="one JSON object per workspace")
    p.set_defaults(func=cmd_workspaces)

    p = sub.add_parser("db", help="database tools")
    db_sub = p.add_subparsers(dest="db_command", required=True, metavar="SUBCOMMAND")
    d = db_sub.add_parser("upgrade", help="apply pending migrations to RE_BOT_DATABASE_URL")
    d.set_defaults(func=cmd_db_upgrade)

    p = sub.add_parser("content", help="content tools")
    content_sub = p.add_subparsers(dest="content_command", required=True, metavar="SUBCOMMAND")
    c = content_sub.add_parser(
        "check", help="validate a content folder (default: the packaged one) with RE_BOT_CONTENT_EXTRA merged over it"
    )
    c.add_argument("dir", nargs="?", default=None, metavar="DIR")
    c.add_argument("--extra", default=None, metavar="DIR", help="community folder (default RE_BOT_CONTENT_EXTRA)")
    c.set_defaults(func=cmd_content_check)
    c = content_sub.add_parser("new", help="write a stub FAQ topic, paper or prompt, every field explained")
    c.add_argument("kind", choices=("faq", "paper", "prompt"))
    c.add_argument("id", metavar="ID", help="lowercase letters, digits and dashes")
    c.add_argument("--dir", default=None, help="content folder to write into (default RE_BOT_CONTENT_EXTRA, else .)")
    c.set_defaults(func=cmd_content_new)

    p = sub.add_parser("report", help="what members asked: answered, helpful, and the questions nothing answered")
    p.add_argument("--since", default="30d", help="period to cover, e.g. 30d, 12h, 2w (default 30d)")
    p.add_argument("--workspace", default=None, metavar="ID", help="only this Slack team / Discord server")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.add_argument("--suggest", action="store_true", help="ready-to-paste YAML: phrasings for topics, new topic stubs")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("discord", help="Discord set-up: register slash commands, print the invite link")
    discord_sub = p.add_subparsers(dest="discord_command", required=True, metavar="SUBCOMMAND")
    d = discord_sub.add_parser("sync", help="register the slash commands with Discord (after install or changes)")
    d.add_argument("--guild", type=int, metavar="ID", help="only in this server (instant; for testing)")
    d.set_defaults(func=cmd_discord_sync)
    d = discord_sub.add_parser("invite", help="print the URL that adds the bot to a server")
    d.add_argument("--client-id", type=int, metavar="ID", help="application id (default: read from DISCORD_TOKEN)")
    d.set_defaults(func=cmd_discord_invite)

    p = sub.add_parser("config", help="configuration tools")
    config_sub = p.add_subparsers(dest="config_command", required=True, metavar="SUBCOMMAND")
    c = config_sub.add_parser(
        "check", help="print the effective configuration (secrets hidden); exit 1 naming every problem"
    )
    c.set_defaults(func=cmd_config_check)
    return parser


class Terminated(BaseException):
    """SIGTERM arrived (`docker stop`). A BaseException, like KeyboardInterrupt, so no `except Exception` on the way
    (a handler's apology, a delivery pass's) swallows it: the command unwinds, closing what it opened, and exits 0."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def main(argv: Sequence[str] | None = None) -> int:
    # Until the settings say otherwise (see _settings); the secrets already in the environment are redacted even
    # if the settings never load.
    configure_logging("text", logging.WARNING, secrets_in_environment(os.environ))
    args = build_parser().parse_args(argv)
    # Every command stops on SIGTERM, the console platform as a container's PID 1 too (PID 1 has no default action
    # for it). `re-bot run` with platforms replaces this with its graceful shutdown (bot.runtime.serve).
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return int(args.func(args) or 0)
    except StartupError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except Terminated:
        return 0
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception:
        # Through the logging handler, so the traceback is redacted like every log line (a library's exception
        # message can carry a token); Python's default hook would print it as is.
        log.critical("re-bot stopped on an unexpected error", exc_info=True)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
