"""The `actionbot` command line. Heavy imports stay inside each subcommand so --help is instant."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import io
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.domain import Role

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from bot.config import Settings
    from bot.outbox.sender import Sender
    from bot.plans.preview import Preview
    from bot.services.context import Core

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

    back = sub.add_parser("backup", help="copy the SQLite database, safely while the bot runs")
    back.add_argument("file", type=Path)
    back.add_argument("--force", action="store_true", help="replace FILE if it exists")
    rest = sub.add_parser("restore", help="replace the SQLite database with a backup")
    rest.add_argument("file", type=Path)
    rest.add_argument("--force", action="store_true", help="replace an existing database")
    sub.add_parser(
        "verify-history",
        help="check the history's hash chain; name the first entry that does not match",
    )

    imp = sub.add_parser("import", help="load a plan from a .csv or .xlsx file")
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--dry-run",
        action="store_true",
        help="read, check and resolve owners, print what would be loaded, change nothing",
    )
    imp.add_argument(
        "--sheet",
        action="append",
        default=[],
        metavar="NAME",
        help="read only this sheet of a workbook (repeat for several)",
    )
    imp.add_argument(
        "--board", metavar="NAME", help="the board the plan is for (default: the default board)"
    )

    people = sub.add_parser("people", help="the people directory: who plans name as owners")
    people_sub = people.add_subparsers(dest="people_command", required=True, metavar="ACTION")
    people_import = people_sub.add_parser(
        "import", help="add or update people from a .csv or .xlsx file"
    )
    people_import.add_argument("file", type=Path)
    people_sub.add_parser("list", help="everyone the bot knows, and who is reachable in chat")
    people_role = people_sub.add_parser(
        "role", help="show or change a person's role on the board (chair, secretary, …)"
    )
    people_role.add_argument("email")
    people_role.add_argument(
        "role",
        nargs="?",
        choices=[role.value for role in Role],
        help="the new role (none: no role); without it, the role is shown",
    )
    people_role.add_argument(
        "--board", metavar="NAME", help="the role on this board (default: the default board)"
    )
    people_export = people_sub.add_parser(
        "export", help="everything held about a person, as JSON (a subject access request)"
    )
    people_export.add_argument("email", help="their email (or person:N, or a chat user id)")
    people_export.add_argument("--out", type=Path, metavar="FILE", help="write to FILE")
    people_forget = people_sub.add_parser(
        "forget", help="erase a person's name, email and chat ids everywhere (a pseudonym stays)"
    )
    people_forget.add_argument("email", help="their email (or person:N, or a chat user id)")
    people_forget.add_argument("--reason", default="", help="why (kept in the history)")
    people_forget.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    people_retention = people_sub.add_parser(
        "retention", help="forget the people of actions closed more than RETENTION_MONTHS ago"
    )
    people_retention.add_argument(
        "--dry-run", action="store_true", help="list who and what would change, change nothing"
    )
    people_retention.add_argument(
        "--months", type=_positive, metavar="N", help="this once, instead of RETENTION_MONTHS"
    )


    exp = sub.add_parser("export", help="write the register (and its history)")
    exp.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    exp.add_argument(
        "--history",
        action="store_true",
        help="every change with who and when (csv: the history table; xlsx: a second sheet)",
    )
    exp.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    exp.add_argument("--board", metavar="NAME", help="the board (default: the default board)")
    exp.add_argument(
        "--snapshot",
        type=int,
        metavar="MEETING",
        help="the plan as snapshotted at that meeting's cut-off (csv or xlsx by -o's extension)",
    )

    board = sub.add_parser(
        "board", help="the boards (create, list, settings), their meetings and board packs"
    )
    board_sub = board.add_subparsers(dest="board_command", required=True)
    create = board_sub.add_parser("create", help="a new board, its channels and its chair")
    create.add_argument("name", help="its name (quote a name with spaces)")
    create.add_argument("--slack-channel", metavar="ID", help="its Slack channel (C…)")
    create.add_argument("--teams-channel", metavar="ID", help="its Teams channel (19:…)")
    create.add_argument("--slack-team", metavar="ID", help="the Slack workspace (T…) it belongs to")
    create.add_argument("--teams-tenant", metavar="ID", help="the Teams tenant it belongs to")
    create.add_argument("--chair", metavar="EMAIL", help="its chair (someone the bot knows)")
    board_sub.add_parser("list", help="every board, its workspace, channels and people")
    board_settings = board_sub.add_parser(
        "settings", help="a board's settings, or change one: BOARD KEY VALUE (default: reset)"
    )
    board_settings.add_argument("board", metavar="BOARD", help="the board's name")
    board_settings.add_argument("key", nargs="?", metavar="KEY", help="e.g. digest, timezone")
    board_settings.add_argument(
        "value", nargs="*", metavar="VALUE", help="e.g. fri 10:00; `default`: the environment's"
    )
    meeting = board_sub.add_parser("meeting", help="add, list or cancel the board's meetings")
    meeting_sub = meeting.add_subparsers(dest="meeting_command", required=True)
    meeting_add = meeting_sub.add_parser(
        "add", help="add a meeting: DATE TIME [TITLE], in the bot's timezone"
    )
    meeting_add.add_argument(
        "words", nargs="+", metavar="WORDS", help="e.g. 15 Jan 2027 14:00 Improvement Board"
    )
    meeting_list = meeting_sub.add_parser(
        "list", help="the meetings to come, with their rounds' dates"
    )
    meeting_cancel = meeting_sub.add_parser("cancel", help="cancel a meeting to come")
    meeting_cancel.add_argument("meeting_id", type=int, metavar="ID")
    for on_one in (meeting_add, meeting_list, meeting_cancel):
        on_one.add_argument(
            "--board", metavar="NAME", help="the board's meetings (default: the default board)"
        )
    pack = board_sub.add_parser(
        "pack", help="write the board pack (PDF, xlsx, HTML) for a meeting; a link if PUBLIC_URL"
    )
    pack.add_argument(
        "--meeting", type=int, metavar="ID", help="the meeting (default: the next, else the last)"
    )
    pack.add_argument("--board", metavar="NAME", help="the board (default: the default board)")
    pack.add_argument(
        "--out", type=Path, default=Path("."), metavar="DIR", help="folder to write into (.)"
    )

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
    quiet = (
        args.command in ("console", "export", "import", "people", "verify-history", "board")
        and not args.verbose
    )
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


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a whole number of months: {text!r}")
    return int(text)


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


def _backup(args: argparse.Namespace, settings: Settings) -> int:
    from storage.backup import BackupError, backup, postgres_commands, restore, sqlite_path

    url = settings.database_url
    if sqlite_path(url) is None:
        lines = "\n".join(f"  {line}" for line in postgres_commands(url, args.file))
        print(
            f"actionbot {args.command} works on an SQLite database file. For PostgreSQL use its "
            f"own tools (PGPASSWORD holds the password):\n{lines}",
            file=sys.stderr,
        )
        return 1
    try:
        if args.command == "backup":
            report = backup(url, args.file, force=args.force)
        else:
            from storage.history_chain import restore_check

            # A copy whose evidence does not verify must not replace the database.
            report = restore(args.file, url, force=args.force, checks=[restore_check])
    except BackupError as exc:
        print(f"actionbot {args.command}: {exc}", file=sys.stderr)
        return 1
    rows = sum(report.rows.values())
    done = "Backed up to" if args.command == "backup" else "Restored"
    print(f"{done} {report.path}: schema {report.revision}, {rows:,} rows, {report.size:,} bytes.")
    if report.migrated_from is not None:
        print(f"Migrated from schema {report.migrated_from}.")
    return 0


def _verify_history(args: argparse.Namespace, settings: Settings) -> int:
    from storage.history_chain import verify_url
    from storage.migrate import schema_problem

    problem = schema_problem(settings.database_url)
    if problem is not None:
        print(f"actionbot verify-history: {problem}", file=sys.stderr)
        return 2
    report = verify_url(settings.database_url)
    if report.intact:
        print(f"{report.describe()}.")
        return 0
    print(f"The history does not verify: {report.describe()}.", file=sys.stderr)
    return 1


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
    from bot.plans.importer import PlanImportError, import_file
    from wiring.boards import on_board
    from wiring.root import compose

    process = compose(settings)
    core = on_board(process.core, args.board, err=sys.stderr)
    if core is None:
        return 1
    show = _PreviewOutput()
    try:
        preview = import_file(
            core,
            args.file,
            directory=process.plan_directory,
            sheets=tuple(args.sheet),
            dry_run=args.dry_run,
            progress=show.progress,
        )
    except PlanImportError as exc:
        show.stop()
        what = "cannot be imported" if args.dry_run else "was not imported; nothing was changed"
        print(f"{args.file} {what}:\n{exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        show.stop()
        print(f"Cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    show.stop()
    show.print(preview)
    return 0


class _PreviewOutput:
    """The import's output: rich tables and a progress bar on a terminal, plain text in a pipe."""

    #: Files with fewer rows load too fast for a progress bar to help.
    PROGRESS_FROM = 500

    def __init__(self) -> None:
        self.terminal = sys.stdout.isatty()
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def progress(self, done: int, total: int) -> None:
        if not self.terminal or total < self.PROGRESS_FROM:
            return
        from rich.progress import Progress

        if self._bar is None:
            self._bar = Progress(transient=True)
            self._bar.start()
            self._task = self._bar.add_task("Loading actions", total=total)
        assert self._task is not None
        self._bar.update(self._task, completed=done)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def print(self, preview: Preview) -> None:
        from bot.plans.preview import preview_renderable, render_preview

        if self.terminal:
            from rich.console import Console

            Console(highlight=False, emoji=False).print(preview_renderable(preview))
        else:
            sys.stdout.write(render_preview(preview))


