"""Finding the plan in a sheet laid out for people: header, columns, banners, merged cells.

Pure: it works on a `Grid` (cell values with their fill colour word, month-only date format,
bold and italic, and the sheet's merged ranges) that bot.plans.reader builds from a CSV file or
a workbook sheet, so both kinds of file go through the same rules. Row and column numbers are
1-based, as a spreadsheet program shows them.
"""

from __future__ import annotations

import colorsys
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.plans.table import Cell, PersonRow, PlanFile, PlanFileError, RawRow, SheetLayout, Skipped

#: Rows searched for a header, from the top of each sheet.
HEADER_SEARCH_ROWS = 30

# Pseudo-columns that become a real column once the whole header is known.
_AGENCY = "agency"  # "Lead agency": the owner, unless a named officer is given too
_PRIORITY = "priority?"  # "Priority": a workstream ("Priority 1: …") or a level ("High")

_PLAN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "title": (
        "title", "action", "actions", "action required", "actions required",
        "action to be taken", "actions to be taken", "what", "what we will do",
        "what will we do", "what are we going to do", "specific action", "specific actions",
        "task", "tasks", "key action", "key actions", "action description", "action title",
        "improvement action", "improvement actions", "activity", "activities", "description",
        "action plan", "actions agreed", "agreed action", "agreed actions",
    ),
    "owner": (
        "owner", "owners", "lead", "leads", "lead officer", "lead officers",
        "responsible officer", "accountable officer", "who", "who is responsible",
        "responsible", "accountable", "action owner", "lead person", "named lead",
        "responsible lead", "accountable lead", "lead responsible officer", "responsibility",
        "lead owner", "lead name", "officer",
    ),
    "supporting": (
        "supporting", "supported by", "other leads", "supporting officer",
        "supporting officers", "supporting lead", "supporting leads", "support",
        "supporting owner", "supporting owners", "contributors", "other owners",
    ),
    "due": (
        "due", "due date", "date due", "due by", "target date", "target", "by when", "when",
        "timescale", "timescales", "deadline", "completion date", "target completion date",
        "target completion", "expected completion date", "end date", "timeframe",
        "time frame", "by", "target timescale", "date for completion",
    ),
    "status": ("status", "progress", "current status", "action status", "progress status"),
    "rag": (
        "rag", "brag", "rag rating", "brag rating", "rag status", "brag status",
        "progress indicator rag", "progress indicator brag", "rating", "rag rated",
    ),
    "notes": (
        "notes", "note", "progress update", "progress updates", "update", "updates",
        "comments", "comment", "evidence", "commentary", "progress notes", "latest update",
        "progress to date", "evidence of progress", "progress commentary", "narrative",
        "update on progress", "evidence of impact",
    ),
    "workstream": (
        "workstream", "work stream", "workstreams", "priority area", "priority areas",
        "recommendation", "recommendations", "area for improvement", "areas for improvement",
        "area of weakness", "areas of weakness", "theme", "themes", "objective",
        "objectives", "strategic priority", "improvement area", "area", "section",
        "ofsted recommendation", "key line of enquiry",
    ),
    "success_measure": (
        "success measure", "success measures", "impact measure", "impact measures", "outcome",
        "outcomes", "measure", "measures", "measure of success", "measures of success",
        "success criteria", "how will we know", "what success looks like", "expected outcome",
        "expected outcomes", "impact", "kpi", "kpis", "intended impact", "intended outcome",
    ),
    "ref": (
        "ref", "reference", "no", "number", "action ref", "action no", "action number",
        "id", "#", "ref no", "action id", "item", "item no", "action reference",
    ),
    "priority": ("priority level", "importance", "priority rating", "urgency"),
    _AGENCY: ("lead agency", "agency", "lead organisation", "lead organization", "lead service"),
    _PRIORITY: ("priority", "priorities"),
}  # fmt: skip

#: Columns of the bot's own register export that it works out itself rather than reads.
_REGISTER_ONLY = frozenset(
    ("id", "owner_email", "days_late", "blocked_reason", "created_at", "updated_at", "done_at",
     "cadence", "owner_text", "baseline_due", "rebaselines", "slippage_working_days")
)  # fmt: skip

