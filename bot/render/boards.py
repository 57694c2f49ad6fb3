"""What the bot says about boards themselves: which one a command is on, the choice of one,
the boards there are (`/board list`), a new or linked board, and a board's settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bot.boards.view import BoardView
from bot.grammar.commands import UseBoard
from bot.grammar.dates import format_date
from bot.render.model import Button, Buttons, Heading, Message, Paragraph, Usage


def choose_board(boards: Sequence[BoardView]) -> Message:
    """Asked in a direct message by someone on several boards: which one, with a button each."""
    names = ", ".join(board.name for board in boards)
    text = (
        f"You are on several boards ({names}): which one is this about? Choose the board for "
        "your direct messages (you can change it any time), or add `in <board>` to the command."
    )
    return Message(
        text=text,
        blocks=[
            Paragraph(text=text),
            Buttons(
                items=[
                    Button(label=board.name, command=UseBoard(board=board.name)) for board in boards
                ]
            ),
            Usage(lines=["/board use <name>", "/action done 12 in <board>"]),
        ],
    )


def board_chosen(board: BoardView) -> Message:
    """The answer to `/board use`: where direct messages now go."""
    return _done(
        f"Your direct messages are now about {board.name}: a command asked about which board "
        "goes there when you type it again. `/board use <name>` changes it."
    )


@dataclass(frozen=True)
class SettingLine:
    """One per-board setting as `/board settings` shows it: its value and where it comes from."""

    key: str
    value: str
    #: Who changed it ("the command line" when no person did); None: the environment's.
    changed_by: str | None = None
    changed_on: dt.date | None = None


#: What each setting means and a value it accepts, in the order they are shown.
SETTING_FORMS: dict[str, tuple[str, str]] = {
    "signoff": ("an owner's done waits for a chair or the secretary", "on|off"),
    "timezone": ("the board's timezone", "Europe/London"),
    "reminder_days": ("days before a deadline an owner is reminded", "7,1,0"),
    "digest": ("when the weekly digest is posted", "mon 09:00"),
    "working_hours": ("when reminders may go out", "09:00-17:30"),
    "working_days": ("the working week", "mon-fri"),
    "holidays": ("bank holidays of this country (none: no holidays)", "GB"),
    "holiday_region": ("and of this part of it (none: the whole country)", "ENG"),
    "round_days": ("working days before a meeting its update round opens (1-60)", "10"),
    "cutoff_days": ("working days before a meeting the round closes (fewer)", "5"),
    "escalation": (
        "who hears of late and blocked actions when (none: nobody)",
        "overdue 5: owner, supporters; blocked 3: chairs",
    ),
}

SETTINGS_USAGE = [
    "/board settings <setting> <value>  (a chair; `default`: the environment's again)",
    "/board settings signoff on|off",
]


def setting_example(key: str) -> str:
    """`/board settings digest mon 09:00`: a command that sets `key` to a value it accepts."""
    return f"/board settings {key} {SETTING_FORMS.get(key, ('', '<value>'))[1]}"


def settings_overview(board: BoardView, lines: Sequence[SettingLine], *, today: dt.date) -> Message:
    """`/board settings`: every per-board setting, its value, and whether it is the
    environment's or who changed it when."""
    rows = []
    for line in lines:
        meaning = SETTING_FORMS.get(line.key, ("", ""))[0]
        if line.changed_by is None:
            origin = "default"
        else:
            on = f", {format_date(line.changed_on, today=today)}" if line.changed_on else ""
            origin = f"changed by {line.changed_by}{on}"
        rows.append(f"• {line.key}: {line.value} ({origin}) — {meaning}")
    text = f"Settings of {board.name}"
    return Message(
        text=text,
        blocks=[Heading(text=text), Paragraph(text="\n".join(rows)), Usage(lines=SETTINGS_USAGE)],
    )


def setting_changed(board: BoardView, key: str, value: str | None) -> Message:
    """A chair changed a setting (`value` None: back to the environment's default)."""
    if value is None:
        text = f"{board.name}'s {key} is the default again."
    else:
        text = f"{board.name}'s {key} is now {value}."
    return Message(text=text, blocks=[Paragraph(text=text)], tone="success")


def board_created(board: BoardView, *, stays: BoardView | None, channel_hint: bool) -> Message:
    """`/board create`: the new board, its chair, how to give it a channel, and which board
    the creator's direct messages stay about (`stays`, when they were on one)."""
    text = f"Board {board.name} created; you are its chair."
    if stays is not None:
        text += (
            f" Your direct messages stay about {stays.name}: `/board use {board.name}` to work "
            "on the new one."
        )
    lines = [
        f"/board link {board.name}  (typed in its channel: that channel becomes the board's)",
        f"/action add <title> @owner by <date> in {board.name}",
        f"/board settings in {board.name}",
    ]
    if not channel_hint:
        lines = lines[1:]
    return Message(text=text, blocks=[Paragraph(text=text), Usage(lines=lines)], tone="success")


def board_linked(board: BoardView) -> Message:
    """`/board link`: this channel is now the board's."""
    return _done(
        f"This channel is now {board.name}'s channel: its digest and board packs are posted "
        "here, and commands typed here are about it."
    )


@dataclass(frozen=True)
class BoardLine:
    """A board as `/board list` shows it."""

    board: BoardView
    #: The caller's role on it ("none" without one).
    role: str
    #: Whether commands the caller types in direct messages are about it.
    current: bool = False


def boards_list(lines: Sequence[BoardLine]) -> Message:
    """`/board list`: each board the caller can see, its channel and their role."""
    if not lines:
        text = "There are no boards here yet."
        return Message(
            text=text, blocks=[Paragraph(text=text), Usage(lines=["/board create <name>"])]
        )
    rows = []
    for line in lines:
        board = line.board
        channel = f"channel {board.channel}" if board.channel else "no channel yet"
        role = "no role" if line.role == "none" else line.role
        marks = " · your direct messages" if line.current else ""
        rows.append(f"• {board.name} — {channel} — you: {role}{marks}")
    text = f"Boards ({len(lines)})"
    return Message(
        text=text,
        blocks=[
            Heading(text=text),
            Paragraph(text="\n".join(rows)),
            Usage(lines=["/board use <name>", "/board create <name>", "/board link [board]"]),
        ],
    )


def _done(text: str) -> Message:
    """A change made, in one paragraph."""
    return Message(text=text, blocks=[Paragraph(text=text)], tone="success")
