"""Reminders, overdue nudges and escalations planned from the database and delivered."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import event

from bot.boards.registry import Boards
from bot.clock import FixedClock
from bot.domain import Status
from bot.domain.workdays import WorkingCalendar
from bot.services.context import Caller, Core
from bot.services.dispatch import run_command
from scheduler.jobs import JobReport, Ticker, plan_messages, run_reminders
from storage.db import make_engine, make_session_factory
from storage.models import OutboxStatus
from tests.scheduler_fakes import (
    MONDAY,
    FakeSender,
    action,
    days,
    outbox,
    permanent,
    person,
    statuses,
)


def at(clock: FixedClock, day: dt.date, hour: int = 10, minute: int = 0) -> None:
    """Move the clock to `day` at hour:minute London time."""
    clock.set(dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=_london()))


def _london() -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/London")


def test_owners_due_in_0_1_and_7_days_are_reminded_once(
    core: Core, calendar: WorkingCalendar
) -> None:
    for name, ahead in (("zero", 0), ("one", 1), ("seven", 7), ("twenty", 20)):
        action(core, f"Due in {ahead}", owner=name, due=days(ahead))
    sender = FakeSender()
    first = run_reminders(core, [sender], calendar)
    assert sorted(sender.dms()) == ["one", "seven", "zero"]
    assert first.planned == {"reminder": 3}
    assert first.delivery.summary() == "sent 3, retried 0, failed 0"
    # One message each, carrying the reminder, both sent.
    assert sorted(statuses(core, kind="reminder").values()) == [OutboxStatus.SENT] * 3
    assert sorted(statuses(core, kind="bundle").values()) == [OutboxStatus.SENT] * 3
    by_owner = {s.to: s.message for s in sender.sent}
    assert by_owner["zero"].text == "⚠️ Due today: #1 Due in 0"
    assert by_owner["one"].text == "⏰ Due tomorrow, Tue 24 Nov: #2 Due in 1"
    assert by_owner["seven"].text == "📅 Due in 7 days, Mon 30 Nov: #3 Due in 7"
    assert not by_owner["zero"].ephemeral
    [notice] = by_owner["zero"].blocks
    assert notice.type == "action_notice"
    assert notice.buttons == ["done", "update", "new_date", "blocked"]

    again = run_reminders(core, [sender], calendar)
    assert again.planned == {} and again.delivery.sent == []
    assert len(sender.sent) == 3


def test_unreachable_owner_is_escalated_to_the_chairs(
    core: Core, calendar: WorkingCalendar
) -> None:
    action(core, "Audit", owner="gone", due=days(1))
    sender = FakeSender(errors={"gone": [permanent()]})
    report = run_reminders(core, [sender], calendar)
    assert report.delivery.failed == [2] and report.ok  # the message carrying reminder 1
    assert sender.dms() == ["chair"]
    notice = sender.sent[0].message
    assert notice.text == (
        "I could not deliver a deadline reminder about #1 Audit to Gone "
        "(Slack refused the message: user_not_found)."
    )
    assert notice.tone == "error"
    rows = outbox(core)
    assert [(r.kind, r.status, r.last_error) for r in rows] == [
        (
            "reminder",
            OutboxStatus.FAILED,
            "its message bundle:1:2026-11-23:1 failed: Slack refused the message: user_not_found",
        ),
        ("bundle", OutboxStatus.FAILED, "Slack refused the message: user_not_found"),
        ("unreachable", OutboxStatus.SENT, None),
    ]
    # Not retried forever, and the chairs are told once.
    assert run_reminders(core, [sender], calendar).delivery.summary().startswith("sent 0")
    assert sender.dms() == ["chair"]


def test_a_moved_deadline_rearms_reminders(
    core: Core, calendar: WorkingCalendar, clock: FixedClock, chair: Caller
) -> None:
    run_command(core, chair, "/status", "")  # the chair is known
    action(core, "Audit", owner="amira", due=days(1))
    sender = FakeSender()
    run_reminders(core, [sender], calendar)
    run_command(core, chair, "/action", f"due 1 {days(8).isoformat()}")
    at(clock, days(1))
    run_reminders(core, [sender], calendar)
    assert [s.to for s in sender.sent] == ["amira", "amira"]
    assert "Due in 7 days" in sender.sent[1].message.text
    assert sorted(statuses(core, kind="reminder")) == [
        f"reminder:1:{days(1).isoformat()}:1",
        f"reminder:1:{days(8).isoformat()}:7",
    ]


def test_done_actions_and_actions_without_owner_are_not_reminded(
    core: Core, calendar: WorkingCalendar
) -> None:
    action(core, "Done", owner="amira", due=days(0), status=Status.DONE)
    action(core, "Cancelled", owner="amira", due=days(1), status=Status.CANCELLED)
    action(core, "Nobody's", owner=None, due=days(0))
    action(core, "No date", owner="amira", due=None)
    sender = FakeSender()
    assert run_reminders(core, [sender], calendar).planned == {}
    assert sender.sent == []


def test_a_week_of_ticks_respects_working_hours_weekends_and_bank_holidays(
    core: Core, calendar: WorkingCalendar, clock: FixedClock
) -> None:
    action(core, "Christmas", owner="amira", due=dt.date(2026, 12, 28))  # a bank holiday
    action(core, "Saturday", owner="ben", due=dt.date(2026, 12, 19))
    sender = FakeSender()
    ticker = Ticker(core, [sender], calendar)
    log: list[tuple[str, str, str]] = []
    day = dt.date(2026, 12, 7)
    while day <= dt.date(2026, 12, 29):
        for hour, minute in ((7, 0), (8, 59), (9, 0), (12, 0), (17, 29), (17, 30), (22, 0)):
            at(clock, day, hour, minute)
            before = len(sender.sent)
            ticker.tick()
            log += [
                (day.isoformat(), f"{hour:02d}:{minute:02d}", s.to) for s in sender.sent[before:]
            ]
        day += dt.timedelta(days=1)
    sends = sorted((d, to) for d, _, to in log)
    assert all("09:00" <= t < "17:30" for _, t, _ in log)
    assert sends == [
        ("2026-12-11", "ben"),  # 7 days before Saturday 19th, on the Friday before
        ("2026-12-18", "ben"),  # the 1-day and 0-day reminders both fall on Fri 18th: one sent
        ("2026-12-21", "amira"),  # 7 days before Mon 28th, a bank holiday
        ("2026-12-21", "ben"),  # overdue since Saturday: nudged every working day
        ("2026-12-22", "ben"),
        ("2026-12-23", "ben"),
        ("2026-12-24", "amira"),  # the 0-day reminder, before the four days off
        ("2026-12-24", "ben"),
        ("2026-12-29", "amira"),  # Mon 28th has passed: overdue
        ("2026-12-29", "ben"),  # 10 days late (5 working days): one message, nudge and ladder
    ]
    texts = sender.texts("amira")
    assert texts[1] == "📅 Due in 4 days, Mon 28 Dec: #1 Christmas"


def test_tick_plans_by_local_time_across_the_clock_change(
    core: Core, calendar: WorkingCalendar, clock: FixedClock
) -> None:
    # 08:30 UTC is 09:30 in BST (working time) but 08:30 in GMT (not yet).
    action(core, "Summer", owner="amira", due=dt.date(2026, 10, 23))
    action(core, "Winter", owner="ben", due=dt.date(2026, 10, 26))
    sender = FakeSender()
    ticker = Ticker(core, [sender], calendar)
    clock.set(dt.datetime(2026, 10, 23, 8, 30, tzinfo=dt.UTC))  # Fri, BST
    ticker.tick()
    assert sorted(sender.dms()) == ["amira", "ben"]  # Monday's 1-day reminder: on Friday
    clock.set(dt.datetime(2026, 10, 26, 8, 30, tzinfo=dt.UTC))  # Mon, GMT: 08:30
    ticker.tick()
    assert len(sender.sent) == 2
    clock.set(dt.datetime(2026, 10, 26, 9, 0, tzinfo=dt.UTC))
    ticker.tick()
    assert sorted(sender.dms()[2:]) == ["amira", "ben"]  # amira overdue; ben due today


def test_overdue_nudges_then_escalation_to_chairs(
    core: Core, calendar: WorkingCalendar, clock: FixedClock
) -> None:
    action(core, "Late", owner="amira", due=dt.date(2026, 11, 20))
    person(core, "chair")
    sender = FakeSender()
    ticker = Ticker(core, [sender], calendar)
    day = MONDAY
    while day < dt.date(2026, 12, 15):
        at(clock, day, 10)
        ticker.tick()
        day += dt.timedelta(days=1)
    amira = [s.message.text for s in sender.sent if s.to == "amira"]
    assert len(amira) == 5 + 3  # daily Mon-Fri (3…7 days late), then Mondays 30 Nov, 7 & 14 Dec
    assert amira[0] == "🔴 3 days late: #1 Late"
    # The ladder's rung for the chairs: 15 working days late, on Friday 11 Dec, once.
    chair = [s.message.text for s in sender.sent if s.to == "chair"]
    assert chair == ["Escalation: 🔴 15 working days late: #1 Late. Owner: Amira."]


def test_blocked_actions_are_escalated_after_the_threshold(
    core: Core, calendar: WorkingCalendar, clock: FixedClock, chair: Caller, amira: Caller
) -> None:
    run_command(core, chair, "/action", f"add Share data @amira due {days(30).isoformat()}")
    run_command(core, amira, "/action", "blocked 1 police agreement not signed")
    sender = FakeSender()
    ticker = Ticker(core, [sender], calendar)
    for ahead in range(0, 10):
        at(clock, days(ahead), 11)
        ticker.tick()
    escalations = [s for s in sender.sent if s.message.text.startswith("Escalation")]
    assert [(s.to, s.message.text) for s in escalations] == [
        (
            "chair",
            "Escalation: ⛔ Blocked for 5 working days: #1 Share data. Owner: Amira. "
            "Blocked: police agreement not signed.",
        )
    ]


def test_a_chair_named_in_settings_is_found_before_escalating(
    core: Core, calendar: WorkingCalendar
) -> None:
    # The chair never used the bot; CHAIR_USER_IDS names them, the directory finds them.
    action(core, "Very late", owner="amira", due=days(-21))  # 15 working days: the chairs
    sender = FakeSender()
    run_reminders(core, [sender], calendar)
    assert sorted(sender.dms()) == ["amira", "chair"]


def test_planning_is_set_based(core: Core, calendar: WorkingCalendar) -> None:
    # Statements do not grow with the number of actions (no N+1 on owners).
    def count_statements(n: int) -> int:
        statements = 0
        engine = core.sessions.kw["bind"]

        def bump(*_: object) -> None:
            nonlocal statements
            statements += 1

        rows = [(f"A{i}", f"owner{i % 7}", days(i % 9 - 1)) for i in range(n)]
        for title, owner, due in rows:
            action(core, title, owner=owner, due=due)
        event.listen(engine, "before_cursor_execute", bump)
        try:
            plan_messages(core, calendar)
        finally:
            event.remove(engine, "before_cursor_execute", bump)
        return statements

    # The boards are read once and kept (a registry whose clock stands still), so both
    # counts are of planning alone.
    core.registry = Boards(core.sessions, core.settings, monotonic=lambda: 0.0)
    core.boards.all()
    small = count_statements(10)
    large = count_statements(200)
    assert large == small


def test_two_workers_planning_and_delivering_at_once_send_each_reminder_once(
    core: Core, calendar: WorkingCalendar
) -> None:
    for n in range(40):
        action(core, f"A{n}", owner=f"owner{n}", due=days(n % 2))
    engine = make_engine(core.settings.database_url)
    other = Core(
        settings=core.settings,
        sessions=make_session_factory(engine),
        clock=core.clock,
        directories=core.directories,
    )
    sender = FakeSender()
    start = threading.Barrier(2)
    reports: list[JobReport] = []

    def work(worker_core: Core) -> None:
        start.wait(timeout=10)
        reports.append(run_reminders(worker_core, [sender], calendar))

    threads = [threading.Thread(target=work, args=(c,)) for c in (core, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    engine.dispose()
    assert len(reports) == 2
    assert sorted(sender.dms()) == sorted(f"owner{n}" for n in range(40))
    assert len(outbox(core, kind="reminder")) == 40
    assert sum(len(r.delivery.sent) for r in reports) == 40
