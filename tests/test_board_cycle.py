"""The board cycle over a simulated quarter, through the worker's real tick and the console's
dispatcher: meetings added and listed, each round's one message per owner, the nudge only to
those who have not answered, an update by command counting, the cut-off's list of
non-responders to the secretary and the chairs, one append-only snapshot per meeting, and the
worker catching up after being down."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from bot.boards.members import put_role
from bot.clock import FixedClock
from bot.domain import Platform, Rag, Role, Status
from bot.domain.workdays import WorkingCalendar
from bot.errors import CommandError
from bot.grammar.meetings import AddMeeting, parse_meeting
from bot.render.text import render
from bot.services.context import Caller, Core
from bot.services.dispatch import run_command
from bot.services.request import Outcome
from bot.services.rounds import round_dates
from scheduler.board_cycle import run_board_cycle
from scheduler.jobs import Ticker
from storage.db import transaction
from storage.models import DEFAULT_BOARD_ID, Meeting, OutboxMessage, Person, PlanSnapshot
from tests.scheduler_fakes import FakeSender, action, person

LONDON = ZoneInfo("Europe/London")
LATER = dt.date(2027, 6, 30)

SARAH = Caller(Platform.CONSOLE, "sarah", display_name="Sarah")
AMIRA = Caller(Platform.CONSOLE, "amira", display_name="Amira")
BEN = Caller(Platform.CONSOLE, "ben", display_name="Ben")
CHAIR = Caller(Platform.CONSOLE, "chair", display_name="Chair")


def board(core: Core, who: Caller, text: str) -> str:
    return shown(core, run_command(core, who, "/board", text))


def shown(core: Core, outcome: Outcome) -> str:
    return render(outcome.message, today=core.today(), tz=core.settings.tz)


def at(clock: FixedClock, day: dt.date, hour: int = 10) -> None:
    clock.set(dt.datetime.combine(day, dt.time(hour), tzinfo=LONDON))


def seed(core: Core) -> dict[str, int]:
    """Amira owns two open actions, Ben one and a finished one, Chloe a blocked one; Sarah is
    the secretary; the chair is in CHAIR_USER_IDS."""
    ids = {
        "a1": action(core, "Audit EHCP timeliness", owner="amira", due=LATER, rag=Rag.GREEN),
        "a2": action(core, "Recruit two social workers", owner="amira", due=LATER),
        "b1": action(core, "Publish the local offer", owner="ben", due=LATER, rag=Rag.AMBER),
        "b2": action(core, "Train the panel", owner="ben", due=LATER, status=Status.DONE),
        "c1": action(
            core,
            "Agree the data sharing",
            owner="chloe",
            due=LATER,
            status=Status.BLOCKED,
            blocked_reason="legal review",
        ),
    }
    for name in ("sarah", "chair"):
        person(core, name)
    with transaction(core.sessions) as session:
        sarah = session.scalars(select(Person).where(Person.display_name == "Sarah")).one()
        put_role(session, DEFAULT_BOARD_ID, sarah.id, Role.SECRETARY)
    return ids


def round_texts(sender: FakeSender, to: str) -> list[str]:
    """The round's messages one person received, by their summary."""
    heads = ("Update round for", "Reminder: the board still needs", "Cut-off for")
    return [t for t in sender.texts(to) if t.startswith(heads)]


def full_text(sender: FakeSender, to: str, start: str) -> str:
    found = [s.message for s in sender.sent if s.to == to and s.message.text.startswith(start)]
    assert len(found) == 1, [s.message.text for s in sender.sent if s.to == to]
    return render(found[0], today=dt.date(2027, 1, 1), tz=LONDON)


def snapshots(core: Core, meeting_id: int) -> list[PlanSnapshot]:
    with core.sessions() as session:
        rows = session.scalars(
            select(PlanSnapshot)
            .where(PlanSnapshot.meeting_id == meeting_id)
            .order_by(PlanSnapshot.action_id)
        ).all()
        session.expunge_all()
        return list(rows)


