"""The plan as it stood at each meeting's cut-off: taken once, never changed (the database
refuses UPDATE and DELETE of `plan_snapshots`), read by the trend, "since the last meeting"
and `actionbot export --snapshot`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import BinaryIO, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.plans.exporter import Row, iso_time
from bot.plans.exporter import _write_csv as write_csv
from bot.plans.exporter import _write_xlsx as write_xlsx
from bot.render.inline import plain
from bot.services.context import Core
from bot.services.ratings import ratings
from storage.models import Action, Meeting, PlanSnapshot

#: The columns of a snapshot's export, in order.
SNAPSHOT_COLUMNS = (
    "meeting_id",
    "meeting",
    "taken_at",
    "action_id",
    "ref",
    "title",
    "owner",
    "status",
    "rag_declared",
    "rag_computed",
    "due_date",
    "baseline_due",
    "rebaselines",
    "workstream",
)


def take_snapshot(session: Session, core: Core, meeting: Meeting, now: dt.datetime) -> int:
    """Snapshot every action of the meeting's board for `meeting` unless it was; how many
    rows were written."""
    taken = session.scalar(
        select(func.count(PlanSnapshot.id)).where(PlanSnapshot.meeting_id == meeting.id)
    )
    if taken:
        return 0
    board_id = meeting.board_id
    actions = session.scalars(
        select(Action).where(Action.board_id == board_id).order_by(Action.id)
    ).all()
    today = now.astimezone(core.settings.tz).date()
    computed = ratings(
        session, actions, settings=core.settings, calendar=core.calendar, today=today
    )
    for action in actions:
        rating = computed.get(action.id)
        session.add(
            PlanSnapshot(
                board_id=board_id,
                meeting_id=meeting.id,
                taken_at=now,
                action_id=action.id,
                ref=action.ref,
                title=action.title,
                owner_id=action.owner_id,
                owner_name=action.owner.display_name if action.owner is not None else None,
                status=action.status,
                rag_declared=action.rag,
                rag_computed=rating.computed.rag if rating is not None else None,
                due_date=action.due_date,
                baseline_due=action.baseline_due,
                rebaselines=action.rebaselines or 0,
                workstream=action.workstream,
            )
        )
    session.flush()
    return len(actions)


def snapshot_rows(session: Session, meeting_id: int) -> Sequence[PlanSnapshot]:
    """The snapshot of one meeting, in action order (empty when none was taken)."""
    return session.scalars(
        select(PlanSnapshot)
        .where(PlanSnapshot.meeting_id == meeting_id)
        .order_by(PlanSnapshot.action_id)
    ).all()


def snapshotted_meetings(
    session: Session, *, board_id: int, before: dt.datetime | None = None, limit: int = 6
) -> list[Meeting]:
    """The board's last `limit` meetings with a snapshot (starting before `before`), oldest
    first: the trend's columns."""
    query = (
        select(Meeting)
        .where(
            Meeting.board_id == board_id,
            Meeting.id.in_(select(PlanSnapshot.meeting_id).distinct()),
        )
        .order_by(Meeting.starts_at.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(Meeting.starts_at < before)
    return list(reversed(session.scalars(query).all()))


class UnknownSnapshot(LookupError):
    """No such meeting, or its cut-off has not run (no snapshot yet)."""


def export_snapshot(
    core: Core, *, meeting_id: int, fmt: Literal["csv", "xlsx"], out: BinaryIO
) -> int:
    """Write one meeting's snapshot as the register export writes the register (a CSV table,
    or a workbook with a "Snapshot" sheet); how many actions it holds. Only a meeting of
    `core.board` is found."""
    tz = core.settings.tz
    with core.sessions() as session:
        meeting = session.get(Meeting, meeting_id)
        if meeting is None or meeting.board_id != core.board.id:
            raise UnknownSnapshot(f"There is no meeting {meeting_id}.")
        rows = snapshot_rows(session, meeting_id)
        if not rows:
            raise UnknownSnapshot(
                f"Meeting {meeting_id} has no snapshot yet: the plan is snapshotted at its cut-off."
            )
        title = f"{meeting.title} {meeting.starts_at.astimezone(tz):%Y-%m-%d %H:%M}"
        table: list[Row] = [
            [
                meeting_id,
                title,
                iso_time(row.taken_at, tz),
                row.action_id,
                row.ref,
                plain(row.title),
                row.owner_name,
                row.status.value,
                row.rag_declared.value if row.rag_declared else None,
                row.rag_computed.value if row.rag_computed else None,
                row.due_date,
                row.baseline_due,
                row.rebaselines,
                row.workstream,
            ]
            for row in rows
        ]
    if fmt == "csv":
        write_csv(out, SNAPSHOT_COLUMNS, table)
    else:
        write_xlsx(out, [("Snapshot", SNAPSHOT_COLUMNS, table)])
    return len(table)
