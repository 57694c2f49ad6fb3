"""The latest update a bundled reminder shows: dated in the board's time zone, and looked up
for all of a bundle's actions in one query however many it carries."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event

from bot.clock import FixedClock
from bot.domain.workdays import WorkingCalendar
from bot.outbox.delivery import deliver
from bot.render.text import render
from bot.services.context import Caller, Core
from bot.services.dispatch import run_command
from scheduler.jobs import REMINDER_KINDS, plan_messages
from tests.scheduler_fakes import FakeSender, action


def test_the_latest_update_is_dated_in_the_boards_time_zone(
    core: Core, calendar: WorkingCalendar, clock: FixedClock, amira: Caller
) -> None:
    # 23:30 UTC on Monday 6 July is 00:30 on Tuesday 7 July in London (BST).
    clock.set(dt.datetime(2026, 7, 6, 23, 30, tzinfo=dt.UTC))
    number = action(core, "Audit case files", owner="amira", due=dt.date(2026, 7, 8))
    run_command(core, amira, "/action", f"update {number} audit booked")
    clock.set(dt.datetime(2026, 7, 7, 9, 0, tzinfo=dt.UTC))
    sender = FakeSender()
    plan_messages(core, calendar)
    deliver(core, [sender], kinds=REMINDER_KINDS)
    [sent] = sender.sent
    assert "Latest update, Tue 7 Jul 2026 (Amira): audit booked" in render(sent.message)


def test_a_bundle_looks_up_its_latest_updates_in_one_query(
    core: Core, calendar: WorkingCalendar, amira: Caller
) -> None:
    def history_reads(actions: int) -> int:
        for n in range(actions):
            number = action(core, f"A{n}", owner=f"owner{actions}", due=dt.date(2026, 11, 24))
            owner = Caller(amira.platform, f"owner{actions}", display_name="Owner")
            run_command(core, owner, "/action", f"update {number} note {n}")
        plan_messages(core, calendar)
        reads = 0

        def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
            nonlocal reads
            reads += "FROM action_history" in statement
        engine = core.sessions.kw["bind"]
        event.listen(engine, "before_cursor_execute", count)
        try:
            sender = FakeSender()
            deliver(core, [sender], kinds=REMINDER_KINDS)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        [sent] = [s for s in sender.sent if s.to == f"owner{actions}"]
        assert render(sent.message).count("Latest update") == actions
        return reads

    assert history_reads(2) == history_reads(8)
