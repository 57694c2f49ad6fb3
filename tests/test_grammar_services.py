"""The phrases people type, through the dispatcher: cancelling, supporting owners on add, the
filtered lists and status views, names typed without a mention, and notes of several lines."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.boards.members import put_role
from bot.clock import FixedClock
from bot.domain import Platform, Role, Status
from bot.domain.workdays import WorkingCalendar
from bot.outbox.deferred import Withdrawn, reminder_payload, render_notice
from bot.render.model import ActionList
from bot.render.text import render
from bot.services.context import Caller, Core
from bot.services.dispatch import run_command
from bot.services.request import Outcome
from scheduler.jobs import run_reminders
from storage.db import transaction
from storage.models import (
    DEFAULT_BOARD_ID,
    Action,
    HistoryEntry,
    Identity,
    OutboxMessage,
    Person,
    PersonName,
)

TODAY = dt.date(2026, 11, 23)


def act(core: Core, who: Caller, text: str) -> Outcome:
    return run_command(core, who, "/action", text)


def stat(core: Core, who: Caller, text: str = "") -> Outcome:
    return run_command(core, who, "/status", text)


def listed(outcome: Outcome) -> list[str]:
    """The titles of the list a reply shows."""
    lists = [b for b in outcome.message.blocks if isinstance(b, ActionList)]
    assert lists, outcome.message.text
    return [item.title for item in lists[0].items]


def add(core: Core, chair: Caller, text: str) -> int:
    out = act(core, chair, f"add {text}")
    assert out.message.tone == "success", out.message.text
    return int(out.message.text.split("#", 1)[1].split()[0])


# --- cancel ------------------------------------------------------------------------------------


def test_a_chair_cancels_an_action_which_keeps_its_history_and_leaves_every_list(
    core: Core, chair: Caller, amira: Caller, clock: FixedClock, calendar: WorkingCalendar
) -> None:
    late = add(core, chair, "Audit case files @amira due tomorrow")
    kept = add(core, chair, "Recruit staff @amira due tomorrow")
    clock.set(clock.now() + dt.timedelta(days=3))  # both are now overdue
    out = act(core, chair, "cancel 1 merged into #2")
    assert out.message.tone == "success"
    assert out.message.text == "Cancelled #1 Audit case files: merged into #2"
    with transaction(core.sessions) as session:
        row = session.get(Action, late)
        assert row is not None and row.status == Status.CANCELLED
        entries = session.scalars(select(HistoryEntry).where(HistoryEntry.action_id == late))
        changes = [(e.change, e.new_value, e.note) for e in entries]
        assert ("status", "cancelled", "merged into #2") in changes
        assert changes[0][0] == "created"  # the history stays
        told = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "cancelled")).all()
        assert [m.recipient.display_name for m in told if m.recipient] == ["Amira"]
    for shown in (
        act(core, amira, "list"),
        act(core, amira, "list mine"),
        stat(core, chair, "overdue"),
        act(core, chair, "list done"),
        stat(core, chair, "blocked"),
    ):
        assert "Audit case files" not in listed(shown)
    assert listed(stat(core, chair, "overdue")) == ["Recruit staff"]
    assert "cancelled" in render(act(core, chair, "show 1").message)
    # reminders and nudges skip it; one already planned is withdrawn at its turn
    report = run_reminders(core, (), calendar)
    assert report is not None
    with transaction(core.sessions) as session:
        keys = session.scalars(select(OutboxMessage.key)).all()
        assert not any(k.startswith(f"overdue:{late}:") for k in keys)
        assert any(k.startswith(f"overdue:{kept}:") for k in keys)
        planned = render_notice(
            session,
            reminder_payload(TODAY, TODAY + dt.timedelta(days=1), 1),
            action_id=late,
            recipient_id=None,
            tz=core.settings.tz,
        )
        assert isinstance(planned, Withdrawn) and "was cancelled" in planned.reason


def test_only_a_chair_cancels_and_a_cancelled_action_must_be_reopened(
    core: Core, chair: Caller, amira: Caller
) -> None:
    add(core, chair, "Audit @amira due friday")
    refused = act(core, amira, "cancel 1 not needed")
    assert refused.message.tone == "error" and "chair" in refused.message.text
    assert act(core, chair, "cancel 1 not needed").message.tone == "success"
    again = act(core, chair, "cancel 1 still not needed")
    assert again.message.text == "#1 is already cancelled; nothing changed."
    done = act(core, amira, "done 1")
    assert done.message.text == "#1 is cancelled; reopen it first."
    assert act(core, chair, "reopen 1").message.tone == "success"
    assert act(core, amira, "close 1").message.text.startswith("Marked #1 Audit as done")


# --- add with several owners -------------------------------------------------------------------


def test_add_for_several_people_makes_the_first_accountable_and_tells_each(
    core: Core, chair: Caller
) -> None:
    out = act(core, chair, "add Audit case files for @dee, @amira due fri")
    assert out.message.text == "Added action #1 Audit case files. Supporting: Amira."
    with transaction(core.sessions) as session:
        row = session.get(Action, 1)
        assert row is not None and row.owner is not None
        assert row.owner.display_name == "Dee"
        assert [s.person.display_name for s in row.supporters] == ["Amira"]
        assert row.due_date == dt.date(2026, 11, 27)
        sent = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        texts = {m.recipient.display_name: m.payload["text"] for m in sent if m.recipient}
    assert texts == {
        "Dee": "Chair assigned you action #1 Audit case files",
        "Amira": "Chair made you a supporting owner of action #1 Audit case files",
    }
    shown = render(act(core, chair, "show 1").message)
    assert "Supporting: Amira" in shown


def test_add_that_cannot_be_read_changes_nothing(core: Core, chair: Caller) -> None:
    out = act(core, chair, "add Meet @dee about the audit due fri")
    assert out.message.tone == "error"
    assert out.message.text.startswith("I read: title 'Meet @dee about the audit', no owner")
    with transaction(core.sessions) as session:
        assert session.scalars(select(Action)).all() == []


# --- filtered lists and status views ------------------------------------------------------------


def test_lists_and_views_by_status_rag_owner_and_window(
    core: Core, chair: Caller, amira: Caller, clock: FixedClock
) -> None:
    clock.set(clock.now() - dt.timedelta(days=10))
    add(core, chair, "Old audit @amira due tomorrow")  # 1: overdue, Amira
    add(core, chair, "Old recruitment @ben due tomorrow")  # 2: overdue, Ben
    clock.set(clock.now() + dt.timedelta(days=10))
    add(core, chair, "This week @amira due fri")  # 3
    add(core, chair, "Next week @amira due 2/12")  # 4
    add(core, chair, "In a fortnight @amira due 4/12")  # 5 (Fri next week)
    add(core, chair, "Later @amira due 20/12")  # 6
    act(core, chair, "blocked 3 waiting for data")
    act(core, chair, "rag 4 red")
    act(core, chair, "done 6")
    assert listed(act(core, amira, "list overdue")) == ["Old audit", "Old recruitment"]
    assert listed(stat(core, chair, "overdue @amira")) == ["Old audit"]
    assert listed(stat(core, amira, "overdue mine")) == ["Old audit"]
    assert listed(stat(core, chair, "blocked")) == ["This week"]
    assert listed(act(core, chair, "list blocked")) == ["This week"]
    assert listed(stat(core, chair, "red")) == ["Next week"]
    assert listed(act(core, chair, "list done")) == ["Later"]
    assert listed(stat(core, chair, "due this week")) == ["This week"]
    assert listed(stat(core, chair, "due next week")) == ["Next week", "In a fortnight"]
    assert listed(stat(core, chair, "due 2 weeks")) == ["This week", "Next week", "In a fortnight"]
    assert listed(act(core, chair, "list due")) == ["This week"]
    assert "Due next week" in render(stat(core, chair, "due next week").message)
    assert "Overdue actions of Amira" in render(stat(core, chair, "overdue @amira").message)


def test_status_help_lists_the_views(core: Core, amira: Caller) -> None:
    shown = render(stat(core, amira, "help").message)
    for line in ("/status overdue [@user|mine]", "/status blocked", "/status red|amber|green"):
        assert line in shown


def test_unknown_words_suggest_the_nearest_command(core: Core, amira: Caller) -> None:
    out = act(core, amira, "dne 12")
    assert out.message.tone == "error"
    assert out.message.text == "I don't know `/action dne`. Did you mean `/action done 12`?"


def test_assign_to_me_and_to_someone(core: Core, chair: Caller) -> None:
    add(core, chair, "Audit @amira")
    assert act(core, chair, "assign 1 me").message.text == "Assigned #1 Audit to Chair."
    assert act(core, chair, "assign 1 to @amira").message.text == "Assigned #1 Audit to Amira."


# --- names typed without picking from the menu -------------------------------------------------


def test_a_slack_handle_or_display_name_finds_the_person(core: Core) -> None:
    slack_chair = Caller(Platform.SLACK, "UCHAIR", display_name="Sarah Chair")
    dee = Caller(
        Platform.SLACK,
        "UDEE",
        display_name="Deirdre Patel",
        email="dee@council.example",
        aliases=("dee.p", "Dee"),
    )
    # Dee types once: the bot remembers her handle and display name.
    run_command(core, dee, "/status", "mine")
    with transaction(core.sessions) as session:
        person = session.scalars(
            select(Person).join(Identity).where(Identity.external_id == "UDEE")
        ).one()
        names = session.scalars(select(PersonName.text).where(PersonName.person_id == person.id))
        assert sorted(names) == ["Dee", "dee.p"]
        chair_person = Person(display_name="Sarah Chair", created_at=core.now())
        chair_person.identities.append(Identity(platform=Platform.SLACK, external_id="UCHAIR"))
        session.add(chair_person)
        session.flush()
        put_role(session, DEFAULT_BOARD_ID, chair_person.id, Role.CHAIR)
    for typed in ("@dee", "@dee.p", "@Deirdre", "@deirdre.patel"):
        out = run_command(core, slack_chair, "/status", f"overdue {typed}")
        assert out.message.text == "Nothing of Deirdre Patel is overdue.", typed


def test_a_name_two_people_answer_to_is_refused_with_both(core: Core, chair: Caller) -> None:
    with transaction(core.sessions) as session:
        for name in ("Dee Patel", "Dee Jones"):
            session.add(Person(display_name=name, created_at=core.now()))
    out = act(core, chair, "add Audit @dee")
    assert out.message.tone == "error"
    assert "More than one person answers to @dee (Dee Jones, Dee Patel)" in out.message.text


# --- notes of several lines -------------------------------------------------------------------


def test_a_note_of_several_lines_is_indented_under_its_entry(
    core: Core, chair: Caller, amira: Caller
) -> None:
    add(core, chair, "Audit @amira")
    act(core, amira, "update 1 Met the police lead.\nAgreed the data share.\n\n- sign off next")
    lines = render(act(core, chair, "show 1").message, tz=core.settings.tz).splitlines()
    at = next(i for i, line in enumerate(lines) if "Amira: Met the police lead." in line)
    assert lines[at].startswith("    23 Nov")
    assert lines[at + 1 : at + 3] == ["        Agreed the data share.", "        - sign off next"]