_PEOPLE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("name", "full name", "person", "contact", "contact name", "staff name", "names"),
    "role": (
        "role", "job title", "title", "position", "post", "job role", "designation",
        "role title", "roles",
    ),
    "organisation": (
        "organisation", "organization", "agency", "org", "service", "department", "team",
        "employer", "partner", "directorate",
    ),
    "email": ("email", "e mail", "email address", "e mail address", "contact email"),
    "aliases": (
        "aliases", "alias", "also known as", "known as", "other names", "initials", "aka",
    ),
}  # fmt: skip


def _index(synonyms: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {phrase: column for column, phrases in synonyms.items() for phrase in phrases}


_PLAN_KEYS = _index(_PLAN_SYNONYMS)
_PEOPLE_KEYS = _index(_PEOPLE_SYNONYMS)

# Words that mark a row as something other than an action. Anchored at the start of the
# row's first text, and only for rows with few cells, so an action titled "Update the
# threshold document" stays an action.
_KEY_ITEM = re.compile(
    r"^(?:[brag]|blue|red|amber|green|yellow|grey|gray|purple|black|white|complete[d]?)"
    r"\s*[=:\-–—]\s*\S",
    re.IGNORECASE,
)
_KEY_HEADING = re.compile(r"^(?:b?rag\s*(?:rating\s*)?)?(?:key|legend)\b", re.IGNORECASE)
_COLOUR_WORD = re.compile(r"^(?:blue|red|amber|green)$", re.IGNORECASE)
_FOOTER = re.compile(
    r"^(?:last\s+updated|updated\s*(?:on|by)?\s*[:\-–]|date\s+(?:last\s+)?updated|"
    r"version\s*[\d.:]|v\d+(?:\.\d+)*\b|signed\s*(?:by|off|:)|signature|sign[- ]off\s*:|"
    r"approved\s+(?:by|on)|date\s+approved|prepared\s+by|author\s*:|document\s+owner|"
    r"review\s+date|next\s+review|page\s+\d|produced\s+by|owner\s*:|notes?\s*:|n\.?b\.?\s|"
    r"source\s*:|end\s+of\s+(?:plan|document)|©|copyright|\*)",
    re.IGNORECASE,
)
_BANNER = re.compile(
    r"^(?:priority|theme|workstream|work\s+stream|area|section|part|recommendation|objective|"
    r"outcome|strand|domain|key\s+line\s+of\s+enquiry|improvement\s+area|area\s+for)\b"
    r"[^:.\-–—]{0,25}[:.\-–—]",
    re.IGNORECASE,
)
_LEVELS = frozenset(
    ("high", "medium", "med", "low", "h", "m", "l", "critical", "urgent", "1", "2", "3", "4",
     "p1", "p2", "p3", "p4", "high priority", "medium priority", "low priority")
)  # fmt: skip
_EXPLAINING = re.compile(r"^\(.*\)$|^e\.?g\.?\b|^i\.?e\.?\b", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class GridCell:
    """One cell: its value and the formatting that carries meaning in plans."""

    value: Cell = None
    #: "red", "amber", "green" or "blue" when the cell is filled with such a colour.
    fill: str | None = None
    #: A date shown with a format that has no day (`mmm-yy`).
    month_only: bool = False
    bold: bool = False
    italic: bool = False


EMPTY = GridCell()


@dataclass(frozen=True)
class Merge:
    """A merged range, as its corners (1-based, inclusive)."""

    top: int
    left: int
    bottom: int
    right: int


@dataclass(frozen=True)
class Grid:
    """A sheet (name None for a CSV file): rows of cells from row 1, and its merged ranges."""

    name: str | None
    rows: Sequence[Sequence[GridCell]]
    merges: Sequence[Merge] = ()


# --- cells -----------------------------------------------------------------------------------


def header_key(text: str) -> str:
    """Header text folded for matching: case, spacing and punctuation ignored."""
    folded = text.lower().replace("&", " and ")
    return " ".join(re.sub(r"[^\w#]+|_", " ", folded).split())


def colour_word(red: int, green: int, blue: int) -> str | None:
    """The RAG colour an RGB fill shows, or None for white, grey, black and other hues."""
    hue, saturation, value = colorsys.rgb_to_hsv(red / 255, green / 255, blue / 255)
    if saturation < 0.15 or value < 0.25:
        return None
    degrees = hue * 360
    if degrees < 18 or degrees >= 340:
        return "red"
    if degrees < 65:  # orange, gold and yellow all stand for amber in plans
        return "amber"
    if degrees < 170:
        return "green"
    if degrees < 270:
        return "blue"
    return None


def month_only_format(number_format: str) -> bool:
    """Whether an Excel number format shows a date without its day (`mmm-yy`, `mmmm yyyy`)."""
    # Quoted literals, [$-809] locale tags, [Red] colours and \x escapes are not date parts.
    plain = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", number_format.split(";")[0]).lower()
    return "y" in plain and "m" in plain and "d" not in plain and "h" not in plain


def column_letter(column: int) -> str:
    """`1` → `A`, `27` → `AA`."""
    letters = ""
    while column > 0:
        column, remainder = divmod(column - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def quote_sheet(name: str) -> str:
    """A sheet name as Excel writes it in a reference: quoted unless it is a plain word."""
    plain = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name)
    if plain and not re.fullmatch(r"[A-Za-z]{1,3}\d+|[Rr]\d*[Cc]\d*", name):
        return name
    return "'" + name.replace("'", "''") + "'"


def cell_address(sheet: str | None, row: int, column: int) -> str:
    """`'Improvement Plan'!F14` in a workbook, `row 14` in a CSV file."""
    if sheet is None:
        return f"row {row}"
    return f"{quote_sheet(sheet)}!{column_letter(column)}{row}"


def _blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Cell) -> str:
    """A cell as text (line breaks kept), "" when empty."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _line(value: Cell) -> str:
    """A cell as one line of text, for matching and messages."""
    return " ".join(_text(value).split())


def _quote(text: str) -> str:
    return "'" + (text if len(text) <= 40 else text[:39] + "…") + "'"


def _lookup(text: str, keys: dict[str, str]) -> str | None:
    key = header_key(text)
    if not key:
        return None
    if key in keys:
        return keys[key]
    # "Progress indicator (RAG)", "Action (what we will do)", "Lead(s)": the words inside
    # the brackets, then the words outside them.
    inside = " ".join(re.findall(r"\(([^)]*)\)", text))
    if header_key(inside) in ("rag", "brag") and keys is _PLAN_KEYS:
        return "rag"
    outside = header_key(re.sub(r"\([^)]*\)", " ", text))
    return keys.get(outside)


# --- merged ranges ---------------------------------------------------------------------------


class _Sheet:
    """A grid with its merged ranges indexed once, so each cell's origin is one dict look-up."""

    def __init__(self, grid: Grid) -> None:
        self.name = grid.name
        self.rows = grid.rows
        self.height = len(grid.rows)
        self.width = max((len(row) for row in grid.rows), default=0)
        # Covered cell → the top-left cell holding the range's value; top-left → its width.
        self.origin: dict[tuple[int, int], tuple[int, int]] = {}
        self.span: dict[tuple[int, int], int] = {}
        budget = self.height * self.width + 1_000_000
        for merge in grid.merges:
            bottom = min(merge.bottom, self.height)
            right = min(merge.right, self.width)
            if merge.top > bottom or merge.left > right or merge.top < 1 or merge.left < 1:
                continue
            budget -= (bottom - merge.top + 1) * (right - merge.left + 1)
            if budget < 0:
                raise PlanFileError(
                    f"{self.label} has more merged cells than a plan could hold; "
                    "unmerge the cells and save it again"
                )
            top_left = (merge.top, merge.left)
            self.span[top_left] = max(self.span.get(top_left, 1), right - merge.left + 1)
            for row in range(merge.top, bottom + 1):
                for column in range(merge.left, right + 1):
                    if (row, column) != top_left:
                        self.origin.setdefault((row, column), top_left)

    @property
    def empty(self) -> bool:
        return not any(self.own_values(row, self.width) for row in range(1, self.height + 1))

    @property
    def label(self) -> str:
        return "the file" if self.name is None else f"the sheet '{self.name}'"

    def own(self, row: int, column: int) -> GridCell:
        """The cell as stored (a covered part of a merged range is empty)."""
        if row > self.height:
            return EMPTY
        cells = self.rows[row - 1]
        return cells[column - 1] if column <= len(cells) else EMPTY

    def header_cell(self, row: int, column: int) -> GridCell:
        """A header cell: a merged range's text counts in every cell it covers."""
        top_left = self.origin.get((row, column))
        return self.own(*top_left) if top_left else self.own(row, column)

    def data_cell(self, row: int, column: int, first: int = 1) -> GridCell:
        """A data cell: a range merged down a column from row `first` on fills the rows under it.

        A header cell merged down into the first data row fills nothing.
        """
        top_left = self.origin.get((row, column))
        if top_left is not None and top_left[1] == column and top_left[0] >= first:
            return self.own(*top_left)
        return self.own(row, column)

    def filled_down(self, row: int, column: int, first: int) -> bool:
        top_left = self.origin.get((row, column))
        return top_left is not None and top_left[1] == column and top_left[0] >= first

    def origin_of(self, row: int, column: int) -> tuple[int, int]:
        return self.origin.get((row, column), (row, column))

    def own_values(self, row: int, last: int) -> list[tuple[int, GridCell]]:
        """The non-empty cells of a row up to column `last`, as stored."""
        if row > self.height:
            return []
        cells = self.rows[row - 1]
        return [
            (index, cell)
            for index, cell in enumerate(cells[:last], start=1)
            if not _blank(cell.value)
        ]

    def address(self, row: int, column: int) -> str:
        return cell_address(self.name, row, column)


# --- headers ---------------------------------------------------------------------------------


@dataclass
class _Header:
    rows: tuple[int, ...]
    #: (column, header text as written, what it reads as or None), for non-empty headers.
    columns: list[tuple[int, str, str | None]]

    @property
    def found(self) -> set[str]:
        return {kind for _, _, kind in self.columns if kind is not None}

    @property
    def score(self) -> int:
        found = self.found
        if _AGENCY in found:
            found = (found - {_AGENCY}) | {"owner"}
        return len(found)

    @property
    def last(self) -> int:
        return self.rows[-1]

    def plan_ok(self) -> bool:
        return "title" in self.found and self.score >= 2

    def people_ok(self) -> bool:
        found = self.found
        return "name" in found and ("role" in found or "email" in found)


def _single(sheet: _Sheet, row: int, keys: dict[str, str]) -> _Header:
    columns = []
    for column in range(1, sheet.width + 1):
        text = _line(sheet.header_cell(row, column).value)
        if text:
            columns.append((column, text, _lookup(text, keys)))
    return _Header((row,), columns)


def _pair(sheet: _Sheet, row: int, keys: dict[str, str]) -> _Header:
    columns = []
    for column in range(1, sheet.width + 1):
        top = _line(sheet.header_cell(row, column).value)
        bottom = _line(sheet.header_cell(row + 1, column).value)
        same = sheet.origin_of(row + 1, column) == sheet.origin_of(row, column)
        if not bottom or same:
            text, kind = top, _lookup(top, keys)
        elif not top:
            text, kind = bottom, _lookup(bottom, keys)
        else:
            # "Lead" over "Accountable": the pair ("target date"), else the lower part
            # ("accountable"), else the upper ("lead").
            text = f"{top} {bottom}"
            kind = _lookup(text, keys) or _lookup(bottom, keys) or _lookup(top, keys)
        if text:
            columns.append((column, text, kind))
    return _Header((row, row + 1), columns)


def _continues(sheet: _Sheet, upper: _Header, row: int) -> bool:
    """Whether `row` finishes the header above it ("date" under "Target") rather than data.

    Such a row has a few short words under headed columns, none under the column that names
    each row (the action, the person), which every data row fills.
    """
    primary = {column for column, _, kind in upper.columns if kind in ("title", "name")}
    above = {column for column, _, _ in upper.columns}
    own = [
        (column, cell)
        for column, cell in sheet.own_values(row, sheet.width)
        if sheet.origin_of(row, column) == (row, column)
    ]
    return (
        bool(own)
        and len(own) * 2 <= len(above)
        and all(
            isinstance(cell.value, str)
            and len(cell.value.strip()) <= 40
            and "@" not in cell.value
            and column not in primary
            and column in above
            for column, cell in own
        )
    )


def find_header(sheet: _Sheet, keys: dict[str, str]) -> _Header | None:
    """The row (or two rows) among the first rows that best match known column names."""
    last = min(sheet.height, HEADER_SEARCH_ROWS)
    singles = {row: _single(sheet, row, keys) for row in range(1, min(sheet.height, last + 1) + 1)}
    candidates = [header for row, header in singles.items() if row <= last and header.columns]
    for row in range(1, last + 1):
        if row + 1 not in singles or not singles[row].columns or not singles[row + 1].columns:
            continue
        pair = _pair(sheet, row, keys)
        upper, lower = singles[row].score, singles[row + 1].score
        if pair.score > max(upper, lower) or (
            pair.score == upper >= lower
            and upper > 0
            and _continues(sheet, singles[row], row + 1)
            and not _explains(sheet, row + 1, sheet.width)
        ):
            candidates.append(pair)
    candidates = [header for header in candidates if header.score > 0]
    if not candidates:
        return None
    # Most columns recognised; then the topmost; a header that continues below wins a tie.
    return min(candidates, key=lambda h: (-h.score, h.rows[0], -len(h.rows)))


def _explains(sheet: _Sheet, row: int, last: int) -> bool:
    """An explanatory row under the header: in italics, or "(what we will do)" text."""
    own = sheet.own_values(row, last)
    if not own:
        return False
    if all(cell.italic for _, cell in own):
        return True
    texts = [_line(cell.value) for _, cell in own if isinstance(cell.value, str)]
    explaining = sum(1 for text in texts if _EXPLAINING.match(text))
    return len(texts) == len(own) and explaining * 2 >= len(own)


# --- sheets ----------------------------------------------------------------------------------


@dataclass
class _Table:
    """A plan table: its header and which column holds which canonical column."""

    header: _Header
    columns: dict[str, int]
    #: Column → header text, for columns kept in `extra`.
    extra: dict[int, str]
    mapping: dict[str, str]
    unknown: tuple[str, ...]
    width: int
    start: int
    skipped: list[Skipped] = field(default_factory=list)


def _rank(text: str, kind: str) -> int:
    """How plainly a header names its column: "Notes" beats "Comments", "Ref" beats "ID"."""
    phrases = _PLAN_SYNONYMS.get(kind, ())
    key = header_key(text)
    return phrases.index(key) if key in phrases else len(phrases)


def _plan_table(sheet: _Sheet, header: _Header) -> _Table:
    columns: dict[str, int] = {}
    extra: dict[int, str] = {}
    ignored: set[int] = set()
    deferred: list[tuple[int, str, str]] = []
    named: dict[str, list[tuple[int, int, str]]] = {}
    row = header.rows[0]
    # The bot's own register (an export re-imported) has columns it works out itself.
    register = any(text == "ref" for _, text, _ in header.columns)
    for column, text, kind in header.columns:
        if text in _REGISTER_ONLY and (text != "id" or register):
            ignored.add(column)
        elif kind is None:
            extra[column] = text
        elif kind in (_AGENCY, _PRIORITY):
            deferred.append((column, text, kind))
        else:
            for _, other, first in named.get(kind, []):
                if header_key(text) == header_key(first) and kind in ("title", "owner", "due"):
                    raise PlanFileError(
                        f"the column '{kind}' appears twice in the header "
                        f"({sheet.address(row, other)} and {sheet.address(row, column)}, "
                        f"both {_quote(text)}); rename one of them"
                    )
            named.setdefault(kind, []).append((_rank(text, kind), column, text))
    for kind, candidates in named.items():
        _, column, _ = min(candidates)
        columns[kind] = column
        # "Update" beside "Notes": both kept, the second for the notes.
        extra.update((other, text) for _, other, text in candidates if other != column)
    for column, text, kind in deferred:
        if kind == _AGENCY:
            # "Lead agency" beside "Lead officer": the officer is the owner.
            target = "owner" if "owner" not in columns else None
        elif "workstream" in columns or _levels(sheet, column, header.last):
            target = "priority" if "priority" not in columns else None
        else:
            target = "workstream" if "workstream" not in columns else None
        if target is None:
            extra[column] = text
        else:
            columns[target] = column
    read_as = {column: kind for kind, column in columns.items()}
    mapping = {text: read_as[column] for column, text, _ in header.columns if column in read_as}
    # A header written twice ("Comments" beside "Comments") is told apart by its column.
    earlier: set[str] = set()
    for column, text, _ in header.columns:
        if column in extra and text in earlier:
            extra[column] = f"{text} ({column_letter(column)})"
        earlier.add(text)
    width = max(column for column, _, _ in header.columns)
    table = _Table(
        header=header,
        columns=columns,
        extra=extra,
        mapping=mapping,
        unknown=tuple(
            extra.get(column, text)
            for column, text, _ in header.columns
            if column in extra or column in ignored
        ),
        width=width,
        start=header.last + 1,
    )
    if _explains(sheet, table.start, width):
        table.skipped.append(Skipped(sheet.name, table.start, "explains the columns"))
        table.start += 1
    return table


def _levels(sheet: _Sheet, column: int, header_row: int) -> bool:
    """Whether a "Priority" column holds levels (High, M, 1) rather than workstreams."""
    values = []
    for row in range(header_row + 1, sheet.height + 1):
        text = header_key(_line(sheet.data_cell(row, column, header_row + 1).value))
        if text:
            values.append(text)
            if len(values) >= 200:
                break
    return bool(values) and sum(1 for v in values if v in _LEVELS) * 5 >= len(values) * 4


def _kind_of_row(
    sheet: _Sheet, row: int, table: _Table, header_texts: set[str]
) -> tuple[str, str] | None:
    """("skip", reason) or ("banner", text) for a row that is not an action; None for one."""
    own = sheet.own_values(row, table.width)
    if not own:
        return ("skip", "blank row")
    texts = [_line(cell.value) for _, cell in own]
    first = texts[0]
    if len(own) >= 2 and sum(1 for text in texts if header_key(text) in header_texts) >= 2:
        return ("skip", "the header again")
    if _KEY_HEADING.match(first) or all(_KEY_ITEM.match(text) for text in texts):
        return ("skip", f"a key to the colours ({_quote(first)})")
    if len(own) <= 2 and _COLOUR_WORD.match(first) and own[0][0] == min(table.columns.values()):
        return ("skip", f"a key to the colours ({_quote(first)})")
    if len(own) <= 3 and _FOOTER.match(first):
        return ("skip", f"a note below the plan ({_quote(first)})")
    if len(own) == 1:
        column, cell = own[0]
        if (
            isinstance(cell.value, str)
            and re.search(r"[^\W\d_]", cell.value)
            and not any(sheet.filled_down(row, c, table.start) for c in table.columns.values())
            and (
                sheet.span.get((row, column), 1) >= 2
                or cell.bold
                or _BANNER.match(first)
                or (first.isupper() and len(re.findall(r"[^\W\d_]", first)) >= 4)
                or column
                in {table.columns.get("workstream"), table.columns.get("ref"), _leftmost(table)}
                - {table.columns.get("title")}
            )
        ):
            return ("banner", first)
    return None


def _leftmost(table: _Table) -> int:
    return min(column for column, _, _ in table.header.columns)


def _plan_rows(
    sheet: _Sheet, table: _Table, sheet_workstream: str | None
) -> tuple[list[RawRow], list[Skipped]]:
    rows: list[RawRow] = []
    skipped = list(table.skipped)
    header_texts = {header_key(text) for _, text, _ in table.header.columns}
    banner: str | None = None
    workstream_column = table.columns.get("workstream")
    for row in range(table.start, sheet.height + 1):
        kind = _kind_of_row(sheet, row, table, header_texts)
        if kind is not None:
            what, text = kind
            if what == "banner":
                banner = text
                skipped.append(Skipped(sheet.name, row, f"a heading: {_quote(text)}"))
            else:
                skipped.append(Skipped(sheet.name, row, text))
            continue
        cells: dict[str, Cell] = {}
        where: dict[str, str] = {}
        fills: dict[str, str] = {}
        month_only: set[str] = set()
        for name, column in table.columns.items():
            cell = sheet.data_cell(row, column, table.start)
            cells[name] = None if _blank(cell.value) else cell.value
            where[name] = sheet.address(row, column)
            if cell.fill is not None and name in ("rag", "status"):
                fills[name] = cell.fill
            if cell.month_only and isinstance(cell.value, dt.date):
                month_only.add(name)
        inherited: dict[str, str] = {}
        if banner is not None:
            inherited["workstream"] = banner
        elif sheet_workstream is not None and (
            workstream_column is None or cells.get("workstream") is None
        ):
            inherited["workstream"] = sheet_workstream
        extra = {}
        for column, text in table.extra.items():
            value = _text(sheet.data_cell(row, column, table.start).value)
            if value:
                extra[text] = value
        rows.append(
            RawRow(
                number=row,
                cells=cells,
                sheet=sheet.name,
                where=where,
                fills=fills,
                month_only=frozenset(month_only),
                inherited=inherited,
                extra=extra,
            )
        )
    return rows, skipped


def _people_rows(sheet: _Sheet, header: _Header) -> tuple[list[PersonRow], list[Skipped]]:
    columns: dict[str, int] = {}
    for column, _, kind in header.columns:
        if kind is not None:
            columns.setdefault(kind, column)
    width = max(column for column, _, _ in header.columns)
    start = header.last + 1
    skipped: list[Skipped] = []
    if _explains(sheet, start, width):
        skipped.append(Skipped(sheet.name, start, "explains the columns"))
        start += 1
    people: list[PersonRow] = []
    organisation: str | None = None

    def text(row: int, name: str) -> str | None:
        column = columns.get(name)
        return (_line(sheet.data_cell(row, column, start).value) or None) if column else None

    for row in range(start, sheet.height + 1):
        own = sheet.own_values(row, width)
        if not own:
            skipped.append(Skipped(sheet.name, row, "blank row"))
            continue
        name, email = text(row, "name"), text(row, "email")
        if len(own) == 1 and (email is None or "@" not in email):
            # "Police" above the police officers: their organisation.
            organisation = _line(own[0][1].value)
            skipped.append(Skipped(sheet.name, row, f"a heading: {_quote(organisation)}"))
            continue
        if name is None and email is None:
            skipped.append(Skipped(sheet.name, row, "no name or email"))
            continue
        aliases = text(row, "aliases")
        people.append(
            PersonRow(
                number=row,
                name=name,
                role=text(row, "role"),
                organisation=text(row, "organisation") or organisation,
                email=email,
                aliases=tuple(
                    part.strip() for part in re.split(r"[,;/\n]", aliases or "") if part.strip()
                ),
                sheet=sheet.name,
            )
        )
    return people, skipped


def _plain_kind(sheet: _Sheet) -> str:
    """ "key", "cover" or "other" for a sheet without a plan or people table."""
    filled = [sheet.own_values(row, sheet.width) for row in range(1, sheet.height + 1)]
    filled = [cells for cells in filled if cells]
    if not filled:
        return "other"
    keyish = sum(
        1
        for cells in filled
        if _KEY_HEADING.match(_line(cells[0][1].value))
        or _KEY_ITEM.match(_line(cells[0][1].value))
        or _COLOUR_WORD.match(_line(cells[0][1].value))
    )
    if keyish >= 2 and keyish * 5 >= len(filled) * 2:
        return "key"
    if len(filled) <= 60 and sum(1 for cells in filled if len(cells) <= 2) * 5 >= len(filled) * 4:
        return "cover"
    return "other"


def _first_rows(sheet: _Sheet) -> str:
    """What the top of a sheet holds, for the message saying no plan was found."""
    shown = []
    for row in range(1, min(sheet.height, HEADER_SEARCH_ROWS) + 1):
        texts = [_quote(_line(cell.value)) for _, cell in sheet.own_values(row, sheet.width)]
        if texts:
            shown.append(f"row {row}: {', '.join(texts[:6])}" + (", …" if len(texts) > 6 else ""))
        if len(shown) == 3:
            break
    return "; ".join(shown) if shown else "nothing"


@dataclass
class _Read:
    sheet: _Sheet
    kind: str
    plan: _Header | None
    people: _Header | None


def _classify(sheet: _Sheet) -> _Read:
    plan = find_header(sheet, _PLAN_KEYS)
    people = find_header(sheet, _PEOPLE_KEYS)
    plan_score = plan.score if plan is not None and plan.plan_ok() else 0
    people_score = people.score if people is not None and people.people_ok() else 0
    if plan_score and plan_score >= people_score:
        return _Read(sheet, "plan", plan, people)
    if people_score:
        return _Read(sheet, "people", plan, people)
    return _Read(sheet, _plain_kind(sheet), plan, people)


def _no_plan(reads: Sequence[_Read]) -> PlanFileError:
    looked = (
        f"looked in the first {HEADER_SEARCH_ROWS} rows for a header row with a column of "
        "actions (Action, Title, Task, What we will do …) and at least one more known column "
        "(Lead officer, Target date, Status, RAG …)"
    )
    found = []
    for read in reads:
        where = "the file" if read.sheet.name is None else f"'{read.sheet.name}'"
        header = read.plan
        if header is not None and header.score >= 1:
            known = ", ".join(_quote(text) for _, text, kind in header.columns if kind)
            lacks = (
                "column of actions (head it 'Action')"
                if "title" not in header.found
                else "second known column (such as 'Lead officer' or 'Target date')"
            )
            row = (
                f"row {header.rows[0]}"
                if read.sheet.name is None
                else f"{where} row {header.rows[0]}"
            )
            found.append(
                f"{row} has {known} but no {lacks}; its first rows hold {_first_rows(read.sheet)}"
            )
        else:
            kind = "" if read.sheet.name is None else f" ({read.kind})"
            found.append(f"{where}{kind} holds {_first_rows(read.sheet)}")
    return PlanFileError(f"no plan table found: {looked}. " + ". ".join(found))


def read_grids(grids: Sequence[Grid], *, sheets: Sequence[str] = ()) -> PlanFile:
    """The plan in `grids` (a workbook's sheets, or one grid for a CSV file).

    `sheets` limits the plan rows to the named sheets (case-insensitive); people sheets are
    read whichever sheets are named, since they say who the owners are. Raises PlanFileError
    when a named sheet does not exist or no sheet read holds a plan table.
    """
    wanted = {name.strip().casefold() for name in sheets}
    names = [grid.name for grid in grids if grid.name is not None]
    if wanted:
        if not names:
            raise PlanFileError("a CSV file has no sheets; leave out --sheet")
        missing = sorted(wanted - {name.casefold() for name in names})
        if missing:
            raise PlanFileError(
                f"the workbook has no sheet {', '.join(_quote(m) for m in missing)}; "
                f"its sheets are {', '.join(_quote(name) for name in names)}"
            )
    reads = [_classify(_Sheet(grid)) for grid in grids]
    if all(read.sheet.empty for read in reads):
        raise PlanFileError("the file is empty" if not names else "the workbook is empty")
    # Counted over the whole workbook so that --sheet does not change an action's workstream.
    several = sum(1 for read in reads if read.kind == "plan") > 1
    rows: list[RawRow] = []
    people: list[PersonRow] = []
    layouts: list[SheetLayout] = []
    chosen = [
        read
        for read in reads
        if not wanted or (read.sheet.name or "").casefold() in wanted or read.kind == "people"
    ]
    for read in chosen:
        sheet = read.sheet
        if read.kind == "plan" and read.plan is not None:
            table = _plan_table(sheet, read.plan)
            found, skipped = _plan_rows(sheet, table, sheet.name if several else None)
            rows.extend(found)
            layouts.append(
                SheetLayout(
                    name=sheet.name,
                    kind="plan",
                    header_rows=read.plan.rows,
                    mapping=table.mapping,
                    unknown=table.unknown,
                    skipped=tuple(skipped),
                )
            )
        elif read.kind == "people" and read.people is not None:
            persons, skipped = _people_rows(sheet, read.people)
            people.extend(persons)
            layouts.append(
                SheetLayout(
                    name=sheet.name,
                    kind="people",
                    header_rows=read.people.rows,
                    mapping={text: kind for _, text, kind in read.people.columns if kind},
                    unknown=tuple(text for _, text, kind in read.people.columns if not kind),
                    skipped=tuple(skipped),
                )
            )
        else:
            layouts.append(SheetLayout(name=sheet.name, kind=read.kind))
    if not any(layout.kind == "plan" for layout in layouts):
        considered = [read for read in chosen if read.kind != "people"] or chosen
        raise _no_plan(considered or reads)
    return PlanFile(rows=rows, sheets=layouts, people=people)


def read_people_grids(grids: Sequence[Grid]) -> list[PersonRow]:
    """The people of every people table in `grids` (a people file, or a plan's people sheet)."""
    people: list[PersonRow] = []
    found = False
    for grid in grids:
        sheet = _Sheet(grid)
        header = find_header(sheet, _PEOPLE_KEYS)
        if header is not None and header.people_ok():
            found = True
            people.extend(_people_rows(sheet, header)[0])
    if not found:
        raise PlanFileError(
            "no people table found: looked for a header row with a name column and a role or "
            "email column (Name, Role, Organisation, Email)"
        )
    return people


def grid_from_values(name: str | None, table: Iterable[Sequence[Cell]]) -> Grid:
    """A grid of plain values (a CSV file's rows, or rows built in memory)."""
    return Grid(
        name,
        [[EMPTY if _blank(value) else GridCell(value) for value in row] for row in table],
    )
