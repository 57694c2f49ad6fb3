"""An action's latest update, as reminders, nudges and `/action show` put it first: the last
note written in chat, or the notes the plan carried when that is newer."""

from __future__ import annotations

from collections.abc import Collection
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain import Change
from bot.render.from_storage import mentioned
from bot.render.model import LatestNote
from storage.models import HistoryEntry

#: The changes that carry an update: a note, or the plan's notes column as imported.
_UPDATES = (Change.NOTE.value, Change.NOTES.value)


def latest_note(session: Session, action_id: int, *, tz: ZoneInfo) -> LatestNote | None:
    """The latest update of one action, dated in the board's time zone; None when none."""
    return latest_notes(session, [action_id], tz=tz).get(action_id)


def latest_notes(
    session: Session, action_ids: Collection[int], *, tz: ZoneInfo
) -> dict[int, LatestNote]:
    """The latest update of each action that has one, in one query (a bundle's many items)."""
    if not action_ids:
        return {}
    ranked = (
        select(
            HistoryEntry.id,
            func.row_number()
            .over(
                partition_by=HistoryEntry.action_id,
                order_by=(HistoryEntry.at.desc(), HistoryEntry.id.desc()),
            )
            .label("rank"),
        )
        .where(HistoryEntry.action_id.in_(set(action_ids)), HistoryEntry.change.in_(_UPDATES))
        .subquery()
    )
    entries = session.scalars(
        select(HistoryEntry).join(ranked, HistoryEntry.id == ranked.c.id).where(ranked.c.rank == 1)
    )
    found = {}
    for entry in entries:
        note = _note(entry, tz)
        if note is not None:
            found[entry.action_id] = note
    return found


def _note(entry: HistoryEntry, tz: ZoneInfo) -> LatestNote | None:
    text = entry.note if entry.change == Change.NOTE else entry.new_value
    if not text or not text.strip():
        return None
    return LatestNote(
        text=text.strip(),
        on=entry.at.astimezone(tz).date(),
        by=entry.actor.display_name if entry.actor else None,
        mentions=mentioned(entry, (text,)),
    )
