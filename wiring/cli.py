"""The `actionbot` command line. Heavy imports stay inside each subcommand so --help is instant."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger("actionbot")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="actionbot",
        description="Follow up the actions of an improvement plan in Slack, Teams or a terminal.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("serve", help="HTTP server: Slack events, Teams messages, /healthz")
    sub.add_parser("socket", help="Slack over Socket Mode (no public URL needed)")
    sub.add_parser("worker", help="the scheduler: reminders, escalations, weekly digest")

    console = sub.add_parser("console", help="the bot in this terminal, no Slack needed")
    console.add_argument("--as", dest="user", help="who you are (default: your login name)")
    console.add_argument("--demo", action="store_true", help="load a sample improvement plan")

    sub.add_parser("migrate", help="bring the database schema up to date")

    imp = sub.add_parser("import", help="load a plan from a .csv or .xlsx file")
    imp.add_argument("file", type=Path)

    exp = sub.add_parser("export", help="write the register (and its history)")
    exp.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    exp.add_argument(
        "--history",
        action="store_true",
        help="every change with who and when (csv: the history table; xlsx: a second sheet)",
    )
    exp.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")

    run = sub.add_parser("run", help="run one scheduled job once, now, and exit")
    run.add_argument("job", choices=("reminders", "digest"))
    run.add_argument(
        "--now",
        type=_aware_datetime,
        metavar="ISO",
        help="pretend it is this moment, e.g. 2026-12-07T09:00+00:00",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; the exit status is 0 on success, 1 on a reported failure."""
    args = build_parser().parse_args(argv)
    # The console is a chat: only problems are logged there, unless -v asks for more.
    quiet = args.command in ("console", "export", "import") and not args.verbose
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from pydantic import ValidationError

    from bot.config import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]).upper()
            print(f"actionbot: configuration {field}: {error['msg']}", file=sys.stderr)
        return 2
    handler = _COMMANDS[args.command]
    return handler(args, settings)


def _aware_datetime(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date-time: {text!r}") from exc
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError("give a timezone offset, e.g. 2026-12-07T09:00+00:00")
    return value


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from storage.migrate import upgrade

    upgrade(settings.database_url)
    print("Database schema is up to date.")
    return 0


def _console(args: argparse.Namespace, settings: Settings) -> int:
    from handlers.console import BANNER, ConsoleSession, interactive_lines
    from storage.migrate import upgrade
    from wiring.root import compose

    # The console is the embedded default: it brings its own SQLite schema up to date.
    upgrade(settings.database_url)
    core = compose(settings).core
    user = args.user
    if args.demo:
        from bot.plans.demo import DEMO_CHAIR, load_demo

        loaded = load_demo(core)
        print(
            f"Loaded the sample plan: {loaded} actions."
            if loaded
            else "The database already has actions; the sample plan was not loaded."
        )
        user = user or DEMO_CHAIR
    session = ConsoleSession(core, user=user or getpass.getuser(), out=sys.stdout)
    if sys.stdin.isatty():
        print(BANNER)
        print(f"You are {session.user}.")
        session.run(interactive_lines(session))
    else:
        session.run(sys.stdin)
    return 0


def _import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.plans.importer import PlanImportError, import_plan
    from wiring.root import compose

    process = compose(settings)
    try:
        report = import_plan(process.core, args.file, directory=process.plan_directory)
    except PlanImportError as exc:
        print(f"Nothing was imported from {args.file}:\n{exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"Cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"Imported {args.file}: {report.summary()}.")
    return 0


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.plans.exporter import export_register
    from wiring.root import compose

    core = compose(settings).core
    if args.output is None:
        if args.format == "xlsx" and sys.stdout.isatty():
            print("An .xlsx file is binary: give -o FILE.", file=sys.stderr)
            return 2
        export_register(core, fmt=args.format, history=args.history, out=sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return 0
    with args.output.open("wb") as out:
        export_register(core, fmt=args.format, history=args.history, out=out)
    print(f"Wrote {args.output}.", file=sys.stderr)
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from wiring.serve import serve

    return serve(settings)


def _socket(args: argparse.Namespace, settings: Settings) -> int:
    from wiring.serve import run_socket

    return run_socket(settings)


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from wiring.scheduling import work

    return work(settings)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from wiring.scheduling import run_once

    return run_once(settings, args.job, now=args.now)


_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "serve": _serve,
    "socket": _socket,
    "worker": _worker,
    "console": _console,
    "migrate": _migrate,
    "import": _import,
    "export": _export,
    "run": _run,
}
