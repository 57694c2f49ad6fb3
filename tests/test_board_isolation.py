"""Isolation between boards: a command on one board never reads or changes another's rows.

Two boards share one database: the default board ("A", its channel CBOARD) and the SEND board
("B", its channel CSEND). Commands typed in A's channel name B's actions, meetings and
replies; each is refused exactly as a number that never existed is, and the database is left
as it was. A's lists, figures, digest and pack never show B's titles, and every row a command
writes names the board it ran on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.boards.members import put_role
from bot.domain import Platform, Role, Status
from bot.errors import CommandError
from bot.pack.collect import collect
from bot.render.model import Message
from bot.render.text import render
from bot.services.context import Caller, Core
from bot.services.digest import build_digest, queue_digest
from bot.services.dispatch import run_command
from bot.services.home import home_message
from bot.services.lookup import action_for_chair, action_to_change, current_action
from bot.services.rebaseline import request_to_decide
from bot.services.signoff import evidence_target
from bot.services.snapshots import take_snapshot
from storage.db import transaction
from storage.models import (
    DEFAULT_BOARD_ID,
    Action,
    Base,
    Board,
    BoardPack,
    DigestSnapshot,
    HistoryEntry,
    Meeting,
    OutboxMessage,
    Person,
    PlanSnapshot,
)

A_CHANNEL = "CBOARD"
B_CHANNEL = "CSEND"
#: Every title of board B has this word, which nothing of board A says.
SECRET = "Bravo"
#: A number no action, meeting or history entry has.
MISSING = 9_999

#: `/action` commands naming an action, `{id}` its number: every verb that takes one.
ACTION_COMMANDS = (
    "show {id}",
    "done {id}",
    "done {id} all finished",
    "{id} done",
    "update {id} the draft went to the board",
    "blocked {id} waiting on legal",
    "reopen {id}",
    "cancel {id} no longer needed",
    "due {id} 2027-01-29 the team is short",
    "rebaseline {id} 2027-02-26 more time needed",
    "approve {id}",
    "decline {id} not now",
    "nudge {id}",
    "rag {id} red",
    "rag {id} green",
    "accept {id} the work is done",
    "evidence {id} https://example.org/report",
    "signoff {id} accepted",
    "return {id} needs more evidence",
    "assign {id} @amira",
    "assign {id} to me",
)

#: Commands that list or count actions on the command's board: none may show B's titles.
LISTS = (
    ("/status", ""),
    ("/status", "overdue"),
    ("/status", "blocked"),
    ("/status", "due 60 days"),
    ("/status", "nodate"),
    ("/status", "unassigned"),
    ("/status", "red"),
    ("/status", "amber"),
    ("/status", "signoff"),
    ("/status", "mine"),
    ("/status", "@ben"),
    ("/status", "overdue @ben"),
    ("/status", "digest"),
    ("/action", "list"),
    ("/action", "list all"),
    ("/action", "list @ben"),
    ("/action", "list blocked"),
    ("/action", "list done"),
    ("/board", "meetings"),
)


@dataclass
class World:
    """The two boards, who is on them, and the ids of each board's rows."""

    core: Core
    chair_a: Caller
    ben_in_a: Caller
    chair_b: Caller
    a: int
    b: int
    a_actions: list[int]
    b_actions: list[int]
    a_meeting: int
    b_meeting: int
    #: The history entries of a reply-like update ben gave on B (first, last).
    b_entries: tuple[int, int]

    def typed(self, caller: Caller, command: str, words: str) -> Message:
        return run_command(self.core, caller, command, words).message


def say(core: Core, caller: Caller, command: str, words: str) -> Message:
    message = run_command(core, caller, command, words).message
    assert message.tone != "error", render(message)
    return message


def meet(core: Core, caller: Caller) -> int:
    """The bot meets `caller` (a harmless command); their person's id."""
    run_command(core, caller, "/action", "help")
    run_command(core, caller, "/status", "rules")
    with transaction(core.sessions) as session:
        found = session.scalars(
            select(Person).where(Person.display_name == caller.display_name)
        ).one()
        return found.id


def ids_of(core: Core, board_id: int) -> list[int]:
    with transaction(core.sessions) as session:
        return list(
            session.scalars(
                select(Action.id).where(Action.board_id == board_id).order_by(Action.id)
            )
        )