def test_round_dates_skip_weekends_and_bank_holidays(core: Core, calendar: WorkingCalendar) -> None:
    meeting = Meeting(
        title="Improvement Board",
        starts_at=dt.datetime(2027, 1, 14, 14, 0, tzinfo=LONDON),
        created_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
    )
    dates = round_dates(meeting, settings=core.settings, calendar=calendar)
    # Ten working days before Thu 14 Jan: back over New Year's Day (Fri 1 Jan).
    assert dates.opens == dt.date(2026, 12, 30)
    assert dates.cutoff == dt.date(2027, 1, 7)
    assert dates.nudge == dt.date(2027, 1, 5)


def test_meetings_added_listed_warned_refused_and_cancelled(core: Core, clock: FixedClock) -> None:
    seed(core)
    at(clock, dt.date(2026, 12, 1))
    added = board(core, SARAH, "meeting add 14 Jan 2027 14:00 Improvement Board")
    assert "Meeting added: 1 · Improvement Board on Thu 14 Jan 2027 at 14:00" in added
    assert "round opens Wed 30 Dec" in added
    assert "cut-off Thu 7 Jan 2027" in added
    assert "bank holiday" not in added

    holiday = board(core, CHAIR, "meeting add 28 Dec 10:00")
    assert "Meeting added: 2 · Board meeting on Mon 28 Dec at 10:00" in holiday
    assert "Mon 28 Dec is a bank holiday (Boxing Day (observed))" in holiday

    past = board(core, SARAH, "meeting add 30 Nov 2026 14:00")
    assert "Mon 30 Nov at 14:00 is in the past" in past
    assert "Give the meeting's date and time" in board(core, SARAH, "meeting add 15 Jan 2027")
    clash = board(core, SARAH, "meeting add 14 Jan 2027 2pm")
    assert "Meeting 1 (Improvement Board) is already at Thu 14 Jan 2027 at 14:00" in clash

    refused = board(core, AMIRA, "meeting add 20 Jan 2027 14:00")
    assert "a chair or the secretary" in refused
    with core.sessions() as session:
        assert session.scalar(select(Meeting).where(Meeting.id == 3)) is None

    listed = board(core, AMIRA, "meetings")
    assert "Meetings to come (2)" in listed
    assert listed.index("2 · Board meeting") < listed.index("1 · Improvement Board")
    assert "The update round opens 10 working days before each meeting" in listed

    assert "Meeting 2 cancelled" in board(core, CHAIR, "meeting cancel 2")
    assert "already cancelled" in board(core, CHAIR, "meeting cancel 2")
    assert "There is no meeting 9" in board(core, CHAIR, "meeting cancel 9")
    assert "a chair or the secretary" in board(core, BEN, "meeting cancel 1")
    assert "Meetings to come (1)" in board(core, BEN, "meetings")
    help_text = board(core, BEN, "help")
    assert "/board meeting add <date> <time> [title]" in help_text


