"""Loading a plan: check every row first, then apply the whole file in one transaction.

Three passes, so that a file is loaded whole or not at all and every problem is reported at
once:

1. validation (no database): each row becomes a `PlanRow`, or its problems become `RowError`s;
   refs must be unique in the file, and so must the titles of rows without a ref;
2. directory look-ups (no transaction open): owners the database does not know yet are asked of
   the platform's directory, so slow or rate-limited calls (Slack's users.lookupByEmail) never
   hold a write lock on the database the running bot uses;
3. one transaction: owners are resolved (an unknown owner is a row error and rolls everything
   back), then each row creates its action or updates the changed fields of the one it matches,
   with one history entry per change. A row that matches and changes nothing writes nothing,
   so importing the same file again changes nothing at all.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain import IMPORT_SOURCE, Change, Rag, Status, rules
from bot.plans.reader import Cell, PlanFileError, PlanImportError, RawRow, RowError, read_plan
from bot.services import history
from bot.services.context import Core
from bot.services.directory import Account, Directory
from bot.services.people import find_account, find_by_email, upsert_account
from storage.db import transaction
from storage.models import Action, Person

__all__ = [
    "ImportReport",
    "OwnerRef",
    "PlanFileError",
    "PlanImportError",
    "PlanRow",
    "RowError",
    "apply_rows",
    "cell_text",
    "import_plan",
    "import_rows",
    "look_up_owners",
    "parse_owner",
    "parse_plan_date",
    "validate_rows",
]

T = TypeVar("T")

STATUS_WORDS: dict[str, Status] = {
    "open": Status.OPEN,
    "not started": Status.OPEN,
    "in progress": Status.IN_PROGRESS,
    "in-progress": Status.IN_PROGRESS,
    "in_progress": Status.IN_PROGRESS,
    "blocked": Status.BLOCKED,
    "done": Status.DONE,
    "complete": Status.DONE,
    "completed": Status.DONE,
    "cancelled": Status.CANCELLED,
    "canceled": Status.CANCELLED,
}
RAG_WORDS: dict[str, Rag] = {
    "red": Rag.RED,
    "r": Rag.RED,
    "amber": Rag.AMBER,
    "a": Rag.AMBER,
    "green": Rag.GREEN,
    "g": Rag.GREEN,
}

# Column widths of storage.models.Action: longer text would fail on PostgreSQL mid-transaction.
_MAX_LENGTH = {"ref": 64, "workstream": 200, "priority": 50}

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
# Only dates that mean the same day on every import: no "friday", no year-less "1 Dec", which
# would move each time the file is loaded again and break "re-importing changes nothing".
_ISO = re.compile(
    r"(?P<y>\d{4})([-/])(?P<m>\d{1,2})\2(?P<d>\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"
)
_DAY_FIRST = re.compile(r"(?P<d>\d{1,2})([/.-])(?P<m>\d{1,2})\2(?P<y>\d{4}|\d{2})")
# "1 Dec 2026", "1st December 2026", and "01-Dec-26", Excel's d-mmm-yy shown in a saved CSV.
_NAMED = re.compile(
    r"(?P<d>\d{1,2})(?:st|nd|rd|th)?(?: of)?[ -](?P<mon>[a-z]+)\.?,?[ -](?P<y>\d{4}|\d{2})"
)
# Excel stores dates as days since 1899-12-30; a date cell formatted as a number arrives as one.
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_SERIALS = range(32874, 73051)  # 1990-01-01 to 2099-12-31: not a stray small number
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


def _fail(message: str) -> PydanticCustomError:
    # A custom error keeps our wording verbatim (a ValueError would be prefixed "Value error, ").
    return PydanticCustomError("plan_cell", message)


def _quoted(text: str) -> str:
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
    # bot/plans/exporter.py writes a quote before cells that a spreadsheet would run as a
    # formula; take it off again so an exported register re-imports unchanged.
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        text = text[1:]
    return text or None


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
        text = cell_text(value)
        if text is None:
            raise _fail("title is empty")
        return text

    @field_validator("owner", mode="before")
    @classmethod
    def _owner(cls, value: Cell) -> OwnerRef:
        text = cell_text(value)
        if text is None:
            raise _fail("owner is empty")
        return parse_owner(text)

    @field_validator("due", mode="before")
    @classmethod
    def _due(cls, value: Cell) -> dt.date:
        return parse_plan_date(value)

    @field_validator("ref", "workstream", "priority", "notes", mode="before")
    @classmethod
    def _text(cls, value: Cell, info: ValidationInfo) -> str | None:
        text = cell_text(value)
        limit = _MAX_LENGTH.get(info.field_name or "")
        if text is not None and limit is not None and len(text) > limit:
            raise _fail(f"{info.field_name} is longer than {limit} characters")
        return text

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: Cell) -> Status | None:
        return _word(value, STATUS_WORDS, "status", "open, in progress, blocked, done, cancelled")

    @field_validator("rag", mode="before")
    @classmethod
    def _rag(cls, value: Cell) -> Rag | None:
        return _word(value, RAG_WORDS, "rag", "red, amber, green (or r, a, g)")


def _word(value: Cell, words: dict[str, T], column: str, choices: str) -> T | None:
    text = cell_text(value)
    if text is None:
        return None
    found = words.get(" ".join(text.lower().split()))
    if found is None:
        raise _fail(f"{column} '{_quoted(text)}' is not one of {choices}")
    return found


def parse_owner(text: str) -> OwnerRef:
    """An owner cell as an email or a platform user id (`U012AB3CD`, `amira`, `<@U012AB3CD>`).

    Display names ("Amira Khan") are refused: two people can share one, and the platform
    cannot look a person up by it.
    """
    if len(text) > 320:
        raise _fail(f"owner '{_quoted(text)}' is too long for a user id or an email")
    if match := _SLACK_MENTION.fullmatch(text):
        return OwnerRef(text=text, external_id=match.group(1))
    if _EMAIL.fullmatch(text):
        return OwnerRef(text=text, email=text.lower())
    user_id = text.removeprefix("@")
    if "@" not in text[1:] and _USER_ID.fullmatch(user_id) and len(user_id) <= 200:
        return OwnerRef(text=text, external_id=user_id)
    raise _fail(f"owner '{_quoted(text)}' is not a user id or an email")


def parse_plan_date(value: Cell) -> dt.date:
    """A due cell as a date: an Excel date cell, ISO, d/m/yyyy, d/m/yy or "1 Dec 2026".

    Day-first, as in the UK: 1/12/2026 is the first of December. Two-digit years are 20xx.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value == int(value) and int(value) in _EXCEL_SERIALS:
            return _EXCEL_EPOCH + dt.timedelta(days=int(value))
        raise _fail(f"due '{cell_text(value)}' is not a date ({_DATE_HINT})")
    text = cell_text(value)
    if text is None:
        raise _fail("due is empty")
    low = " ".join(text.lower().split())
    for pattern in (_ISO, _DAY_FIRST, _NAMED):
        match = pattern.fullmatch(low)
        if match is None:
            continue
        if "mon" in pattern.groupindex:
            month = _MONTHS.get(match["mon"])
            if month is None:
                break
        else:
            month = int(match["m"])
        year = int(match["y"])
        year = 2000 + year if year < 100 else year
        try:
            return dt.date(year, month, int(match["d"]))
        except ValueError:
            # Well formed but not on the calendar: 31/2/2026.
            raise _fail(f"due '{_quoted(text)}' is not a date") from None
    raise _fail(f"due '{_quoted(text)}' is not a date ({_DATE_HINT})")


