"""The escalation ladder over a simulated month of working days, Christmas included.

The worker ticks every working morning from Monday 14 December 2026 to Friday 15 January
2027 with the default ladder (overdue 1: owner; 5: owner and supporting owners; 10: the
secretary; 15: the chairs; blocked 3: the secretary; 5: the chairs). Each rung goes once, on
the working day it is reached; bank holidays do not count; a moved deadline starts again.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.boards.members import put_role
from bot.clock import FixedClock
from bot.domain import Platform, Role
from bot.domain.workdays import WorkingCalendar
from bot.services.context import Caller, Core
from bot.services.dispatch import run_command
from scheduler.jobs import Ticker
from storage.db import transaction
from storage.models import DEFAULT_BOARD_ID, EscalationProgress, OutboxMessage, Person, Supporter
from tests.scheduler_fakes import FakeSender, action, person

LONDON = ZoneInfo("Europe/London")
START = dt.date(2026, 12, 14)
END = dt.date(2027, 1, 15)


def morning(clock: FixedClock, day: dt.date) -> None:
    clock.set(dt.datetime(day.year, day.month, day.day, 10, 0, tzinfo=LONDON))


def rungs(core: Core) -> list[tuple[str, str, str, str]]:
    """(day planned, action, rung, person) of every escalation row, sorted."""
    with core.sessions() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "escalation")
            .order_by(OutboxMessage.id)
        )
        names = {p.id: p.display_name for p in session.scalars(select(Person))}
        found = []
        for row in rows:
            _, action_id, _, rung, person_id = row.key.split(":")
            day = row.created_at.astimezone(LONDON).date().isoformat()
            found.append((day, f"#{action_id}", rung, names[int(person_id)]))
        return sorted(found)


def test_each_rung_goes_once_on_the_working_day_it_is_reached(
    core: Core, calendar: WorkingCalendar, clock: FixedClock, chair: Caller
) -> None:
    morning(clock, START)
    late = action(core, "Re-audit CP plans", owner="amira", due=dt.date(2026, 12, 11))
    stuck = action(core, "Share data", owner="amira", due=dt.date(2027, 3, 1))
    ben = person(core, "ben")
    sam = person(core, "sam")
    person(core, "chair")
    with transaction(core.sessions) as session:
        session.add(Supporter(action_id=late, person_id=ben, position=0))
        secretary = session.get(Person, sam)
        assert secretary is not None
        put_role(session, DEFAULT_BOARD_ID, secretary.id, Role.SECRETARY)
    amira = Caller(Platform.CONSOLE, "amira", display_name="Amira")
    blocked = run_command(core, amira, "/action", f"blocked {stuck} police data")
    assert "blocked" in blocked.message.text.lower()

    sender = FakeSender()
    ticker = Ticker(core, [sender], calendar)
    day = START
    moved = False
    while day <= END:
        if day == dt.date(2027, 1, 7) and not moved:
            morning(clock, day)
            run_command(core, chair, "/action", f"due {late} 2027-01-08 new plan agreed")
            moved = True
        morning(clock, day)
        ticker.tick()
        ticker.tick()  # a second tick the same morning plans nothing new
        day += dt.timedelta(days=1)

    assert rungs(core) == [
        # Due Friday 11 Dec: 1 working day late on Monday 14th.
        ("2026-12-14", f"#{late}", "overdue1", "Amira"),
        # Blocked on Monday 14th: 3 working days on Thursday 17th, the secretary.
        ("2026-12-17", f"#{stuck}", "blocked3", "Sam"),
        ("2026-12-18", f"#{late}", "overdue5", "Amira"),
        ("2026-12-18", f"#{late}", "overdue5", "Ben"),
        ("2026-12-21", f"#{stuck}", "blocked5", "Chair"),
        # Christmas Day and Boxing Day (Monday 28th) do not count: 10 on Tuesday 29th.
        ("2026-12-29", f"#{late}", "overdue10", "Sam"),
        # New Year's Day neither: 15 on Wednesday 6 January, the chairs.
        ("2027-01-06", f"#{late}", "overdue15", "Chair"),
        # Moved to Friday 8 January: the ladder starts again from the new deadline.
        ("2027-01-11", f"#{late}", "overdue1", "Amira"),
        ("2027-01-15", f"#{late}", "overdue5", "Amira"),
        ("2027-01-15", f"#{late}", "overdue5", "Ben"),
    ]
    # What the board's people read: one escalation each, worded in working days.
    assert sender.texts("chair") == [
        # Told at once when it was blocked (as ever), then by the ladder.
        "Amira marked action #2 Share data as blocked: police data",
        "Escalation: ⛔ Blocked for 5 working days: #2 Share data. Owner: Amira. "
        "Blocked: police data.",
        "Escalation: 🔴 15 working days late: #1 Re-audit CP plans. Owner: Amira.",
    ]
    assert sender.texts("sam") == [
        "Escalation: ⛔ Blocked for 3 working days: #2 Share data. Owner: Amira. "
        "Blocked: police data.",
        "Escalation: 🔴 10 working days late: #1 Re-audit CP plans. Owner: Amira.",
    ]
    with core.sessions() as session:
        progress = {
            (p.action_id, p.trigger): (p.anchor, p.days)
            for p in session.scalars(select(EscalationProgress))
        }
    assert progress == {
        (late, "overdue"): (dt.date(2027, 1, 8), 5),
        (stuck, "blocked"): (dt.date(2026, 12, 14), 5),
    }


def test_an_action_imported_long_overdue_sends_each_person_only_their_highest_rung(
    core: Core, calendar: WorkingCalendar, clock: FixedClock
) -> None:
    morning(clock, dt.date(2026, 11, 23))
    very_late = action(core, "Recruit social workers", owner="amira", due=dt.date(2026, 10, 1))
    sam = person(core, "sam")
    person(core, "chair")
    with transaction(core.sessions) as session:
        secretary = session.get(Person, sam)
        assert secretary is not None
        put_role(session, DEFAULT_BOARD_ID, secretary.id, Role.SECRETARY)
    Ticker(core, [FakeSender()], calendar).tick()
    assert rungs(core) == sorted(
        [
            ("2026-11-23", f"#{very_late}", "overdue5", "Amira"),
            ("2026-11-23", f"#{very_late}", "overdue10", "Sam"),
            ("2026-11-23", f"#{very_late}", "overdue15", "Chair"),
        ]
    )