def test_a_quarter_of_two_meetings(
    core: Core, clock: FixedClock, calendar: WorkingCalendar
) -> None:
    ids = seed(core)
    sender = FakeSender(platform=Platform.CONSOLE)
    ticker = Ticker(core, [sender], calendar)
    at(clock, dt.date(2026, 12, 1))
    board(core, SARAH, "meeting add 14 Jan 2027 14:00 Improvement Board")
    board(core, SARAH, "meeting add 8 Apr 2027 14:00 Improvement Board")
    board(core, SARAH, "meeting add 18 Feb 2027 14:00 Cancelled board")
    board(core, SARAH, "meeting cancel 3")

    def run_days(first: dt.date, last: dt.date) -> None:
        day = first
        while day <= last:
            at(clock, day)
            ticker.tick()
            if day in actions_on:
                actions_on.pop(day)()
            day += dt.timedelta(days=1)

    actions_on = {
        # Amira updates one of her two by command after the round opened; Ben after the nudge.
        dt.date(2027, 1, 4): lambda: run_command(
            core, AMIRA, "/action", f"update {ids['a1']} audit half done"
        ),
        dt.date(2027, 1, 6): lambda: run_command(core, BEN, "/action", f"rag {ids['b1']} red"),
    }
    # Before the round: nothing about the board.
    run_days(dt.date(2026, 12, 14), dt.date(2026, 12, 29))
    assert not [t for to in ("amira", "ben", "chloe") for t in round_texts(sender, to)]

    # The round opens Wed 30 Dec (a bank holiday, New Year's Day, between it and the meeting).
    run_days(dt.date(2026, 12, 30), dt.date(2027, 1, 4))
    assert round_texts(sender, "amira") == [
        "Update round for Improvement Board on Thu 14 Jan 2027 at 14:00"
    ]
    amira = full_text(sender, "amira", "Update round")
    assert "Please update your 2 actions by Thu 7 Jan" in amira
    assert f"#{ids['a1']} Audit EHCP timeliness · RAG green · no update yet" in amira
    assert f"#{ids['a2']} Recruit two social workers · RAG no RAG set" in amira
    assert f"/action rag {ids['a1']} red|amber|green" in amira
    assert len(round_texts(sender, "ben")) == 1
    ben = full_text(sender, "ben", "Update round")
    assert "Please update your action by" in ben
    assert "Train the panel" not in ben  # done: not asked
    assert len(round_texts(sender, "chloe")) == 1
    assert round_texts(sender, "sarah") == []

    # The nudge, Tue 5 Jan: only the actions still without an update.
    run_days(dt.date(2027, 1, 5), dt.date(2027, 1, 6))
    nudged = full_text(sender, "amira", "Reminder: the board still needs")
    assert "still needs an update on your action by Thu 7 Jan" in nudged
    assert "Recruit two social workers" in nudged
    assert "Audit EHCP timeliness" not in nudged
    assert len(round_texts(sender, "ben")) == 2
    assert len(round_texts(sender, "chloe")) == 2

    # The cut-off, Thu 7 Jan: Ben answered after the nudge; Amira's second and Chloe's not.
    run_days(dt.date(2027, 1, 7), dt.date(2027, 1, 20))
    for runner in ("sarah", "chair"):
        assert round_texts(sender, runner) == [
            "Cut-off for Improvement Board on Thu 14 Jan at 14:00: 2 actions without an update "
            "from 2 owners"
        ]
    listed = full_text(sender, "sarah", "Cut-off for")
    assert f"Amira: #{ids['a2']} Recruit two social workers" in listed
    assert f"Chloe: #{ids['c1']} Agree the data sharing" in listed
    assert "Ben" not in listed
    first = snapshots(core, 1)
    assert [s.action_id for s in first] == sorted(ids.values())
    b1 = next(s for s in first if s.action_id == ids["b1"])
    assert (b1.status, b1.rag_declared, b1.owner_name) == (Status.OPEN, Rag.RED, "Ben")
    c1 = next(s for s in first if s.action_id == ids["c1"])
    assert c1.status == Status.BLOCKED
    # Blocked since it was planted (no history of it): long past the 5 working days of red.
    assert (c1.rag_declared, c1.rag_computed) == (None, Rag.RED)
    assert snapshots(core, 3) == []  # the cancelled meeting: nothing

    # Meeting 2: its round opens Tue 23 Mar (ten working days back across Easter Monday and
    # Good Friday). The worker is down from before then until after the nudge day (Tue 30
    # Mar); back on Wed 31 Mar it opens the round at once, sends no nudge on top, and cuts
    # off on Thu 1 Apr.
    with core.sessions() as session:
        second = session.get(Meeting, 2)
        assert second is not None
        dates = round_dates(second, settings=core.settings, calendar=calendar)
    assert (dates.opens, dates.nudge, dates.cutoff) == (
        dt.date(2027, 3, 23),
        dt.date(2027, 3, 30),
        dt.date(2027, 4, 1),
    )
    run_days(dt.date(2027, 3, 1), dt.date(2027, 3, 19))
    before = len(sender.sent)
    run_days(dt.date(2027, 3, 31), dt.date(2027, 3, 31))  # back, one day before the cut-off
    texts = [s.message.text for s in sender.sent[before:]]
    assert texts.count("Update round for Improvement Board on Thu 8 Apr at 14:00") == 3
    assert not [t for t in texts if t.startswith("Reminder: the board")]
    run_days(dt.date(2027, 4, 1), dt.date(2027, 4, 16))
    assert len([t for t in round_texts(sender, "sarah") if "Thu 8 Apr" in t]) == 1
    assert len(snapshots(core, 2)) == len(ids)
    with core.sessions() as session:
        stamped = session.get(Meeting, 2)
        assert stamped is not None
        assert stamped.round_opened_at is not None and stamped.cut_off_at is not None
        assert stamped.round_nudged_at is None
        # Every round message went through the outbox once, under its own key.
        keys = session.scalars(select(OutboxMessage.key).where(OutboxMessage.kind == "round"))
        assert len(list(keys)) == 3 + 3 + 2 + 3 + 2  # open, nudge, cut-off, open, cut-off


