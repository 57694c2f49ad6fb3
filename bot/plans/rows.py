"""From raw cells to checked plan rows: no database, no directory, nothing but the cells.

Each column has a reader (a function of one cell) that returns its value or raises a
`plan_cell` error worded for the officer; PlanRow puts them together, and validate_rows checks
the file as a whole and reports every problem of every row at once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from bot.domain import Rag, Status
from bot.grammar.dates import (
    PLAN_DATE_FORMS,
    FixedDateError,
    PlanDate,
    format_date,
    parse_plan_date,
)
from bot.grammar.words import (
    PLAN_RAG_CHOICES,
    PLAN_STATUS_CHOICES,
    RagReading,
    StatusReading,
    read_plan_rag,
    read_plan_status,
)
from bot.people.names import chat_id_in, email_in, fold, is_platform_id
from bot.plans.table import Cell, PlanImportError, RawRow, RowError

# Column widths of storage.models.Action: longer text would fail on PostgreSQL mid-transaction.
_MAX_LENGTH = {"ref": 64, "workstream": 200, "priority": 50}

# Where one owner cell names several people: "A / B", "A & B", "A; B", "A and B", lines.
_OWNER_SEPARATORS = re.compile(r"\s*(?:[;\n/&]|\band\b)\s*", re.IGNORECASE)
# Cells that say nobody is named yet: the action loads unassigned.
_NOBODY = frozenset({"tbc", "tba", "tbd", "n a", "na", "none", "unassigned", "vacant", "nobody"})


@dataclass(frozen=True)
class OwnerRef:
    """Who a row names: an email (lower-case), a platform user id, or a name or job title.

    A single word ("amira") is both a user id and a name: the id is tried first. `name` is the
    folded text the people directory matches (bot.people.names.fold).
    """

    text: str
    email: str | None = None
    external_id: str | None = None
    name: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """One key per person named, however many rows name them."""
        if self.email is not None:
            return ("email", self.email)
        if self.external_id is not None:
            return ("id", self.external_id)
        assert self.name is not None
        return ("name", self.name)


def cell_error(message: str) -> PydanticCustomError:
    """A problem with one cell, reported as `row N: <message>`."""
    # A custom error keeps our wording verbatim (a ValueError would be prefixed "Value error, ").
    return PydanticCustomError("plan_cell", message)


def quoted(text: str) -> str:
    """`text` cut short enough to quote in a one-line error."""
    return text if len(text) <= 40 else text[:39] + "…"


def cell_text(value: Cell) -> str | None:
    """A cell as trimmed text, None when empty; undoes the exporter's formula guard."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime | dt.date):
        value = value.isoformat()
    text = str(value).strip()
    # The exporter writes a quote before cells that a spreadsheet would run as a formula; take
    # it off again so an exported register re-imports unchanged.
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        text = text[1:]
    return text or None


# --- one reader per column -------------------------------------------------------------------


def read_title(value: Cell) -> str:
    """The title cell; it may not be empty."""
    text = cell_text(value)
    if text is None:
        raise cell_error("title is empty")
    return text


def read_owners(value: Cell) -> tuple[OwnerRef, ...]:
    """An owner (or supporting) cell: everyone it names, in order; empty when it names nobody."""
    text = cell_text(value)
    if text is None or fold(text) in _NOBODY:
        return ()
    return tuple(parse_owner(part) for part in split_owners(text))


def split_owners(text: str) -> list[str]:
    """The people one cell names: `A / B`, `A & B`, `A; B`, `A and B`, lines, listed emails."""
    parts: list[str] = []
    for piece in _OWNER_SEPARATORS.split(text):
        piece = piece.strip(" ,")
        if not piece:
            continue
        # Commas separate emails ("a@x.gov.uk, b@x.gov.uk", Outlook's "Name <a@x.gov.uk>,
        # Name <b@x.gov.uk>") but not a name ("Marsh, Helen", "Marsh, Helen <a@x.gov.uk>").
        for chunk in re.split(r"(?<=>)\s*,\s*", piece):
            commas = [p.strip() for p in chunk.split(",") if p.strip()]
            if len(commas) > 1 and "<" not in chunk and any(email_in(p) for p in commas):
                parts.extend(commas)
            elif chunk.strip(" ,"):
                parts.append(chunk.strip(" ,"))
    return parts


