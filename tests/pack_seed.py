"""A plan and six meetings of snapshots for the board pack's tests and benchmark."""

from __future__ import annotations

import datetime as dt

from bot.domain import Rag, Status
from bot.services.context import Core
from storage.db import transaction
from storage.models import Action, Evidence, HistoryEntry, Meeting, Person, PlanSnapshot

LONG_AGO = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
RAGS = (Rag.RED, Rag.AMBER, Rag.GREEN, Rag.BLUE)


def seed_plan(core: Core, *, actions: int = 12, meetings: int = 6) -> Meeting:
    """`actions` actions over three workstreams and `meetings` past meetings with snapshots;
    returns the next meeting (upcoming, no snapshot), for which the pack is built."""
    now = core.now()
    today = core.today()
    with transaction(core.sessions) as session:
        people = [Person(display_name=n, created_at=LONG_AGO) for n in ("Amira Khan", "Ben Ode")]
        session.add_all(people)
        session.flush()
        rows: list[Action] = []
        for i in range(actions):
            kind = i % 6
            due = today + dt.timedelta(days=30 + i % 40)
            status = Status.OPEN
            rag: Rag | None = Rag.GREEN
            if kind == 0:
                due, rag = today - dt.timedelta(days=20), Rag.GREEN  # overdue, declared green
            elif kind == 1:
                status, rag = Status.BLOCKED, Rag.RED
            elif kind == 2:
                status, rag = Status.DELIVERED, Rag.GREEN
            elif kind == 3:
                status, rag = Status.DONE, Rag.BLUE
            elif kind == 4:
                rag = Rag.AMBER
            row = Action(
                ref=f"WS{i % 3 + 1}-{i + 1:02d}",
                title=f"Action {i + 1} <b>&amp; check</b>" if i == 4 else f"Action {i + 1}",
                owner_id=people[i % 2].id if i % 7 else None,
                due_date=due,
                status=status,
                rag=rag,
                workstream=("Front door", "Quality assurance", "Workforce")[i % 3],
                created_at=LONG_AGO,
                updated_at=LONG_AGO,
                delivered_at=now if status is Status.DELIVERED else None,
            )
            rows.append(row)
        session.add_all(rows)
        session.flush()
        # One moved deadline (re-baselined since the last meeting) and one update and
        # evidence, so each column has something.
        rows[5].baseline_due = rows[5].due_date - dt.timedelta(days=14)
        rows[5].rebaselines = 1
        session.add(
            HistoryEntry(
                action_id=rows[4].id,
                at=now - dt.timedelta(days=1),
                source="console",
                change="note",
                note="Panel met; two cases left",
            )
        )
        session.add(
            Evidence(
                action_id=rows[2].id,
                added_at=now,
                kind="link",
                platform="console",
                url="https://example.org/audit.pdf",
            )
        )
        past = []
        for m in range(meetings):
            starts = now - dt.timedelta(days=42 * (meetings - m))
            meeting = Meeting(
                title=f"Board meeting {m + 1}",
                starts_at=starts,
                created_at=LONG_AGO,
                cut_off_at=starts - dt.timedelta(days=7),
            )
            session.add(meeting)
            past.append(meeting)
        session.flush()
        snapshot_rows = []
        for m, meeting in enumerate(past):
            for j, row in enumerate(rows):
                snapshot_rows.append(
                    {
                        "meeting_id": meeting.id,
                        "taken_at": meeting.starts_at,
                        "action_id": row.id,
                        "ref": row.ref,
                        "title": row.title,
                        "status": Status.OPEN.value,
                        "rag_declared": RAGS[(j + m) % 4].value if (j + m) % 5 else None,
                        "rag_computed": RAGS[(j + 2 * m) % 4].value,
                        "rebaselines": 0,
                    }
                )
        if snapshot_rows:
            session.execute(PlanSnapshot.__table__.insert(), snapshot_rows)  # type: ignore[attr-defined]
        upcoming = Meeting(
            title="Board meeting, January",
            starts_at=now + dt.timedelta(days=10),
            created_at=LONG_AGO,
            round_opened_at=now - dt.timedelta(days=3),
        )
        session.add(upcoming)
        session.flush()
        session.expunge(upcoming)
        return upcoming
