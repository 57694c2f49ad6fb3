"""Loading a plan: validate every row first, then apply the whole file in one transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.errors import CommandError
from bot.grammar.commands import UserRef
from bot.grammar.dates import DateParseError, parse_date
from bot.grammar.parser import parse_user
from bot.plans.reader import RawRow, read_plan
from bot.services import history
from bot.services.context import Core
from bot.services.directory import Directory
from bot.services.people import resolve_user
from storage.db import transaction
from storage.models import Action, Person, Rag, Status

SOURCE = "import"

T = TypeVar("T")

_STATUS_WORDS = {
    "open": Status.OPEN,
    "not started": Status.OPEN,
    "new": Status.OPEN,
    "in progress": Status.IN_PROGRESS,
    "in-progress": Status.IN_PROGRESS,
    "in_progress": Status.IN_PROGRESS,
    "started": Status.IN_PROGRESS,
    "blocked": Status.BLOCKED,
    "done": Status.DONE,
    "complete": Status.DONE,
    "completed": Status.DONE,
    "closed": Status.DONE,
    "cancelled": Status.CANCELLED,
    "canceled": Status.CANCELLED,
}
_RAG_WORDS = {
    "red": Rag.RED,
    "r": Rag.RED,
    "amber": Rag.AMBER,
    "a": Rag.AMBER,
    "green": Rag.GREEN,
    "g": Rag.GREEN,
}


@dataclass(frozen=True)
class RowError:
    """One problem, at a spreadsheet row number (the header is row 1)."""

    row: int
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.message}"


class PlanImportError(Exception):
    """The file was not loaded; every problem found is listed."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = errors


@dataclass(frozen=True)
class PlanRow:
    """A row that reads as an action."""

    row: int
    title: str
    owner: UserRef
    owner_text: str
    due: dt.date
    ref: str | None
    workstream: str | None
    priority: str | None
    status: Status | None
    rag: Rag | None
    notes: str | None


