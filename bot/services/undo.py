"""Undo of what a reply to a reminder recorded: within ten minutes, by whoever replied or a
chair, and only while nothing else has changed the action since.

The history stays append-only: an undo writes changes of its own (the status, blocked reason
or RAG back as they were, a withdrawn note as `Withdrawn: <note>`), with who and when, so the
trail shows both the reply and its undo.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.domain import Change, Rag, Status, rules
from bot.errors import CommandError
from bot.grammar.commands import UndoReply
from bot.render import replies
from bot.render.from_storage import action_view, history_view
from bot.render.text import history_line
from bot.services.permissions import Permission, require
from bot.services.request import Outcome, Request
from storage.models import Action, HistoryEntry

#: How long a reply can be taken back with its Undo button.
UNDO_WINDOW = dt.timedelta(minutes=10)
#: The changes a reply makes (bot.services.reminder_replies), the only ones undone here.
UNDOABLE = frozenset({Change.STATUS, Change.BLOCKED_REASON, Change.RAG, Change.NOTE})
#: The note of an entry that puts a field back as it was before the reply.
UNDONE = "undone"
WITHDRAWN = "Withdrawn: "


def undo_reply(request: Request, command: UndoReply) -> Outcome:
    """Put the action back as it was before the reply's entries `first`..`last`."""
    entries = _reply_entries(request, command)
    first = entries[0]
    action = request.action(first.action_id)
    who = first.actor.display_name if first.actor else "someone"
    require(
        request,
        Permission.UNDO,
        replied=first.actor_id == request.actor.id,
        replier=who,
        usage=f"/action show {action.id}",
    )
    if request.now - first.at > UNDO_WINDOW:
        when = first.at.astimezone(request.core.settings.tz)
        raise CommandError(
            f"Too late to undo: the reply was recorded at {when:%H:%M}, more than "
            f"{int(UNDO_WINDOW.total_seconds() // 60)} minutes ago. Nothing was changed; change "
            f"#{action.id} with a command instead.",
            f"/action reopen {action.id}  ·  /action update {action.id} <note>",
        )
    later = request.session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.action_id == action.id, HistoryEntry.id > command.last)
        .order_by(HistoryEntry.id)
        .limit(1)
    ).first()
    if later is not None:
        line = history_line(history_view(later), request.core.settings.tz)
        raise CommandError(
            f"#{action.id} has changed since that reply ({line}); nothing was undone.",
            f"/action show {action.id}",
        )
    for entry in reversed(entries):
        _revert(request, action, entry)
    action.updated_at = request.now
    view = action_view(action, today=request.today)
    return Outcome(
        replies.changed(f"Undone: {_what(entries)} on {replies.label(view)}.", view, tone="info")
    )


def _reply_entries(request: Request, command: UndoReply) -> list[HistoryEntry]:
    """The entries of one reply: one action's, one person's, all of them undoable, on the
    command's board (a reply on another board's action is refused as one never made)."""
    found = request.session.scalars(
        select(HistoryEntry)
        .join(Action, HistoryEntry.action_id == Action.id)
        .where(
            HistoryEntry.id >= command.first,
            HistoryEntry.id <= command.last,
            Action.board_id == request.board_id,
        )
        .order_by(HistoryEntry.id)
    ).all()
    head = found[0] if found and found[0].id == command.first else None
    entries = [e for e in found if head is not None and e.action_id == head.action_id]
    if (
        head is None
        or entries[-1].id != command.last
        or any(e.actor_id != head.actor_id for e in entries)
        or any(e.change not in UNDOABLE for e in entries)
    ):
        raise CommandError(
            f"{command.typed()} does not name a reply I recorded; nothing was changed.", None
        )
    return entries


def _revert(request: Request, action: Action, entry: HistoryEntry) -> None:
    change = Change(entry.change)
    if change == Change.NOTE:
        request.record(action, Change.NOTE, note=WITHDRAWN + (entry.note or ""))
        return
    if change == Change.STATUS and entry.old_value is not None:
        before = Status(entry.old_value)
        reason = _earlier_reason(request, action, entry) if before == Status.BLOCKED else None
        rules.move(action, before, now=request.now, reason=reason)
    elif change == Change.BLOCKED_REASON:
        action.blocked_reason = entry.old_value
    elif change == Change.RAG:
        action.rag = Rag(entry.old_value) if entry.old_value else None
    request.record(action, change, old=entry.new_value, new=entry.old_value, note=UNDONE)


def _earlier_reason(request: Request, action: Action, entry: HistoryEntry) -> str | None:
    """The blocked reason the action had before the reply moved it out of blocked."""
    earlier = request.session.scalars(
        select(HistoryEntry)
        .where(
            HistoryEntry.action_id == action.id,
            HistoryEntry.id < entry.id,
            HistoryEntry.change.in_([Change.STATUS.value, Change.BLOCKED_REASON.value]),
        )
        .order_by(HistoryEntry.id.desc())
    )
    for row in earlier:
        if row.change == Change.BLOCKED_REASON.value:
            return row.new_value
        if row.new_value == Status.BLOCKED.value:
            return row.note
    return None


def _what(entries: list[HistoryEntry]) -> str:
    """`done`, `the update “Draft sent”`, `RAG amber`: what the reply had recorded."""
    parts: list[str] = []
    for entry in entries:
        if entry.change == Change.NOTE:
            parts.append(f"the update “{entry.note}”")
        elif entry.change == Change.RAG:
            parts.append(f"RAG {entry.new_value or 'not rated'}")
        elif entry.change == Change.BLOCKED_REASON:
            parts.append(f"the blocked reason “{entry.new_value}”")
        elif entry.new_value == Status.DONE.value:
            parts.append("done")
        elif entry.new_value == Status.BLOCKED.value:
            parts.append("blocked")
    return " and ".join(parts) or "the reply"


