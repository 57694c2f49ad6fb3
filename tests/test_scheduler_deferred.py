"""Scheduler notices are queued as a note of what to say and rendered when they are sent.

What the owner receives must be what rendering at planning time produced; a notice that no
longer applies by its turn (the action done, its deadline moved…) must never reach anyone, and
the outbox must say so; a sent row keeps the exact message sent.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, update

from bot.clock import FixedClock
from bot.domain import Status
from bot.domain.workdays import WorkingCalendar
from bot.outbox.delivery import deliver
from bot.render import notices
from bot.render.from_storage import action_view
from bot.render.model import Message
from bot.services.context import Caller, Core
from bot.services.dispatch import run_command
from scheduler.jobs import REMINDER_KINDS, plan_messages
from storage.db import transaction
from storage.models import Action, OutboxMessage, OutboxStatus
from tests.scheduler_fakes import MONDAY, FakeSender, action, days, outbox, person, transient


def view_now(core: Core, action_id: int) -> Action:
    with core.sessions() as session:
        found = session.get(Action, action_id)
        assert found is not None
        session.expunge(found)
        return found


def test_planned_rows_hold_a_small_note_not_the_message(
    core: Core, calendar: WorkingCalendar
) -> None:
    action(core, "Audit", owner="amira", due=days(1))
    action(core, "Late", owner="ben", due=days(-3))
    person(core, "chair")
    action(core, "Very late", owner="cy", due=days(-10))
    plan_messages(core, calendar)
    payloads = {row.key: row.payload for row in outbox(core)}
    ben, cy = person(core, "ben"), person(core, "cy")
    assert payloads == {
        "reminder:1:2026-11-24:1": {
            "notice": "reminder",
            "today": "2026-11-23",
            "due": "2026-11-24",
            "lead": 1,
        },
        "overdue:2:2026-11-20:2026-11-23": {
            "notice": "overdue",
            "today": "2026-11-23",
            "due": "2026-11-20",
        },
        "overdue:3:2026-11-13:2026-11-21": {  # the weekly nudge's period
            "notice": "overdue",
            "today": "2026-11-23",
            "due": "2026-11-13",
        },
        # The escalation ladder's rungs to the owners: 1 working day late, and 6 (past 5).
        f"escalation:2:2026-11-20:overdue1:{ben}": {
            "notice": "escalation",
            "today": "2026-11-23",
            "due": "2026-11-20",
            "reason": "overdue",
            "days": 1,
            "to": "owner",
        },
        f"escalation:3:2026-11-13:overdue5:{cy}": {
            "notice": "escalation",
            "today": "2026-11-23",
            "due": "2026-11-13",
            "reason": "overdue",
            "days": 6,
            "to": "owner",
        },
    }


def test_what_is_sent_is_what_planning_used_to_render_and_the_row_keeps_it(
    core: Core, calendar: WorkingCalendar, chair: Caller, amira: Caller
) -> None:
    run_command(core, chair, "/status", "")  # the chair is known
    soon = action(core, "Audit <50> case files", owner="amira", due=days(1))
    late = action(core, "Late & *bold*", owner="ben", due=days(-3))
    very_late = action(core, "Very late", owner="cy", due=days(-21))  # 15 working days
    blocked = action(
        core,
        "Share data",
        owner="dee",
        due=days(30),
        status=Status.BLOCKED,
        blocked_reason="police agreement not signed",
    )
    # Rendered as planning did before deferral: from the action, with the day planned.
    expected = {
        ("amira", soon): notices.reminder(
            action_view(view_now(core, soon), today=MONDAY), today=MONDAY
        ),
        ("ben", late): notices.overdue_nudge(
            action_view(view_now(core, late), today=MONDAY), today=MONDAY
        ),
        ("cy", very_late): notices.overdue_nudge(
            action_view(view_now(core, very_late), today=MONDAY), today=MONDAY
        ),
    }
    # The chair's two escalations come in one message: the longest blocked first.
    escalations = notices.bundle(
        [
            notices.BundleItem(
                notice="escalation",
                action=action_view(view_now(core, very_late), today=MONDAY),
                today=MONDAY,
                reason="overdue",
                days=15,
            ),
            notices.BundleItem(
                notice="escalation",
                action=action_view(view_now(core, blocked), today=MONDAY),
                today=MONDAY,
                reason="blocked",
                # Imported as blocked with no history: counted from its last change.
                days=calendar.working_days_between(dt.date(2026, 1, 5), MONDAY),
            ),
        ]
    )
    sender = FakeSender()
    plan_messages(core, calendar)
    report = deliver(core, [sender], kinds=REMINDER_KINDS)
    assert len(report.sent) == 4 and not report.failed
    got = {(s.to, s.message.text): s.message for s in sender.sent}
    for (to, _), message in expected.items():
        assert got[(to, message.text)] == message
    assert got[("chair", escalations.text)] == escalations
    assert escalations.text == (
        "Escalation: 2 actions need the chairs (1 long overdue, 1 blocked)."
    )
    # Each sent message's row now holds exactly the message sent: the evidence, and what
    # buttons redraw; each notice it carried is sent with it and points at it.
    bundles = {row.id: row for row in outbox(core, kind="bundle")}
    assert len(bundles) == 4
    for row in bundles.values():
        assert row.status == OutboxStatus.SENT
        sent = Message.model_validate(row.payload)
        assert any(s.message == sent for s in sender.sent), row.key
        assert "notice" not in row.payload  # the message, not a note of what to say
    refs = {(b.platform_channel, b.platform_ref) for b in bundles.values()}
    for row in outbox(core):
        if row.status == OutboxStatus.CANCELLED:
            # An owner's overdue nudge and their rung of the escalation ladder about the same
            # action are one item: the later went, the other says so.
            assert row.last_error is not None and "went instead" in row.last_error, row.key
            continue
        assert row.status == OutboxStatus.SENT
        assert (row.platform_channel, row.platform_ref) in refs


def test_a_reminder_for_an_action_done_after_planning_is_not_sent(
    core: Core, calendar: WorkingCalendar, amira: Caller
) -> None:
    action(core, "Audit", owner="amira", due=days(1))
    plan_messages(core, calendar)
    run_command(core, amira, "/action", "done 1 signed off")
    sender = FakeSender()
    report = deliver(core, [sender], kinds=REMINDER_KINDS)
    assert sender.sent == []
    assert report.sent == report.failed == report.notices == []
    [row] = outbox(core, kind="reminder")
    assert (row.status, row.last_error, row.sent_at, row.attempts) == (
        OutboxStatus.CANCELLED,
        "not sent: #1 was done before it went out",
        None,
        0,
    )
    assert row.payload["notice"] == "reminder"  # what it would have been, for the record
    # Withdrawn for good: neither delivered later nor planned again.
    plan_messages(core, calendar)
    assert deliver(core, [sender]).sent == [] and sender.sent == []
    # The message that was to carry it was withdrawn with it.
    assert [(r.kind, r.status) for r in outbox(core)] == [
        ("reminder", OutboxStatus.CANCELLED),
        ("bundle", OutboxStatus.CANCELLED),
    ]


def test_a_retried_reminder_is_withdrawn_if_the_action_is_done_before_the_retry(
    core: Core, calendar: WorkingCalendar, clock: FixedClock, amira: Caller
) -> None:
    action(core, "Audit", owner="amira", due=days(1))
    plan_messages(core, calendar)
    sender = FakeSender(errors={"amira": [transient()]})
    assert len(deliver(core, [sender], kinds=REMINDER_KINDS).retried) == 1
    run_command(core, amira, "/action", "done 1")
    clock.advance(dt.timedelta(minutes=5))
    deliver(core, [sender], kinds=REMINDER_KINDS)
    assert sender.sent == []
    [row] = outbox(core, kind="reminder")
    assert row.status == OutboxStatus.CANCELLED
    [carrier] = outbox(core, kind="bundle")
    assert (carrier.status, carrier.attempts) == (OutboxStatus.CANCELLED, 1)
    assert carrier.last_error == (
        "not sent: nothing left to say (not sent: #1 was done before it went out)"
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (f"due 1 {days(8).isoformat()} partner asked", "had its deadline moved"),
        ("assign 1 @ben", "was reassigned"),
        ("cancel", "was cancelled"),
    ],
)
def test_a_reminder_that_no_longer_applies_is_withdrawn(
    core: Core, calendar: WorkingCalendar, chair: Caller, change: str, reason: str
) -> None:
    run_command(core, chair, "/status", "")
    person(core, "ben")
    action(core, "Audit", owner="amira", due=days(1))
    plan_messages(core, calendar)
    if change == "cancel":
        with transaction(core.sessions) as session:
            session.execute(update(Action).values(status=Status.CANCELLED))
    else:
        run_command(core, chair, "/action", change)
    sender = FakeSender()
    deliver(core, [sender], kinds=("reminder",))
    assert sender.sent == []
    [row] = outbox(core, kind="reminder")
    assert row.status == OutboxStatus.CANCELLED
    assert row.last_error == f"not sent: #1 {reason} before it went out"


def test_escalations_that_no_longer_apply_are_withdrawn(
    core: Core, calendar: WorkingCalendar, chair: Caller
) -> None:
    run_command(core, chair, "/status", "")
    action(core, "Very late", owner="amira", due=days(-10))
    action(core, "Stuck", owner="ben", due=days(30), status=Status.BLOCKED)
    plan_messages(core, calendar)
    run_command(core, chair, "/action", "done 1")
    run_command(core, chair, "/action", "reopen 2")
    sender = FakeSender()
    deliver(core, [sender], kinds=("escalation",))
    assert sender.sent == []
    rows = {row.action_id: row for row in outbox(core, kind="escalation")}
    assert {n: (r.status, r.last_error) for n, r in rows.items()} == {
        1: (OutboxStatus.CANCELLED, "not sent: #1 was done before it went out"),
        2: (OutboxStatus.CANCELLED, "not sent: #2 was unblocked before it went out"),
    }


def test_an_unreadable_note_fails_and_the_chairs_are_told(
    core: Core, calendar: WorkingCalendar
) -> None:
    person(core, "chair")
    action(core, "Audit", owner="amira", due=days(1))
    plan_messages(core, calendar)
    with transaction(core.sessions) as session:
        session.execute(
            update(OutboxMessage).values(payload={"notice": "reminder", "today": "soon"})
        )
    sender = FakeSender()
    report = deliver(core, [sender])
    [carrier] = outbox(core, kind="bundle")
    assert report.failed == [carrier.id] and carrier.status == OutboxStatus.FAILED
    [row] = outbox(core, kind="reminder")
    assert (row.last_error or "").startswith("unreadable message")
    assert sender.dms() == ["chair"]


def test_planning_statements_stay_flat_with_every_kind_of_notice(
    core: Core, calendar: WorkingCalendar
) -> None:
    person(core, "chair")
    engine = core.sessions.kw["bind"]
    plan_messages(core, calendar)  # chairs registered; later runs only plan

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            ahead = (i % 9 - 1, -12)[i % 2]
            status = Status.BLOCKED if i % 5 == 0 else Status.OPEN
            action(core, f"A{i}", owner=f"owner{i % 7}", due=days(ahead), status=status)

    def count() -> int:
        statements = 0

        def bump(*_: object) -> None:
            nonlocal statements
            statements += 1

        event.listen(engine, "before_cursor_execute", bump)
        try:
            planned = plan_messages(core, calendar)
        finally:
            event.remove(engine, "before_cursor_execute", bump)
        assert {"reminder", "overdue", "escalation"} <= set(planned)
        return statements

    add(10, 0)
    small = count()
    add(200, 10)
    assert count() == small
