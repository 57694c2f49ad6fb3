"""The board pack's content for one meeting, gathered in a few grouped queries.

Every renderer (PDF, xlsx, HTML, the charts) draws from `PackData`, so the three files say
the same. The order follows the digest: what needs attention first (figures, then the
exceptions, then each workstream's actions).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bot.domain import OPEN_STATUSES, Change, Rag, Status
from bot.domain.rebaseline import slippage, slippage_words
from bot.render.inline import plain
from bot.services.context import Core
from bot.services.ratings import UPDATE_CHANGES, ratings
from storage.models import Action, Evidence, HistoryEntry, Meeting, PlanSnapshot

#: BRAG in the order the pack shows it: what needs attention first.
BRAG_ORDER = (Rag.RED, Rag.AMBER, Rag.GREEN, Rag.BLUE)
#: Meetings the trend spans.
TREND_MEETINGS = 6
#: The changes that carry a written update (a note, or the plan's notes as imported).
_NOTES = (Change.NOTE.value, Change.NOTES.value)


@dataclass(frozen=True)
class PackAction:
    """One action as the pack shows it."""

    id: int
    ref: str | None
    title: str
    owner: str | None
    workstream: str
    status: Status
    baseline: dt.date | None
    due: dt.date | None
    declared: Rag | None
    computed: Rag | None
    rag_flag: str | None
    latest: str | None
    latest_on: dt.date | None
    evidence: tuple[str, ...]
    days_late: int
    slippage: int
    rebaselines: int

    @property
    def label(self) -> str:
        """`CIN-01 (#12)`: the plan's reference with the bot's number, or `#12`."""
        return f"{self.ref} (#{self.id})" if self.ref else f"#{self.id}"

    @property
    def rag(self) -> Rag | None:
        """The rating to show: the owner's, else the computed one."""
        return self.declared or self.computed


@dataclass(frozen=True)
class PackException:
    """An action the chair should read, and why."""

    kind: str
    action: PackAction
    detail: str


@dataclass(frozen=True)
class TrendColumn:
    """One meeting's BRAG counts from its snapshot (declared, else computed)."""

    meeting_id: int
    label: str
    counts: dict[Rag, int]
    unrated: int


@dataclass(frozen=True)
class PackData:
    """Everything the pack says, in the order it says it."""

    board: str
    meeting_id: int
    meeting_title: str
    meeting_at: dt.datetime
    generated_at: dt.datetime
    figures: list[tuple[str, int]]
    declared: dict[Rag, int]
    computed: dict[Rag, int]
    exceptions: list[PackException]
    workstreams: list[tuple[str, list[PackAction]]]
    trend: list[TrendColumn] = field(default_factory=list)

    @property
    def figure(self) -> dict[str, int]:
        """The figures by label."""
        return dict(self.figures)


#: The kinds of exception, in the order the pack lists them.
EXCEPTION_KINDS = (
    "Red",
    "Overdue",
    "Blocked",
    "Re-baselined since the last meeting",
    "Declared greener than computed",
    "Awaiting sign-off",
    "No update this round",
)


