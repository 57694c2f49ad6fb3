"""Delivered, then signed off, through the dispatcher every platform calls (the console's
path): done is delivered and no longer chased, evidence is kept, a chair or the secretary
signs off (complete, blue) or returns it (open, the owner told), and the board can turn
sign-off off."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

from bot.boards.members import put_role
from bot.clock import FixedClock
from bot.domain import Change, Platform, Rag, Role, Status
from bot.domain.brag import ActionFacts, BragRules, compute
from bot.domain.workdays import WorkingCalendar
from bot.plans.exporter import export_register
from bot.render.text import render
from bot.services.context import Caller, Core
from bot.services.dispatch import run_command
from bot.services.request import Outcome
from scheduler.jobs import plan_messages
from storage.db import make_engine, make_session_factory
from storage.migrate import alembic_config, upgrade
from storage.models import (
    DEFAULT_BOARD_ID,
    Action,
    BoardSetting,
    Evidence,
    HistoryEntry,
    OutboxMessage,
    Person,
)
from tests.conftest import reset_postgres

pytestmark = pytest.mark.signoff


def act(core: Core, who: Caller, text: str) -> Outcome:
    return run_command(core, who, "/action", text)


def said(outcome: Outcome) -> str:
    return render(outcome.message)


def row(core: Core, action_id: int) -> Action:
    with core.sessions() as s:
        found = s.get(Action, action_id)
        assert found is not None
        return found


def entries(core: Core, action_id: int) -> list[HistoryEntry]:
    with core.sessions() as s:
        return list(
            s.scalars(
                select(HistoryEntry)
                .where(HistoryEntry.action_id == action_id)
                .order_by(HistoryEntry.id)
            )
        )


def outbox(core: Core, kind: str) -> list[OutboxMessage]:
    with core.sessions() as s:
        return list(
            s.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
            )
        )


def give_role(core: Core, caller: Caller, role: Role) -> None:
    act(core, caller, "list mine")  # the bot meets them
    with core.sessions.begin() as s:
        person = s.scalars(select(Person).where(Person.display_name == caller.display_name)).one()
        put_role(s, DEFAULT_BOARD_ID, person.id, role)


@pytest.fixture
def sally() -> Caller:
    """The board's secretary (given the role in each test that needs it)."""
    return Caller(Platform.CONSOLE, "sally", display_name="Sally")


def test_done_is_delivered_not_chased_and_the_signers_told_once(
    core: Core, chair: Caller, amira: Caller, sally: Caller, clock: FixedClock
) -> None:
    give_role(core, sally, Role.SECRETARY)
    act(core, chair, "add Audit 50 case files @amira due 2026-11-24")
    act(core, chair, "add Police data @amira due 2026-11-24")
    clock.advance(dt.timedelta(days=3))  # both overdue
    out = act(core, amira, "done 1 audit report filed")
    assert out.message.tone == "success"
    text = said(out)
    assert "Marked #1 Audit 50 case files as delivered" in text
    assert "Please add your evidence: a note, a link or a file." in text
    assert "Add evidence: /action evidence 1 <note or link>" in text
    action = row(core, 1)
    assert action.status == Status.DELIVERED
    assert action.delivered_at == clock.now()
    assert action.done_at is None
    # One message each to the chair and the secretary; none to the owner who delivered it.
    told = outbox(core, "delivered")
    assert sorted(m.recipient.display_name for m in told if m.recipient) == ["Chair", "Sally"]
    assert told[0].action_id == 1
    notice = told[0].payload
    assert notice["text"] == (
        "Amira delivered #1 Audit 50 case files “audit report filed”: it waits for your sign-off."
    )
    buttons = next(b for b in notice["blocks"] if b["type"] == "buttons")["items"]
    assert [(b["label"], b["command"]["verb"], b["form"]) for b in buttons] == [
        ("Sign off", "signoff", None),
        ("Return", "return", "reason"),
    ]
    # The done note is the first evidence.
    with core.sessions() as s:
        assert [(e.kind, e.note) for e in s.scalars(select(Evidence))] == [
            ("note", "audit report filed")
        ]
    # Both are overdue; the next run chases the open one only.
    plan_messages(core, WorkingCalendar.from_settings(core.settings))
    with core.sessions() as s:
        chased = s.scalars(
            select(OutboxMessage.action_id).where(
                OutboxMessage.kind.not_in(["delivered", "assigned"])
            )
        ).all()
    assert chased and set(chased) == {2}
    # Done again: already delivered, nothing changes.
    again = act(core, amira, "done 1")
    assert again.message.text.startswith("#1 was already delivered on")
    assert row(core, 1).version == action.version
    assert len(outbox(core, "delivered")) == 2
    history = [(e.change, e.old_value, e.new_value, e.note) for e in entries(core, 1)][-2:]
    assert history == [
        ("status", "open", "delivered", "audit report filed"),
        ("evidence", None, None, "note: audit report filed"),
    ]


