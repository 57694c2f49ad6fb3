"""Re-baselining with approval through the one dispatcher (the console's path): an owner asks
for a new date, the chairs and the secretary decide, the owner is told; the baseline stays,
moves are counted, slippage is in working days; `show` and the export say so."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from sqlalchemy import select

from bot.boards.members import put_role
from bot.clock import FixedClock
from bot.domain import Role
from bot.domain.rebaseline import RequestState, moved_words, slippage, slippage_words
from bot.domain.workdays import WorkingCalendar
from bot.plans.exporter import REGISTER_COLUMNS, export_register
from bot.render.model import DateRequestCard
from bot.render.text import render
from bot.services.context import Caller, Core
from bot.services.dispatch import run_command
from bot.services.request import Outcome
from storage.models import (
    DEFAULT_BOARD_ID,
    Action,
    DateRequest,
    HistoryEntry,
    OutboxMessage,
    Person,
)


def act(core: Core, who: Caller, text: str) -> Outcome:
    return run_command(core, who, "/action", text)


def shown(core: Core, outcome: Outcome) -> str:
    return render(outcome.message, today=core.today(), tz=core.settings.tz)


def action_row(core: Core, number: int) -> Action:
    with core.sessions() as s:
        row = s.get(Action, number)
        assert row is not None
        s.expunge(row)
        return row


def steps(core: Core, number: int) -> list[tuple[str, str | None, str | None, str | None, str]]:
    """(change, old, new, note, who) of an action's history, oldest first."""
    with core.sessions() as s:
        return [
            (e.change, e.old_value, e.new_value, e.note, e.actor.display_name if e.actor else "")
            for e in s.scalars(
                select(HistoryEntry)
                .where(HistoryEntry.action_id == number)
                .order_by(HistoryEntry.id)
            )
        ]


