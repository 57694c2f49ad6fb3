"""Actions without a deadline ("Ongoing", "Monthly" in the plan): listed as needing a date by
/status and the weekly digest, never reminded about a deadline, exported with a blank due, and
given one by a chair with /action due."""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import select, update

from bot.clock import FixedClock
from bot.domain import Rag, Status
from bot.domain.workdays import WorkingCalendar
from bot.plans.exporter import REGISTER_COLUMNS, export_register
from bot.render.model import ActionList, Counts, Paragraph
from bot.render.text import render
from bot.services.context import Caller, Core
from bot.services.digest import build_digest
from bot.services.dispatch import run_command
from scheduler.jobs import run_reminders
from storage.db import transaction
from storage.models import Action, HistoryEntry
from tests.scheduler_fakes import FakeSender, action, days


def cadence(core: Core, action_id: int, value: str) -> None:
    with transaction(core.sessions) as session:
        session.execute(update(Action).where(Action.id == action_id).values(cadence=value))


def undated_plan(core: Core) -> dict[str, int]:
    """Two open actions without a deadline (one reported monthly), one done, one dated."""
    ids = {
        "ongoing": action(core, "Embed practice standards", owner="amira", due=None),
        "monthly": action(core, "Performance report", owner="ben", due=None, rag=Rag.AMBER),
        "closed": action(core, "Old audit", owner="ben", due=None, status=Status.DONE),
        "dated": action(core, "Audit case files", owner="amira", due=days(3)),
    }
    cadence(core, ids["monthly"], "monthly")
    return ids


def test_status_counts_and_lists_actions_that_need_a_date(core: Core, chair: Caller) -> None:
    undated_plan(core)
    summary = run_command(core, chair, "/status", "")
    counts = summary.message.blocks[1]
    assert isinstance(counts, Counts)
    assert {c.label: c.value for c in counts.items}["need a date"] == 2

    listed = run_command(core, chair, "/status", "nodate")
    block = listed.message.blocks[0]
    assert isinstance(block, ActionList)
    assert block.title == "Actions that need a date"
    assert [(a.id, a.title, a.due, a.cadence) for a in block.items] == [
        (1, "Embed practice standards", None, None),
        (2, "Performance report", None, "monthly"),
    ]
    text = render(listed.message, today=days(0))
    assert "  no deadline · #1 Embed practice standards — Amira" in text
    assert "  no deadline (monthly) · #2 Performance report — Ben — RAG amber" in text


def test_status_nodate_when_every_action_has_one(core: Core, chair: Caller) -> None:
    action(core, "Audit case files", owner="amira", due=days(3))
    out = run_command(core, chair, "/status", "nodate")
    assert render(out.message) == "Actions that need a date\nEvery open action has a deadline."


def test_a_chair_sets_a_date_with_history(core: Core, chair: Caller) -> None:
    ids = undated_plan(core)
    out = run_command(core, chair, "/action", f"due {ids['monthly']} 2027-01-29 agreed at board")
    assert out.message.tone == "success", render(out.message)
    with core.sessions() as session:
        row = session.get(Action, ids["monthly"])
        assert row is not None
        assert (row.due_date, row.cadence) == (dt.date(2027, 1, 29), "monthly")
        entries = [
            (h.change, h.field, h.old_value, h.new_value, h.note)
            for h in session.scalars(select(HistoryEntry).where(HistoryEntry.action_id == row.id))
        ]
    assert entries == [("due", "due", None, "2027-01-29", "agreed at board")]
    listed = run_command(core, chair, "/status", "nodate")
    block = listed.message.blocks[0]
    assert isinstance(block, ActionList)
    assert [a.id for a in block.items] == [ids["ongoing"]]


def test_the_digest_names_the_actions_that_need_a_date(core: Core, clock: FixedClock) -> None:
    undated_plan(core)
    with core.sessions() as session:
        message = build_digest(
            session, settings=core.settings, now=core.now(), channel=None, board_id=1
        ).message
    assert message.blocks[-1] == Paragraph(
        text="2 open actions need a date: #1 Embed practice standards, "
        "#2 Performance report (monthly). "
        "A chair sets one with /action due <id> <date>; /status nodate lists them."
    )


def test_the_digest_says_nothing_when_every_action_has_a_date(core: Core) -> None:
    action(core, "Audit case files", owner="amira", due=days(3))
    with core.sessions() as session:
        message = build_digest(
            session, settings=core.settings, now=core.now(), channel=None, board_id=1
        ).message
    assert not any(
        isinstance(block, Paragraph) and "need a date" in block.text for block in message.blocks
    )


def test_no_deadline_is_never_reminded(
    core: Core, calendar: WorkingCalendar, clock: FixedClock
) -> None:
    ids = undated_plan(core)
    sender = FakeSender()
    # Every day for two weeks: the dated action is reminded and nudged, the others never.
    reminded: set[int] = set()
    for day in range(14):
        clock.set(dt.datetime.combine(days(day), dt.time(10), tzinfo=calendar.tz))
        run_reminders(core, [sender], calendar)
    for sent in sender.sent:
        reminded.update(int(word[1:]) for word in sent.message.text.split() if word[:1] == "#")
    assert reminded == {ids["dated"]}


def test_export_leaves_due_and_days_late_blank(core: Core, clock: FixedClock) -> None:
    ids = undated_plan(core)
    clock.set(dt.datetime.combine(days(10), dt.time(10), tzinfo=dt.UTC))
    out = io.BytesIO()
    export_register(core, fmt="csv", history=False, out=out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    assert list(rows[0]) == list(REGISTER_COLUMNS)
    by_id = {int(r["id"]): r for r in rows}
    assert [(by_id[i]["due"], by_id[i]["days_late"]) for i in ids.values()] == [
        ("", ""),
        ("", ""),
        ("", ""),
        (days(3).isoformat(), "7"),
    ]
    assert by_id[ids["monthly"]]["cadence"] == "monthly"