def test_evidence_by_command_link_and_note(
    core: Core, chair: Caller, amira: Caller, ben: Caller
) -> None:
    act(core, chair, "add Audit 50 case files @amira due 2026-12-04")
    act(core, amira, "done 1")
    out = act(core, amira, "evidence 1 https://intranet.example/audit.pdf the signed audit")
    assert out.message.tone == "success"
    assert out.message.text == (
        "Added to the evidence of #1 Audit 50 case files: "
        "link https://intranet.example/audit.pdf: the signed audit."
    )
    act(core, amira, "evidence 1 Minutes of 12 Nov record the audit")
    with core.sessions() as s:
        kept = [
            (e.kind, e.url, e.note, e.platform, e.added_by.display_name if e.added_by else None)
            for e in s.scalars(select(Evidence).order_by(Evidence.id))
        ]
    assert kept == [
        ("link", "https://intranet.example/audit.pdf", "the signed audit", "console", "Amira"),
        ("note", None, "Minutes of 12 Nov record the audit", "console", "Amira"),
    ]
    shown = said(act(core, chair, "evidence 1 chair saw the files"))
    assert "• link https://intranet.example/audit.pdf: the signed audit — Amira" in shown
    # Someone with nothing to do with it is refused, and nothing is kept.
    refused = act(core, ben, "evidence 1 not mine")
    assert refused.message.tone == "error"
    assert refused.message.text == "Only the owner of #1 (Amira) or a chair can add evidence to it."
    assert act(core, amira, "evidence 1").message.tone == "error"
    with core.sessions() as s:
        assert len(s.scalars(select(Evidence)).all()) == 3
    evidence = [e.note for e in entries(core, 1) if e.change == Change.EVIDENCE]
    assert evidence == [
        "link https://intranet.example/audit.pdf: the signed audit",
        "note: Minutes of 12 Nov record the audit",
        "note: chair saw the files",
    ]


def test_sign_off_completes_blue_with_history_and_the_owner_told(
    core: Core, chair: Caller, amira: Caller, ben: Caller, sally: Caller, clock: FixedClock
) -> None:
    give_role(core, sally, Role.SECRETARY)
    act(core, chair, "add Audit 50 case files @amira due 2026-12-04")
    act(core, chair, "add Police data @amira due 2026-12-04")
    act(core, amira, "done 1")
    act(core, amira, "done 2")
    # Neither the owner nor anyone else without the role signs off.
    for who in (amira, ben):
        refused = act(core, who, "signoff 1")
        assert refused.message.text == (
            "Only a chair or the secretary can sign actions off or return them."
        )
        assert row(core, 1).status == Status.DELIVERED
    clock.advance(dt.timedelta(hours=2))
    out = act(core, chair, "signoff 1 evidence seen at board")
    assert out.message.text == (
        "Signed off #1 Audit 50 case files “evidence seen at board”: complete (blue)."
    )
    action = row(core, 1)
    assert action.status == Status.DONE
    assert action.done_at == clock.now()
    facts = ActionFacts(status=action.status, due=action.due_date)
    computed = compute(
        facts,
        today=core.today(),
        calendar=WorkingCalendar.from_settings(core.settings),
        rules=BragRules(),
    )
    assert computed is not None and computed.rag == Rag.BLUE
    last = entries(core, 1)[-1]
    assert (last.change, last.field, last.old_value, last.new_value, last.note) == (
        "signed_off",
        "status",
        "delivered",
        "done",
        "evidence seen at board",
    )
    assert last.actor is not None and last.actor.display_name == "Chair"
    told = outbox(core, "signed_off")
    assert [m.recipient.display_name for m in told if m.recipient] == ["Amira"]
    assert told[0].payload["text"] == (
        "🔵 Chair signed off #1 Audit 50 case files; it is complete: “evidence seen at board”"
    )
    # Signing off again changes nothing; the secretary may sign off too.
    assert "already complete" in act(core, sally, "signoff 1").message.text
    assert act(core, sally, "signoff 2").message.tone == "success"
    assert row(core, 2).status == Status.DONE
    # Only a delivered action is signed off.
    act(core, chair, "add Budget @amira due 2026-12-04")
    open_one = act(core, chair, "signoff 3")
    assert open_one.message.tone == "error"
    assert "is open, not delivered" in open_one.message.text


