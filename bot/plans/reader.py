"""Reading plan spreadsheets (.csv, .xlsx) into numbered rows of raw cells."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

REQUIRED = ("title", "owner", "due")
OPTIONAL = ("ref", "workstream", "priority", "status", "rag", "notes")
COLUMNS = REQUIRED + OPTIONAL


class PlanFileError(ValueError):
    """The file as a whole cannot be read (wrong type, no header, a required column missing)."""


@dataclass(frozen=True)
class RawRow:
    """One row of the plan: its spreadsheet row number (the header is row 1) and its cells."""

    number: int
    cells: dict[str, object]


def read_plan(path: Path) -> tuple[list[str], list[RawRow]]:
    """The known columns present in the file, and its non-blank rows."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table = _read_csv(path)
    elif suffix == ".xlsx":
        table = _read_xlsx(path)
    else:
        raise PlanFileError(f"{path.name}: plans are read from .csv or .xlsx files")
    return _rows(table, path.name)


def _read_csv(path: Path) -> list[tuple[int, list[object]]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Windows saves "CSV" in the ANSI code page unless told otherwise.
        text = raw.decode("cp1252")
    reader = csv.reader(io.StringIO(text, newline=""))
    return [(reader.line_num, list(row)) for row in reader]


def _read_xlsx(path: Path) -> list[tuple[int, list[object]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not a workbook
        raise PlanFileError(f"{path.name}: not a readable .xlsx workbook ({exc})") from exc
    try:
        sheet = book.worksheets[0]
        return [(n, list(row)) for n, row in enumerate(sheet.iter_rows(values_only=True), 1)]
    finally:
        book.close()


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _rows(table: list[tuple[int, list[object]]], name: str) -> tuple[list[str], list[RawRow]]:
    lines = [(n, cells) for n, cells in table if not all(_blank(c) for c in cells)]
    if not lines:
        raise PlanFileError(f"{name}: the file is empty")
    _, header_cells = lines[0]
    header = [str(c).strip().lower() if not _blank(c) else "" for c in header_cells]
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise PlanFileError(f"{name}: missing column(s) {', '.join(missing)} in the header row")
    positions = {column: header.index(column) for column in COLUMNS if column in header}
    rows = []
    for number, cells in lines[1:]:
        values = {col: cells[i] if i < len(cells) else None for col, i in positions.items()}
        rows.append(RawRow(number=number, cells=values))
    return list(positions), rows
