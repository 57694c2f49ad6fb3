"""The evidence trail: every change to an action becomes one history entry."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from bot.domain.changes import Change
from storage.models import Action, HistoryEntry, Person


def record(
    session: Session,
    *,
    action: Action,
    actor: Person | None,
    source: str,
    at: dt.datetime,
    change: Change,
    old: object = None,
    new: object = None,
    note: str | None = None,
) -> HistoryEntry:
    """Append one entry in the caller's transaction, so the change and its record land together."""
    entry = HistoryEntry(
        action=action,
        actor=actor,
        source=source,
        at=at,
        change=change.value,
        field=change.field,
        old_value=_text(old),
        new_value=_text(new),
        note=note,
    )
    session.add(entry)
    return entry


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