def test_return_reopens_and_tells_the_owner_why(
    core: Core, chair: Caller, amira: Caller, clock: FixedClock
) -> None:
    act(core, chair, "add Audit 50 case files @amira due 2026-11-24")
    clock.advance(dt.timedelta(days=3))
    act(core, amira, "done 1")
    assert act(core, amira, "return 1 not good").message.tone == "error"
    assert act(core, chair, "return 1").message.tone == "error"  # a reason is required
    out = act(core, chair, "return 1 the audit covers 30 files, not 50")
    assert out.message.text == (
        "Returned #1 Audit 50 case files to its owner, open again: "
        "the audit covers 30 files, not 50"
    )
    action = row(core, 1)
    assert action.status == Status.OPEN and action.delivered_at is None
    last = entries(core, 1)[-1]
    assert (last.change, last.old_value, last.new_value, last.note) == (
        "returned",
        "delivered",
        "open",
        "the audit covers 30 files, not 50",
    )
    told = outbox(core, "returned")
    assert [m.recipient.display_name for m in told if m.recipient] == ["Amira"]
    assert (
        told[0]
        .payload["text"]
        .startswith(
            "↩️ Chair returned #1 Audit 50 case files: “the audit covers 30 files, not 50”. "
            "It is open again"
        )
    )
    # Open and overdue again: chased again.
    plan_messages(core, WorkingCalendar.from_settings(core.settings))
    with core.sessions() as s:
        kinds = s.scalars(
            select(OutboxMessage.kind).where(
                OutboxMessage.action_id == 1,
                OutboxMessage.kind.not_in(["assigned", "delivered", "returned"]),
            )
        ).all()
    assert kinds


def test_status_signoff_lists_what_waits_with_days_waiting(
    core: Core, chair: Caller, amira: Caller, clock: FixedClock
) -> None:
    act(core, chair, "add Audit 50 case files @amira due 2026-12-04")
    act(core, chair, "add Police data @amira due 2026-12-04")
    assert "Nothing is waiting for sign-off." in said(
        run_command(core, chair, "/status", "signoff")
    )
    act(core, amira, "done 2")  # Monday 23 Nov
    clock.advance(dt.timedelta(days=2))
    act(core, amira, "done 1")  # Wednesday
    act(core, amira, "evidence 1 https://intranet.example/a.pdf")
    clock.advance(dt.timedelta(days=2))  # Friday 27 Nov
    out = run_command(core, chair, "/status", "signoff")
    text = said(out)
    assert "Awaiting sign-off (2)" in text
    assert text.index("#2 Police data") < text.index("#1 Audit 50 case files")
    assert "#2 delivered Mon 23 Nov, waiting 4 working days, no evidence yet" in text
    assert "#1 delivered Wed 25 Nov, waiting 2 working days, 1 piece of evidence" in text
    assert said(act(core, chair, "list delivered")) == text


def test_signoff_off_makes_done_complete_at_once(
    core: Core, chair: Caller, amira: Caller, clock: FixedClock
) -> None:
    act(core, chair, "add Audit 50 case files @amira due 2026-12-04")
    act(core, chair, "add Police data @amira due 2026-12-04")
    act(core, amira, "done 2")  # waits, from before sign-off was turned off
    shown = run_command(core, chair, "/board", "settings")
    assert "signoff: on (default)" in said(shown)
    refused = run_command(core, amira, "/board", "settings signoff off")
    assert refused.message.text == "Only a chair can change the board's settings."
    out = run_command(core, chair, "/board", "settings signoff off")
    assert out.message.text.startswith("Sign-off is off: an owner's done is complete at once.")
    assert "1 delivered action(s) still wait" in out.message.text
    with core.sessions() as s:
        setting = s.get(BoardSetting, (DEFAULT_BOARD_ID, "signoff"))
        assert setting is not None and setting.value == "off"
        assert setting.changed_by is not None and setting.changed_by.display_name == "Chair"
        assert setting.changed_at == clock.now()
    done = act(core, amira, "done 1")
    assert done.message.text == "Marked #1 Audit 50 case files as done."
    assert row(core, 1).status == Status.DONE and row(core, 1).done_at == clock.now()
    assert outbox(core, "delivered")[-1].action_id == 2  # nobody asked to sign #1 off
    # What waited may still be signed off; on again, done is delivered again.
    assert act(core, chair, "signoff 2").message.tone == "success"
    run_command(core, chair, "/board", "settings signoff on")
    act(core, chair, "add Budget @amira due 2026-12-04")
    act(core, amira, "done 3")
    assert row(core, 3).status == Status.DELIVERED
    assert "signoff: on (changed by Chair, " in said(run_command(core, chair, "/board", "settings"))


