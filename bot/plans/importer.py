"""Loading a plan: check every row first, then apply the whole file in one transaction.

Three passes, so that a file is loaded whole or not at all and every problem is reported at
once:

1. reading and validation, no database (bot.plans.reader, bot.plans.rows): each row becomes a
   `PlanRow`, or its problems become `RowError`s;
2. chat platform look-ups, no transaction open (bot.plans.owners): emails and user ids the
   database does not know yet are asked of the platform's directory;
3. one transaction: the plan's people sheet goes into the people directory, owners are resolved
   (a name nobody answers to leaves its action unassigned), then the rows are applied
   (bot.plans.apply). A dry run does all of it and rolls back, so its preview is exactly what
   the import would do.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy.orm import Session

from bot.people.directory import Directory
from bot.people.names import load_people
from bot.plans.apply import Assignment, ImportReport, PlannedRow, apply_rows
from bot.plans.owners import Accounts, Owners, look_up_owners, resolve_owners
from bot.plans.preview import PeopleFound, PersonLine, Preview, UnresolvedName
from bot.plans.reader import read_plan
from bot.plans.rows import PlanRow, validate_rows
from bot.plans.table import PlanFile, PlanFileError, PlanImportError, RawRow, RowError
from bot.services.context import Core
from storage.models import Person

__all__ = [
    "ImportReport",
    "PlanFileError",
    "PlanImportError",
    "Preview",
    "RowError",
    "import_file",
    "import_plan",
    "import_rows",
    "load_rows",
]

Progress = Callable[[int, int], None]


def import_plan(
    core: Core, path: Path, *, directory: Directory, sheets: Sequence[str] = ()
) -> ImportReport:
    """Load the plan at `path` (.csv or .xlsx), resolving owners through `directory`.

    Loads all of it or nothing: raises PlanImportError (PlanFileError for an unreadable file)
    listing every problem, and OSError when the file cannot be opened. Owners are not told.
    """
    return import_file(core, path, directory=directory, sheets=sheets).report


def import_file(
    core: Core,
    path: Path,
    *,
    directory: Directory,
    sheets: Sequence[str] = (),
    dry_run: bool = False,
    progress: Progress | None = None,
) -> Preview:
    """Read the plan at `path` (only `sheets`, when given) and load it, or with `dry_run` only
    say what loading it would do. Returns what the preview shows."""
    plan = read_plan(path, sheets=sheets)
    return import_read(
        core,
        plan,
        directory=directory,
        source_name=path.name,
        dry_run=dry_run,
        progress=progress,
    )


def import_rows(
    core: Core, raw_rows: Sequence[RawRow], *, directory: Directory, source_name: str
) -> ImportReport:
    """Load rows already read from a file named `source_name` (as import_plan does)."""
    plan = PlanFile(rows=list(raw_rows))
    return import_read(core, plan, directory=directory, source_name=source_name).report


def import_read(
    core: Core,
    plan: PlanFile,
    *,
    directory: Directory,
    source_name: str,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> Preview:
    """Load a plan file as read; with `dry_run` roll everything back after working it out."""
    if not plan.rows and not any(sheet.kind == "plan" for sheet in plan.sheets) and plan.sheets:
        raise PlanFileError(_no_plan(plan))
    rows = validate_rows(plan.rows)
    accounts = look_up_owners(core, rows, directory=directory)
    now = core.now()
    with core.sessions() as session:
        learned = load_people(session, plan.people, now=now).summary() if plan.people else ""
        owners = resolve_owners(session, rows, directory=directory, accounts=accounts, now=now)
        planned = planned_rows(rows, plan.rows, owners)
        report = apply_rows(
            session,
            planned,
            board_id=core.board.id,
            now=now,
            source_name=source_name,
            create=not dry_run,
            progress=progress,
        )
        found = people_found(owners, planned, directory=learned)
        if dry_run:
            # Detached objects keep what was loaded, so the preview can still name everyone
            # once the rollback has undone every write.
            session.expunge_all()
            session.rollback()
        else:
            session.commit()
    return Preview(
        source=source_name,
        plan=plan,
        rows=planned,
        people=found,
        report=report,
        dry_run=dry_run,
    )


def load_rows(
    session: Session,
    rows: Sequence[PlanRow],
    *,
    directory: Directory,
    accounts: Accounts,
    now: dt.datetime,
    source_name: str,
    board_id: int,
) -> ImportReport:
    """Resolve the owners of checked rows and apply the rows to the board `board_id`, in
    `session`'s transaction."""
    owners = resolve_owners(session, rows, directory=directory, accounts=accounts, now=now)
    planned = planned_rows(rows, None, owners)
    return apply_rows(session, planned, board_id=board_id, now=now, source_name=source_name)


def planned_rows(
    rows: Sequence[PlanRow], raw_rows: Sequence[RawRow] | None, owners: Owners
) -> list[PlannedRow]:
    """Each checked row with its resolved people and (when given) the raw row it came from."""
    # validate_rows keeps every row, in order, or raises: the two lists pair up one to one.
    raws: Sequence[RawRow | None] = raw_rows if raw_rows is not None else [None] * len(rows)
    return [
        PlannedRow(
            row=row,
            assignment=Assignment(
                owner=owners.owner(row),
                owner_text=owners.owner_text(row),
                supporters=tuple(owners.supporters(row)),
            ),
            raw=raw,
        )
        for row, raw in zip(rows, raws, strict=True)
    ]


def people_found(owners: Owners, rows: Sequence[PlannedRow], *, directory: str) -> PeopleFound:
    """The owner side of the preview: who owns and supports how many actions, who is missing."""
    owning = Counter(r.assignment.owner.id for r in rows if r.assignment.owner is not None)
    supporting = Counter(p.id for r in rows for p in r.assignment.supporters)
    people: dict[int, Person] = {}
    for planned in rows:
        for person in (planned.assignment.owner, *planned.assignment.supporters):
            if person is not None:
                people[person.id] = person

    def lines(counts: Counter[int]) -> tuple[PersonLine, ...]:
        ordered = sorted(counts, key=lambda pid: (-counts[pid], people[pid].display_name))
        return tuple(_line(people[pid], counts[pid]) for pid in ordered)

    unresolved = tuple(
        UnresolvedName(
            text=text,
            cells=tuple(dict.fromkeys(cells)),
            could_be=tuple(p.display_name for p in owners.ambiguous.get(text, ())),
        )
        for text, cells in owners.unresolved.items()
    )
    # One person may be named several ways (email, name, job title): list them once.
    unique = {person.id: person for person in owners.unreachable}
    unreachable = tuple(
        _line(person, owning[person.id] + supporting[person.id]) for person in unique.values()
    )
    return PeopleFound(
        owners=lines(owning),
        supporting=lines(supporting),
        unresolved=unresolved,
        unreachable=unreachable,
        directory=directory,
    )


def _line(person: Person, actions: int) -> PersonLine:
    return PersonLine(name=person.display_name, email=person.email, actions=actions)


def _no_plan(plan: PlanFile) -> str:
    found = ", ".join(
        f"'{sheet.name}' ({sheet.kind})" if sheet.name else sheet.kind for sheet in plan.sheets
    )
    return f"no sheet holds a plan table (found {found}); a plan needs a title and an owner column"
