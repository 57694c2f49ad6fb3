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
from dataclasses import dataclass, field
from pathlib import Path

#: Columns every plan needs.
REQUIRED = ("title", "owner", "due")
#: The columns the importer understands (canonical names; bot.plans.layout maps the many ways
#: plans head them onto these). Any other column is listed in the preview and kept in notes.
OPTIONAL = (
    "supporting",
    "ref",
    "workstream",
    "priority",
    "status",
    "rag",
    "notes",
    "success_measure",
)
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
    """One action row of a plan: where it is, its known cells, and what the layout told us.

    `cells` has every known column the sheet has (absent columns are not keys), None for an
    empty cell. `where` gives each cell's address for messages (`'Improvement Plan'!F14`, or
    `row 14` in a CSV file). `fills` holds the colour word ("red", "amber", "green", "blue") of
    a cell whose fill colour carries meaning (a RAG given only by colour). `month_only` names
    the columns whose date cell was shown with a month-only format (`mmm-yy`). `inherited` holds
    values the row takes from the layout around it (a banner row's or the sheet's workstream).
    `extra` holds the cells of columns the importer does not know, by their header text.
    """

    number: int
    cells: dict[str, Cell]
    sheet: str | None = None
    where: dict[str, str] = field(default_factory=dict)
    fills: dict[str, str] = field(default_factory=dict)
    month_only: frozenset[str] = frozenset()
    inherited: dict[str, str] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)

    def address(self, column: str) -> str:
        """Where a cell of this row is, for an error message."""
        return self.where.get(column) or (
            f"'{self.sheet}' row {self.number}" if self.sheet else f"row {self.number}"
        )


@dataclass(frozen=True)
class Skipped:
    """A row that is not an action (a banner, a key, a spacer, a footer) and why."""

    sheet: str | None
    row: int
    reason: str


@dataclass(frozen=True)
class SheetLayout:
    """What was found in one sheet (or the CSV file): for the preview and for messages."""

    name: str | None
    #: "plan", "people", "cover", "key" or "other" (a sheet with nothing the importer reads).
    kind: str
    #: The header's row numbers (two for a header split over two rows); empty when none.
    header_rows: tuple[int, ...] = ()
    #: Header text as written → the canonical column it was read as.
    mapping: dict[str, str] = field(default_factory=dict)
    #: Header text of columns kept only in notes (or ignored), in sheet order.
    unknown: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()


@dataclass(frozen=True)
class PersonRow:
    """One row of a people sheet ("Key individuals") or of a people file."""

    number: int
    name: str | None
    role: str | None = None
    organisation: str | None = None
    email: str | None = None
    aliases: tuple[str, ...] = ()
    sheet: str | None = None


@dataclass(frozen=True)
class PlanFile:
    """A plan file as read: its action rows, what each sheet held, and its people."""

    rows: list[RawRow]
    sheets: list[SheetLayout] = field(default_factory=list)
    people: list[PersonRow] = field(default_factory=list)


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