@pytest.fixture
def world(core: Core, chair: Caller) -> Iterator[World]:
    # The default board gets a channel; public links so the pack can be built.
    core.settings = core.settings.model_copy(
        update={"board_channel": A_CHANNEL, "public_url": "https://actionbot.example.org"}
    )
    with transaction(core.sessions) as session:
        send = Board(name="SEND Board", slack_channel=B_CHANNEL, created_at=core.now())
        session.add(send)
        session.flush()
        b = send.id
    core.boards.invalidate()
    chair_a = Caller(Platform.CONSOLE, "chair", display_name="Chair", channel=A_CHANNEL)
    amira_a = Caller(Platform.CONSOLE, "amira", display_name="Amira", channel=A_CHANNEL)
    ben_in_a = Caller(Platform.CONSOLE, "ben", display_name="Ben", channel=A_CHANNEL)
    chair_b = Caller(Platform.CONSOLE, "bea", display_name="Bea", channel=B_CHANNEL)
    ben_b = Caller(Platform.CONSOLE, "ben", display_name="Ben", channel=B_CHANNEL)
    people = {
        name: meet(core, who)
        for name, who in (
            ("chair", chair_a),
            ("amira", amira_a),
            ("ben", ben_in_a),
            ("bea", chair_b),
        )
    }
    with transaction(core.sessions) as session:
        put_role(session, b, people["bea"], Role.CHAIR)
        put_role(session, DEFAULT_BOARD_ID, people["amira"], Role.MEMBER)
        put_role(session, DEFAULT_BOARD_ID, people["ben"], Role.MEMBER)
        put_role(session, b, people["ben"], Role.MEMBER)

    # Board A: one of each state a list shows.
    say(core, chair_a, "/action", "add Alpha audit of the front door @amira by 2026-12-04")
    say(core, chair_a, "/action", "add Alpha training plan @amira by 2026-11-30")
    say(core, chair_a, "/action", "add Alpha staffing review @chair")
    a_actions = ids_of(core, DEFAULT_BOARD_ID)
    say(core, chair_a, "/action", f"blocked {a_actions[0]} waiting on the budget")
    say(core, chair_a, "/action", f"rag {a_actions[1]} amber")
    # Board B: the same states, and more, so every list on A has something of B to leak.
    say(core, chair_b, "/action", f"add {SECRET} EHCP timeliness review @ben by 2026-12-01")
    say(core, chair_b, "/action", f"add {SECRET} annual review backlog @ben by 2026-12-11")
    say(core, chair_b, "/action", f"add {SECRET} transport policy @ben")
    say(core, chair_b, "/action", f"add {SECRET} parent forum @bea by 2027-01-15")
    say(core, chair_b, "/action", f"add {SECRET} unowned work by 2027-01-20")
    b_actions = ids_of(core, b)
    say(core, chair_b, "/action", f"blocked {b_actions[0]} waiting on health")
    say(core, chair_b, "/action", f"rag {b_actions[1]} red")
    say(core, ben_b, "/action", f"rebaseline {b_actions[1]} 2027-01-29 the team is short")
    say(core, chair_b, "/action", f"done {b_actions[3]}")
    say(core, ben_b, "/action", f"update {b_actions[2]} the policy draft is out")
    with transaction(core.sessions) as session:
        entries = list(
            session.scalars(
                select(HistoryEntry.id).where(
                    HistoryEntry.action_id == b_actions[2], HistoryEntry.change == "note"
                )
            )
        )
    say(core, chair_a, "/board", "meeting add 14 Jan 2027 14:00 Alpha board")
    say(core, chair_b, "/board", f"meeting add 21 Jan 2027 10:00 {SECRET} board")
    with transaction(core.sessions) as session:
        meetings = {m.board_id: m.id for m in session.scalars(select(Meeting))}
    # One more action of B waits for sign-off, delivered without its owner.
    with transaction(core.sessions) as session:
        row = session.get(Action, b_actions[4])
        assert row is not None
        row.status = Status.DELIVERED
        row.delivered_at = core.now()
    yield World(
        core=core,
        chair_a=chair_a,
        ben_in_a=ben_in_a,
        chair_b=chair_b,
        a=DEFAULT_BOARD_ID,
        b=b,
        a_actions=a_actions,
        b_actions=b_actions,
        a_meeting=meetings[DEFAULT_BOARD_ID],
        b_meeting=meetings[b],
        b_entries=(entries[0], entries[-1]),
    )


