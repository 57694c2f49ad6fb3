"""The services through the one dispatcher every platform calls: rules, rows, history, outbox."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.domain import Status
from bot.render.model import ActionDetail, ActionList, Counts, Paragraph, Usage
from bot.render.text import render
from bot.services.context import Caller, Core
from bot.services.dispatch import run_command
from bot.services.request import Outcome
from storage.models import Action, HistoryEntry, OutboxMessage


def act(core: Core, who: Caller, text: str) -> Outcome:
    return run_command(core, who, "/action", text)


def stat(core: Core, who: Caller, text: str = "") -> Outcome:
    return run_command(core, who, "/status", text)


def snapshot(core: Core) -> tuple[list[tuple[object, ...]], int, int]:
    """Everything a refused command must leave as it was."""
    with core.sessions() as s:
        rows = [
            (a.id, a.title, a.owner_id, a.due_date, a.status, a.rag, a.version)
            for a in s.scalars(select(Action).order_by(Action.id))
        ]
        history = s.scalar(select(func.count()).select_from(HistoryEntry)) or 0
        outbox = s.scalar(select(func.count()).select_from(OutboxMessage)) or 0
    return rows, history, outbox


def history(core: Core, action_id: int) -> list[HistoryEntry]:
    with core.sessions() as s:
        return list(
            s.scalars(
                select(HistoryEntry)
                .where(HistoryEntry.action_id == action_id)
                .order_by(HistoryEntry.id)
            )
        )


def action_row(core: Core, action_id: int) -> Action:
    with core.sessions() as s:
        row = s.get(Action, action_id)
        assert row is not None
        return row


def test_chair_adds_action_and_owner_is_told(core: Core, chair: Caller) -> None:
    out = act(core, chair, "add Audit 50 case files @amira due 2026-12-04")
    assert out.message.tone == "success"
    assert out.message.text == "Added action #1 Audit 50 case files."
    row = action_row(core, 1)
    assert (row.title, row.owner.display_name if row.owner else None, row.due_date) == (
        "Audit 50 case files",
        "Amira",
        dt.date(2026, 12, 4),
    )
    assert [(h.change, h.field, h.new_value) for h in history(core, 1)] == [
        ("created", None, "Audit 50 case files"),
        ("assigned", "owner", "Amira"),
        ("due", "due", "2026-12-04"),
    ]
    assert len(out.outbox_ids) == 1
    with core.sessions() as s:
        dm = s.get(OutboxMessage, out.outbox_ids[0])
        assert dm is not None and dm.recipient is not None
        assert dm.recipient.display_name == "Amira"
        assert dm.payload["text"] == "Chair assigned you action #1 Audit 50 case files"


def test_member_cannot_add_and_nothing_changes(core: Core, amira: Caller) -> None:
    before = snapshot(core)
    out = act(core, amira, "add Sneaky action")
    assert out.message.tone == "error"
    assert out.message.text == "Only a chair or the secretary can add actions."
    assert out.message.blocks[-1] == Usage(lines=["/action add <title> [@owner] [due <date>]"])
    assert snapshot(core) == before


def test_owner_marks_done_twice_without_error(core: Core, chair: Caller, amira: Caller) -> None:
    act(core, chair, "add Audit @amira due 2026-12-04")
    out = act(core, amira, "done 1 all 50 audited")
    assert out.message.text == "Marked #1 Audit as done."
    row = action_row(core, 1)
    assert row.status == Status.DONE and row.done_at is not None
    last = history(core, 1)[-1]
    assert (last.change, last.old_value, last.new_value, last.note) == (
        "status",
        "open",
        "done",
        "all 50 audited",
    )
    assert last.actor is not None and last.actor.display_name == "Amira"
    before = snapshot(core)
    again = act(core, amira, "done #1")
    assert again.message.tone == "info"
    assert again.message.text == "#1 was already marked done on Mon 23 Nov; nothing changed."
    assert snapshot(core) == before


def test_someone_else_is_refused(core: Core, chair: Caller, amira: Caller, ben: Caller) -> None:
    act(core, chair, "add Audit @amira")
    before = snapshot(core)
    for text in ("done 1", "update 1 x", "blocked 1 y", "rag 1 red", "reopen 1"):
        out = act(core, ben, text)
        assert out.message.tone == "error", text
        assert out.message.text.startswith("Only the owner of #1 (Amira) or a chair can"), text
    for text in ("assign 1 @ben", "due 1 2026-12-25", "add Another"):
        refused = act(core, ben, text).message.text
        assert refused.startswith("Only a chair or the secretary can"), text
    assert snapshot(core) == before


def test_bad_input_gets_reason_and_usage(core: Core, chair: Caller) -> None:
    act(core, chair, "add Audit @amira")
    before = snapshot(core)
    cases = {
        "done 99": "There is no action #99.",
        "due 1 32/13/2026": "32/13/2026",
        "due 1 2020-01-01": "Wed 1 Jan 2020 is in the past; give a date from today on.",
        "assign 1": "Who should own it? Mention them, e.g. @amira.",
        "assign 1 alice@nowhere": "'alice@nowhere' is not a person",
        "launch 1": "I don't know `/action launch`.",
    }
    for text, reason in cases.items():
        out = act(core, chair, text)
        assert out.message.tone == "error", text
        assert reason in out.message.text, (text, out.message.text)
        assert isinstance(out.message.blocks[0], Paragraph)
        assert isinstance(out.message.blocks[-1], Usage), text
    assert snapshot(core) == before


def test_update_starts_progress_and_keeps_note(core: Core, chair: Caller, amira: Caller) -> None:
    act(core, chair, "add Audit @amira")
    act(core, amira, "update 1 25 of 50 done")
    act(core, amira, "update 1 40 of 50 done")
    assert action_row(core, 1).status == Status.IN_PROGRESS
    notes = [h.note for h in history(core, 1) if h.change == "note"]
    assert notes == ["25 of 50 done", "40 of 50 done"]


def test_blocked_tells_the_chairs(core: Core, chair: Caller, amira: Caller) -> None:
    act(core, chair, "show 1")  # the chair is known to the bot from here on
    act(core, chair, "add Share data @amira")
    out = act(core, amira, "blocked 1 police data-sharing agreement not signed")
    row = action_row(core, 1)
    assert row.status == Status.BLOCKED
    assert row.blocked_reason == "police data-sharing agreement not signed"
    with core.sessions() as s:
        alerts = [s.get(OutboxMessage, i) for i in out.outbox_ids]
    assert [(m.kind, m.recipient.display_name) for m in alerts if m and m.recipient] == [
        ("blocked", "Chair")
    ]


def test_blocked_again_records_the_new_reason(core: Core, chair: Caller, amira: Caller) -> None:
    act(core, chair, "add Share data @amira")
    act(core, amira, "blocked 1 agreement not signed")
    act(core, amira, "blocked 1 signed; waiting for the data")
    got = [(h.change, h.field, h.old_value, h.new_value, h.note) for h in history(core, 1)]
    assert got[-2:] == [
        ("status", "status", "open", "blocked", "agreement not signed"),
        (
            "blocked_reason",
            "blocked_reason",
            "agreement not signed",
            "signed; waiting for the data",
            None,
        ),
    ]
    act(core, amira, "done 1")
    row = action_row(core, 1)
    assert (row.status, row.blocked_reason, row.done_at) == (Status.DONE, None, core.now())
    refused = act(core, amira, "blocked 1 again")
    assert refused.message.text.startswith("#1 is done; reopen it first.")


def test_assign_tells_old_and_new_owner(core: Core, chair: Caller) -> None:
    act(core, chair, "add Audit @amira")
    out = act(core, chair, "assign 1 @ben")
    assert out.message.text == "Assigned #1 Audit to Ben."
    with core.sessions() as s:
        sent = sorted(
            (m.kind, m.recipient.display_name)
            for i in out.outbox_ids
            if (m := s.get(OutboxMessage, i)) and m.recipient
        )
    assert sent == [("assigned", "Ben"), ("reassigned", "Amira")]
    last = history(core, 1)[-1]
    assert (last.field, last.old_value, last.new_value) == ("owner", "Amira", "Ben")


def test_due_rag_reopen(core: Core, chair: Caller, amira: Caller) -> None:
    act(core, chair, "add Audit @amira due 2026-12-04")
    assert act(core, chair, "due 1 18/12/2026 waiting for police").message.tone == "success"
    entry = history(core, 1)[-1]
    assert (entry.old_value, entry.new_value, entry.note) == (
        "2026-12-04",
        "2026-12-18",
        "waiting for police",
    )
    assert act(core, amira, "rag 1 amber").message.text == "Set #1 Audit to amber."
    act(core, amira, "done 1")
    assert act(core, amira, "reopen 1").message.text == "Reopened #1 Audit."
    row = action_row(core, 1)
    assert (row.status, row.done_at) == (Status.OPEN, None)


def test_show_has_history(core: Core, chair: Caller, amira: Caller) -> None:
    act(core, chair, "add Audit @amira due 2026-12-04")
    act(core, amira, "update 1 started")
    out = act(core, amira, "show 1")
    detail = out.message.blocks[0]
    assert isinstance(detail, ActionDetail)
    assert detail.action.title == "Audit"
    assert [h.change for h in detail.history] == ["note", "status", "due", "assigned", "created"]
    assert "started" in render(out.message)


def test_status_overdue_most_late_first(core: Core, chair: Caller, clock: FixedClock) -> None:
    act(core, chair, "add First @amira due 2026-11-30")
    act(core, chair, "add Second @ben due 2026-11-25")
    act(core, chair, "add Later @ben due 2027-01-10")
    clock.set(dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC))
    out = stat(core, chair, "overdue")
    block = out.message.blocks[0]
    assert isinstance(block, ActionList)
    assert [(a.id, a.owner.name if a.owner else None, a.days_late) for a in block.items] == [
        (2, "Ben", 8),
        (1, "Amira", 3),
    ]
    text = render(out.message, today=dt.date(2026, 12, 3))
    # State and lateness first, then the number, title and owner.
    assert "  8 days late · #2 Second — Ben — due Wed 25 Nov" in text.splitlines()


def test_status_summary_and_due(core: Core, chair: Caller, amira: Caller) -> None:
    act(core, chair, "add A @amira due 2026-11-24")
    act(core, chair, "add B @amira due 2026-11-25")
    act(core, chair, "add C @amira due 2026-12-20")
    act(core, amira, "done 3")
    act(core, amira, "rag 2 red")
    counts = stat(core, chair).message.blocks[1]
    assert isinstance(counts, Counts)
    assert {c.label: c.value for c in counts.items} == {
        "open": 2,
        "due in 7 days": 2,
        "overdue": 0,
        "blocked": 0,
        "done": 1,
        "need a date": 0,
    }
    due = stat(core, chair, "due 7").message.blocks[0]
    assert isinstance(due, ActionList) and [a.id for a in due.items] == [1, 2]
    mine = stat(core, amira, "mine").message.blocks[0]
    assert isinstance(mine, ActionList) and mine.buttons and [a.id for a in mine.items] == [1, 2]


def test_list_and_help(core: Core, chair: Caller, amira: Caller) -> None:
    act(core, chair, "add A @amira")
    act(core, chair, "add B @ben")
    listed = act(core, amira, "list @ben").message.blocks[0]
    assert isinstance(listed, ActionList) and [a.title for a in listed.items] == ["B"]
    help_text = render(act(core, amira, "help").message)
    assert "/action done <id> [note]" in help_text and "/status due [N days]" in help_text
    one = render(act(core, amira, "help due").message)
    assert one.startswith("/action due <id> <date> [reason]") and "/status" not in one
