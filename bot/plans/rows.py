"""From raw cells to checked plan rows: no database, no directory, nothing but the cells.

Each column has a reader (a function of one cell) that returns its value or raises a
`plan_cell` error worded for the officer; PlanRow puts them together, and validate_rows checks
the file as a whole and reports every problem of every row at once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from bot.domain import Rag, Status
from bot.grammar.dates import FixedDateError, parse_fixed_date
from bot.grammar.words import RAG_CHOICES, STATUS_CHOICES, read_rag, read_status
from bot.plans.reader import Cell, PlanImportError, RawRow, RowError

T = TypeVar("T")

# Column widths of storage.models.Action: longer text would fail on PostgreSQL mid-transaction.
_MAX_LENGTH = {"ref": 64, "workstream": 200, "priority": 50}
_DATE_HINT = "write it as 2026-12-01 or 1/12/2026"

_EMAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+")
_SLACK_MENTION = re.compile(r"<@([A-Za-z0-9]+)(?:\|[^>]*)?>")
_USER_ID = re.compile(r"[^\s<>@,;]+")


@dataclass(frozen=True)
class OwnerRef:
    """Who a row names as owner: exactly one of an email (lower-case) or a platform user id."""

    text: str
    email: str | None = None
    external_id: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """One key per person named, however many rows name them."""
        if self.email is not None:
            return ("email", self.email)
        assert self.external_id is not None
        return ("id", self.external_id)


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


def read_owner(value: Cell) -> OwnerRef:
    """The owner cell; it may not be empty."""
    text = cell_text(value)
    if text is None:
        raise cell_error("owner is empty")
    return parse_owner(text)


def parse_owner(text: str) -> OwnerRef:
    """An owner cell as an email or a platform user id (`U012AB3CD`, `amira`, `<@U012AB3CD>`).

    Display names ("Amira Khan") are refused: two people can share one, and the platform
    cannot look a person up by it.
    """
    if len(text) > 320:
        raise cell_error(f"owner '{quoted(text)}' is too long for a user id or an email")
    if match := _SLACK_MENTION.fullmatch(text):
        return OwnerRef(text=text, external_id=match.group(1))
    if _EMAIL.fullmatch(text):
        return OwnerRef(text=text, email=text.lower())
    user_id = text.removeprefix("@")
    if "@" not in text[1:] and _USER_ID.fullmatch(user_id) and len(user_id) <= 200:
        return OwnerRef(text=text, external_id=user_id)
    raise cell_error(f"owner '{quoted(text)}' is not a user id or an email")


def read_due(value: Cell) -> dt.date:
    """The due cell: a date cell, an Excel day number, or a date written with its year.

    Day-first, as in the UK: 1/12/2026 is the first of December. Two-digit years are 20xx.
    """
    text = cell_text(value)
    if text is None:
        raise cell_error("due is empty")
    # Numbers and dates as the workbook gave them: "46357" and 46357 are not the same cell.
    typed = value if isinstance(value, int | float | dt.date) else text
    try:
        return parse_fixed_date(typed)
    except FixedDateError as exc:
        if exc.well_formed:  # 31/2/2026: the hint would not help
            raise cell_error(f"due '{quoted(text)}' is not a date") from None
        raise cell_error(f"due '{quoted(text)}' is not a date ({_DATE_HINT})") from None


def read_text(value: Cell, column: str) -> str | None:
    """An optional text cell, no longer than the register can hold."""
    text = cell_text(value)
    limit = _MAX_LENGTH.get(column)
    if text is not None and limit is not None and len(text) > limit:
        raise cell_error(f"{column} is longer than {limit} characters")
    return text


def read_status_cell(value: Cell) -> Status | None:
    """An optional status cell, in any of the words people use for one."""
    return _word(value, read_status, "status", STATUS_CHOICES)


def read_rag_cell(value: Cell) -> Rag | None:
    """An optional RAG cell: red, amber, green or their initials."""
    return _word(value, read_rag, "rag", RAG_CHOICES)


def _word(value: Cell, read: Callable[[str], T | None], column: str, choices: str) -> T | None:
    text = cell_text(value)
    if text is None:
        return None
    found = read(text)
    if found is None:
        raise cell_error(f"{column} '{quoted(text)}' is not one of {choices}")
    return found


# --- rows ------------------------------------------------------------------------------------


class PlanRow(BaseModel):
    """One row of a plan file, checked: everything an action needs, nothing it cannot hold."""

    model_config = ConfigDict(frozen=True)

    row: int
    title: str
    owner: OwnerRef
    due: dt.date
    ref: str | None = None
    workstream: str | None = None
    priority: str | None = None
    status: Status | None = None
    rag: Rag | None = None
    notes: str | None = None

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, value: Cell) -> str:
        return read_title(value)

    @field_validator("owner", mode="before")
    @classmethod
    def _owner(cls, value: Cell) -> OwnerRef:
        return read_owner(value)

    @field_validator("due", mode="before")
    @classmethod
    def _due(cls, value: Cell) -> dt.date:
        return read_due(value)

    @field_validator("ref", "workstream", "priority", "notes", mode="before")
    @classmethod
    def _text(cls, value: Cell, info: ValidationInfo) -> str | None:
        return read_text(value, info.field_name or "")

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: Cell) -> Status | None:
        return read_status_cell(value)

    @field_validator("rag", mode="before")
    @classmethod
    def _rag(cls, value: Cell) -> Rag | None:
        return read_rag_cell(value)


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
        try:
            row = PlanRow.model_validate(data)
        except ValidationError as exc:
            errors.extend(_row_errors(raw.number, exc))
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