def _row_errors(number: int, exc: ValidationError) -> list[RowError]:
    errors = []
    for error in exc.errors(include_url=False):
        if error["type"] == "plan_cell":
            errors.append(RowError(number, error["msg"]))
        else:  # a check of pydantic's own; keep its words, say which column
            column = ".".join(str(part) for part in error["loc"])
            errors.append(RowError(number, f"{column}: {error['msg']}"))
    return errors


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
                        f"title '{_quoted(row.title)}' is also on row {first}; "
                        "give rows with the same title a ref each",
                    )
                )
                continue
        rows.append(row)
    if errors:
        raise PlanImportError(errors)
    return rows


@dataclass
class ImportReport:
    """What an import did: actions created, updated, and matched but left as they were."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def summary(self) -> str:
        """`3 created, 1 updated, 8 unchanged`."""
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


def import_plan(core: Core, path: Path, *, directory: Directory) -> ImportReport:
    """Load the plan at `path` (.csv or .xlsx), resolving owners through `directory`.

    Loads all of it or nothing: raises PlanImportError (PlanFileError for an unreadable file)
    listing every problem, and OSError when the file cannot be opened. Owners are not told.
    """
    return import_rows(core, read_plan(path), directory=directory, source_name=path.name)


def import_rows(
    core: Core, raw_rows: Sequence[RawRow], *, directory: Directory, source_name: str
) -> ImportReport:
    """Load rows already read from a file named `source_name` (as import_plan does)."""
    rows = validate_rows(raw_rows)
    accounts = look_up_owners(core, rows, directory=directory)
    with transaction(core.sessions) as session:
        return apply_rows(
            session,
            rows,
            directory=directory,
            accounts=accounts,
            now=core.now(),
            source_name=source_name,
        )


def look_up_owners(
    core: Core, rows: Iterable[PlanRow], *, directory: Directory
) -> dict[tuple[str, str], Account | None]:
    """Ask `directory` about the owners the database does not know yet, outside a transaction."""
    owners = {row.owner.key: row.owner for row in rows}
    with core.sessions() as session:
        unknown = [
            owner
            for owner in owners.values()
            if _known_owner(session, owner, directory=directory) is None
        ]
    return {owner.key: _look_up(directory, owner) for owner in unknown}


def _known_owner(session: Session, owner: OwnerRef, *, directory: Directory) -> Person | None:
    if owner.email is not None:
        return find_by_email(session, email=owner.email)
    assert owner.external_id is not None
    return find_account(session, platform=directory.platform, external_id=owner.external_id)


def _look_up(directory: Directory, owner: OwnerRef) -> Account | None:
    if owner.email is not None:
        return directory.lookup_email(owner.email)
    assert owner.external_id is not None
    return directory.lookup_id(owner.external_id)


def apply_rows(
    session: Session,
    rows: Sequence[PlanRow],
    *,
    directory: Directory,
    accounts: dict[tuple[str, str], Account | None],
    now: dt.datetime,
    source_name: str,
) -> ImportReport:
    """Resolve owners and create or update the actions of validated rows in `session`.

    `accounts` holds directory answers fetched beforehand (look_up_owners); an owner missing
    from it is looked up now. Raises PlanImportError, for the caller's transaction to roll
    back, when any owner cannot be found.
    """
    owners: dict[tuple[str, str], Person] = {}
    errors: list[RowError] = []
    for row in rows:
        key = row.owner.key
        if key not in owners:
            person = _resolve(session, row.owner, directory, accounts, now)
            if person is not None:
                owners[key] = person
        if key not in owners:
            errors.append(RowError(row.row, _not_found(row.owner, directory)))
    if errors:
        raise PlanImportError(errors)

    by_ref, by_title = _existing(session)
    report = ImportReport()
    for row in rows:
        note = f"import of {source_name} row {row.row}"
        owner = owners[row.owner.key]
        if row.ref is not None:
            action = by_ref.get(row.ref) or by_ref.get(row.ref.lower())
        else:
            action = by_title.get(row.title.lower())
        if action is None:
            _create(session, row, owner, now=now, note=note)
            report.created += 1
        elif _update(session, action, row, owner, now=now, note=note):
            report.updated += 1
        else:
            report.unchanged += 1
    return report


def _resolve(
    session: Session,
    owner: OwnerRef,
    directory: Directory,
    accounts: dict[tuple[str, str], Account | None],
    now: dt.datetime,
) -> Person | None:
    person = _known_owner(session, owner, directory=directory)
    if person is not None:
        return person
    account = accounts[owner.key] if owner.key in accounts else _look_up(directory, owner)
    return upsert_account(session, account=account, now=now) if account is not None else None


def _not_found(owner: OwnerRef, directory: Directory) -> str:
    where = directory.platform.value.capitalize()
    if owner.email is not None:
        return f"owner '{_quoted(owner.text)}': nobody on {where} has this email"
    return f"owner '{_quoted(owner.text)}' is not a user on {where}"


def _existing(session: Session) -> tuple[dict[str, Action], dict[str, Action]]:
    # A plan is a few hundred actions: one query beats one per row.
    by_ref: dict[str, Action] = {}
    by_title: dict[str, Action] = {}
    for action in session.scalars(select(Action).order_by(Action.id)):
        if action.ref is not None:
            by_ref.setdefault(action.ref, action)
            by_ref.setdefault(action.ref.lower(), action)
        else:
            # Two ref-less actions with one title (both added in chat): the older one matches.
            by_title.setdefault(action.title.lower(), action)
    return by_ref, by_title


def _create(session: Session, row: PlanRow, owner: Person, *, now: dt.datetime, note: str) -> None:
    opened = rules.StatusState(Status.OPEN)
    state = rules.moved(opened, row.status or Status.OPEN, now=now, reason=row.notes)
    action = Action(
        ref=row.ref,
        title=row.title,
        owner=owner,
        due_date=row.due,
        status=state.status,
        rag=row.rag,
        workstream=row.workstream,
        priority=row.priority,
        notes=row.notes,
        blocked_reason=state.blocked_reason,
        done_at=state.done_at,
        created_at=now,
        updated_at=now,
    )
    session.add(action)
    session.flush()

    def record(change: Change, new: object, old: object = None) -> None:
        _record(session, action, now=now, note=note, change=change, old=old, new=new)

    # The same entries as `/action add` ...
    record(Change.CREATED, row.title)
    record(Change.ASSIGNED, owner.display_name)
    record(Change.DUE, row.due)
    # ... plus a status entry when the plan starts past "open": escalation reads "blocked
    # since" from it, and the trail shows who closed what.
    if state.status != opened.status:
        record(Change.STATUS, state.status.value, old=opened.status.value)
    if state.blocked_reason is not None:
        record(Change.BLOCKED_REASON, state.blocked_reason)
    if row.rag is not None:
        record(Change.RAG, row.rag.value)


def _update(
    session: Session, action: Action, row: PlanRow, owner: Person, *, now: dt.datetime, note: str
) -> bool:
    """Apply the row's changed fields to `action`; False (and no write) when nothing differs."""
    # An empty cell keeps what the register holds: a plan file that leaves out RAG or notes
    # must not wipe what owners and chairs recorded since.
    changes: list[tuple[Change, object, object]] = []  # (change, old, new)
    if row.title != action.title:
        changes.append((Change.TITLE, action.title, row.title))
    if owner.id != action.owner_id:
        old_name = action.owner.display_name if action.owner else None
        changes.append((Change.ASSIGNED, old_name, owner.display_name))
    if row.due != action.due_date:
        changes.append((Change.DUE, action.due_date, row.due))
    if row.status is not None and row.status != action.status:
        changes.append((Change.STATUS, action.status.value, row.status.value))
    if row.rag is not None and row.rag != action.rag:
        changes.append((Change.RAG, action.rag.value if action.rag else None, row.rag.value))
    for change in (Change.WORKSTREAM, Change.PRIORITY, Change.NOTES):
        new = getattr(row, change.value)
        if new is not None and new != getattr(action, change.value):
            changes.append((change, getattr(action, change.value), new))
    if not changes:
        return False

    if row.title != action.title:
        action.title = row.title
    if owner.id != action.owner_id:
        action.owner = owner
    if row.due != action.due_date:
        action.due_date = row.due
    if row.status is not None and row.status != action.status:
        before = rules.move(action, row.status, now=now, reason=row.notes)
        if action.blocked_reason is not None and action.blocked_reason != before.blocked_reason:
            changes.append((Change.BLOCKED_REASON, before.blocked_reason, action.blocked_reason))
    if row.rag is not None and row.rag != action.rag:
        action.rag = row.rag
    for field in ("workstream", "priority", "notes"):
        new = getattr(row, field)
        if new is not None and new != getattr(action, field):
            setattr(action, field, new)
    action.updated_at = now
    for change, old, new in changes:
        _record(session, action, now=now, note=note, change=change, old=old, new=new)
    return True


def _record(
    session: Session,
    action: Action,
    *,
    now: dt.datetime,
    note: str,
    change: Change,
    old: object,
    new: object,
) -> None:
    """One history entry made by the import, naming the file and row in its note."""
    history.record(
        session,
        action=action,
        actor=None,
        source=IMPORT_SOURCE,
        at=now,
        change=change,
        old=old,
        new=new,
        note=note,
    )

