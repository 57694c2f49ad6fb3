"""What a plan file is read into: rows with their cells and addresses, each sheet's layout,
people rows, and the errors that name a cell. Shared by the reader, the layout and the rows."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

#: Columns every plan needs.
REQUIRED = ("title",)
#: The columns the importer understands (canonical names; bot.plans.layout maps the many ways
#: plans head them onto these). Any other column is listed in the preview and kept in notes.
#: A plan without an owner column loads its actions unassigned, one without a due column
#: loads them without a deadline.
OPTIONAL = (
    "owner",
    "due",
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


#: How much of a reader's own reason a refusal quotes.
REASON_LIMIT = 200
#: A Python bytes literal in an exception's text (b'PK\x03…'), quoting the file itself.
_BYTES_REPR = re.compile(r"b'(?:[^'\\]|\\.)*'" + r'|b"(?:[^"\\]|\\.)*"')


def not_a_workbook(exc: BaseException) -> PlanFileError:
    """The refusal of a file named .xlsx that is not a workbook, with the reader's reason cut
    short: a zip error quotes the file's own bytes, kilobytes of them."""
    reason = _BYTES_REPR.sub("…", str(exc)).strip().splitlines()
    words = reason[0] if reason else type(exc).__name__
    if len(words) > REASON_LIMIT:
        words = words[: REASON_LIMIT - 1] + "…"
    return PlanFileError(f"not a readable .xlsx workbook ({words})")


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
