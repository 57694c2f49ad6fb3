"""What the bot says about boards themselves: which one a command is on, the choice of one."""

from __future__ import annotations

from collections.abc import Sequence

from bot.boards.view import BoardView
from bot.grammar.commands import UseBoard
from bot.render.model import Button, Buttons, Message, Paragraph, Usage


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
    text = (
        f"Your commands in direct messages are now about {board.name}; "
        "type them again. `/board use <name>` changes it."
    )
    return Message(text=text, blocks=[Paragraph(text=text)], tone="success")
