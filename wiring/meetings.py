"""`actionbot board meeting add|list|cancel` and `actionbot export --snapshot`: a board's
meetings from the command line (`--board`, else the default board's), through the same use
cases as `/board meeting` in chat.

Whoever runs the command line administers the bot: no actor is recorded for what it does.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Literal, TextIO

from bot.errors import CommandError
from bot.grammar.meetings import AddMeeting, parse_meeting
from bot.render.text import render
from bot.services.context import Core
from bot.services.meetings import add_meeting, cancel_meeting, meetings_message, schedule_lines
from bot.services.snapshots import UnknownSnapshot, export_snapshot
from storage.db import transaction


def meeting_add(core: Core, words: list[str], *, out: TextIO, err: TextIO) -> int:
    """`board meeting add 15 Jan 2027 14:00 Improvement Board`; the exit code."""
    now, settings = core.now(), core.settings
    try:
        command = parse_meeting("add " + " ".join(words), today=core.today())
        assert isinstance(command, AddMeeting)
        with transaction(core.sessions) as session:
            added = add_meeting(
                session,
                settings=settings,
                calendar=core.calendar,
                day=command.day,
                time=command.time,
                title=command.title,
                actor=None,
                now=now,
                board_id=core.board.id,
            )
            line = schedule_lines(
                added.meeting, settings=settings, calendar=core.calendar, today=core.today()
            )
    except CommandError as exc:
        err.write(exc.reason + "\n")
        return 1
    out.write(f"Meeting added: {line}\n")
    for warning in added.warnings:
        out.write(f"Note: {warning}\n")
    return 0


def meeting_list(core: Core, *, out: TextIO) -> int:
    """`board meeting list`: the meetings to come with their rounds' dates."""
    with core.sessions() as session:
        message = meetings_message(
            session,
            settings=core.settings,
            calendar=core.calendar,
            now=core.now(),
            board_id=core.board.id,
        )
    out.write(render(message, today=core.today(), tz=core.settings.tz) + "\n")
    return 0


def meeting_cancel(core: Core, meeting_id: int, *, out: TextIO, err: TextIO) -> int:
    """`board meeting cancel ID`; the exit code."""
    try:
        with transaction(core.sessions) as session:
            meeting = cancel_meeting(
                session, meeting_id=meeting_id, actor=None, now=core.now(), board_id=core.board.id
            )
            title = meeting.title
    except CommandError as exc:
        err.write(exc.reason + "\n")
        return 1
    out.write(f"Meeting {meeting_id} ({title}) cancelled: no update round for it.\n")
    return 0


def snapshot_format(output: Path | None, fmt: str) -> Literal["csv", "xlsx"]:
    """The file's extension decides (`.xlsx`, `.csv`); else `--format`."""
    suffix = output.suffix.lower() if output is not None else ""
    if suffix == ".xlsx":
        return "xlsx"
    if suffix == ".csv":
        return "csv"
    return "xlsx" if fmt == "xlsx" else "csv"


def write_snapshot(
    core: Core, meeting_id: int, *, fmt: Literal["csv", "xlsx"], out: BinaryIO, err: TextIO
) -> int:
    """`export --snapshot ID`: one meeting's snapshot; the exit code."""
    try:
        export_snapshot(core, meeting_id=meeting_id, fmt=fmt, out=out)
    except UnknownSnapshot as exc:
        err.write(f"{exc}\n")
        return 1
    return 0
