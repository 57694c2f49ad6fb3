"""Loading a plan: check every row first, then apply the whole file in one transaction.

Three passes, so that a file is loaded whole or not at all and every problem is reported at
once:

1. reading and validation, no database (bot.plans.reader, bot.plans.rows): each row becomes a
   `PlanRow`, or its problems become `RowError`s;
2. directory look-ups, no transaction open (bot.plans.owners): owners the database does not
   know yet are asked of the platform's directory;
3. one transaction: owners are resolved (an unknown owner is a row error and rolls everything
   back), then the rows are applied (bot.plans.apply).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.orm import Session

from bot.plans.apply import ImportReport, apply_rows
from bot.plans.owners import Accounts, look_up_owners, resolve_owners
from bot.plans.reader import PlanFileError, PlanImportError, RawRow, RowError, read_plan
from bot.plans.rows import PlanRow, validate_rows
from bot.services.context import Core
from bot.services.directory import Directory
from storage.db import transaction

__all__ = [
    "ImportReport",
    "PlanFileError",
    "PlanImportError",
    "RowError",
    "import_plan",
    "import_rows",
    "load_rows",
]


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
        return load_rows(
            session,
            rows,
            directory=directory,
            accounts=accounts,
            now=core.now(),
            source_name=source_name,
        )


def load_rows(
    session: Session,
    rows: Sequence[PlanRow],
    *,
    directory: Directory,
    accounts: Accounts,
    now: dt.datetime,
    source_name: str,
) -> ImportReport:
    """Resolve the owners of checked rows and apply the rows, in `session`'s transaction."""
    owners = resolve_owners(session, rows, directory=directory, accounts=accounts, now=now)
    return apply_rows(session, rows, owners=owners, now=now, source_name=source_name)
