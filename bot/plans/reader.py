"""Reading plan spreadsheets (.csv, .xlsx) into numbered rows of raw cell values.

The reader knows files, not actions: it finds the header, keeps the known columns and reports
each row with the number a spreadsheet program shows for it, so an error message such as
"row 5: …" points at the row the officer sees. Turning cells into values is bot.plans.rows's
job.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

#: Columns every plan needs.
REQUIRED = ("title", "owner", "due")
#: Columns a plan may have; any other column is ignored, so officers can keep their own.
OPTIONAL = ("ref", "workstream", "priority", "status", "rag", "notes")
COLUMNS = REQUIRED + OPTIONAL

#: Raw cell values: text from a CSV; text, numbers, dates and datetimes from a workbook.
Cell = object


@dataclass(frozen=True)
class RowError:
    """One problem, at a spreadsheet row number (the header is row 1 when it is the top row)."""

    row: int
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.message}"


class PlanImportError(Exception):
    """Nothing of the file was loaded; `errors` lists every problem found, one per line."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(error) for error in self.errors))


class PlanFileError(PlanImportError):
    """The file as a whole cannot be read: wrong type, no header, a required column missing."""

    def __init__(self, message: str) -> None:
        super().__init__([])
        self.message = message
        # Exception.__str__ shows args[0]; replace the empty row list with the reason.
        self.args = (message,)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class RawRow:
    """One non-blank row below the header: its spreadsheet row number and its known cells.

    `cells` has every known column present in the header (absent columns are not keys), with
    None for an empty cell.
    """

    number: int
    cells: dict[str, Cell]


def read_plan(path: Path) -> list[RawRow]:
    """The non-blank rows of the plan at `path` (.csv or .xlsx), below its header row.

    Raises PlanFileError when the file has the wrong type, cannot be decoded or parsed, is
    empty, or its header lacks a required column; OSError when it cannot be opened.
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table = _read_csv(path)
    elif suffix == ".xlsx":
        table = _read_xlsx(path)
    elif suffix in (".xls", ".xlsm", ".ods", ".numbers"):
        raise PlanFileError("save the plan as an Excel workbook (.xlsx) or as CSV (.csv) first")
    else:
        raise PlanFileError("a plan must be a .csv or .xlsx file")
    return rows_from_table(table)


def rows_from_table(table: Iterable[tuple[int, Sequence[Cell]]]) -> list[RawRow]:
    """Find the header (the first non-blank row) in numbered rows and key the rows below by it."""
    lines = ((number, cells) for number, cells in table if not all(_blank(c) for c in cells))
    first = next(lines, None)
    if first is None:
        raise PlanFileError("the file is empty")
    header = [_header(cell) for cell in first[1]]
    positions: dict[str, int] = {}
    for index, column in enumerate(header):
        if column in COLUMNS:
            if column in positions:
                raise PlanFileError(f"the column '{column}' appears twice in the header")
            positions[column] = index
    missing = [column for column in REQUIRED if column not in positions]
    if missing:
        names = ", ".join(f"'{column}'" for column in missing)
        found = ", ".join(f"'{column}'" for column in header if column) or "nothing"
        raise PlanFileError(
            f"the header row (row {first[0]}) has no {names} column "
            f"(it has {found}); a plan needs title, owner and due"
        )
    return [
        RawRow(
            number=number,
            cells={col: cells[i] if i < len(cells) else None for col, i in positions.items()},
        )
        for number, cells in lines
    ]


def _header(cell: Cell) -> str:
    return "" if _blank(cell) else " ".join(str(cell).split()).lower()


def _blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _read_csv(path: Path) -> list[tuple[int, Sequence[Cell]]]:
    text = _decode(path.read_bytes())
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        # Number records, not lines: a cell with a line break is still one spreadsheet row,
        # and csv yields [] for a blank line, so blank rows keep their place in the count.
        return [(number, row) for number, row in enumerate(reader, start=1)]
    except csv.Error as exc:
        raise PlanFileError(f"not a readable CSV file ({exc})") from None


def _decode(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode Text" export.
        return raw.decode("utf-16")
    try:
        # utf-8-sig also reads plain UTF-8: the BOM Excel's "CSV UTF-8" writes is optional.
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # Excel on Windows saves plain "CSV" in the ANSI code page (Windows-1252 in the UK),
        # so "Zoë" or "£" arrive as single bytes that are not UTF-8.
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        raise PlanFileError(
            "the file is neither UTF-8 nor Windows-1252 text; save it as 'CSV UTF-8'"
        ) from None


def _delimiter(text: str) -> str:
    # Excel in locales with a decimal comma (and its "Unicode Text" export) separates cells
    # with ';' or a tab: pick whichever the header line uses most, comma when in doubt.
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {sep: first.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > counts[","] else ","


def _read_xlsx(path: Path) -> list[tuple[int, Sequence[Cell]]]:
    from openpyxl import load_workbook

    try:
        # data_only: a formula cell gives the value Excel last calculated, not "=A1+7".
        book = load_workbook(path, read_only=True, data_only=True)
    except OSError:
        raise  # missing or unreadable: the caller reports it like any file it cannot open
    except Exception as exc:  # openpyxl raises zip, XML and key errors for a non-workbook
        raise PlanFileError(f"not a readable .xlsx workbook ({exc})") from None
    try:
        if not book.worksheets:
            raise PlanFileError("the workbook has no sheet")
        sheet = book.worksheets[0]
        # Read-only mode trusts the size the writing program recorded, which some tools get
        # wrong (openpyxl docs, "Read-only mode"); forget it and read every row there is.
        sheet.reset_dimensions()
        # iter_rows starts at row 1 and yields empty rows for gaps, so enumerate gives the
        # row numbers Excel shows.
        return [
            (number, list(row))
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        book.close()
