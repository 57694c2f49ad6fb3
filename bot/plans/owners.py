"""Who the owners of a plan are: people the bot knows, or accounts its platform's directory has.

Directory calls are network calls (Slack's users.lookupByEmail is rate-limited), so they are
made before the import's transaction opens, and never while it holds a write lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy.orm import Session

from bot.plans.reader import PlanImportError, RowError
from bot.plans.rows import OwnerRef, PlanRow, quoted
from bot.services.context import Core
from bot.services.directory import Account, Directory
from bot.services.people import find_account, find_by_email, upsert_account
from storage.models import Person

#: Directory answers by OwnerRef.key; None when the directory has nobody by that name.
Accounts = Mapping[tuple[str, str], Account | None]


def look_up_owners(core: Core, rows: Iterable[PlanRow], *, directory: Directory) -> Accounts:
    """Ask `directory` about the owners the database does not know yet, outside a transaction."""
    owners = {row.owner.key: row.owner for row in rows}
    with core.sessions() as session:
        unknown = [
            owner
            for owner in owners.values()
            if known_owner(session, owner, directory=directory) is None
        ]
    return {owner.key: _look_up(directory, owner) for owner in unknown}


def resolve_owners(
    session: Session,
    rows: Sequence[PlanRow],
    *,
    directory: Directory,
    accounts: Accounts,
    now: dt.datetime,
) -> dict[tuple[str, str], Person]:
    """The person each row names, by OwnerRef.key; new accounts become people in `session`.

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
    return owners


def known_owner(session: Session, owner: OwnerRef, *, directory: Directory) -> Person | None:
    """The person the database already has for `owner`, if any."""
    if owner.email is not None:
        return find_by_email(session, email=owner.email)
    assert owner.external_id is not None
    return find_account(session, platform=directory.platform, external_id=owner.external_id)


def _look_up(directory: Directory, owner: OwnerRef) -> Account | None:
    if owner.email is not None:
        return directory.lookup_email(owner.email)
    assert owner.external_id is not None
    return directory.lookup_id(owner.external_id)


def _resolve(
    session: Session,
    owner: OwnerRef,
    directory: Directory,
    accounts: Accounts,
    now: dt.datetime,
) -> Person | None:
    person = known_owner(session, owner, directory=directory)
    if person is not None:
        return person
    account = accounts[owner.key] if owner.key in accounts else _look_up(directory, owner)
    return upsert_account(session, account=account, now=now) if account is not None else None


def _not_found(owner: OwnerRef, directory: Directory) -> str:
    where = directory.platform.value.capitalize()
    if owner.email is not None:
        return f"owner '{quoted(owner.text)}': nobody on {where} has this email"
    return f"owner '{quoted(owner.text)}' is not a user on {where}"
