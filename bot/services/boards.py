"""The boards themselves: which board someone's direct messages are about (`/board use`)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.boards.resolve import choose_for
from bot.errors import CommandError
from bot.grammar.commands import UseBoard
from bot.render.boards import board_chosen
from bot.services.context import Caller, Core
from bot.services.request import Outcome
from storage.models import Person


def use_board(
    core: Core, session: Session, caller: Caller, actor: Person, command: UseBoard
) -> Outcome:
    """`/board use <name>`: remember the board the caller's direct messages are about."""
    board = choose_for(core.boards, caller, command.board)
    if board is None:
        raise CommandError(f"There is no board called {command.board!r}.", "/board use <name>")
    actor.current_board_id = board.id
    return Outcome(board_chosen(board))