def parse_owner(text: str) -> OwnerRef:
    """One owner: an email (`Name <email>` too), a platform user id, or a name or job title."""
    if len(text) > 320:
        raise cell_error(f"owner '{quoted(text)}' is too long for a name, a user id or an email")
    if (email := email_in(text)) is not None:
        return OwnerRef(text=text, email=email)
    user_id = chat_id_in(text)
    if user_id is not None and is_platform_id(text):
        return OwnerRef(text=text, external_id=user_id)
    name = fold(text)
    if not name:
        raise cell_error(f"owner '{quoted(text)}' is not a name, a user id or an email")
    return OwnerRef(text=text, external_id=user_id, name=name)


def read_due(value: Cell, *, month_only: bool = False) -> PlanDate:
    """The due cell as the plan wrote it (bot.grammar.dates.parse_plan_date); empty is no
    deadline.

    Day-first, as in the UK: 1/12/2026 is the first of December. Two-digit years are 20xx.
    `month_only`: the workbook showed this date cell as a month, so the month's end is meant.
    """
    text = cell_text(value)
    if text is None:
        return PlanDate(None)
    # Numbers and dates as the workbook gave them: "46357" and 46357 are not the same cell.
    typed = value if isinstance(value, int | float | dt.date) else text
    try:
        return parse_plan_date(typed, month_only=month_only)
    except FixedDateError as exc:
        if exc.well_formed:  # 31/2/2026: the hint would not help
            raise cell_error(f"due '{quoted(text)}' {exc}") from None
        raise cell_error(f"due '{quoted(text)}' is not a date ({PLAN_DATE_FORMS})") from None


def read_text(value: Cell, column: str) -> str | None:
    """An optional text cell, no longer than the register can hold."""
    text = cell_text(value)
    limit = _MAX_LENGTH.get(column)
    if text is not None and limit is not None and len(text) > limit:
        raise cell_error(f"{column} is longer than {limit} characters")
    return text


def fitted(text: str, column: str) -> str:
    """Text the row did not write itself (a banner row's heading as its workstream), cut to
    what the register's column holds: a long heading must not refuse the plan under it."""
    limit = _MAX_LENGTH.get(column)
    if limit is None or len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


class Reading(NamedTuple):
    """A cell read with a rule, for the preview: `due`, "Q4 2026/27", "Wed 31 Mar 2027 …"."""

    column: str
    text: str
    read_as: str


@dataclass(frozen=True)
class Progress:
    """What a row's status and RAG cells (and their fill colours) say together."""

    status: Status | None = None
    rag: Rag | None = None
    done_on: dt.date | None = None
    blocked_reason: str | None = None
    warnings: tuple[str, ...] = ()
    readings: tuple[Reading, ...] = ()


def read_progress(
    status_value: Cell, rag_value: Cell, *, fills: Mapping[str, str] | None = None
) -> Progress:
    """The status and RAG of a row as boards write them.

    Status words as in bot.grammar.words.read_plan_status ("On hold" blocks with that reason,
    "Completed 12/10/2026" is done on that day, "Overdue" sets nothing); a status cell holding
    a RAG word is read as the RAG. BRAG's blue (B, Complete) means done. An empty cell with a
    meaningful fill colour is read from the colour, and said so. An explicit status wins over
    a blue RAG, with a warning.
    """
    fills = fills or {}
    warnings: list[str] = []
    readings: list[Reading] = []
    problems: list[str] = []
    status_text, rag_text = cell_text(status_value), cell_text(rag_value)
    said: StatusReading | None = None
    rag_said: RagReading | None = None
    if status_text is not None:
        said = read_plan_status(status_text)
        if said is None:
            rag_said = read_plan_rag(status_text)
            if rag_said is None:
                problems.append(
                    f"status '{quoted(status_text)}' is not one of {PLAN_STATUS_CHOICES}"
                )
            else:
                readings.append(Reading("status", status_text, _rag_words(rag_said)))
        elif said.note is not None:
            warnings.append(said.note)
            readings.append(Reading("status", status_text, _status_words(said)))
    elif (colour := fills.get("status")) is not None and (by_fill := read_plan_rag(colour)):
        rag_said = by_fill
        warnings.append(f"status read from the cell's fill colour ({colour})")
        readings.append(Reading("status", f"({colour} fill)", _rag_words(by_fill)))
    if rag_text is not None:
        from_cell = read_plan_rag(rag_text)
        if from_cell is None:
            problems.append(f"rag '{quoted(rag_text)}' is not one of {PLAN_RAG_CHOICES}")
        else:
            rag_said = from_cell
            if from_cell.note is not None:
                warnings.append(from_cell.note)
                readings.append(Reading("rag", rag_text, _rag_words(from_cell)))
    elif (colour := fills.get("rag")) is not None and (by_fill := read_plan_rag(colour)):
        rag_said = by_fill
        warnings.append(f"RAG read from the cell's fill colour ({colour})")
        readings.append(Reading("rag", f"({colour} fill)", _rag_words(by_fill)))
    if problems:
        raise cell_error("; ".join(problems))
    status = said.status if said is not None else None
    if rag_said is not None and rag_said.done:
        if status is None:
            status = Status.DONE
        elif status != Status.DONE:
            warnings.append(f"RAG blue means complete, but the status says {status.label}: kept")
    return Progress(
        status=status,
        rag=rag_said.rag if rag_said is not None else None,
        done_on=said.done_on if said is not None and status == Status.DONE else None,
        blocked_reason=said.blocked_reason if said is not None else None,
        warnings=tuple(warnings),
        readings=tuple(readings),
    )