def collect(session: Session, core: Core, meeting: Meeting, now: dt.datetime) -> PackData:
    """The pack's content for `meeting`, as its board's plan stands at `now` (only that
    board's actions, meetings and snapshots are read)."""
    settings = core.settings
    tz = settings.tz
    today = now.astimezone(tz).date()
    board_id = meeting.board_id
    actions = list(
        session.scalars(
            select(Action)
            .where(Action.board_id == board_id, Action.status != Status.CANCELLED)
            .order_by(Action.id)
        ).all()
    )
    ids = [a.id for a in actions]
    computed = ratings(session, actions, settings=settings, calendar=core.calendar, today=today)
    notes = _latest_notes(session, ids, board_id)
    evidence = _evidence(session, ids, board_id)
    previous = _previous_meeting(session, meeting)
    earlier = _snapshot_moves(session, previous.id) if previous is not None else {}
    round_start = _round_start(session, core, meeting, previous)
    updated = _updated_since(session, ids, board_id, round_start)

    rows: list[PackAction] = []
    for action in actions:
        rating = computed.get(action.id)
        note = notes.get(action.id)
        late = (
            core.calendar.working_days_between(action.due_date, today)
            if action.due_date is not None and action.status in OPEN_STATUSES
            else 0
        )
        rows.append(
            PackAction(
                id=action.id,
                ref=action.ref,
                title=plain(action.title),
                owner=action.owner.display_name if action.owner else action.owner_text,
                workstream=action.workstream or "No workstream",
                status=action.status,
                baseline=action.baseline_due,
                due=action.due_date,
                declared=action.rag,
                computed=rating.computed.rag if rating else None,
                rag_flag=rating.flag if rating else None,
                latest=plain(note[0]) if note else None,
                latest_on=note[1].astimezone(tz).date() if note else None,
                evidence=tuple(evidence.get(action.id, ())),
                days_late=late,
                slippage=slippage(action.baseline_due, action.due_date, core.calendar),
                rebaselines=action.rebaselines or 0,
            )
        )

    exceptions = _exceptions(rows, earlier, updated, previous is not None or round_start)
    streams: dict[str, list[PackAction]] = defaultdict(list)
    for row in rows:
        streams[row.workstream].append(row)
    return PackData(
        board=settings.board_name,
        meeting_id=meeting.id,
        meeting_title=meeting.title,
        meeting_at=meeting.starts_at.astimezone(tz),
        generated_at=now.astimezone(tz),
        figures=_figures(rows),
        declared=_brag(row.declared for row in rows),
        computed=_brag(row.computed for row in rows),
        exceptions=exceptions,
        workstreams=sorted(streams.items(), key=lambda item: item[0].lower()),
        trend=trend(session, meeting),
    )


def _figures(rows: Sequence[PackAction]) -> list[tuple[str, int]]:
    open_rows = [r for r in rows if r.status in OPEN_STATUSES]
    return [
        ("Open", len(open_rows)),
        ("Complete", sum(r.status is Status.DONE for r in rows)),
        ("Delivered, awaiting sign-off", sum(r.status is Status.DELIVERED for r in rows)),
        ("Overdue", sum(r.days_late > 0 for r in open_rows)),
        ("Blocked", sum(r.status is Status.BLOCKED for r in rows)),
        ("Needs a date", sum(r.due is None for r in open_rows)),
        ("Unassigned", sum(r.owner is None for r in open_rows)),
    ]


def _brag(values: object) -> dict[Rag, int]:
    counts = dict.fromkeys(BRAG_ORDER, 0)
    for value in values:  # type: ignore[attr-defined]
        if isinstance(value, Rag):
            counts[value] += 1
    return counts


def _exceptions(
    rows: Sequence[PackAction],
    earlier: dict[int, int],
    updated: set[int],
    round_known: object,
) -> list[PackException]:
    found: list[PackException] = []
    for row in rows:
        if row.rag is Rag.RED:
            found.append(PackException("Red", row, "rated red"))
    for row in sorted(rows, key=lambda r: -r.days_late):
        if row.days_late > 0:
            unit = "working day" if row.days_late == 1 else "working days"
            found.append(PackException("Overdue", row, f"{row.days_late} {unit} late"))
    for row in rows:
        if row.status is Status.BLOCKED:
            found.append(PackException("Blocked", row, "blocked"))
    for row in rows:
        before = earlier.get(row.id)
        if before is not None and row.rebaselines > before:
            found.append(
                PackException(
                    "Re-baselined since the last meeting",
                    row,
                    f"baseline {_day(row.baseline)}, now {_day(row.due)}"
                    f" ({slippage_words(row.slippage)})",
                )
            )
    for row in rows:
        if row.rag_flag:
            found.append(PackException("Declared greener than computed", row, row.rag_flag))
    for row in rows:
        if row.status is Status.DELIVERED:
            found.append(PackException("Awaiting sign-off", row, "delivered, not yet signed off"))
    if round_known:
        for row in rows:
            if row.status in OPEN_STATUSES and row.id not in updated:
                found.append(PackException("No update this round", row, "no update given"))
    return found


def _day(day: dt.date | None) -> str:
    return day.strftime("%d %b %Y").lstrip("0") if day else "none"


def _of_board(board_id: int) -> Select[int]:
    """The ids of the board's actions, for reading their history and evidence."""
    return select(Action.id).where(Action.board_id == board_id)


