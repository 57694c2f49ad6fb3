"""Checked plan rows into the register, in the caller's transaction.

Each row creates its action, or updates the fields that differ in the action it matches (by
ref, or by title when it has none), with one history entry per change and the status rules of
bot.domain. A row that changes nothing writes nothing, so importing the same file again
changes nothing at all. An empty cell keeps what the register holds: a plan that leaves out
RAG, a date or notes must not wipe what owners and chairs recorded since.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.domain import IMPORT_SOURCE, Change, Status, rules
from bot.plans.rows import PlanRow, fitted
from bot.plans.table import RawRow
from bot.services import history
from storage.models import Action, Person, Supporter

#: Optional text fields a row may change; an empty cell leaves the register's value alone.
_TEXT_CHANGES = (Change.WORKSTREAM, Change.PRIORITY, Change.SUCCESS_MEASURE)

#: Columns of the exported register that are not read back: an exported register imported
#: again must not gain them as "Header: text" lines in its notes.
REGISTER_ONLY = frozenset(
    {
        "id",
        "owner_email",
        "owner_text",
        "supporting_emails",
        "cadence",
        "days_late",
        "blocked_reason",
        "created_at",
        "updated_at",
        "done_at",
        "baseline_due",
        "rebaselines",
        "slippage_working_days",
    }
)


@dataclass(frozen=True)
class Assignment:
    """Who a row's action belongs to, as resolved from its owner cells.

    `owner` is None when nobody the bot knows answers to the cell: the action is unassigned
    and keeps `owner_text`, the cell as the plan wrote it.
    """

    owner: Person | None
    owner_text: str | None = None
    supporters: tuple[Person, ...] = ()


@dataclass(frozen=True)
class PlannedRow:
    """One checked row with what the layout and the owner resolution said about it."""

    row: PlanRow
    assignment: Assignment
    raw: RawRow | None = None

    @property
    def workstream(self) -> str | None:
        """The row's own workstream, else the one its banner row or sheet gave it."""
        if self.row.workstream is not None:
            return self.row.workstream
        inherited = self.raw.inherited.get("workstream") if self.raw is not None else None
        return fitted(inherited, "workstream") if inherited is not None else None

    @property
    def notes(self) -> str | None:
        """The notes cell, then the milestones and the unknown columns' text, one a line."""
        parts = [self.row.notes] if self.row.notes else []
        if self.row.milestones:
            parts.append("Milestones: " + ", ".join(day_text(day) for day in self.row.milestones))
        if self.raw is not None:
            parts += [
                f"{header}: {text}"
                for header, text in self.raw.extra.items()
                if text and text.strip() and header.strip().lower() not in REGISTER_ONLY
            ]
        return "\n".join(parts) or None

    @property
    def label(self) -> str:
        """Where the row is, for the history note: `'Improvement Plan' row 14` or `row 14`."""
        sheet = self.raw.sheet if self.raw is not None else None
        return f"'{sheet}' row {self.row.row}" if sheet else f"row {self.row.row}"


@dataclass
class ImportReport:
    """What an import did: actions created, updated, and matched but left as they were."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    #: Refs (or titles) of the actions created and updated, in file order.
    created_refs: list[str] = field(default_factory=list, compare=False)
    updated_refs: list[str] = field(default_factory=list, compare=False)

    def summary(self) -> str:
        """`3 created, 1 updated, 8 unchanged`."""
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


def day_text(day: dt.date) -> str:
    """`31 Dec 2026`: how a date is written back into notes."""
    return f"{day.day} {day:%b %Y}"


def apply_rows(
    session: Session,
    rows: Sequence[PlannedRow],
    *,
    board_id: int,
    now: dt.datetime,
    source_name: str,
    create: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Create or update the action of each row on the board `board_id` (a row matches an
    action of that board only: references are unique per board).

    With `create` False (a dry run) rows without an action are only counted, so nothing is
    inserted; the caller rolls the transaction back. `progress` is told (rows done, of how
    many) after each row.
    """
    by_ref, by_title = _existing(session, board_id)
    report = ImportReport()
    for done, planned in enumerate(rows, start=1):
        row = planned.row
        trail = _Trail(session, now=now, note=f"import of {source_name} {planned.label}")
        if row.ref is not None:
            action = by_ref.get(row.ref) or by_ref.get(row.ref.lower())
        else:
            action = by_title.get(row.title.lower())
        name = row.ref or row.title
        if action is None:
            if create:
                _create(session, planned, board_id=board_id, now=now, trail=trail)
            report.created += 1
            report.created_refs.append(name)
        elif _update(session, action, planned, now=now, trail=trail):
            report.updated += 1
            report.updated_refs.append(name)
        else:
            report.unchanged += 1
        if progress is not None:
            progress(done, len(rows))
    session.flush()
    return report


