"""One message per person per run: reminders, nudges and escalations bundled, exactly once."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest

from bot.clock import FixedClock
from bot.config import Settings
from bot.domain import Platform, Status
from bot.domain.workdays import WorkingCalendar
from bot.render.model import Message, NoticeList
from bot.services.context import Caller, Core
from bot.services.dispatch import run_command
from scheduler.jobs import JobReport, plan_messages, run_reminders
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Action, Identity, OutboxStatus, Person, Supporter
from tests.reliability.slackworld import CHAIR_ID, slack_core
from tests.scheduler_fakes import LONG_AGO, FakeSender, action, days, outbox, person
from tests.support.fake_slack import FakeSlack

NOTICES = ("reminder", "overdue", "escalation")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Bundling, not the ladder, is under test: only the chairs are escalated to, after 5
    working days (the ladder's own rungs are tests/test_escalation_ladder.py's)."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        **settings.model_dump(exclude_unset=True),
        escalation_ladder="overdue 5: chairs; blocked 5: chairs",
    )


def notices_of(core: Core) -> list[tuple[str, OutboxStatus]]:
    return [(r.kind, r.status) for r in outbox(core) if r.kind in NOTICES]


def big_plan(core: Core, *, owners: int = 20, actions: int = 300) -> None:
    """A 300-action plan: due this week, late, long late and blocked, across `owners` people
    (the first one also supports every tenth action)."""
    ids = [person(core, f"owner{n}") for n in range(owners)]
    with transaction(core.sessions) as session:
        for n in range(actions):
            ahead = (0, 1, 7, -2, -12, 30)[n % 6]
            blocked = n % 6 == 5
            row = Action(
                title=f"Action {n}",
                owner_id=ids[n % owners],
                due_date=days(ahead),
                status=Status.BLOCKED if blocked else Status.OPEN,
                blocked_reason="waiting on partners" if blocked else None,
                created_at=LONG_AGO,
                updated_at=LONG_AGO,
            )
            if n % 10 == 3:
                row.supporters.append(Supporter(person_id=ids[0], position=0))
            session.add(row)


def test_a_300_action_plan_sends_each_person_one_message_per_run(
    core: Core, calendar: WorkingCalendar, chair: Caller
) -> None:
    run_command(core, chair, "/status", "")  # the chair is known
    big_plan(core)
    sender = FakeSender()
    report = run_reminders(core, [sender], calendar)
    per_person = Counter(sender.dms())
    # Before: one message per notice (334 on the plan this models); now one per person.
    assert sum(report.planned.values()) > 250
    assert max(per_person.values()) == 1
    assert len(per_person) == 21  # the 20 owners and the chair
    assert report.delivery.summary() == "sent 21, retried 0, failed 0"
    # Every notice went out, inside its person's message.
    assert {status for _, status in notices_of(core)} == {OutboxStatus.SENT}

    owner = next(s.message for s in sender.sent if s.to == "owner0")
    assert owner.text.startswith("Reminders: ")
    [mine] = [b for b in owner.blocks if isinstance(b, NoticeList)]
    assert all(item.buttons for item in mine.items)
    assert mine.title is not None and mine.title.startswith("Your actions")
    # Most urgent first: the longest late at the top, then what is due soonest.
    dues = [item.action.due for item in mine.items]
    assert dues == sorted(d for d in dues if d is not None)
    assert mine.more_hint == "/action list mine lists them all"
    owner0 = person(core, "owner0")
    own = [r for r in outbox(core) if r.kind in ("reminder", "overdue")]
    assert len(mine.items) + mine.more == sum(1 for r in own if r.recipient_id == owner0)

    # The chair: one escalation message listing the long-late and blocked actions.
    escalation = next(s.message for s in sender.sent if s.to == "chair")
    [listed] = [b for b in escalation.blocks if isinstance(b, NoticeList)]
    # The chair's buttons on each: Nudge owner, Move deadline, Reassign.
    assert {tuple(item.buttons) for item in listed.items} == {("nudge", "move_due", "reassign")}
    escalated = len(outbox(core, kind="escalation"))
    assert escalated == 100
    assert (
        escalation.text == "Escalation: 100 actions need the chairs (50 long overdue, 50 blocked)."
    )
    assert len(listed.items) + listed.more == escalated
    assert listed.more_hint == "/status overdue and /status blocked list them all"

    again = run_reminders(core, [sender], calendar)
    assert again.planned == {} and again.delivery.sent == []
    assert len(sender.sent) == 21


def test_withdrawn_items_are_left_out_of_the_message(
    core: Core, calendar: WorkingCalendar, amira: Caller
) -> None:
    first = action(core, "Audit case files", owner="amira", due=days(0))
    action(core, "Refresh thresholds", owner="amira", due=days(1))
    action(core, "Train managers", owner="amira", due=days(-3))
    plan_messages(core, calendar)
    run_command(core, amira, "/action", f"done {first} signed off")
    sender = FakeSender()
    run_reminders(core, [sender], calendar)
    [sent] = sender.sent
    assert sent.to == "amira"
    assert sent.message.text == "Reminders: 2 actions of yours need you (1 overdue, 1 due soon)."
    [listed] = [b for b in sent.message.blocks if isinstance(b, NoticeList)]
    assert [item.action.title for item in listed.items] == ["Train managers", "Refresh thresholds"]
    assert [item.headline for item in listed.items] == [
        "🔴 3 days late",
        "⏰ Due tomorrow, Tue 24 Nov",
    ]
    rows = {r.action_id: r for r in outbox(core) if r.kind in NOTICES}
    assert rows[first].status == OutboxStatus.CANCELLED
    assert rows[first].last_error == f"not sent: #{first} was done before it went out"
    # The bundle keeps exactly what was sent, as evidence.
    [carrier] = outbox(core, kind="bundle")
    assert Message.model_validate(carrier.payload) == sent.message


def test_a_bundle_with_nothing_left_is_cancelled(
    core: Core, calendar: WorkingCalendar, amira: Caller
) -> None:
    action(core, "Audit", owner="amira", due=days(0))
    action(core, "Refresh", owner="amira", due=days(1))
    plan_messages(core, calendar)
    run_command(core, amira, "/action", "done 1")
    run_command(core, amira, "/action", "done 2")
    sender = FakeSender()
    run_reminders(core, [sender], calendar)
    assert sender.sent == []
    [carrier] = outbox(core, kind="bundle")
    assert carrier.status == OutboxStatus.CANCELLED
    assert (carrier.last_error or "").startswith("not sent: nothing left to say")


def test_notices_missed_while_down_go_out_together_the_day_it_returns(
    core: Core, calendar: WorkingCalendar, clock: FixedClock
) -> None:
    action(core, "Audit", owner="amira", due=days(1))
    action(core, "Refresh", owner="amira", due=days(-2))
    plan_messages(core, calendar)  # planned on Monday; the worker died before delivering
    clock.advance(dt.timedelta(days=1))
    sender = FakeSender()
    report = run_reminders(core, [sender], calendar)
    assert sender.dms() == ["amira"]
    [sent] = sender.sent
    [listed] = [b for b in sent.message.blocks if isinstance(b, NoticeList)]
    assert [item.action.title for item in listed.items] == ["Refresh", "Audit"]
    assert report.delivery.summary() == "sent 1, retried 0, failed 0"
    # Monday's notices are stood for by Tuesday's: each action once, as of the day it went.
    assert notices_of(core) == [
        ("reminder", OutboxStatus.CANCELLED),
        ("overdue", OutboxStatus.CANCELLED),
        ("reminder", OutboxStatus.SENT),
        ("overdue", OutboxStatus.SENT),
    ]
    assert listed.items[1].action.days_left == 0  # worded as of Tuesday: due today
    assert listed.items[1].headline == "⚠️ Due today"
    [carrier] = outbox(core, kind="bundle")
    assert carrier.key == f"bundle:{carrier.recipient_id}:{days(1).isoformat()}:1"


def test_a_later_run_the_same_day_is_a_new_message(
    core: Core, calendar: WorkingCalendar, clock: FixedClock
) -> None:
    action(core, "Audit", owner="amira", due=days(0))
    sender = FakeSender()
    run_reminders(core, [sender], calendar)
    action(core, "Refresh", owner="amira", due=days(0))
    clock.advance(dt.timedelta(hours=1))
    run_reminders(core, [sender], calendar)
    assert sender.dms() == ["amira", "amira"]
    assert [r.key.rsplit(":", 1)[1] for r in outbox(core, kind="bundle")] == ["1", "2"]
    assert "Refresh" in sender.sent[1].message.text


def test_two_workers_at_once_send_each_person_one_message(
    core: Core, calendar: WorkingCalendar
) -> None:
    for n in range(60):
        action(core, f"A{n}", owner=f"owner{n % 12}", due=days(n % 2))
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
    assert sorted(sender.dms()) == sorted(f"owner{n}" for n in range(12))
    assert sum(len(r.delivery.sent) for r in reports) == 12
    assert len(outbox(core, kind="bundle")) == 12
    carried = Counter(
        item.action.title
        for s in sender.sent
        for b in s.message.blocks
        if isinstance(b, NoticeList)
        for item in b.items
    )
    assert sorted(carried) == sorted(f"A{n}" for n in range(60))
    assert set(carried.values()) == {1}


def test_a_person_with_many_actions_gets_one_slack_message_within_its_limits(
    database_url: str,
) -> None:
    """End to end through Slack's Web API over HTTP: 40 actions, one post Slack accepts."""
    at = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
    with FakeSlack() as fake:
        fake.add_user("U0AMIRA", real_name="Amira Khan")
        fake.add_user(CHAIR_ID, real_name="Sarah Chair")
        core, senders, calendar = slack_core(database_url, fake, at)
        with transaction(core.sessions) as session:
            amira = Person(display_name="Amira Khan", created_at=LONG_AGO)
            amira.identities.append(Identity(platform=Platform.SLACK, external_id="U0AMIRA"))
            for n in range(40):
                session.add(
                    Action(
                        title=f"Action {n}",
                        owner=amira,
                        # -21: 15 working days late, the ladder's rung for the chairs
                        due_date=days((0, 1, -3, -21)[n % 4]),
                        status=Status.OPEN,
                        created_at=LONG_AGO,
                        updated_at=LONG_AGO,
                    )
                )
        report = run_reminders(core, senders, calendar)
        posts = fake.calls("chat.postMessage", ok=True)
        by_channel = Counter(str(call.params["channel"]) for call in posts)
        assert by_channel == {"U0AMIRA": 1, CHAIR_ID: 1}, report.summary()
        [mine] = [c for c in posts if c.params["channel"] == "U0AMIRA"]
        assert mine.text == "Reminders: 40 actions of yours need you (20 overdue, 20 due soon)."
        blocks = mine.blocks or []
        assert len(blocks) <= 50
        buttons = [b for b in blocks if b["type"] == "actions"]
        assert len(buttons) == 10  # each shown as a reminder is, with its buttons
        assert "… and 30 more (/action list mine lists them all)" in str(blocks)
        chair = next(c for c in posts if c.params["channel"] == CHAIR_ID)
        assert chair.text == "Escalation: 10 actions need the chairs (10 long overdue)."
        core.sessions.kw["bind"].dispose()
