"""Who the owners of a plan are: people in the directory, or accounts the chat platform has.

Two passes. Before the import's transaction opens, look_up_owners asks the chat platform about
the emails and user ids the database does not know (network calls: Slack's
users.lookupByEmail is rate-limited, and a write lock must not wait on it). Inside the
transaction, resolve_owners matches every owner cell against the people directory (email,
chat account, name, job title, alias) and the answers fetched before.

Nobody named is left out for want of a chat account: an email the platform does not know is
still that person (kept with their email, "not reachable in chat", linked when they first use
the bot). A name nobody answers to does not stop the import either: the action loads
unassigned with the text as the plan wrote it, and the result lists the cells that named it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bot.people.directory import Account, Directory
from bot.people.names import (
    Match,
    PeopleIndex,
    display_name,
    find_people,
    fold,
    is_platform_id,
)
from bot.people.resolve import find_account, upsert_account
from bot.plans.rows import OwnerRef, PlanRow
from bot.services.context import Core
from storage.models import Person

Key = tuple[str, str]
#: Chat platform answers by OwnerRef.key; None when the platform has nobody by that id/email.
Accounts = Mapping[Key, Account | None]


@dataclass(frozen=True)
class RowOwners:
    """The people of one row: its accountable owner, its supporters, the text left unresolved."""

    owner: Person | None
    supporters: tuple[Person, ...] = ()
    #: The owner as the plan wrote it, when nobody answers to it (Action.owner_text).
    owner_text: str | None = None


@dataclass
class Owners:
    """What resolve_owners found: each row's people, and the names it could not place."""

    by_row: dict[str, RowOwners] = field(default_factory=dict)
    #: Each owner text nobody (or more than one person) answers to, with the cells naming it.
    unresolved: dict[str, list[str]] = field(default_factory=dict)
    #: Owner texts that name several people (two Heads of Service), with who they could be.
    ambiguous: dict[str, list[Person]] = field(default_factory=dict)
    #: Owners known only by email, with no chat account yet ("not reachable in chat").
    unreachable: list[Person] = field(default_factory=list)
    #: Everyone named and found, by OwnerRef.key.
    people: dict[Key, Person] = field(default_factory=dict)

    def owner(self, row: PlanRow) -> Person | None:
        """The accountable owner of `row`; None leaves the action unassigned."""
        return self._of(row).owner

    def supporters(self, row: PlanRow) -> list[Person]:
        """The supporting owners of `row`, in the order the plan names them."""
        return list(self._of(row).supporters)

    def owner_text(self, row: PlanRow) -> str | None:
        """The plan's text for an owner nobody answers to yet, else None."""
        return self._of(row).owner_text

    def _of(self, row: PlanRow) -> RowOwners:
        return self.by_row.get(row_key(row), RowOwners(None))


def row_key(row: PlanRow) -> str:
    """Tells rows apart across the sheets of one file: the owner cell's address."""
    return row.owner_at or f"row {row.row}"


def look_up_owners(core: Core, rows: Iterable[PlanRow], *, directory: Directory) -> Accounts:
    """Ask `directory` about the emails and user ids nobody in the database has, beforehand."""
    refs = {ref.key: ref for row in rows for ref in (*row.owners, *row.supporting)}
    asking: list[OwnerRef] = []
    with core.sessions() as session:
        index = PeopleIndex.build(session)
        for ref in refs.values():
            if ref.email is None and ref.external_id is None:
                continue  # a name or a title: only the people directory knows those
            if _known(session, ref, directory, index).outcome == "unresolved":
                asking.append(ref)
    return {ref.key: _look_up(directory, ref) for ref in asking}


