"""`actionbot people import FILE` and `actionbot people list`: the people directory by hand;
`people export|forget` and `people retention`: their personal data (bot/people/privacy.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.domain import Platform
from bot.people.names import directory_listing, load_people
from bot.plans.people_file import read_people
from bot.services.context import Core
from storage.db import transaction

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.people.privacy import Erasure

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


# --- personal data: subject access, erasure, retention -------------------------------------


def _schema_problem(core: Core, command: str, err: TextIO) -> bool:
    """Say so when the database is not at this version's schema: these commands read and
    rewrite every table, so a table missing or older would fail them half-way."""
    from storage.migrate import schema_problem

    problem = schema_problem(core.settings.database_url)
    if problem is not None:
        err.write(f"actionbot people {command}: {problem}\n")
    return problem is not None


def export_person(core: Core, email: str, *, out: TextIO, err: TextIO) -> int:
    """`actionbot people export EMAIL`: everything held about them, as JSON; the exit code.

    EMAIL may also be `person:N` or a chat user id (bot.people.privacy.find_subject)."""
    import json

    from bot.people.privacy import export_person as gather
    from bot.people.privacy import find_subject, unknown_subject

    if _schema_problem(core, "export", err):
        return 2
    with core.sessions() as session:
        person = find_subject(session, email)
        if person is None:
            err.write(f"actionbot people export: {unknown_subject(email)}.\n")
            return 1
        data = gather(session, person, now=core.now())
    json.dump(data, out, indent=2, ensure_ascii=False)
    out.write("\n")
    return 0


def forget_person(
    core: Core,
    email: str,
    *,
    reason: str,
    by: str,
    confirmed: bool,
    answer: TextIO,
    out: TextIO,
    err: TextIO,
) -> int:
    """`actionbot people forget EMAIL`: erase their personal data, after a confirmation."""
    from bot.people.privacy import (
        erase,
        find_subject,
        is_forgotten,
        pseudonym,
        refusal,
        retried,
        unknown_subject,
    )
    from storage.models import Person

    if _schema_problem(core, "forget", err):
        return 2
    with core.sessions() as session:
        person = find_subject(session, email)
        if person is None:
            err.write(f"actionbot people forget: {unknown_subject(email)}.\n")
            return 1
        if is_forgotten(person):
            out.write(f"{person.display_name} was already forgotten; nothing to change.\n")
            return 0
        refused = refusal(session, person)
        if refused is not None:
            err.write(f"actionbot people forget: {refused}.\n")
            return 1
        person_id = person.id
        address = f" <{person.email}>" if person.email else ""
        who = f"{person.display_name}{address} (person {person.id})"
    # Asked outside any transaction: nothing is held while a person reads the question.
    if not confirmed:
        err.write(
            f"Forget {who}? Their name, email and chat accounts are replaced by "
            f"“{pseudonym(person_id)}” everywhere, and the history is re-sealed. "
            "This cannot be undone. Type yes to go on: "
        )
        err.flush()
        if answer.readline().strip().lower() not in ("y", "yes"):
            err.write("Nothing was changed.\n")
            return 1

    def forget(session: Session) -> Erasure:
        subject = session.get(Person, person_id)
        assert subject is not None  # people rows are never deleted
        return erase(session, [subject], now=core.now(), reason=reason, by=by)

    report = retried(core.sessions, forget)
    out.write(f"Forgot {who}:\n")
    for line in report.lines():
        out.write(f"  {line}\n")
    out.write("Check the evidence with `actionbot verify-history`.\n")
    return 0


def run_retention(
    core: Core, *, months: int | None, dry_run: bool, out: TextIO, err: TextIO | None = None
) -> int:
    """`actionbot people retention [--dry-run]`: forget the people of long-closed actions."""
    from bot.people.privacy import apply_retention, retried

    months = months or core.settings.retention_months
    if months is None:
        out.write(
            "Retention is off: set RETENTION_MONTHS (or give --months) to forget the people "
            "of actions closed longer ago than that.\n"
        )
        return 0
    if _schema_problem(core, "retention", err or out):
        return 2
    now = core.now()
    if dry_run:
        with core.sessions() as session:
            result = apply_retention(
                session, settings=core.settings, months=months, now=now, dry_run=True
            )
            session.rollback()
    else:
        result = retried(
            core.sessions,
            lambda session: apply_retention(
                session, settings=core.settings, months=months, now=now, dry_run=False
            ),
        )
    cutoff = result.cutoff.date().isoformat()
    verb = "would forget" if dry_run else "forgot"
    out.write(
        f"Retention ({months} months): {result.expired_actions} actions closed before {cutoff}; "
        f"{verb} {len(result.people)} "
        f"{'person' if len(result.people) == 1 else 'people'}"
        f"{' (dry run: nothing was changed)' if dry_run else ''}.\n"
    )
    for person_id, name in result.people:
        out.write(f"  person {person_id}: {name}\n")
    if result.erasure.anything:
        for line in result.erasure.lines()[1:]:
            out.write(f"  {line}\n")
    return 0