def test_history_export_reproduces_every_step(core: Core, chair: Caller, amira: Caller) -> None:
    act(core, chair, "add Audit 50 case files @amira due 2026-12-04")
    act(core, amira, "done 1 filed")
    act(core, chair, "return 1 missing the appendix")
    act(core, amira, "done 1")
    act(core, amira, "evidence 1 https://intranet.example/appendix.pdf")
    act(core, chair, "signoff 1 complete with appendix")
    out = io.BytesIO()
    export_register(core, fmt="csv", history=True, out=out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    steps = [
        (r["who"], r["change"], r["old_value"], r["new_value"], r["note"])
        for r in rows
        if r["change"] in ("status", "evidence", "signed_off", "returned")
    ]
    assert steps == [
        ("Amira", "status", "open", "delivered", "filed"),
        ("Amira", "evidence", "", "", "note: filed"),
        ("Chair", "returned", "delivered", "open", "missing the appendix"),
        ("Amira", "status", "open", "delivered", ""),
        ("Amira", "evidence", "", "", "link https://intranet.example/appendix.pdf"),
        ("Chair", "signed_off", "delivered", "done", "complete with appendix"),
    ]


def test_migration_keeps_done_actions_complete(tmp_path: Path) -> None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0009")
    at = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for title, status, done_at in (
                ("Done before", "done", at),
                ("Still open", "open", None),
            ):
                conn.execute(
                    insert(Action.__table__).values(
                        title=title,
                        status=status,
                        done_at=done_at,
                        created_at=at,
                        updated_at=at,
                        version=1,
                    )
                )
        upgrade(url)
        sessions = make_session_factory(engine)
        with sessions() as s:
            kept = [
                (a.title, a.status, a.done_at, a.delivered_at)
                for a in s.scalars(select(Action).order_by(Action.id))
            ]
            # Sign-off is on by default.
            assert s.get(BoardSetting, (DEFAULT_BOARD_ID, "signoff")) is None
        assert kept == [
            ("Done before", Status.DONE, at, None),
            ("Still open", Status.OPEN, None, None),
        ]
        # Down again: a delivered action goes back to open, the older code's status.
        with engine.begin() as conn:
            conn.execute(update(Action.__table__).where(Action.id == 2).values(status="delivered"))
        from alembic.command import downgrade

        engine.dispose()
        downgrade(alembic_config(url), "0009")
        with make_engine(url).connect() as conn:
            statuses = conn.exec_driver_sql("SELECT status FROM actions ORDER BY id").all()
        assert [s for (s,) in statuses] == ["done", "open"]
    finally:
        engine.dispose()


def test_show_and_status_tell_the_evidence_and_the_wait(
    core: Core, chair: Caller, amira: Caller, clock: FixedClock
) -> None:
    act(core, chair, "add Audit 50 case files @amira due 2026-12-04")
    act(core, amira, "done 1 https://intranet.example/audit.pdf the report")
    clock.advance(dt.timedelta(days=1))
    shown = said(act(core, chair, "show 1"))
    assert "Evidence:\n• link https://intranet.example/audit.pdf: the report — Amira" in shown
    assert "/action signoff 1 [note]" in shown and "/action return 1 <reason>" in shown
    # The owner sees the evidence, not how to sign it off.
    assert "/action signoff 1" not in said(act(core, amira, "show 1"))
    summary = said(run_command(core, chair, "/status", ""))
    assert "awaiting sign-off 1" in summary
    assert (
        "Awaiting sign-off:\n#1 delivered Mon 23 Nov, waiting 1 working day, 1 piece of evidence"
        " — Audit 50 case files"
    ) in summary


def test_the_digest_lists_what_awaits_sign_off_with_its_wait(
    core: Core, chair: Caller, amira: Caller, clock: FixedClock
) -> None:
    act(core, chair, "add Audit 50 case files @amira due 2026-12-04")
    empty = said(run_command(core, chair, "/status", "digest"))
    assert "Awaiting sign-off" in empty and "Nothing is waiting for sign-off." in empty
    act(core, amira, "done 1")
    clock.advance(dt.timedelta(days=2))
    text = said(run_command(core, chair, "/status", "digest"))
    section = text[text.index("Awaiting sign-off, longest waiting first") :]
    assert "#1 Audit 50 case files" in section
    assert "Waiting for sign-off: #1 2 working days." in text