@dataclass(frozen=True)
class _Trail:
    """Writes the history entries of one row: made by the import, naming the file and row."""

    session: Session
    now: dt.datetime
    note: str

    def record(self, action: Action, change: Change, old: object, new: object) -> None:
        history.record(
            self.session,
            action=action,
            actor=None,
            source=IMPORT_SOURCE,
            at=self.now,
            change=change,
            old=old,
            new=new,
            note=self.note,
        )


def _existing(session: Session, board_id: int) -> tuple[dict[str, Action], dict[str, Action]]:
    # A plan is a few hundred actions: one query beats one per row.
    by_ref: dict[str, Action] = {}
    by_title: dict[str, Action] = {}
    query = (
        select(Action)
        .where(Action.board_id == board_id)
        .options(selectinload(Action.supporters))
        .order_by(Action.id)
    )
    for action in session.scalars(query):
        if action.ref is not None:
            by_ref.setdefault(action.ref, action)
            by_ref.setdefault(action.ref.lower(), action)
        else:
            # Two ref-less actions with one title (both added in chat): the older one matches.
            by_title.setdefault(action.title.lower(), action)
    return by_ref, by_title


def _names(people: Sequence[Person]) -> str | None:
    return ", ".join(person.display_name for person in people) or None


def _moved(
    state: rules.StatusState, row: PlanRow, *, now: dt.datetime, reason: str | None
) -> rules.StatusState:
    """The domain's status move, except that a plan's done row is never stamped with today.

    A plan marks an action complete long after the fact: the day it was done is the one the
    row gives, or unknown (None), never the day of the import.
    """
    to = row.status or state.status
    after = rules.moved(state, to, now=now, reason=reason)
    if to == Status.DONE and state.status != Status.DONE:
        after = rules.StatusState(
            after.status, _done_at(row, now), after.blocked_reason, after.delivered_at
        )
    return after


def _done_at(row: PlanRow, now: dt.datetime) -> dt.datetime | None:
    if row.done_on is None:
        return None
    # The end of that day in the import's timezone: a plan's date says "by then".
    return dt.datetime.combine(row.done_on, dt.time(23, 59, 59), tzinfo=now.tzinfo)


def _create(
    session: Session, planned: PlannedRow, *, board_id: int, now: dt.datetime, trail: _Trail
) -> None:
    row, who = planned.row, planned.assignment
    notes = planned.notes
    opened = rules.StatusState(Status.OPEN)
    state = _moved(opened, row, now=now, reason=row.blocked_reason or row.notes)
    action = Action(
        board_id=board_id,
        ref=row.ref,
        title=row.title,
        owner=who.owner,
        owner_text=who.owner_text if who.owner is None else None,
        due_date=row.due,
        cadence=row.cadence,
        status=state.status,
        rag=row.rag,
        workstream=planned.workstream,
        priority=row.priority,
        notes=notes,
        success_measure=row.success_measure,
        blocked_reason=state.blocked_reason,
        done_at=state.done_at,
        created_at=now,
        updated_at=now,
    )
    action.supporters = [
        Supporter(person=person, position=position)
        for position, person in enumerate(who.supporters)
    ]
    # No flush per row: history entries point at the action object, and one flush at the end
    # inserts a whole plan in batches.
    session.add(action)
    # The same entries as `/action add` ...
    trail.record(action, Change.CREATED, None, row.title)
    if who.owner is not None:
        trail.record(action, Change.ASSIGNED, None, who.owner.display_name)
    elif action.owner_text is not None:
        trail.record(action, Change.OWNER_TEXT, None, action.owner_text)
    if who.supporters:
        trail.record(action, Change.SUPPORTERS, None, _names(who.supporters))
    if row.due is not None:
        trail.record(action, Change.DUE, None, row.due)
    if row.cadence is not None:
        trail.record(action, Change.CADENCE, None, row.cadence)
    # ... plus a status entry when the plan starts past "open": escalation reads "blocked
    # since" from it, and the trail shows who closed what.
    if state.status != opened.status:
        trail.record(action, Change.STATUS, opened.status.value, state.status.value)
    if state.blocked_reason is not None:
        trail.record(action, Change.BLOCKED_REASON, None, state.blocked_reason)
    if row.rag is not None:
        trail.record(action, Change.RAG, None, row.rag.value)


