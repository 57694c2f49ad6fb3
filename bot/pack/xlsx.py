"""The board pack as a workbook (openpyxl): the register, the exceptions and the trend."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from bot.pack.charts import NAMES
from bot.pack.collect import BRAG_ORDER, PackData
from bot.pack.words import meeting_words, rag_name, status_words

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


def render_xlsx(data: PackData) -> bytes:
    """The pack as .xlsx bytes: sheets Register, Exceptions, Trend and Figures."""
    book = Workbook()
    register = book.active
    register.title = "Register"
    _header(register, REGISTER_HEADERS)
    for _name, actions in data.workstreams:
        for a in actions:
            register.append(
                [
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
            )
    for column in (7, 8, 15):
        for cell in register[get_column_letter(column)][1:]:
            cell.number_format = "d mmm yyyy"
    _widths(register, (8, 11, 20, 50, 22, 14, 13, 13, 12, 11, 12, 12, 30, 50, 14, 30))

    exceptions = book.create_sheet("Exceptions")
    _header(exceptions, EXCEPTION_HEADERS)
    for e in data.exceptions:
        a = e.action
        exceptions.append([e.kind, a.id, a.ref or "", a.title, a.owner or "Unassigned", e.detail])
    _widths(exceptions, (32, 8, 11, 50, 22, 40))

    trend = book.create_sheet("Trend")
    _header(trend, ("Meeting", *(NAMES[r] for r in BRAG_ORDER), "Unrated"))
    for c in data.trend:
        trend.append([c.label, *(c.counts[r] for r in BRAG_ORDER), c.unrated])
    _widths(trend, (14, 8, 8, 8, 8, 9))

    figures = book.create_sheet("Figures")
    figures.append([data.board, f"{data.meeting_title}: {meeting_words(data)}"])
    _header(figures, ("Figure", "Actions"))
    for label, value in data.figures:
        figures.append([label, value])
    _widths(figures, (30, 40))

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _header(sheet: object, headers: tuple[str, ...]) -> None:
    sheet.append(list(headers))  # type: ignore[attr-defined]
    row = sheet.max_row  # type: ignore[attr-defined]
    for cell in sheet[row]:  # type: ignore[index]
        cell.font = Font(bold=True)
    sheet.freeze_panes = f"A{row + 1}"  # type: ignore[attr-defined]


def _widths(sheet: object, widths: tuple[int, ...]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width  # type: ignore[attr-defined]