def _people(args: argparse.Namespace, settings: Settings) -> int:
    from wiring.root import compose

    if args.people_command == "role":
        from wiring.boards import on_board
        from wiring.roles import person_role

        composed = compose(settings)
        on = on_board(composed.core, args.board, err=sys.stderr)
        if on is None:
            return 1
        role = Role(args.role) if args.role else None
        return person_role(
            on,
            args.email,
            role,
            senders=composed.senders,
            out=sys.stdout,
            err=sys.stderr,
        )
    core = compose(settings).core
    if args.people_command == "list":
        from wiring.people import print_people

        print_people(core, out=sys.stdout)
        return 0
    if args.people_command in ("export", "forget", "retention"):
        return _personal_data(args, core)
    from bot.plans.table import PlanFileError
    from wiring.people import import_people

    try:
        return import_people(core, args.file, out=sys.stdout)
    except PlanFileError as exc:
        print(f"Nobody was imported from {args.file}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"Cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1


def _personal_data(args: argparse.Namespace, core: Core) -> int:
    from wiring.people import export_person, forget_person, run_retention

    if args.people_command == "retention":
        return run_retention(core, months=args.months, dry_run=args.dry_run, out=sys.stdout)
    if args.people_command == "forget":
        return forget_person(
            core,
            args.email,
            reason=args.reason,
            by=f"{getpass.getuser()} (actionbot people forget)",
            confirmed=args.yes,
            answer=sys.stdin,
            out=sys.stdout,
            err=sys.stderr,
        )
    if args.out is None:
        return export_person(core, args.email, out=sys.stdout, err=sys.stderr)
    with args.out.open("w", encoding="utf-8") as out:
        code = export_person(core, args.email, out=out, err=sys.stderr)
    if code == 0:
        print(f"Wrote {args.out}.", file=sys.stderr)
    else:
        args.out.unlink(missing_ok=True)
    return code


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.plans.exporter import export_register
    from wiring.boards import on_board
    from wiring.root import compose

    core = on_board(compose(settings).core, args.board, err=sys.stderr)
    if core is None:
        return 1
    if args.snapshot is not None:
        return _export_snapshot(args, core)
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


def _export_snapshot(args: argparse.Namespace, core: Core) -> int:
    from wiring.meetings import snapshot_format, write_snapshot

    fmt = snapshot_format(args.output, args.format)
    if args.output is None and fmt == "xlsx" and sys.stdout.isatty():
        print("An .xlsx file is binary: give -o FILE.", file=sys.stderr)
        return 2
    buffer = io.BytesIO()
    code = write_snapshot(core, args.snapshot, fmt=fmt, out=buffer, err=sys.stderr)
    if code != 0:
        return code
    if args.output is None:
        sys.stdout.buffer.write(buffer.getvalue())
        sys.stdout.buffer.flush()
        return 0
    args.output.write_bytes(buffer.getvalue())
    print(f"Wrote {args.output}.", file=sys.stderr)
    return 0


def _board(args: argparse.Namespace, settings: Settings) -> int:
    from wiring.meetings import meeting_add, meeting_cancel, meeting_list
    from wiring.root import compose

    composed = compose(settings)
    core = composed.core
    if args.board_command in ("create", "list", "settings"):
        return _boards(args, core, composed.senders)
    from wiring.boards import on_board

    on = on_board(core, args.board, err=sys.stderr)
    if on is None:
        return 1
    core = on
    if args.board_command == "pack":
        from wiring.pack import board_pack

        return board_pack(
            core, meeting_id=args.meeting, out_dir=args.out, out=sys.stdout, err=sys.stderr
        )
    if args.meeting_command == "add":
        return meeting_add(core, args.words, out=sys.stdout, err=sys.stderr)
    if args.meeting_command == "cancel":
        return meeting_cancel(core, args.meeting_id, out=sys.stdout, err=sys.stderr)
    return meeting_list(core, out=sys.stdout)


def _boards(args: argparse.Namespace, core: Core, senders: Sequence[Sender]) -> int:
    from wiring.boards import board_create, board_list, board_settings

    if args.board_command == "create":
        return board_create(
            core,
            args.name,
            slack_channel=args.slack_channel,
            teams_channel=args.teams_channel,
            slack_team=args.slack_team,
            teams_tenant=args.teams_tenant,
            chair=args.chair,
            senders=senders,
            out=sys.stdout,
            err=sys.stderr,
        )
    if args.board_command == "list":
        return board_list(core, out=sys.stdout)
    value = " ".join(args.value) if args.value else None
    return board_settings(core, args.board, args.key, value, out=sys.stdout, err=sys.stderr)


_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "serve": _serve,
    "socket": _socket,
    "worker": _worker,
    "console": _console,
    "migrate": _migrate,
    "backup": _backup,
    "restore": _backup,
    "verify-history": _verify_history,
    "import": _import,
    "export": _export,
    "people": _people,
    "board": _board,
    "run": _run,
}