def _latest_notes(
    session: Session, ids: Sequence[int], board_id: int
) -> dict[int, tuple[str, dt.datetime]]:
    if not ids:
        return {}
    latest = (
        select(func.max(HistoryEntry.id).label("id"))
        .where(HistoryEntry.action_id.in_(_of_board(board_id)), HistoryEntry.change.in_(_NOTES))
        .group_by(HistoryEntry.action_id)
        .subquery()
    )
    rows = session.execute(
        select(
            HistoryEntry.action_id,
            HistoryEntry.change,
            HistoryEntry.note,
            HistoryEntry.new_value,
            HistoryEntry.at,
        ).join(latest, HistoryEntry.id == latest.c.id)
    )
    found: dict[int, tuple[str, dt.datetime]] = {}
    for action_id, change, note, new_value, at in rows:
        text = note if change == Change.NOTE.value else new_value
        if text and text.strip():
            found[action_id] = (text.strip(), at)
    return found


def _evidence(session: Session, ids: Sequence[int], board_id: int) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    if not ids:
        return found
    for row in session.scalars(
        select(Evidence)
        .where(Evidence.action_id.in_(_of_board(board_id)))
        .order_by(Evidence.action_id, Evidence.id)
    ):
        if row.kind == "file":
            found[row.action_id].append(f"file: {row.file_name or row.file_ref}")
        elif row.kind == "link":
            found[row.action_id].append(row.url or "")
        else:
            found[row.action_id].append(plain(row.note or ""))
    return found


def _previous_meeting(session: Session, meeting: Meeting) -> Meeting | None:
    return session.scalars(
        select(Meeting)
        .where(
            Meeting.board_id == meeting.board_id,
            Meeting.starts_at < meeting.starts_at,
            Meeting.cancelled_at.is_(None),
            Meeting.id.in_(select(PlanSnapshot.meeting_id).distinct()),
        )
        .order_by(Meeting.starts_at.desc())
        .limit(1)
    ).first()


def _snapshot_moves(session: Session, meeting_id: int) -> dict[int, int]:
    rows = session.execute(
        select(PlanSnapshot.action_id, PlanSnapshot.rebaselines).where(
            PlanSnapshot.meeting_id == meeting_id
        )
    )
    return {action_id: moves or 0 for action_id, moves in rows}


def _round_start(
    session: Session, core: Core, meeting: Meeting, previous: Meeting | None
) -> dt.datetime | None:
    """When this meeting's update round began: its opening, else the last cut-off."""
    if meeting.round_opened_at is not None:
        return meeting.round_opened_at
    if previous is not None:
        return previous.cut_off_at or previous.starts_at
    return None


def _updated_since(
    session: Session, ids: Sequence[int], board_id: int, since: dt.datetime | None
) -> set[int]:
    if since is None or not ids:
        return set()
    rows = session.scalars(
        select(HistoryEntry.action_id)
        .where(
            HistoryEntry.action_id.in_(_of_board(board_id)),
            HistoryEntry.at >= since,
            HistoryEntry.change.in_(UPDATE_CHANGES),
        )
        .distinct()
    )
    return set(rows)


def trend(session: Session, meeting: Meeting, *, limit: int = TREND_MEETINGS) -> list[TrendColumn]:
    """BRAG counts at the last `limit` meetings of its board with a snapshot up to `meeting`,
    oldest first."""
    meetings = list(
        reversed(
            session.scalars(
                select(Meeting)
                .where(
                    Meeting.board_id == meeting.board_id,
                    Meeting.starts_at <= meeting.starts_at,
                    Meeting.id.in_(select(PlanSnapshot.meeting_id).distinct()),
                )
                .order_by(Meeting.starts_at.desc())
                .limit(limit)
            ).all()
        )
    )
    if not meetings:
        return []
    rag = func.coalesce(PlanSnapshot.rag_declared, PlanSnapshot.rag_computed)
    rows = session.execute(
        select(PlanSnapshot.meeting_id, rag, func.count())
        .where(
            PlanSnapshot.meeting_id.in_([m.id for m in meetings]),
            PlanSnapshot.board_id == meeting.board_id,
            PlanSnapshot.status != Status.CANCELLED,
        )
        .group_by(PlanSnapshot.meeting_id, rag)
    )
    counts: dict[int, dict[Rag | None, int]] = defaultdict(dict)
    for meeting_id, value, count in rows:
        counts[meeting_id][Rag(value) if value else None] = count
    columns = []
    for item in meetings:
        found = counts.get(item.id, {})
        columns.append(
            TrendColumn(
                meeting_id=item.id,
                label=item.starts_at.strftime("%d %b %y").lstrip("0"),
                counts={r: found.get(r, 0) for r in BRAG_ORDER},
                unrated=found.get(None, 0),
            )
        )
    return columns
