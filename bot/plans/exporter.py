"""The register and its history, as CSV or a workbook: the board pack and the evidence trail."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from typing import BinaryIO, Literal
from zoneinfo import ZoneInfo

from bot.services.context import Core
from storage import queries
from storage.models import Action, HistoryEntry, Person

REGISTER_COLUMNS = (
    "id",
    "ref",
    "title",
    "owner",
    "owner_email",
    "workstream",
    "priority",
    "status",
    "rag",
    "due",
    "days_late",
    "blocked_reason",
    "notes",
    "created_at",
    "updated_at",
    "done_at",
)
HISTORY_COLUMNS = (
    "at",
    "action_id",
    "ref",
    "title",
    "who",
    "who_email",
    "source",
    "change",
    "field",
    "old_value",
    "new_value",
    "note",
)

# Spreadsheet programs run a cell that starts with one of these as a formula; a plan title
# such as "=HYPERLINK(…)" must stay text (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_register(
    core: Core, *, fmt: Literal["csv", "xlsx"], history: bool, out: BinaryIO
) -> None:
    """Write the register (CSV: or, with `history`, the history table; xlsx: both sheets)."""
    tz, today = core.settings.tz, core.today()
    with core.sessions() as session:
        register = [register_row(a, today=today, tz=tz) for a in queries.all_actions(session)]
        changes = [history_row(h, tz=tz) for h in queries.all_history(session)] if history else []
    if fmt == "csv":
        columns, rows = (HISTORY_COLUMNS, changes) if history else (REGISTER_COLUMNS, register)
        _write_csv(out, columns, rows)
        return
    sheets: list[tuple[str, Sequence[str], list[list[object]]]] = [
        ("Register", REGISTER_COLUMNS, register)
    ]
    if history:
        sheets.append(("History", HISTORY_COLUMNS, changes))
    _write_xlsx(out, sheets)


def owner_address(person: Person | None) -> str:
    """How a plan file names an owner: their email, else their first platform id."""
    if person is None:
        return ""
    if person.email:
        return person.email
    return person.identities[0].external_id if person.identities else person.display_name


def register_row(action: Action, *, today: dt.date, tz: ZoneInfo) -> list[object]:
    """One action as a register row, in REGISTER_COLUMNS order."""
    late = 0
    if action.due_date and not action.status.is_closed:
        late = max(0, (today - action.due_date).days)
    return [
        action.id,
        action.ref,
        action.title,
        owner_address(action.owner),
        action.owner.email if action.owner else None,
        action.workstream,
        action.priority,
        action.status.label,
        action.rag.value if action.rag else None,
        action.due_date.isoformat() if action.due_date else None,
        late,
        action.blocked_reason,
        action.notes,
        _when(action.created_at, tz),
        _when(action.updated_at, tz),
        _when(action.done_at, tz),
    ]


def history_row(entry: HistoryEntry, *, tz: ZoneInfo) -> list[object]:
    """One change as a history row, in HISTORY_COLUMNS order."""
    return [
        _when(entry.at, tz),
        entry.action_id,
        entry.action.ref,
        entry.action.title,
        entry.actor.display_name if entry.actor else entry.source,
        entry.actor.email if entry.actor else None,
        entry.source,
        entry.change,
        entry.field,
        entry.old_value,
        entry.new_value,
        entry.note,
    ]


def _when(value: dt.datetime | None, tz: ZoneInfo) -> str | None:
    return value.astimezone(tz).isoformat(timespec="seconds") if value else None


def _safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _write_csv(out: BinaryIO, columns: Sequence[str], rows: list[list[object]]) -> None:
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(columns)
    writer.writerows([["" if v is None else _safe(v) for v in row] for row in rows])
    # A BOM lets Excel open the file as UTF-8, so names like "Zoë" survive.
    out.write(("\ufeff" + text.getvalue()).encode("utf-8"))


def _write_xlsx(out: BinaryIO, sheets: list[tuple[str, Sequence[str], list[list[object]]]]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    for title, columns, rows in sheets:
        sheet = book.create_sheet(title)
        sheet.append(list(columns))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_safe(v) for v in row])
        sheet.freeze_panes = "A2"
        for index, column in enumerate(columns, 1):
            longest = max([len(column), *(len(str(r[index - 1] or "")) for r in rows[:500])])
            sheet.column_dimensions[get_column_letter(index)].width = min(60, longest + 2)
    buffer = io.BytesIO()
    book.save(buffer)
    out.write(buffer.getvalue())
