"""`actionbot people import FILE` and `actionbot people list`: the people directory by hand."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from bot.domain import Platform
from bot.people.names import directory_listing, load_people
from bot.plans.people_file import read_people
from bot.services.context import Core
from storage.db import transaction

NOT_REACHABLE = "not reachable in chat"


def import_people(core: Core, path: Path, *, out: TextIO) -> int:
    """Load the people file at `path` into the directory and say what changed; the exit code."""
    rows = read_people(path)
    with transaction(core.sessions) as session:
        report = load_people(session, rows, now=core.now())
    out.write(f"People from {path}: {report.summary()}.\n")
    for name in report.added:
        out.write(f"  added    {name}\n")
    for name in report.updated:
        out.write(f"  updated  {name}\n")
    for where in report.skipped:
        out.write(f"  skipped  {where}: no name and no email\n")
    return 0


def print_people(core: Core, *, out: TextIO) -> None:
    """The directory as a table: name, job title, organisation, email, chat accounts, aliases."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="People", title_justify="left")
    for heading in ("name", "job title", "organisation", "email", "chat", "aliases"):
        table.add_column(heading, overflow="fold")
    with core.sessions() as session:
        listing = directory_listing(session)
        for person, aliases in listing:
            chats = ", ".join(
                f"{identity.platform.value}: {identity.external_id}"
                for identity in sorted(person.identities, key=lambda i: _ORDER[i.platform])
            )
            table.add_row(
                person.display_name,
                person.job_title or "",
                person.organisation or "",
                person.email or "",
                chats or NOT_REACHABLE,
                "; ".join(aliases),
            )
    # A pipe gets the table at a fixed width, so scripts and tests see every column whole.
    console = Console(file=out, highlight=False, emoji=False, width=None if out.isatty() else 160)
    if not listing:
        console.print("The people directory is empty: `actionbot people import FILE` fills it.")
        return
    console.print(table)


_ORDER = {platform: position for position, platform in enumerate(Platform)}
