"""A command finds its board: the channel it is typed in, `in <board>`, the action it names,
or the caller's own boards in a direct message (one: that one; several: they choose)."""

from __future__ import annotations

from sqlalchemy import select

from bot.boards.members import put_role
from bot.domain import Platform, Role
from bot.grammar.commands import UndoReply
from bot.render.model import Buttons
from bot.render.text import render
from bot.services.context import Caller, Core
from bot.services.dispatch import execute, run_command
from storage.db import transaction
from storage.models import DEFAULT_BOARD_ID, Action, Board, HistoryEntry, Person

SEND = "SEND Board"


def add_board(core: Core, name: str, **where: str) -> int:
    with transaction(core.sessions) as session:
        board = Board(name=name, created_at=core.now(), **where)
        session.add(board)
        session.flush()
        board_id = board.id
    core.boards.invalidate()
    return board_id


def board_of(core: Core, title: str) -> int:
    with transaction(core.sessions) as session:
        return session.scalars(select(Action.board_id).where(Action.title == title)).one()


def give(core: Core, who: Caller, board_id: int, role: Role) -> None:
    run_command(core, who, "/action", "list mine")  # the bot meets them
    with transaction(core.sessions) as session:
        named = select(Person).where(Person.display_name == who.display_name)
        person = session.scalars(named).one()
        put_role(session, board_id, person.id, role)


def test_a_command_in_a_boards_channel_is_on_that_board(core: Core, chair: Caller) -> None:
    send = add_board(core, SEND, slack_channel="CSEND")
    in_channel = Caller(Platform.SLACK, "chair", display_name="Chair", channel="CSEND")
    give(core, in_channel, send, Role.CHAIR)
    out = run_command(core, in_channel, "/action", "add Review EHCP timeliness @chair by 29 Jan")
    assert out.message.tone == "success", render(out.message)
    assert board_of(core, "Review EHCP timeliness") == send
    # The default board's channel-less commands stay on the default board.
    run_command(core, chair, "/action", "add Audit the front door @chair by 2027-01-29")
    assert board_of(core, "Audit the front door") == DEFAULT_BOARD_ID


def test_in_board_names_the_board_and_a_title_may_still_say_in(core: Core, chair: Caller) -> None:
    send = add_board(core, SEND)
    give(core, chair, send, Role.CHAIR)
    run_command(core, chair, "/board", "use Improvement Board")
    added = f"add Plan the review in March @chair by 2027-03-31 in {SEND}"
    run_command(core, chair, "/action", added)
    assert board_of(core, "Plan the review in March") == send
    # Words that name no board stay the command's own: here, the title's.
    kept = "add Brief the partners in Nowhere Land @chair by 2027-03-31"
    assert run_command(core, chair, "/action", kept).message.tone == "success"
    assert board_of(core, "Brief the partners in Nowhere Land") == DEFAULT_BOARD_ID


def test_several_boards_in_a_dm_ask_once_and_remember(core: Core, amira: Caller) -> None:
    send = add_board(core, SEND)
    give(core, amira, DEFAULT_BOARD_ID, Role.MEMBER)
    give(core, amira, send, Role.MEMBER)
    asked = run_command(core, amira, "/status", "")
    text = render(asked.message)
    assert "You are on several boards (Improvement Board, SEND Board)" in text
    [buttons] = [b for b in asked.message.blocks if isinstance(b, Buttons)]
    assert [b.label for b in buttons.items] == ["Improvement Board", SEND]
    chosen = execute(core, amira, buttons.items[1].command)
    assert "Your direct messages are now about SEND Board" in render(chosen.message)
    with transaction(core.sessions) as session:
        person = session.scalars(select(Person).where(Person.display_name == "Amira")).one()
        assert person.current_board_id == send
    again = run_command(core, amira, "/status", "")
    assert "several boards" not in render(again.message)
    assert render(again.message).startswith(f"Improvement plan: {SEND}"), render(again.message)


def test_an_action_number_in_a_dm_finds_its_board(core: Core, chair: Caller) -> None:
    send = add_board(core, SEND, slack_channel="CSEND")
    in_channel = Caller(Platform.SLACK, "chair", display_name="Chair", channel="CSEND")
    give(core, in_channel, send, Role.CHAIR)
    run_command(core, in_channel, "/action", "add Map the SEND pathway @chair by 2027-01-29")
    with transaction(core.sessions) as session:
        number = session.scalars(
            select(Action.id).where(Action.title == "Map the SEND pathway")
        ).one()
    in_dm = Caller(Platform.SLACK, "chair", display_name="Chair")
    done = run_command(core, in_dm, "/action", f"update {number} Draft shared with schools")
    assert done.message.tone == "success", render(done.message)


def test_a_board_of_another_workspace_is_never_found(core: Core) -> None:
    add_board(core, SEND, slack_team_id="T2", slack_channel="CSEND")
    outsider = Caller(Platform.SLACK, "U1", display_name="Someone", workspace="T1")
    named = run_command(core, outsider, "/status", f"in {SEND}")
    assert f"There is no board called '{SEND}'" in render(named.message)
    # Typed in that board's channel from another workspace: not that board either.
    inside = Caller(Platform.SLACK, "U1", display_name="Someone", workspace="T1", channel="CSEND")
    out = run_command(core, inside, "/status", "")
    assert SEND not in render(out.message)


def test_the_default_board_follows_the_environment(core: Core) -> None:
    board = core.boards.default()
    assert board.id == DEFAULT_BOARD_ID
    assert board.name == core.settings.board_name
    assert board.settings == core.settings


def test_an_undo_in_a_dm_finds_the_board_of_what_it_undoes(core: Core, amira: Caller) -> None:
    send = add_board(core, SEND, slack_channel="CSEND")
    give(core, amira, DEFAULT_BOARD_ID, Role.MEMBER)
    give(core, amira, send, Role.CHAIR)
    in_channel = Caller(Platform.CONSOLE, "amira", display_name="Amira", channel="CSEND")
    run_command(core, in_channel, "/action", "add Map the SEND pathway @amira by 29 Jan")
    with transaction(core.sessions) as session:
        number = session.scalars(
            select(Action.id).where(Action.title == "Map the SEND pathway")
        ).one()
    run_command(core, in_channel, "/action", f"update {number} Draft shared")
    with transaction(core.sessions) as session:
        entry = session.scalars(
            select(HistoryEntry.id)
            .where(HistoryEntry.action_id == number)
            .order_by(HistoryEntry.id.desc())
        ).first()
    assert entry is not None
    out = execute(core, amira, UndoReply(first=entry, last=entry))
    assert "several boards" not in render(out.message), render(out.message)
