"""The worker serves every board: each board's reminders and digest at its own times, in its
own timezone, with its own reminder days and schedule, to its own people and channel; and a
tick costs the same statements for one board as for fifty."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import event, select

from bot.boards.members import put_role
from bot.boards.registry import Boards
from bot.clock import FixedClock
from bot.domain import Role
from bot.render.text import render
from bot.services.context import Core
from scheduler.jobs import Ticker, run_digest
from storage.db import transaction
from storage.models import (
    DEFAULT_BOARD_ID,
    Action,
    Board,
    BoardSetting,
    HistoryEntry,
    OutboxMessage,
)
from tests.scheduler_fakes import LONG_AGO, FakeSender, person, transient

UTC = dt.UTC
MONDAY_0930 = dt.datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
SEND = 2  # the second board's id


@pytest.fixture
def boards_core(core: Core) -> Iterator[Core]:
    """The tests' core with the default board posting to CBOARDA, and a registry that reads
    the boards again only when told (a new board is seen at once, without waiting)."""
    settings = core.settings.model_copy(update={"board_channel": "CBOARDA"})
    on = Core(
        settings=settings,
        sessions=core.sessions,
        clock=core.clock,
        directories=core.directories,
    )
    on.registry = Boards(on.sessions, settings, monotonic=lambda: 0.0)
    yield on


def add_board(core: Core, board_id: int, name: str, *, channel: str | None, **own: str) -> None:
    """A board row with its channel and the settings a chair gave it (`/board settings`)."""
    with transaction(core.sessions) as session:
        session.add(Board(id=board_id, name=name, slack_channel=channel, created_at=LONG_AGO))
        session.flush()
        for key, value in own.items():
            session.add(BoardSetting(board_id=board_id, key=key, value=value, changed_at=LONG_AGO))
    core.boards.invalidate()


def board_action(
    core: Core, board_id: int, title: str, *, owner: str, due: dt.date, ref: str | None = None
) -> int:
    owner_id = person(core, owner)
    with transaction(core.sessions) as session:
        row = Action(
            board_id=board_id,
            ref=ref,
            title=title,
            owner_id=owner_id,
            due_date=due,
            created_at=LONG_AGO,
            updated_at=LONG_AGO,
        )
        session.add(row)
        session.flush()
        return row.id


def rows(core: Core, kind: str) -> list[OutboxMessage]:
    with core.sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        return list(session.scalars(query))


def channel_posts(sender: FakeSender, channel: str) -> list[str]:
    """What each post to `channel` reads as text."""
    return [render(s.message) for s in sender.sent if s.where == "channel" and s.to == channel]


def test_each_board_gets_its_reminders_and_digest_at_its_own_times(
    boards_core: Core, clock: FixedClock
) -> None:
    core = boards_core
    # The SEND board works in New York, reminds 3 days ahead and digests on Tuesdays at 8.
    add_board(
        core, SEND, "SEND board", channel="CBOARDB",
        timezone="America/New_York", reminder_days="3", digest="tue 08:00",
    )  # fmt: skip
    audit = board_action(
        core, DEFAULT_BOARD_ID, "Audit case files", owner="amira", due=dt.date(2026, 11, 23)
    )
    plans = board_action(core, SEND, "Review EHC plans", owner="ben", due=dt.date(2026, 11, 26))
    sender = FakeSender()
    ticker = Ticker(core, [sender], core.calendar)

    # Monday 09:30 in London, 04:30 in New York: only the default board is at work.
    clock.set(MONDAY_0930)
    first = ticker.tick()
    assert first.planned == {"reminder": 1, "digest": 1}
    assert [r.key for r in rows(core, "reminder")] == [f"reminder:{audit}:2026-11-23:0"]
    assert sender.dms() == ["amira"]

    # 09:30 in New York: the SEND board's reminder, 3 days ahead (the default board's days
    # would have made it a 7-day one), to its owner alone.
    clock.set(dt.datetime(2026, 11, 23, 14, 30, tzinfo=UTC))
    assert ticker.tick().planned == {"reminder": 1}
    reminders = {r.key: r.board_id for r in rows(core, "reminder")}
    assert reminders == {
        f"reminder:{audit}:2026-11-23:0": DEFAULT_BOARD_ID,
        f"reminder:{plans}:2026-11-26:3": SEND,
    }
    assert sender.dms() == ["amira", "ben"]

    # Tuesday 07:59 in New York: not yet the SEND board's digest; 08:00: it goes, once.
    clock.set(dt.datetime(2026, 11, 24, 12, 59, tzinfo=UTC))
    assert "digest" not in ticker.tick().planned
    clock.set(dt.datetime(2026, 11, 24, 13, 0, tzinfo=UTC))
    assert ticker.tick().planned["digest"] == 1
    clock.set(dt.datetime(2026, 11, 24, 13, 1, tzinfo=UTC))
    assert "digest" not in ticker.tick().planned

    digests = [(r.key, r.board_id, r.channel, r.created_at) for r in rows(core, "digest")]
    assert digests == [
        ("digest:CBOARDA:2026-W48", DEFAULT_BOARD_ID, "CBOARDA", MONDAY_0930),
        ("digest:CBOARDB:2026-W48", SEND, "CBOARDB", dt.datetime(2026, 11, 24, 13, 0, tzinfo=UTC)),
    ]
    # Each board's channel got its own digest once, naming its own actions only.
    (board_a,) = channel_posts(sender, "CBOARDA")
    (board_b,) = channel_posts(sender, "CBOARDB")
    assert "Audit case files" in board_a and "Review EHC plans" not in board_a
    assert "Review EHC plans" in board_b and "Audit case files" not in board_b
    # Every reminder, nudge and escalation names the board of its action, none twice.
    with core.sessions() as session:
        planned = session.execute(
            select(OutboxMessage.key, OutboxMessage.board_id, OutboxMessage.action_id).where(
                OutboxMessage.action_id.is_not(None)
            )
        ).all()
    assert {(action_id, board) for _, board, action_id in planned} <= {
        (audit, DEFAULT_BOARD_ID),
        (plans, SEND),
    }
    assert len({key for key, _, _ in planned}) == len(planned)


def test_a_board_without_a_channel_gets_no_digest_said_once(
    boards_core: Core, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    core = boards_core
    add_board(core, 3, "Safeguarding partnership", channel=None)
    sender = FakeSender()
    ticker = Ticker(core, [sender], core.calendar)
    clock.set(MONDAY_0930)
    with caplog.at_level(logging.INFO, logger="scheduler.weekly_digest"):
        assert ticker.tick().planned == {"digest": 1}
        clock.set(MONDAY_0930 + dt.timedelta(minutes=1))
        ticker.tick()
    said = [r.getMessage() for r in caplog.records if "has no channel" in r.getMessage()]
    assert said == ["board 3 (Safeguarding partnership) has no channel: no weekly digest"]
    assert [r.key for r in rows(core, "digest")] == ["digest:CBOARDA:2026-W48"]


def test_run_digest_posts_every_boards_digest_once(boards_core: Core, clock: FixedClock) -> None:
    core = boards_core
    add_board(core, SEND, "SEND board", channel="CBOARDB", digest="fri 16:00")
    clock.set(MONDAY_0930)
    sender = FakeSender()
    first = run_digest(core, [sender])  # `actionbot run digest`: now, whatever the schedule
    assert first.planned == {"digest": 2}
    assert sorted(s.to for s in sender.sent) == ["CBOARDA", "CBOARDB"]
    clock.set(MONDAY_0930 + dt.timedelta(hours=1))
    again = run_digest(core, [sender])
    assert again.planned == {}
    assert again.notes == [
        "this week's digest was already posted on Mon 23 Nov at 09:30",
        "SEND board: this week's digest was already posted on Mon 23 Nov at 09:30",
    ]
    assert len(sender.sent) == 2


def test_a_tick_costs_the_same_statements_for_one_board_as_for_fifty(
    boards_core: Core, clock: FixedClock
) -> None:
    core = boards_core
    engine = core.sessions.kw["bind"]
    secretary = person(core, "sam")
    # The first send is rate limited for two hours: the ticks measured plan, and deliver
    # nothing (delivery costs statements per message, which is not what is measured here).
    sender = FakeSender(errors={"owner1-0": [transient("rate limited", retry_after=7200)]})
    ticker = Ticker(core, [sender], core.calendar)

    def seed(board_id: int, round_: int) -> None:
        # Due today (a reminder), and long overdue (escalations up to the chairs).
        board_action(core, board_id, f"Due {board_id}.{round_}", owner=f"owner{board_id}-{round_}",
                     due=dt.date(2026, 11, 23))  # fmt: skip
        board_action(core, board_id, f"Late {board_id}.{round_}", owner=f"late{board_id}",
                     due=dt.date(2026, 10, 1))  # fmt: skip

    def measured_tick(minute: int) -> tuple[int, dict[str, int]]:
        count = 0

        def bump(*_: object) -> None:
            nonlocal count
            count += 1

        clock.set(MONDAY_0930 + dt.timedelta(minutes=minute))
        core.boards.invalidate()  # both ticks read the boards afresh
        event.listen(engine, "before_cursor_execute", bump)
        try:
            planned = ticker.tick().planned
        finally:
            event.remove(engine, "before_cursor_execute", bump)
        return count, dict(planned)

    def give_roles(board_id: int) -> None:
        with transaction(core.sessions) as session:
            put_role(session, board_id, person(core, f"chair{board_id}"), Role.CHAIR)
            put_role(session, board_id, secretary, Role.SECRETARY)

    give_roles(DEFAULT_BOARD_ID)
    seed(DEFAULT_BOARD_ID, 0)
    clock.set(MONDAY_0930)
    ticker.tick()  # the digest, the first reminders, and the pause
    seed(DEFAULT_BOARD_ID, 1)
    one, planned_one = measured_tick(1)
    # The late action's owner, the secretary, and the chairs: the board's and CHAIR_USER_IDS'.
    assert planned_one == {"reminder": 1, "overdue": 1, "escalation": 4}

    for board_id in range(2, 51):
        add_board(core, board_id, f"Board {board_id}", channel=f"CBOARD{board_id:02d}")
        give_roles(board_id)
        seed(board_id, 0)
    clock.set(MONDAY_0930 + dt.timedelta(minutes=2))
    assert ticker.tick().planned["digest"] == 49  # their digests, built once
    for board_id in range(1, 51):
        seed(board_id, 1 if board_id > 1 else 2)
    fifty, planned_fifty = measured_tick(3)
    # Each other board's late action: its owner, the secretary and that board's chair.
    assert planned_fifty == {"reminder": 50, "overdue": 50, "escalation": 4 + 49 * 3}
    assert fifty == one


def test_a_reminder_dates_its_latest_update_in_its_boards_timezone(
    boards_core: Core, clock: FixedClock
) -> None:
    core = boards_core
    add_board(core, SEND, "SEND board", channel="CBOARDB", timezone="America/New_York",
              reminder_days="3")  # fmt: skip
    plans = board_action(core, SEND, "Review EHC plans", owner="ben", due=dt.date(2026, 11, 26))
    with transaction(core.sessions) as session:
        # 03:00 on Monday in London is 22:00 on Sunday in New York.
        session.add(
            HistoryEntry(
                action_id=plans,
                at=dt.datetime(2026, 11, 23, 3, 0, tzinfo=UTC),
                actor_id=person(core, "ben"),
                source="console",
                change="note",
                note="panel booked",
            )
        )
    sender = FakeSender()
    clock.set(dt.datetime(2026, 11, 23, 14, 30, tzinfo=UTC))
    Ticker(core, [sender], core.calendar).tick()
    (reminder,) = [render(s.message) for s in sender.sent if s.to == "ben"]
    assert "panel booked" in reminder
    assert "Sun 22 Nov" in reminder and "Mon 23 Nov" not in reminder


def test_a_board_whose_bank_holidays_cannot_be_read_holds_up_no_other(
    boards_core: Core, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    core = boards_core
    # Written behind the command's back (`/board settings holidays` checks the country).
    add_board(core, SEND, "SEND board", channel="CBOARDB", holidays="ZZ")
    audit = board_action(
        core, DEFAULT_BOARD_ID, "Audit case files", owner="amira", due=dt.date(2026, 11, 23)
    )
    board_action(core, SEND, "Review EHC plans", owner="ben", due=dt.date(2026, 11, 23))
    sender = FakeSender()
    ticker = Ticker(core, [sender], core.calendar)
    clock.set(MONDAY_0930)
    with caplog.at_level(logging.ERROR, logger="scheduler.groups"):
        report = ticker.tick()
        clock.set(MONDAY_0930 + dt.timedelta(minutes=1))
        ticker.tick()
    # The default board's reminder and digest; the SEND board's digest, which counts working
    # days too, fails on its own and is tried again at the next tick.
    assert report.planned == {"reminder": 1, "digest": 1}
    assert [r.key for r in rows(core, "reminder")] == [f"reminder:{audit}:2026-11-23:0"]
    assert [r.key for r in rows(core, "digest")] == ["digest:CBOARDA:2026-W48"]
    said = [r.getMessage() for r in caplog.records if r.name == "scheduler.groups"]
    assert said == [
        "boards 2: nothing planned: HOLIDAY_COUNTRY/HOLIDAY_SUBDIVISION: Country ZZ not available"
    ]