def _update(
    session: Session, action: Action, planned: PlannedRow, *, now: dt.datetime, trail: _Trail
) -> bool:
    """Apply the row's changed fields to `action`; False (and no write) when nothing differs."""
    with session.no_autoflush:
        # One flush at the end: an autoflush halfway would bump the version twice.
        changes = _changes(session, action, planned, now=now)
    if not changes:
        return False
    action.updated_at = now
    for change, old, new in changes:
        trail.record(action, change, old, new)
    return True


def _changes(
    session: Session, action: Action, planned: PlannedRow, *, now: dt.datetime
) -> list[tuple[Change, object, object]]:
    """The row's changed fields, applied to `action`, as (change, old, new)."""
    row, who = planned.row, planned.assignment
    changes: list[tuple[Change, object, object]] = []
    if row.title != action.title:
        changes.append((Change.TITLE, action.title, row.title))
        action.title = row.title
    changes += _owner_changes(action, who)
    changes += _supporter_changes(session, action, who.supporters)
    if row.due is not None and row.due != action.due_date:
        changes.append((Change.DUE, action.due_date, row.due))
        action.due_date = row.due
    if row.cadence is not None and row.cadence != action.cadence:
        changes.append((Change.CADENCE, action.cadence, row.cadence))
        action.cadence = row.cadence
    reason: tuple[Change, object, object] | None = None
    if row.status is not None and row.status != action.status:
        before = rules.StatusState.of(action)
        after = _moved(before, row, now=now, reason=row.blocked_reason or row.notes)
        rules.put(action, after)
        changes.append((Change.STATUS, before.status.value, action.status.value))
        if action.blocked_reason is not None and action.blocked_reason != before.blocked_reason:
            reason = (Change.BLOCKED_REASON, before.blocked_reason, action.blocked_reason)
    if row.rag is not None and row.rag != action.rag:
        changes.append((Change.RAG, action.rag.value if action.rag else None, row.rag.value))
        action.rag = row.rag
    texts: dict[Change, str | None] = {
        Change.WORKSTREAM: planned.workstream,
        Change.PRIORITY: row.priority,
        Change.NOTES: planned.notes,
        Change.SUCCESS_MEASURE: row.success_measure,
    }
    for change, text in texts.items():
        held = getattr(action, change.value)
        if text is not None and text != held:
            changes.append((change, held, text))
            setattr(action, change.value, text)
    if reason is not None:
        changes.append(reason)
    return changes


def _owner_changes(action: Action, who: Assignment) -> list[tuple[Change, object, object]]:
    changes: list[tuple[Change, object, object]] = []
    if who.owner is not None:
        if who.owner.id != action.owner_id:
            previous = action.owner.display_name if action.owner else None
            changes.append((Change.ASSIGNED, previous, who.owner.display_name))
            action.owner = who.owner
        if action.owner_text is not None:
            changes.append((Change.OWNER_TEXT, action.owner_text, None))
            action.owner_text = None
    elif action.owner is None and who.owner_text and who.owner_text != action.owner_text:
        # Still nobody the bot knows: keep the plan's latest words. An owner a chair assigned
        # in chat stays: the plan's unresolved text cannot name anyone better.
        changes.append((Change.OWNER_TEXT, action.owner_text, who.owner_text))
        action.owner_text = who.owner_text
    return changes


def _supporter_changes(
    session: Session, action: Action, people: Sequence[Person]
) -> list[tuple[Change, object, object]]:
    current = [supporter.person for supporter in action.supporters]
    if [person.id for person in current] == [person.id for person in people]:
        return []
    # Keep the rows of people who stay (a delete and an insert of one key in one flush would
    # collide); renumber them, drop the others, add the new ones.
    kept = {supporter.person_id: supporter for supporter in action.supporters}
    wanted = []
    for position, person in enumerate(people):
        supporter = kept.pop(person.id, None) or Supporter(person=person)
        supporter.position = position
        wanted.append(supporter)
    action.supporters = wanted
    return [(Change.SUPPORTERS, _names(current), _names(people))]