def _rag_words(read: RagReading) -> str:
    return f"RAG {read.rag.value}" + (" (complete)" if read.done else "")


def _status_words(said: StatusReading) -> str:
    return said.status.label if said.status is not None else "no change"


def read_schedule(raw: RawRow) -> tuple[dict[str, object], list[str]]:
    """PlanRow's deadline and progress fields read from `raw` (due, cadence, milestones,
    due_words, status, rag, done_on, blocked_reason, warnings, readings), and the problems
    found; a field whose cell has a problem is None."""
    fields: dict[str, object] = dict.fromkeys(
        ("due", "cadence", "due_words", "status", "rag", "done_on", "blocked_reason")
    )
    fields["milestones"] = ()
    problems: list[str] = []
    warnings: list[str] = []
    readings: list[Reading] = []
    month_only = "due" in raw.month_only
    try:
        when = read_due(raw.cells.get("due"), month_only=month_only)
    except PydanticCustomError as exc:
        problems.append(exc.message())
    else:
        fields |= {
            "due": when.due,
            "cadence": when.cadence,
            "milestones": when.milestones,
            "due_words": when.words,
        }
        if when.rule == "month-only cell":
            warnings.append(f"due {raw.address('due')} is shown as a month: read as its last day")
        if when.due is None and when.words is None:
            warnings.append("no deadline given: the action needs a date")
        if when.words is not None:
            readings.append(Reading("due", when.words, _due_words(when)))
    try:
        progress = read_progress(raw.cells.get("status"), raw.cells.get("rag"), fills=raw.fills)
    except PydanticCustomError as exc:
        problems.append(exc.message())
    else:
        fields |= {
            "status": progress.status,
            "rag": progress.rag,
            "done_on": progress.done_on,
            "blocked_reason": progress.blocked_reason,
        }
        warnings.extend(progress.warnings)
        readings.extend(progress.readings)
    fields |= {"warnings": tuple(warnings), "readings": tuple(readings)}
    return fields, problems


def _due_words(when: PlanDate) -> str:
    """How the preview says what a date cell was read as: `Wed 31 Mar 2027 (end of month)`."""
    if when.due is None:
        return "no deadline" + (f", {when.cadence}" if when.cadence else "")
    text = format_date(when.due) + (f" ({when.rule})" if when.rule else "")
    if when.cadence:
        text += f", {when.cadence}"
    if when.milestones:
        text += "; milestones " + ", ".join(format_date(day) for day in when.milestones)
    return text


# --- rows ------------------------------------------------------------------------------------