def everything(core: Core) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to compare before and after a refused command."""
    with transaction(core.sessions) as session:
        return {
            table.name: sorted((tuple(row) for row in session.execute(select(table))), key=repr)
            for table in Base.metadata.sorted_tables
        }


def shown(message: Message) -> str:
    return render(message, today=dt.date(2026, 11, 23))


def refused_as_missing(world: World, caller: Caller, command: str, template: str, n: int) -> None:
    """`template` with `n` (another board's) is refused in the words a number that never
    existed gets, and changes nothing."""
    before = everything(world.core)
    got = world.typed(caller, command, template.format(id=n))
    missing = world.typed(caller, command, template.format(id=MISSING))
    assert got.tone == "error", shown(got)
    assert shown(got) == shown(missing).replace(str(MISSING), str(n))
    assert SECRET not in shown(got)
    assert everything(world.core) == before


def test_a_chair_of_one_board_finds_no_action_of_another(world: World) -> None:
    for template in ACTION_COMMANDS:
        for n in world.b_actions:
            refused_as_missing(world, world.chair_a, "/action", template, n)
    got = world.typed(world.chair_a, "/action", f"done {world.b_actions[0]}")
    assert shown(got).startswith(f"✗ There is no action #{world.b_actions[0]}.")


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_command_with_another_boards_id_is_refused_and_changes_nothing(
    world: World, data: st.DataObject
) -> None:
    n = data.draw(st.sampled_from(world.b_actions), label="B's action")
    template = data.draw(st.sampled_from(ACTION_COMMANDS), label="command")
    # Its owner on the other board gets no further: the number names nothing here.
    caller = data.draw(st.sampled_from([world.chair_a, world.ben_in_a]), label="caller")
    before = everything(world.core)
    got = world.typed(caller, "/action", template.format(id=n))
    missing = world.typed(caller, "/action", template.format(id=MISSING))
    assert got.tone == "error", shown(got)
    assert shown(got) == shown(missing).replace(str(MISSING), str(n))
    assert SECRET not in shown(got)
    assert everything(world.core) == before


def test_the_other_boards_meetings_and_replies_are_unknown(world: World) -> None:
    m = world.b_meeting
    for template in ("meeting cancel {id}", "pack {id}", "pack post {id}"):
        refused_as_missing(world, world.chair_a, "/board", template, m)
    assert "There is no meeting" in shown(world.typed(world.chair_a, "/board", f"pack {m}"))
    # Undoing the other board's reply: its history entries name no reply here.
    first, last = world.b_entries
    before = everything(world.core)
    got = world.typed(world.chair_a, "/action", f"undo {first}-{last}")
    assert got.tone == "error"
    assert "does not name a reply I recorded; nothing was changed" in shown(got)
    assert everything(world.core) == before


def test_buttons_and_forms_find_no_action_of_another_board(world: World) -> None:
    core, n = world.core, world.b_actions[1]
    board_a = core.boards.get(world.a)
    assert board_a is not None
    for look in (
        lambda: action_to_change(core, world.chair_a, n, "add updates to it"),
        lambda: action_for_chair(core, world.chair_a, n, "move deadlines"),
        lambda: request_to_decide(core, world.chair_a, n, None),
        lambda: current_action(core.on(board_a), n),
        lambda: current_action(core, n, caller=world.chair_a),
    ):
        with pytest.raises(CommandError) as refused:
            look()
        assert refused.value.reason == f"There is no action #{n}."
    # Pressed where the action's own board is, the same buttons find it.
    assert action_to_change(core, world.chair_b, n, "add updates to it").id == n
    assert current_action(core, n, caller=world.chair_b).id == n


def test_the_home_tab_shows_the_board_of_ones_direct_messages(world: World) -> None:
    core = world.core
    bea = shown(home_message(core, Caller(Platform.CONSOLE, "bea", display_name="Bea")))
    assert "Board overview" in bea and SECRET in bea and "Alpha" not in bea
    chair = shown(home_message(core, Caller(Platform.CONSOLE, "chair", display_name="Chair")))
    assert "Board overview" in chair and "Alpha" in chair and SECRET not in chair


def test_a_file_sent_in_a_boards_channel_is_evidence_of_that_boards_action(world: World) -> None:
    core, waiting = world.core, world.b_actions[3]  # Bea's, delivered on B
    assert evidence_target(core, world.chair_b, "the minutes") == waiting
    in_a = Caller(Platform.CONSOLE, "bea", display_name="Bea", channel=A_CHANNEL)
    assert evidence_target(core, in_a, "the minutes") is None
    in_dm = Caller(Platform.CONSOLE, "bea", display_name="Bea")
    assert evidence_target(core, in_dm, "the minutes") == waiting


@pytest.mark.parametrize(("command", "words"), LISTS)
def test_lists_and_figures_show_only_their_board(world: World, command: str, words: str) -> None:
    got = shown(world.typed(world.chair_a, command, words))
    assert SECRET not in got
    # The same list on the other board shows its own.
    mine = shown(world.typed(world.chair_b, command, words))
    assert "Alpha" not in mine


def test_the_figures_count_only_the_boards_actions(world: World) -> None:
    a = shown(world.typed(world.chair_a, "/status", ""))
    assert "open 3 · due in 7 days 1 · overdue 0 · blocked 1 · done 0 · need a date 1" in a, a
    assert "red 0 · amber 1 · green 0 · not rated 2" in a, a
    assert "awaiting sign-off" not in a
    b = shown(world.typed(world.chair_b, "/status", ""))
    assert "blocked 1 · awaiting sign-off 2 · done 0" in b, b
    assert "red 1 · amber 0" in b, b


def test_the_digest_and_the_pack_read_only_their_board(world: World) -> None:
    core = world.core
    board_a = core.boards.get(world.a)
    board_b = core.boards.get(world.b)
    assert board_a is not None and board_b is not None
    with transaction(core.sessions) as session:
        digest = build_digest(
            session,
            settings=board_a.settings,
            now=core.now(),
            channel=A_CHANNEL,
            board_id=world.a,
        )
    assert SECRET not in shown(digest.message)
    assert digest.counts["open"] == 3 and digest.counts["blocked"] == 1
    # B's digest, queued: its outbox row and its kept figures name B.
    with transaction(core.sessions) as session:
        queued = queue_digest(
            session, settings=board_b.settings, now=core.now(), channel=B_CHANNEL, board_id=world.b
        )
        assert queued.outbox_id is not None
        row = session.get(OutboxMessage, queued.outbox_id)
        assert row is not None and row.board_id == world.b
        [kept] = session.scalars(select(DigestSnapshot)).all()
        assert kept.board_id == world.b and kept.counts["open"] == 3
    # Snapshots at both boards' meetings; A's pack and its trend see A's only.
    with transaction(core.sessions) as session:
        for board, meeting_id in ((board_a, world.a_meeting), (board_b, world.b_meeting)):
            meeting = session.get(Meeting, meeting_id)
            assert meeting is not None
            take_snapshot(session, core.on(board), meeting, core.now())
        boards = {s.action_id: s.board_id for s in session.scalars(select(PlanSnapshot))}
        assert {k for k, v in boards.items() if v == world.b} == set(world.b_actions)
        meeting_a = session.get(Meeting, world.a_meeting)
        assert meeting_a is not None
        data = collect(session, core.on(board_a), meeting_a, core.now())
    assert {row.id for _, rows in data.workstreams for row in rows} == set(world.a_actions)
    assert [column.meeting_id for column in data.trend] == [world.a_meeting]
    assert sum(data.trend[0].counts.values()) + data.trend[0].unrated == 3
    out = shown(world.typed(world.chair_a, "/board", "pack"))
    assert "Board pack for Alpha board" in out, out
    with transaction(core.sessions) as session:
        [pack] = session.scalars(select(BoardPack)).all()
        assert pack.board_id == world.a and pack.meeting_id == world.a_meeting
        assert SECRET.encode() not in pack.html and SECRET.encode() not in pack.pdf


def test_every_row_a_command_writes_names_its_board(world: World) -> None:
    core = world.core
    with transaction(core.sessions) as session:
        by_action = dict(session.execute(select(Action.id, Action.board_id)).all())
        for row in session.scalars(select(OutboxMessage)):
            if row.action_id is not None:
                assert row.board_id == by_action[row.action_id], row.key
        # Ben's request for a new date on B went to B's chair, as a message of B.
        told = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "date_request")
        ).all()
        assert [(m.board_id, m.recipient.display_name if m.recipient else None) for m in told] == [
            (world.b, "Bea")
        ]
        meetings = {m.id: m.board_id for m in session.scalars(select(Meeting))}
    assert meetings == {world.a_meeting: world.a, world.b_meeting: world.b}
    assert set(world.b_actions).isdisjoint(world.a_actions)
