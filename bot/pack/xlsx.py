"""The board pack as a workbook (openpyxl): the register, the exceptions and the trend.

Written in openpyxl's write-only mode: rows stream out as they are made, which keeps a
register of a thousand actions quick and small in memory.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from bot.pack.collect import BRAG_ORDER, PackData
from bot.pack.style import NAMES, meeting_words, rag_name, status_words

REGISTER_HEADERS = (
    "Action",
    "Reference",
    "Workstream",
    "Title",
    "Owner",
    "Status",
    "Baseline due",
    "Current due",
    "Slippage (working days)",
    "Re-baselines",
    "BRAG declared",
    "BRAG computed",
    "Flag",
    "Latest update",
    "Latest update on",
    "Evidence",
)
EXCEPTION_HEADERS = ("Exception", "Action", "Reference", "Title", "Owner", "Why")
#: The register's date columns (0-based), shown as dates.
_DATES = (6, 7, 14)
_DATE_FORMAT = "d mmm yyyy"


def render_xlsx(data: PackData) -> bytes:
    """The pack as .xlsx bytes: sheets Register, Exceptions, Trend and Figures."""
    book = Workbook(write_only=True)
    register = _sheet(
        book,
        "Register",
        REGISTER_HEADERS,
        (8, 11, 20, 50, 22, 14, 13, 13, 12, 11, 12, 12, 30, 50, 14, 30),
    )
    for _name, actions in data.workstreams:
        for a in actions:
            values: list[Any] = [
                a.id,
                a.ref or "",
                a.workstream,
                a.title,
                a.owner or "Unassigned",
                status_words(a.status),
                a.baseline,
                a.due,
                a.slippage,
                a.rebaselines,
                rag_name(a.declared),
                rag_name(a.computed),
                a.rag_flag or "",
                a.latest or "",
                a.latest_on,
                "; ".join(a.evidence),
            ]
            for index in _DATES:
                if values[index] is not None:
                    cell = WriteOnlyCell(register, value=values[index])
                    cell.number_format = _DATE_FORMAT
                    values[index] = cell
            register.append(values)

    exceptions = _sheet(book, "Exceptions", EXCEPTION_HEADERS, (32, 8, 11, 50, 22, 40))
    for e in data.exceptions:
        a = e.action
        exceptions.append([e.kind, a.id, a.ref or "", a.title, a.owner or "Unassigned", e.detail])

    trend = _sheet(
        book, "Trend", ("Meeting", *(NAMES[r] for r in BRAG_ORDER), "Unrated"), (14, 8, 8, 8, 8, 9)
    )
    for c in data.trend:
        trend.append([c.label, *(c.counts[r] for r in BRAG_ORDER), c.unrated])

    figures = _sheet(book, "Figures", ("Figure", "Actions"), (30, 40))
    for label, value in data.figures:
        figures.append([label, value])
    figures.append([])
    figures.append([data.board, f"{data.meeting_title}: {meeting_words(data)}"])

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet(book: Workbook, title: str, headers: Iterable[str], widths: Iterable[int]) -> Any:
    sheet = book.create_sheet(title)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    row = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = bold
        row.append(cell)
    sheet.append(row)
    return sheet