def test_cut_off_runs_once_and_snapshots_are_append_only(core: Core, clock: FixedClock) -> None:
    seed(core)
    at(clock, dt.date(2026, 12, 1))
    board(core, SARAH, "meeting add 14 Jan 2027 14:00")
    # Down through the whole round: back after the cut-off, only the cut-off runs.
    at(clock, dt.date(2027, 1, 12))
    done = run_board_cycle(core)
    assert done["cut-off"] == 2 and done["snapshot"] == 5
    assert "round" not in done
    again = run_board_cycle(core)
    assert not again
    rows = snapshots(core, 1)
    assert len(rows) == 5
    with pytest.raises(DBAPIError, match="append-only"), transaction(core.sessions) as session:
        session.execute(update(PlanSnapshot).values(title="changed"))


def test_the_pack_is_built_and_posted_once_after_the_cut_off(core: Core, clock: FixedClock) -> None:
    seed(core)
    at(clock, dt.date(2026, 12, 1))
    board(core, SARAH, "meeting add 14 Jan 2027 14:00 Improvement Board")
    # Without PUBLIC_URL the cut-off still runs; the pack waits for the setting.
    at(clock, dt.date(2027, 1, 7))
    done = run_board_cycle(core)
    assert done["snapshot"] == 5 and "board pack" not in done
    configured = Core(
        settings=core.settings.model_copy(
            update={"public_url": "https://actionbot.example.org", "board_channel": "C0BOARD"}
        ),
        sessions=core.sessions,
        clock=clock,
        directories=core.directories,
    )
    at(clock, dt.date(2027, 1, 7), hour=11)
    assert run_board_cycle(configured)["board pack"] == 1
    assert not run_board_cycle(configured)
    with core.sessions() as session:
        [post] = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "board_pack")
        ).all()
        assert post.channel == "C0BOARD"
        assert "Board pack for Improvement Board" in post.payload["text"]
        assert "https://actionbot.example.org/packs/" in post.payload["text"]
        meeting = session.get(Meeting, 1)
        assert meeting is not None and meeting.pack_posted_at is not None


@pytest.mark.parametrize(
    ("text", "day", "time", "title"),
    [
        (
            "add 15 Jan 2027 14:00 Improvement Board",
            dt.date(2027, 1, 15),
            dt.time(14),
            "Improvement Board",
        ),
        ("add 15/01/2027 2pm", dt.date(2027, 1, 15), dt.time(14), None),
        ("add 2027-01-15 9.30 Board 2", dt.date(2027, 1, 15), dt.time(9, 30), "Board 2"),
        ("new friday 12:30am Early", dt.date(2026, 11, 27), dt.time(0, 30), "Early"),
    ],
)
def test_meeting_add_reads_dates_and_times(
    text: str, day: dt.date, time: dt.time, title: str | None
) -> None:
    parsed = parse_meeting(text, today=dt.date(2026, 11, 23))
    assert isinstance(parsed, AddMeeting)
    assert (parsed.day, parsed.time, parsed.title) == (day, time, title)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("add 15 Jan 2027", "Give the meeting's date and time"),
        ("add 14:00 15 Jan", "Give the meeting's date before its time"),
        ("add 32 Jan 14:00", "32 Jan"),
        ("add 15 Jan 25:00", "Give the meeting's date and time"),
        ("cancel x", "Give the meeting's number"),
        ("move 3", "I don't know `/board meeting move`"),
    ],
)
def test_meeting_commands_refuse_what_they_cannot_read(text: str, reason: str) -> None:
    with pytest.raises(CommandError, match=re.escape(reason)):
        parse_meeting(text, today=dt.date(2026, 11, 23))