@dataclass
class ImportReport:
    """How many actions a load created, updated and left as they were."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def summary(self) -> str:
        """`3 created, 1 updated, 8 unchanged`."""
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


def import_plan(core: Core, path: Path, *, directory: Directory) -> ImportReport:
    """Load `path`; raise PlanImportError (and load nothing) if any row is wrong."""
    from bot.plans.reader import PlanFileError

    try:
        _, raw_rows = read_plan(path)
    except PlanFileError as exc:
        raise PlanImportError([RowError(1, str(exc))]) from None
    return import_rows(core, raw_rows, directory=directory, source_name=path.name)


def import_rows(
    core: Core, raw_rows: list[RawRow], *, directory: Directory, source_name: str
) -> ImportReport:
    """Validate and load rows already read from a file."""
    rows = validate_rows(raw_rows, today=core.today())
    now = core.now()
    report = ImportReport()
    errors: list[RowError] = []
    with transaction(core.sessions) as session:
        for row in rows:
            try:
                owner = resolve_user(
                    session,
                    ref=row.owner,
                    platform=directory.platform,
                    directory=directory,
                    now=now,
                )
            except CommandError as exc:
                errors.append(RowError(row.row, f"owner '{row.owner_text}': {exc.reason}"))
                continue
            _apply(session, row, owner, now=now, source_name=source_name, report=report)
        if errors:
            # Leaving the block with an exception rolls back everything this file did.
            raise PlanImportError(errors)
    return report


def validate_rows(raw_rows: list[RawRow], *, today: dt.date) -> list[PlanRow]:
    """Every row as a PlanRow, or PlanImportError listing every problem."""
    rows: list[PlanRow] = []
    errors: list[RowError] = []
    seen_refs: dict[str, int] = {}
    for raw in raw_rows:
        problems: list[str] = []
        row = _validate(raw, today, problems)
        if row is not None and row.ref is not None:
            key = row.ref.lower()
            if key in seen_refs:
                problems.append(f"ref '{row.ref}' is also on row {seen_refs[key]}")
            seen_refs.setdefault(key, raw.number)
        errors.extend(RowError(raw.number, problem) for problem in problems)
        if row is not None and not problems:
            rows.append(row)
    if errors:
        raise PlanImportError(errors)
    if not rows:
        raise PlanImportError([RowError(1, "the file has a header but no actions")])
    return rows


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    # Our own exports guard formula-like cells with a leading quote; take it off again.
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        text = text[1:]
    return text or None


def _validate(raw: RawRow, today: dt.date, problems: list[str]) -> PlanRow | None:
    cells = raw.cells
    title = _text(cells.get("title"))
    if title is None:
        problems.append("title is empty")
    owner_text = _text(cells.get("owner"))
    owner = None
    if owner_text is None:
        problems.append("owner is empty")
    else:
        owner = parse_user(owner_text) or parse_user(f"@{owner_text}")
        if owner is None:
            problems.append(f"owner '{owner_text}' is not a user id or an email")
    due = _due(cells.get("due"), today, problems)
    status = _word(cells.get("status"), _STATUS_WORDS, "status", problems)
    rag = _word(cells.get("rag"), _RAG_WORDS, "rag", problems)
    if title is None or owner is None or owner_text is None or due is None:
        return None
    return PlanRow(
        row=raw.number,
        title=title,
        owner=owner,
        owner_text=owner_text,
        due=due,
        ref=_text(cells.get("ref")),
        workstream=_text(cells.get("workstream")),
        priority=_text(cells.get("priority")),
        status=status,
        rag=rag,
        notes=_text(cells.get("notes")),
    )


def _due(value: object, today: dt.date, problems: list[str]) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    if text is None:
        problems.append("due is empty")
        return None
    try:
        return parse_date(text, today=today)
    except DateParseError:
        problems.append(f"due '{text[:40]}' is not a date (use 2026-12-01 or 1/12/2026)")
        return None


def _word(value: object, words: dict[str, T], column: str, problems: list[str]) -> T | None:
    text = _text(value)
    if text is None:
        return None
    found = words.get(" ".join(text.lower().split()))
    if found is None:
        choices = ", ".join(sorted({str(getattr(v, "value", v)) for v in words.values()}))
        problems.append(f"{column} '{text[:40]}' is not one of {choices}")
    return found


def _find_existing(session: Session, row: PlanRow) -> Action | None:
    if row.ref is not None:
        return session.scalars(select(Action).where(Action.ref == row.ref)).first()
    query = select(Action).where(
        Action.ref.is_(None), func.lower(Action.title) == row.title.lower()
    )
    return session.scalars(query.order_by(Action.id)).first()


def _apply(
    session: Session,
    row: PlanRow,
    owner: Person,
    *,
    now: dt.datetime,
    source_name: str,
    report: ImportReport,
) -> None:
    note = f"import of {source_name} row {row.row}"
    action = _find_existing(session, row)
    if action is None:
        _create(session, row, owner, now=now, note=note)
        report.created += 1
        return
    # A blank cell keeps what the register holds: an import never erases evidence.
    changes: list[tuple[str, object, object]] = []
    wanted: dict[str, object] = {
        "title": row.title,
        "owner": owner,
        "due": row.due,
        "status": row.status,
        "rag": row.rag,
        "workstream": row.workstream,
        "priority": row.priority,
        "notes": row.notes,
    }
    current: dict[str, object] = {
        "title": action.title,
        "owner": action.owner,
        "due": action.due_date,
        "status": action.status,
        "rag": action.rag,
        "workstream": action.workstream,
        "priority": action.priority,
        "notes": action.notes,
    }
    for field, new in wanted.items():
        if new is not None and new != current[field]:
            changes.append((field, current[field], new))
    if not changes:
        report.unchanged += 1
        return
    for field, old, new in changes:
        _set(action, field, new, now)
        history.record(
            session,
            action=action,
            actor=None,
            source=SOURCE,
            at=now,
            change=field,
            field=field,
            old=_shown(old),
            new=_shown(new),
            note=note,
        )
    action.updated_at = now
    report.updated += 1


def _create(session: Session, row: PlanRow, owner: Person, *, now: dt.datetime, note: str) -> None:
    status = row.status or Status.OPEN
    action = Action(
        ref=row.ref,
        title=row.title,
        owner=owner,
        due_date=row.due,
        status=status,
        rag=row.rag,
        workstream=row.workstream,
        priority=row.priority,
        notes=row.notes,
        blocked_reason=row.notes if status == Status.BLOCKED else None,
        done_at=now if status == Status.DONE else None,
        created_at=now,
        updated_at=now,
    )
    session.add(action)
    session.flush()

    def record(change: str, field: str | None, old: object, new: object) -> None:
        history.record(
            session,
            action=action,
            actor=None,
            source=SOURCE,
            at=now,
            change=change,
            field=field,
            old=old,
            new=new,
            note=note,
        )

    record("created", None, None, row.title)
    record("assigned", "owner", None, owner.display_name)
    record("due", "due", None, row.due)
    if status != Status.OPEN:
        record("status", "status", Status.OPEN.value, status.value)


def _set(action: Action, field: str, value: object, now: dt.datetime) -> None:
    if field == "due":
        action.due_date = value  # type: ignore[assignment]
    elif field == "status":
        assert isinstance(value, Status)
        action.status = value
        action.done_at = now if value == Status.DONE else None
        if value == Status.BLOCKED and action.blocked_reason is None:
            action.blocked_reason = action.notes
        elif value != Status.BLOCKED:
            action.blocked_reason = None
    else:
        setattr(action, field, value)


def _shown(value: object) -> object:
    if isinstance(value, Person):
        return value.display_name
    if isinstance(value, Status | Rag):
        return value.value
    return value