def resolve_owners(
    session: Session,
    rows: Sequence[PlanRow],
    *,
    directory: Directory,
    accounts: Accounts,
    now: dt.datetime,
) -> Owners:
    """Each row's owner and supporters, in `session`; new people are added to it.

    `accounts` holds the platform's answers fetched beforehand (look_up_owners); an email or id
    missing from it is asked now.
    """
    result = Owners()
    resolver = _Resolver(session, directory, accounts, now, result)
    for row in rows:
        refs = resolver.whole_cell(row)
        people: list[Person | None] = [resolver.person(ref, row.owner_at) for ref in refs]
        people += [resolver.person(ref, row.supporting_at) for ref in row.supporting]
        owner = people[0] if refs else None
        supporters: list[Person] = []
        for person in people[1:] if refs else people:
            if person is not None and person is not owner and person not in supporters:
                supporters.append(person)
        text = None
        if owner is None:
            text = refs[0].text if refs else row.owner_cell
        result.by_row[row_key(row)] = RowOwners(owner, tuple(supporters), text)
    unique = {person.id: person for person in result.people.values()}
    result.unreachable = sorted(
        (p for p in unique.values() if not p.identities),
        key=lambda p: (fold(p.display_name), p.email or ""),
    )
    return result


@dataclass
class _Resolver:
    session: Session
    directory: Directory
    accounts: Accounts
    now: dt.datetime
    result: Owners
    index: PeopleIndex | None = None
    seen: dict[Key, Person | None] = field(default_factory=dict)

    def whole_cell(self, row: PlanRow) -> tuple[OwnerRef, ...]:
        """The cell as one name when the directory knows it so ("Quality & Performance")."""
        refs = row.owners
        names_only = all(r.email is None and not is_platform_id(r.text) for r in refs)
        if len(refs) > 1 and row.owner_cell and names_only:
            whole = self._index().by_name(row.owner_cell)
            if whole.outcome == "resolved":
                return (OwnerRef(text=row.owner_cell, name=fold(row.owner_cell)),)
        return refs

    def person(self, ref: OwnerRef, where: str) -> Person | None:
        if ref.key not in self.seen:
            self.seen[ref.key] = self._resolve(ref)
        person = self.seen[ref.key]
        if person is None:
            self.result.unresolved.setdefault(ref.text, []).append(where)
        else:
            self.result.people[ref.key] = person
        return person

    def _index(self) -> PeopleIndex:
        if self.index is None:
            self.index = PeopleIndex.build(self.session)
        return self.index

    def _resolve(self, ref: OwnerRef) -> Person | None:
        found = _known(self.session, ref, self.directory, self._index())
        if found.outcome == "ambiguous":
            self.result.ambiguous[ref.text] = list(found.people)
            return None
        if found.person is not None:
            return found.person
        if ref.email is None and ref.external_id is None:
            return None
        if ref.key in self.accounts:
            account = self.accounts[ref.key]
        else:
            account = _look_up(self.directory, ref)
        if account is not None:
            return upsert_account(self.session, account=account, now=self.now)
        if ref.email is None:
            return None
        # Someone the chat platform does not know (a partner agency, not yet invited): still
        # the owner, reached when they first use the bot with this email.
        person = Person(
            display_name=_name_of(ref), email=ref.email, created_at=self.now
        )
        self.session.add(person)
        self.session.flush()
        return person


def _known(session: Session, ref: OwnerRef, directory: Directory, index: PeopleIndex) -> Match:
    """Who the database already has for `ref`: chat account on this platform, then directory."""
    if ref.email is None and ref.external_id is not None:
        person = find_account(session, platform=directory.platform, external_id=ref.external_id)
        if person is not None:
            return Match("resolved", (person,), "chat id")
    return find_people(session, ref.text, index=index)


def _look_up(directory: Directory, ref: OwnerRef) -> Account | None:
    if ref.email is not None:
        return directory.lookup_email(ref.email)
    assert ref.external_id is not None
    return directory.lookup_id(ref.external_id)


def _name_of(ref: OwnerRef) -> str:
    """A shown name for someone known only by email: `Helen Marsh <…>` or helen.marsh@…."""
    before = ref.text.split("<", 1)[0].strip().strip('"').strip()
    if before and "@" not in before:
        return display_name(before)
    assert ref.email is not None
    local = ref.email.split("@", 1)[0]
    words = [w.capitalize() for w in local.replace("_", ".").replace("-", ".").split(".") if w]
    return " ".join(words) or ref.email
