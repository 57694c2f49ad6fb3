"""An action's latest update, as reminders, nudges and `/action show` put it first: the last
note written in chat, or the notes the plan carried when that is newer."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain import Change
from bot.render.from_storage import mentioned
from bot.render.model import LatestNote
from storage.models import HistoryEntry

#: The changes that carry an update: a note, or the plan's notes column as imported.
_UPDATES = (Change.NOTE.value, Change.NOTES.value)


def latest_note(session: Session, action_id: int, *, tz: ZoneInfo) -> LatestNote | None:
    """The latest update of one action, dated in the board's time zone; None when none."""
    entry = session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.action_id == action_id, HistoryEntry.change.in_(_UPDATES))
        .order_by(HistoryEntry.at.desc(), HistoryEntry.id.desc())
        .limit(1)
    ).first()
    if entry is None:
        return None
    text = entry.note if entry.change == Change.NOTE else entry.new_value
    if not text or not text.strip():
        return None
    return LatestNote(
        text=text.strip(),
        on=entry.at.astimezone(tz).date(),
        by=entry.actor.display_name if entry.actor else None,
        mentions=mentioned(entry, (text,)),
    )