class PlanRow(BaseModel):
    """One row of a plan file, checked: everything an action needs, nothing it cannot hold."""

    model_config = ConfigDict(frozen=True)

    row: int
    title: str
    #: Everyone the owner cell names: the first is accountable, the others support. Empty:
    #: the action is unassigned.
    owners: tuple[OwnerRef, ...] = ()
    #: The supporting column's people, after the owner cell's own supporters.
    supporting: tuple[OwnerRef, ...] = ()
    #: The owner cell as written, kept on an action whose owner nobody answers to yet.
    owner_cell: str | None = None
    #: Where the owner and supporting cells are, for the import summary (`'Plan'!F14`).
    owner_at: str = ""
    supporting_at: str = ""
    #: None: the plan gives no deadline ("Ongoing", "Monthly", empty); the action needs a date.
    due: dt.date | None = None
    #: How often an action without a deadline is reported on ("monthly", "every board").
    cadence: str | None = None
    #: Earlier dates of a cell that gives several; the last is `due`.
    milestones: tuple[dt.date, ...] = ()
    #: The due cell as written, when it was read from words ("Q4 2026/27"), for the preview.
    due_words: str | None = None
    ref: str | None = None
    workstream: str | None = None
    priority: str | None = None
    status: Status | None = None
    rag: Rag | None = None
    #: The day a done row says it was done ("Completed 12/10/2026"); None: not known.
    done_on: dt.date | None = None
    #: The reason a status word gives for a block ("On hold").
    blocked_reason: str | None = None
    notes: str | None = None
    #: How the board will know the action worked ("Success measure", "Impact measure").
    success_measure: str | None = None
    #: What the preview should point out: fill-only RAG, month-only cells, A/G read as amber.
    warnings: tuple[str, ...] = ()
    #: Cells read with a rule: (column, text as written, what it was read as).
    readings: tuple[Reading, ...] = ()

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, value: Cell) -> str:
        return read_title(value)

    @field_validator("owners", "supporting", mode="before")
    @classmethod
    def _owners(cls, value: Cell) -> tuple[OwnerRef, ...]:
        return read_owners(value)

    @field_validator("owner_cell", mode="before")
    @classmethod
    def _owner_cell(cls, value: Cell) -> str | None:
        return cell_text(value)

    @property
    def owner(self) -> OwnerRef | None:
        """The accountable owner, None when the row names nobody."""
        return self.owners[0] if self.owners else None

    @field_validator("ref", "workstream", "priority", "notes", "success_measure", mode="before")
    @classmethod
    def _text(cls, value: Cell, info: ValidationInfo) -> str | None:
        return read_text(value, info.field_name or "")


def validate_rows(raw_rows: Sequence[RawRow]) -> list[PlanRow]:
    """Every row checked; PlanImportError listing every problem of every row if any is wrong.

    Refs must be unique in the file (ignoring case), and so must the titles of rows without a
    ref: each row has to match its own action, on this import and on the next.
    """
    rows: list[PlanRow] = []
    errors: list[RowError] = []
    seen_refs: dict[str, int] = {}
    seen_titles: dict[str, int] = {}
    for raw in raw_rows:
        data = {column: raw.cells.get(column) for column in PlanRow.model_fields}
        data["row"] = raw.number
        data["owners"] = data["owner_cell"] = raw.cells.get("owner")
        data["owner_at"] = raw.address("owner")
        data["supporting_at"] = raw.address("supporting")
        # Due, status and RAG are read together, with the month-only formats and fill colours
        # the reader saw; their problems join the other cells' below.
        schedule, problems = read_schedule(raw)
        data.update(schedule)
        try:
            row = PlanRow.model_validate(data)
        except ValidationError as exc:
            errors.extend(RowError(raw.number, problem) for problem in problems)
            errors.extend(_row_errors(raw.number, exc))
            continue
        if problems:
            errors.extend(RowError(raw.number, problem) for problem in problems)
            continue
        if row.ref is not None:
            first = seen_refs.setdefault(row.ref.lower(), row.row)
            if first != row.row:
                errors.append(RowError(row.row, f"ref '{row.ref}' is also on row {first}"))
                continue
        else:
            first = seen_titles.setdefault(row.title.lower(), row.row)
            if first != row.row:
                errors.append(
                    RowError(
                        row.row,
                        f"title '{quoted(row.title)}' is also on row {first}; "
                        "give rows with the same title a ref each",
                    )
                )
                continue
        rows.append(row)
    if errors:
        raise PlanImportError(errors)
    return rows


def _row_errors(number: int, exc: ValidationError) -> list[RowError]:
    errors = []
    for error in exc.errors(include_url=False):
        if error["type"] == "plan_cell":
            errors.append(RowError(number, error["msg"]))
        else:  # a check of pydantic's own; keep its words, say which column
            column = ".".join(str(part) for part in error["loc"])
            errors.append(RowError(number, f"{column}: {error['msg']}"))
    return errors
