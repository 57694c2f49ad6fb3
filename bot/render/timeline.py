"""An action's history as a timeline people read: `28 Nov · imported from the plan, row 4
(owner Amira Khan, due Fri 4 Dec)`, `1 Dec 09:14 · Amira Khan marked it done`, newest first.

The entries of one row of one import are folded into one line: an inspector wants to know the
plan said so, not the seven fields it set one by one. Stored text (notes, values) keeps its
mention tokens; renderers draw them with the entry's people.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bot.domain import IMPORT_SOURCE, Change, Status
from bot.grammar.dates import format_date
from bot.render.model import HistoryView, PersonView

#: The note every import entry carries: `import of plan.xlsx 'Actions' row 4`.
_IMPORT_NOTE = re.compile(r"^import of .+? ((?:'[^']*' )?row \d+)$")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class TimelineLine:
    """One line of the timeline; `more` holds a note's further lines, to indent under it."""

    text: str
    more: list[str] = field(default_factory=list)
    mentions: list[PersonView] = field(default_factory=list)


def timeline(
    history: Sequence[HistoryView], *, tz: ZoneInfo | None = None, today: dt.date | None = None
) -> list[TimelineLine]:
    """Entries (newest first) as lines, newest first, an import's row folded into one."""
    lines: list[TimelineLine] = []
    index = 0
    while index < len(history):
        entry = history[index]
        where = _import_row(entry)
        if where is None:
            lines.append(_line(entry, tz, today))
            index += 1
            continue
        group = [entry]
        for later in history[index + 1 :]:
            if not _same_import(later, entry):
                break
            group.append(later)
        lines.append(_import_line(group, where, tz, today))
        index += len(group)
    return lines


def _import_row(entry: HistoryView) -> str | None:
    if entry.source != IMPORT_SOURCE or entry.note is None:
        return None
    match = _IMPORT_NOTE.match(entry.note)
    return match.group(1) if match else "a row"


def _same_import(entry: HistoryView, first: HistoryView) -> bool:
    return entry.source == IMPORT_SOURCE and entry.note == first.note and entry.at == first.at


def _when(at: dt.datetime, tz: ZoneInfo | None, today: dt.date | None, *, time: bool) -> str:
    local = at.astimezone(tz) if tz else at
    text = f"{local.day} {_MONTHS[local.month - 1]}"
    if today is None or local.year != today.year:
        text += f" {local.year}"
    return f"{text} {local:%H:%M}" if time else text


def _import_line(
    group: Sequence[HistoryView], where: str, tz: ZoneInfo | None, today: dt.date | None
) -> TimelineLine:
    # Oldest first inside the line, as the import wrote them.
    said = [part for entry in reversed(group) if (part := _import_part(entry, today))]
    what = f" ({', '.join(said)})" if said else ""
    mentions = [p for entry in group for p in entry.mentions]
    when = _when(group[0].at, tz, today, time=False)
    return TimelineLine(f"{when} · imported from the plan, {where}{what}", mentions=mentions)


def _import_part(entry: HistoryView, today: dt.date | None) -> str | None:
    if entry.change == Change.CREATED:
        return None
    if entry.change == Change.ASSIGNED:
        return f"owner {entry.new}" if entry.new else "no owner"
    if entry.change == Change.DUE:
        return f"due {_date(entry.new, today)}" if entry.new else "no deadline"
    if entry.change == Change.STATUS:
        return f"status {_status(entry.new)}"
    if entry.change == Change.RAG:
        return f"RAG {entry.new}" if entry.new else "RAG cleared"
    if entry.change == Change.NOTES:
        return "notes"
    if entry.change == Change.BLOCKED_REASON:
        return f"blocked: {entry.new}" if entry.new else None
    name = (entry.field or entry.change).replace("_", " ")
    return f"{name} {entry.new}" if entry.new else f"{name} cleared"


def _line(entry: HistoryView, tz: ZoneInfo | None, today: dt.date | None) -> TimelineLine:
    who = entry.actor or entry.source
    notes = [line.strip() for line in (entry.note or "").splitlines() if line.strip()]
    if entry.change == Change.NOTE:
        head = f"{who}: {notes[0]}" if notes else f"{who} added an update"
        notes = notes[1:]
    else:
        head = f"{who} {_did(entry, today)}"
        if notes:
            head += f" — {notes[0]}"
            notes = notes[1:]
    when = _when(entry.at, tz, today, time=True)
    return TimelineLine(f"{when} · {head}", more=notes, mentions=list(entry.mentions))


def _did(entry: HistoryView, today: dt.date | None) -> str:
    old, new = entry.old, entry.new
    if entry.change == Change.CREATED:
        return f"added it: “{new}”" if new else "added it"
    if entry.change == Change.NUDGED:
        return "nudged the owner"
    if entry.change == Change.ASSIGNED:
        if old and new:
            return f"reassigned it from {old} to {new}"
        return f"assigned it to {new}" if new else "took the owner off"
    if entry.change == Change.DUE:
        was = f" (was {_date(old, today)})" if old else ""
        return f"moved the deadline to {_date(new, today)}{was}" if new else "took the deadline off"
    if entry.change == Change.REBASELINED:
        was = _date(old, today)
        return f"moved the deadline to {_date(new, today)} (was {was}): a re-baseline"
    if entry.change == Change.DATE_REQUESTED:
        was = f" (due {_date(old, today)})" if old else ""
        return f"asked for a new date, {_date(new, today)}{was}"
    if entry.change == Change.DATE_DECLINED:
        return f"declined the new date {_date(new, today)}"
    if entry.change == Change.DATE_SUPERSEDED:
        return f"replaced the request for {_date(old, today)} with one for {_date(new, today)}"
    if entry.change == Change.STATUS:
        return _status_move(old, new)
    if entry.change == Change.RAG:
        was = f" (was {old})" if old else ""
        return f"set the RAG to {new}{was}"
    if entry.change == Change.BLOCKED_REASON:
        return f"said it is still blocked: {new}"
    name = (entry.field or entry.change).replace("_", " ")
    return f"changed the {name}: {old or '—'} → {new or '—'}"


def _status_move(old: str | None, new: str | None) -> str:
    if new == Status.DONE.value:
        return "marked it done"
    if new == Status.BLOCKED.value:
        return "marked it blocked"
    if new == Status.CANCELLED.value:
        return "cancelled it"
    if new == Status.IN_PROGRESS.value:
        return "started it"
    if new == Status.OPEN.value and old is not None and old != Status.OPEN.value:
        return "unblocked it" if old == Status.BLOCKED.value else "reopened it"
    return f"set the status to {_status(new)}"


def _status(value: str | None) -> str:
    try:
        return Status(value or "").label
    except ValueError:
        return value or "—"


def _date(value: str | None, today: dt.date | None) -> str:
    try:
        return format_date(dt.date.fromisoformat(value or ""), today=today)
    except ValueError:
        return value or "—"