def sent(core: Core, kind: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(recipient, summary, payload) of the outbox rows of one kind."""
    with core.sessions() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)).all()
        return [
            (row.recipient.display_name if row.recipient else "", row.payload["text"], row.payload)
            for row in rows
        ]


def requests(core: Core, number: int) -> list[tuple[RequestState, dt.date, str]]:
    with core.sessions() as s:
        rows = s.scalars(
            select(DateRequest).where(DateRequest.action_id == number).order_by(DateRequest.id)
        ).all()
        return [(r.state, r.new_due, r.reason) for r in rows]


def make_secretary(core: Core, who: Caller) -> None:
    act(core, who, "list mine")  # known to the bot
    with core.sessions.begin() as s:
        person = s.scalars(select(Person).where(Person.display_name == who.display_name)).one()
        put_role(s, DEFAULT_BOARD_ID, person.id, Role.SECRETARY)


def setup(core: Core, chair: Caller, amira: Caller, due: str = "2026-12-18") -> int:
    act(core, amira, "list mine")
    out = act(core, chair, f"add Audit the front door @amira due {due}")
    assert out.message.tone == "success", out.message.text
    return 1


def test_request_then_approve_moves_the_deadline_and_keeps_the_baseline(
    core: Core, chair: Caller, amira: Caller, ben: Caller
) -> None:
    make_secretary(core, ben)
    number = setup(core, chair, amira)

    asked = act(core, amira, f"rebaseline {number} 29 Jan 2027 waiting for the police data")
    assert asked.message.tone == "success"
    assert asked.message.text == (
        "Asked for #1 Audit the front door to move to Fri 29 Jan 2027; the chairs will decide, "
        "and you will be told either way. Reminders follow the current deadline until then."
    )
    assert action_row(core, number).due_date == dt.date(2026, 12, 18)  # not moved yet
    # One message each to the chair and the secretary, with the request and its commands.
    told = sent(core, "date_request")
    assert sorted(who for who, _, _ in told) == ["Ben", "Chair"]
    for _, summary, payload in told:
        assert summary == "Amira asks for a new date for action #1 Audit the front door"
        [card] = payload["blocks"]
        assert card["type"] == "date_request" and card["pending"] is True
    assert DateRequestCard.model_validate(told[0][2]["blocks"][0]).request_id == 1
    text = render(_message(told[0][2]), today=core.today())
    assert text.splitlines() == [
        "! Amira asks to move #1 Audit the front door to Fri 29 Jan 2027 (now due Fri 18 Dec).",
        "Why: waiting for the police data",
        "Baseline Fri 18 Dec: the new date would be +27 working days from it.",
        "Approve: /action approve 1  ·  Decline: /action decline 1 <reason>",
    ]

    approved = act(core, chair, f"approve {number}")
    assert approved.message.tone == "success"
    assert approved.message.text == (
        "Approved: #1 Audit the front door is now due Fri 29 Jan 2027 "
        "(baseline Fri 18 Dec, +27 working days; moved once)."
    )
    row = action_row(core, number)
    assert (row.due_date, row.baseline_due, row.rebaselines) == (
        dt.date(2027, 1, 29),
        dt.date(2026, 12, 18),
        1,
    )
    [(who, summary, _)] = sent(core, "date_approved")
    assert who == "Amira"
    assert summary == (
        "Chair approved the new date for action #1 Audit the front door: now due "
        "Fri 29 Jan 2027 (was Fri 18 Dec)."
    )
    assert steps(core, number)[-2:] == [
        ("date_requested", "2026-12-18", "2027-01-29", "waiting for the police data", "Amira"),
        ("rebaselined", "2026-12-18", "2027-01-29", "waiting for the police data", "Chair"),
    ]
    assert requests(core, number) == [
        (RequestState.APPROVED, dt.date(2027, 1, 29), "waiting for the police data")
    ]
    # Approving again changes nothing and says who decided.
    again = act(core, ben, f"approve {number}")
    assert again.message.tone == "error"
    assert again.message.text == "#1 has no request for a new date waiting for a decision."

    show = shown(core, act(core, amira, f"show {number}"))
    assert "Baseline Fri 18 Dec · now due Fri 29 Jan 2027 · slippage +27 working days" in show
    assert "re-baselined once" in show
    assert "• Mon 23 Nov by Chair: Fri 18 Dec → Fri 29 Jan 2027: waiting for the police data" in (
        show
    )


def _message(payload: dict[str, Any]) -> Any:
    from bot.render.model import Message

    return Message.model_validate(payload)


def test_request_then_decline_tells_the_owner_why_and_keeps_the_date(
    core: Core, chair: Caller, amira: Caller
) -> None:
    number = setup(core, chair, amira)
    act(core, amira, f"rebaseline {number} 31 Mar 2027 the team is short-staffed")
    refused = act(core, chair, f"decline {number}")
    assert refused.message.tone == "error"
    assert refused.message.text == "Please add the reason the new date is declined."

    declined = act(core, chair, f"decline {number} the inspection is in January")
    assert declined.message.text == (
        "Declined the new date (Wed 31 Mar 2027) for #1 Audit the front door; "
        "its owner is told why."
    )
    row = action_row(core, number)
    assert (row.due_date, row.rebaselines) == (dt.date(2026, 12, 18), 0)
    [(who, summary, payload)] = sent(core, "date_declined")
    assert who == "Amira"
    assert summary == (
        "Chair declined the new date (Wed 31 Mar 2027) asked for action #1 Audit the front "
        "door; it stays due Fri 18 Dec."
    )
    assert "Why: the inspection is in January" in render(_message(payload), today=core.today())
    assert steps(core, number)[-1] == (
        "date_declined",
        "2026-12-18",
        "2027-03-31",
        "the inspection is in January",
        "Chair",
    )
    assert requests(core, number)[0][0] == RequestState.DECLINED


def test_a_chair_moving_a_date_is_a_rebaseline_and_a_first_date_is_the_baseline(
    core: Core, chair: Caller, amira: Caller
) -> None:
    act(core, amira, "list mine")
    act(core, chair, "add Keep the register current @amira")  # "Ongoing": no date
    act(core, chair, "due 1 18 Dec 2026")
    row = action_row(core, 1)
    assert (row.due_date, row.baseline_due, row.rebaselines) == (dt.date(2026, 12, 18),) * 2 + (0,)
    assert steps(core, 1)[-1][:3] == ("due", None, "2026-12-18")

    act(core, chair, "due 1 8 Jan 2027 the auditor moved")
    row = action_row(core, 1)
    assert (row.due_date, row.baseline_due, row.rebaselines) == (
        dt.date(2027, 1, 8),
        dt.date(2026, 12, 18),
        1,
    )
    assert steps(core, 1)[-1] == (
        "rebaselined",
        "2026-12-18",
        "2027-01-08",
        "the auditor moved",
        "Chair",
    )


def test_a_chair_moving_the_date_replaces_a_waiting_request(
    core: Core, chair: Caller, amira: Caller
) -> None:
    number = setup(core, chair, amira)
    act(core, amira, f"rebaseline {number} 29 Jan 2027 short-staffed")
    act(core, chair, f"due {number} 15 Jan 2027 halfway")
    assert requests(core, number)[0][0] == RequestState.SUPERSEDED
    assert [s[0] for s in steps(core, number)[-2:]] == ["date_superseded", "rebaselined"]
    late = act(core, chair, f"approve {number}")
    assert late.message.text == "#1 has no request for a new date waiting for a decision."


def test_slippage_is_counted_in_working_days_across_bank_holidays(
    core: Core, chair: Caller, amira: Caller, calendar: WorkingCalendar
) -> None:
    # Christmas Day (Fri) and Boxing Day's substitute (Mon 28 Dec) are not working days.
    assert slippage(dt.date(2026, 12, 23), dt.date(2026, 12, 29), calendar) == 2
    assert slippage(dt.date(2026, 12, 29), dt.date(2026, 12, 23), calendar) == -2
    assert slippage_words(2) == "+2 working days" and slippage_words(0) == "on baseline"
    assert moved_words(2, 12) == "moved twice, +12 working days"
    assert moved_words(0, 0) is None

    number = setup(core, chair, amira, due="2026-12-23")
    act(core, amira, f"rebaseline {number} 29 Dec the data comes after Christmas")
    act(core, chair, f"approve {number}")
    show = shown(core, act(core, chair, f"show {number}"))
    assert "Baseline Wed 23 Dec · now due Tue 29 Dec · slippage +2 working days" in show


def test_a_newer_request_supersedes_the_waiting_one(
    core: Core, chair: Caller, amira: Caller, clock: FixedClock
) -> None:
    number = setup(core, chair, amira)
    act(core, amira, f"rebaseline {number} 15 Jan 2027 first thoughts")
    with core.sessions() as s:
        first_id = s.scalars(select(DateRequest.id)).one()
    clock.advance(dt.timedelta(hours=2))
    second = act(core, amira, f"rebaseline {number} 29 Jan 2027 the data is later still")
    assert "This replaces the request you made before." in shown(core, second)
    assert requests(core, number) == [
        (RequestState.SUPERSEDED, dt.date(2027, 1, 15), "first thoughts"),
        (RequestState.PENDING, dt.date(2027, 1, 29), "the data is later still"),
    ]
    assert steps(core, number)[-2][:3] == ("date_superseded", "2027-01-15", "2027-01-29")
    # The chairs had two messages, one a request; the old one's button names its request.
    from bot.grammar.commands import ApproveDate
    from bot.services.dispatch import execute

    stale = execute(core, chair, ApproveDate(action_id=number, request_id=first_id))
    assert stale.message.text == (
        "The request for Fri 15 Jan 2027 on #1 was replaced by a newer one (for Fri 29 Jan "
        "2027), which waits for a decision. Nothing changed."
    )
    assert action_row(core, number).due_date == dt.date(2026, 12, 18)
    act(core, chair, f"approve {number}")
    assert action_row(core, number).due_date == dt.date(2027, 1, 29)
    # Asking the same again is said, not queued twice.
    same = act(core, amira, f"rebaseline {number} 29 Jan 2027 the data is later still")
    assert same.message.tone == "error"  # it is already due then


def test_who_may_ask_and_who_may_decide(
    core: Core, chair: Caller, amira: Caller, ben: Caller
) -> None:
    number = setup(core, chair, amira)
    act(core, ben, "list mine")
    refused = act(core, ben, f"rebaseline {number} 29 Jan 2027 not mine to ask")
    assert refused.message.tone == "error"
    assert "Only the owner of #1 (Amira)" in refused.message.text
    assert requests(core, number) == []

    act(core, amira, f"rebaseline {number} 29 Jan 2027 waiting for data")
    for who in (amira, ben):
        for text in (f"approve {number}", f"decline {number} no"):
            out = act(core, who, text)
            assert out.message.tone == "error"
            assert "a chair or the secretary" in out.message.text, out.message.text
    assert requests(core, number)[0][0] == RequestState.PENDING
    assert action_row(core, number).due_date == dt.date(2026, 12, 18)

    # Missing pieces are refused with the usage line.
    for text, reason in (
        (f"rebaseline {number}", "Please give the new date and the reason"),
        (f"rebaseline {number} 29 Jan 2027", "Please add the reason the deadline should move"),
        (f"rebaseline {number} 1 Jan 2020 too late", "is in the past"),
        (f"approve {number} now", "approve takes only the action number"),
    ):
        out = act(core, amira if "rebaseline" in text else chair, text)
        assert out.message.tone == "error" and reason in out.message.text, out.message.text


def test_a_chair_asking_about_an_action_not_theirs_moves_it_at_once(
    core: Core, chair: Caller, amira: Caller
) -> None:
    number = setup(core, chair, amira)
    out = act(core, chair, f"rebaseline {number} 8 Jan 2027 agreed at the board")
    assert out.message.tone == "success", out.message.text
    row = action_row(core, number)
    assert (row.due_date, row.rebaselines) == (dt.date(2027, 1, 8), 1)
    assert requests(core, number) == []


def test_the_register_export_has_baseline_rebaselines_and_slippage(
    core: Core, chair: Caller, amira: Caller
) -> None:
    number = setup(core, chair, amira)
    act(core, amira, f"rebaseline {number} 29 Jan 2027 police data")
    act(core, chair, f"approve {number}")
    act(core, chair, "add Undated thing @amira")
    out = io.BytesIO()
    export_register(core, fmt="csv", history=False, out=out)
    lines = out.getvalue().decode("utf-8-sig").splitlines()
    header = lines[0].split(",")
    assert header == list(REGISTER_COLUMNS)
    columns = ("due", "baseline_due", "rebaselines", "slippage_working_days")
    first = dict(zip(header, lines[1].split(","), strict=True))
    assert [first[c] for c in columns] == ["2027-01-29", "2026-12-18", "1", "27"]
    second = dict(zip(header, lines[2].split(","), strict=True))
    assert [second[c] for c in columns] == ["", "", "0", ""]

    history = io.BytesIO()
    export_register(core, fmt="csv", history=True, out=history)
    rows = list(csv.DictReader(io.StringIO(history.getvalue().decode("utf-8-sig"))))
    steps_out = [
        (r["who"], r["change"], r["old_value"], r["new_value"], r["note"], r["at"][:10])
        for r in rows
        if r["change"] in ("date_requested", "rebaselined")
    ]
    assert steps_out == [
        ("Amira", "date_requested", "2026-12-18", "2027-01-29", "police data", "2026-11-23"),
        ("Chair", "rebaselined", "2026-12-18", "2027-01-29", "police data", "2026-11-23"),
    ]


def test_the_digest_says_how_often_and_how_far_a_deadline_moved(
    core: Core, chair: Caller, amira: Caller
) -> None:
    number = setup(core, chair, amira)
    act(core, amira, f"rebaseline {number} 8 Jan 2027 the data is late")
    act(core, chair, f"approve {number}")
    act(core, chair, f"due {number} 15 Jan 2027 agreed at the board")
    act(core, amira, f"blocked {number} waiting for the police")
    digest = run_command(core, chair, "/status", "digest")
    text = shown(core, digest)
    [line] = [line for line in text.splitlines() if "Audit the front door" in line]
    assert "moved twice, +17 working days" in line


def test_reminders_follow_the_approved_date_and_not_a_pending_request(
    core: Core, chair: Caller, amira: Caller, calendar: WorkingCalendar
) -> None:
    from scheduler.jobs import run_reminders
    from tests.scheduler_fakes import FakeSender

    number = setup(core, chair, amira, due="2026-11-24")  # due tomorrow
    act(core, amira, f"rebaseline {number} 4 Dec the data is late")
    sender = FakeSender()
    run_reminders(core, [sender], calendar)
    # Waiting for the chairs stops nothing: tomorrow's deadline is still reminded.
    [reminded] = sender.texts("amira")
    assert "Audit the front door" in reminded and "24 Nov" in reminded
    # The console shows the command where the Request new date button would be.
    assert f"/action rebaseline {number} <date> <reason>" in render(sender.sent[0].message)

    act(core, chair, f"approve {number}")
    run_reminders(core, [sender], calendar)
    assert len(sender.texts("amira")) == 1  # nothing more until the new date comes near
    with core.sessions() as s:
        keys = [row.key for row in s.scalars(select(OutboxMessage)) if row.kind == "reminder"]
    assert keys == [f"reminder:{number}:2026-11-24:1"]


def test_an_approved_first_date_sets_the_baseline_and_is_no_rebaseline(
    core: Core, chair: Caller, amira: Caller
) -> None:
    act(core, amira, "list mine")
    act(core, chair, "add Keep the register current @amira")  # "Ongoing"
    act(core, amira, "rebaseline 1 18 Dec 2026 a date the board can hold me to")
    approved = act(core, chair, "approve 1")
    assert approved.message.text == "Approved: #1 Keep the register current is now due Fri 18 Dec."
    row = action_row(core, 1)
    assert (row.due_date, row.baseline_due, row.rebaselines) == (
        dt.date(2026, 12, 18),
        dt.date(2026, 12, 18),
        0,
    )
    assert steps(core, 1)[-1][:3] == ("due", None, "2026-12-18")


def test_a_supporting_owner_may_ask_and_every_owner_is_told(
    core: Core, chair: Caller, amira: Caller, ben: Caller
) -> None:
    act(core, amira, "list mine")
    act(core, ben, "list mine")
    out = act(core, chair, "add Audit the front door for @amira, @ben by 18 Dec 2026")
    assert out.message.tone == "success", out.message.text
    asked = act(core, ben, "rebaseline 1 8 Jan 2027 the supporting team is short")
    assert asked.message.tone == "success", asked.message.text
    act(core, chair, "decline 1 keep the date")
    told = sorted(who for who, _, _ in sent(core, "date_declined"))
    assert told == ["Amira", "Ben"]


def test_the_secretary_decides_and_an_observer_may_not(
    core: Core, chair: Caller, amira: Caller, ben: Caller
) -> None:
    make_secretary(core, ben)
    olive = Caller(chair.platform, "olive", display_name="Olive")
    act(core, olive, "list mine")
    assert run_command(core, chair, "/board", "role @olive observer").message.tone != "error"
    number = setup(core, chair, amira)
    act(core, amira, f"rebaseline {number} 29 Jan 2027 waiting for data")
    refused = act(core, olive, f"approve {number}")
    assert refused.message.tone == "error"
    assert refused.message.text.startswith("You are an observer"), refused.message.text
    approved = act(core, ben, f"approve {number}")
    assert approved.message.tone == "success", approved.message.text
    assert steps(core, number)[-1][-1] == "Ben"
