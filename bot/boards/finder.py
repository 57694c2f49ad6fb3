"""Which board a command is on: named (`in <board>`), the channel it was typed in, the
action it names, or the caller's own boards (one: that one; several: the one they chose)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from bot.boards.registry import Boards
from bot.boards.view import BoardView
from bot.errors import CommandError
from bot.services.context import Caller
from storage.models import Action, BoardMember, Person, Supporter

#: `… in <board>` at the end of a command.
_IN_BOARD = re.compile(r"^(?:(?P<rest>.*\S)\s+)?in\s+(?P<name>\S.*)$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Choose:
    """The caller is on several boards and the command does not say which: they choose."""

    boards: list[BoardView]


def split_board(text: str, boards: Boards) -> tuple[str, str | None]:
    """`done 12 in SEND board` → (`done 12`, `SEND board`) when a board has that name; the
    text as it is otherwise (a title may say "in March")."""
    rest: str | None = text
    while rest and (match := _IN_BOARD.match(rest)):
        rest, name = match.group("rest"), match.group("name")
        if boards.by_name(name) is not None:
            return rest or "", name
    return text, None


def choose_for(boards: Boards, caller: Caller, name: str) -> BoardView | None:
    """The board called `name` as the caller may see it, or None."""
    board = boards.by_name(name)
    if board is None or not board.in_workspace(caller.workspace, caller.platform):
        return None
    return board


def find_board(
    session: Session,
    boards: Boards,
    *,
    caller: Caller,
    named: str | None,
    person: Person,
    action_id: int | None,
) -> BoardView | Choose:
    """The board a command is on (see the module's docstring), seen from the caller's
    workspace.

    A board of another workspace is never found: named, it is "no board called …", and an
    action of one is left for the use case to refuse as unknown.
    """
    workspace, channel = caller.workspace, caller.channel

    def seen(board: BoardView | None) -> bool:
        return board is not None and board.in_workspace(workspace, caller.platform)

    if named is not None:
        board = choose_for(boards, caller, named)
        if board is None:
            raise CommandError(f"There is no board called {named!r}.", "/board use <name>")
        return board
    if channel is not None:
        board = boards.by_channel(channel)
        if board is not None and seen(board):
            return board
    if action_id is not None:
        # In a direct message an action's number says which board it is on.
        board_id = session.scalar(select(Action.board_id).where(Action.id == action_id))
        board = boards.get(board_id) if board_id is not None else None
        if board is not None and seen(board):
            return board
    if person.current_board_id is not None:
        chosen = boards.get(person.current_board_id)
        if chosen is not None and seen(chosen):
            return chosen
    mine = [b for b in _boards_of(session, boards, person) if seen(b)]
    if len(mine) == 1:
        return mine[0]
    if len(mine) > 1:
        return Choose(mine)
    visible = [b for b in boards.all() if seen(b)]
    if not visible:
        raise CommandError(
            "This workspace has no board yet: a chair starts one with /board create <name>.",
            "/board create <name>",
        )
    default = next((b for b in visible if b.is_default), None)
    if default is not None or len(visible) == 1:
        return default or visible[0]
    return Choose(visible)


def _boards_of(session: Session, boards: Boards, person: Person) -> list[BoardView]:
    """The boards someone holds a role on or owns or supports an action of."""
    ids = session.scalars(
        union(
            select(BoardMember.board_id).where(BoardMember.person_id == person.id),
            select(Action.board_id).where(Action.owner_id == person.id),
            select(Action.board_id)
            .join(Supporter, Supporter.action_id == Action.id)
            .where(Supporter.person_id == person.id),
        )
    ).all()
    found = [boards.get(board_id) for board_id in sorted(set(ids))]
    return [board for board in found if board is not None]
