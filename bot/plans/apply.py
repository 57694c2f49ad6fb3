"""Checked plan rows into the register, in the caller's transaction.

Each row creates its action, or updates the fields that differ in the action it matches (by
ref, or by title when it has none), with one history entry per change and the status rules of
bot.domain. A row that changes nothing writes nothing, so importing the same file again
changes nothing at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain import IMPORT_SOURCE, Change, Status, rules
from bot.plans.rows import PlanRow
from bot.services import history
from storage.models import Action, Person

#: Optional text columns a row may change; an empty cell leaves the register's value alone.
_TEXT_CHANGES = (Change.WORKSTREAM, Change.PRIORITY, Change.NOTES)


@dataclass
class ImportReport:
    """What an import did: actions created, updated, and matched but left as they were."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def summary(self) -> str:
        """`3 created, 1 updated, 8 unchanged`."""
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


def apply_rows(
    session: Session,
    rows: Sequence[PlanRow],
    *,
    owners: Mapping[tuple[str, str], Person],
    now: dt.datetime,
    source_name: str,
) -> ImportReport:
    """Create or update the action of each row; `owners` has the person of each OwnerRef.key."""
    by_ref, by_title = _existing(session)
    report = ImportReport()
    for row in rows:
        trail = _Trail(session, now=now, note=f"import of {source_name} row {row.row}")
        owner = owners[row.owner.key]
        if row.ref is not None:
            action = by_ref.get(row.ref) or by_ref.get(row.ref.lower())
        else:
            action = by_title.get(row.title.lower())
        if action is None:
            _create(session, row, owner, now=now, trail=trail)
            report.created += 1
        elif _update(action, row, owner, now=now, trail=trail):
            report.updated += 1
        else:
            report.unchanged += 1
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


def _existing(session: Session) -> tuple[dict[str, Action], dict[str, Action]]:
    # A plan is a few hundred actions: one query beats one per row.
    by_ref: dict[str, Action] = {}
    by_title: dict[str, Action] = {}
    for action in session.scalars(select(Action).order_by(Action.id)):
        if action.ref is not None:
            by_ref.setdefault(action.ref, action)
            by_ref.setdefault(action.ref.lower(), action)
        else:
            # Two ref-less actions with one title (both added in chat): the older one matches.
            by_title.setdefault(action.title.lower(), action)
    return by_ref, by_title


def _create(
    session: Session, row: PlanRow, owner: Person, *, now: dt.datetime, trail: _Trail
) -> None:
    opened = rules.StatusState(Status.OPEN)
    state = rules.moved(opened, row.status or Status.OPEN, now=now, reason=row.notes)
    action = Action(
        ref=row.ref,
        title=row.title,
        owner=owner,
        due_date=row.due,
        status=state.status,
        rag=row.rag,
        workstream=row.workstream,
        priority=row.priority,
        notes=row.notes,
        blocked_reason=state.blocked_reason,
        done_at=state.done_at,
        created_at=now,
        updated_at=now,
    )
    session.add(action)
    session.flush()
    # The same entries as `/action add` ...
    trail.record(action, Change.CREATED, None, row.title)
    trail.record(action, Change.ASSIGNED, None, owner.display_name)
    trail.record(action, Change.DUE, None, row.due)
    # ... plus a status entry when the plan starts past "open": escalation reads "blocked
    # since" from it, and the trail shows who closed what.
    if state.status != opened.status:
        trail.record(action, Change.STATUS, opened.status.value, state.status.value)
    if state.blocked_reason is not None:
        trail.record(action, Change.BLOCKED_REASON, None, state.blocked_reason)
    if row.rag is not None:
        trail.record(action, Change.RAG, None, row.rag.value)


def _update(
    action: Action, row: PlanRow, owner: Person, *, now: dt.datetime, trail: _Trail
) -> bool:
    """Apply the row's changed fields to `action`; False (and no write) when nothing differs."""
    # An empty cell keeps what the register holds: a plan file that leaves out RAG or notes
    # must not wipe what owners and chairs recorded since.
    changes: list[tuple[Change, object, object]] = []  # (change, old, new)
    if row.title != action.title:
        changes.append((Change.TITLE, action.title, row.title))
        action.title = row.title
    if owner.id != action.owner_id:
        previous = action.owner.display_name if action.owner else None
        changes.append((Change.ASSIGNED, previous, owner.display_name))
        action.owner = owner
    if row.due != action.due_date:
        changes.append((Change.DUE, action.due_date, row.due))
        action.due_date = row.due
    reason: tuple[Change, object, object] | None = None
    if row.status is not None and row.status != action.status:
        before = rules.move(action, row.status, now=now, reason=row.notes)
        changes.append((Change.STATUS, before.status.value, action.status.value))
        if action.blocked_reason is not None and action.blocked_reason != before.blocked_reason:
            reason = (Change.BLOCKED_REASON, before.blocked_reason, action.blocked_reason)
    if row.rag is not None and row.rag != action.rag:
        changes.append((Change.RAG, action.rag.value if action.rag else None, row.rag.value))
        action.rag = row.rag
    for change in _TEXT_CHANGES:
        field = change.value
        new, old = getattr(row, field), getattr(action, field)
        if new is not None and new != old:
            changes.append((change, old, new))
            setattr(action, field, new)
    if reason is not None:
        changes.append(reason)
    if not changes:
        return False
    action.updated_at = now
    for change, old, new in changes:
        trail.record(action, change, old, new)
    return True
