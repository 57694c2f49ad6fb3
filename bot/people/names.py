"""The people directory: who a plan means by a name, a job title, an alias, an email or a chat id.

Plans name owners the way officers write them ("Helen Marsh (HoS Front Door)", "Marsh, Helen",
"Head of Service – Front Door", `Helen Marsh <helen.marsh@council.gov.uk>`). The directory
keeps each person's names, job titles and aliases folded into keys (PersonName) so a look-up
ignores case, spacing, punctuation and accents. It is loaded from a people file or a plan's
people sheet, and learns an alias whenever a chair assigns an action the plan left unresolved.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from bot.plans.table import PersonRow
from storage.models import Identity, Person, PersonName
from storage.queries import find_by_email

NAME, TITLE, ALIAS = "name", "title", "alias"
#: PersonName.text and .key are 200 characters wide.
_WIDTH = 200

_EMAIL = re.compile(r"[^@\s<>,;:()\[\]\"']+@[^@\s<>,;:()\[\]\"']+\.[A-Za-z0-9-]+")
_ANGLE_EMAIL = re.compile(r"^(?P<name>[^<>]*)<\s*(?:mailto:)?(?P<email>[^<>]+?)\s*>$")
_SLACK_MENTION = re.compile(r"^<@([A-Za-z0-9]+)(?:\|[^>]*)?>$")
_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{6,}$")
_TOKEN = re.compile(r"^[^\s<>@,;/&]+$")
_PARENS = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]")
_HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "cllr", "prof", "sir", "dame"})


def fold(text: str) -> str:
    """The matching key of a name: no accents, lower case, punctuation and spacing folded."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    # "&" and "and" are the same word in a title ("Quality & Performance").
    words = re.sub(r"[^0-9a-z]+", " ", plain.casefold().replace("&", " and ")).split()
    return " ".join(words)[:_WIDTH]


def name_keys(text: str) -> list[str]:
    """Every key `text` may be known by, the whole text first.

    "Helen Marsh (HoS Front Door)" is also "helen marsh" and "hos front door"; "Marsh, Helen"
    is also "helen marsh"; "Gareth Lowe, Head of Service" is also both of its parts.
    """
    keys: list[str] = []

    def add(part: str) -> None:
        key = fold(part)
        if key and key not in keys:
            keys.append(key)
        words = key.split()
        if len(words) > 1 and words[0] in _HONORIFICS:
            add(" ".join(words[1:]))

    add(text)
    inside = [a or b for a, b in _PARENS.findall(text)]
    outside = _PARENS.sub(" ", text)
    add(outside)
    for part in inside:
        add(part)
    pieces = [p for p in outside.split(",") if p.strip()]
    turned = len(pieces) == 2 and all(len(p.split()) <= 2 for p in pieces)
    turned = turned and not any(is_abbreviation(p) for p in pieces)
    if turned:
        add(f"{pieces[1]} {pieces[0]}")  # "Marsh, Helen"
    dashed = [p for p in re.split(r"[,\u2013\u2014]| - ", outside) if p.strip()]
    for piece in [*pieces, *dashed] if len(dashed) > 1 else []:
        # In "Marsh, Helen" neither word alone names anybody.
        if not turned or len(piece.split()) > 1:
            add(piece)
    return keys


def display_name(text: str) -> str:
    """A name as a person is shown: parentheses dropped, "Marsh, Helen" turned round."""
    outside = " ".join(_PARENS.sub(" ", text).split())
    pieces = [p.strip() for p in outside.split(",") if p.strip()]
    if len(pieces) == 2 and all(len(p.split()) == 1 for p in pieces):
        return f"{pieces[1]} {pieces[0]}"
    return (outside or text.strip())[:_WIDTH]


def email_in(text: str) -> str | None:
    """The email `text` is (also `Name <email>` as Outlook pastes it), lower-case; else None."""
    cleaned = text.strip().strip(";,").strip()
    if match := _ANGLE_EMAIL.match(cleaned):
        cleaned = match.group("email")
    cleaned = re.sub(r"\s*@\s*", "@", cleaned.removeprefix("mailto:").strip())
    return cleaned.lower() if _EMAIL.fullmatch(cleaned) else None


def is_abbreviation(text: str) -> bool:
    """A bare abbreviation (`DCS`, `HoS`): up to five letters, two or more of them capitals."""
    word = text.strip().removeprefix("@")
    return word.isalpha() and len(word) <= 5 and sum(c.isupper() for c in word) >= 2


def chat_id_in(text: str) -> str | None:
    """The chat account `text` may be (`<@U012AB3CD>`, `U012AB3CD`, `@amira`, `amira`).

    A bare abbreviation is never one by itself: "DCS" is a job, not somebody's login.
    """
    cleaned = text.strip()
    if match := _SLACK_MENTION.match(cleaned):
        return match.group(1)
    if is_abbreviation(cleaned):
        return None
    token = cleaned.removeprefix("@")
    if token and _TOKEN.match(token) and len(token) <= _WIDTH:
        return token
    return None


def is_platform_id(text: str) -> bool:
    """Whether `text` can only be a chat account (a mention, a Slack id, a Teams id), not a name."""
    cleaned = text.strip()
    return bool(
        _SLACK_MENTION.match(cleaned)
        or _SLACK_ID.match(cleaned.removeprefix("@"))
        or cleaned.startswith(("29:", "8:orgid:"))
    )


# --- look-ups ---------------------------------------------------------------------------------


Outcome = Literal["resolved", "ambiguous", "unresolved"]


@dataclass(frozen=True)
class Match:
    """What the directory made of one owner text: one person, several, or nobody."""

    outcome: Outcome
    people: tuple[Person, ...] = ()
    #: How it was found: "email", "chat id", "name", "title" or "alias"; empty when not found.
    via: str = ""
    #: The email the text gave, for a caller to ask the chat platform about when unresolved.
    email: str | None = None

    @property
    def person(self) -> Person | None:
        """The one person meant, when resolved."""
        return self.people[0] if self.outcome == "resolved" else None


@dataclass
class PeopleIndex:
    """Every key of every person, read once: an import looks up hundreds of cells."""

    session: Session
    keys: dict[str, dict[int, str]] = field(default_factory=dict)  # key -> {person id: kind}

    @classmethod
    def build(cls, session: Session) -> PeopleIndex:
        """The index of the directory as the session sees it now."""
        index = cls(session)
        for person_id, kind, key in session.execute(
            select(PersonName.person_id, PersonName.kind, PersonName.key)
        ):
            index._add(key, person_id, kind)
        # People met only in chat have no PersonName rows yet: their shown name still counts.
        for person_id, name in session.execute(select(Person.id, Person.display_name)):
            index._add(fold(name), person_id, NAME)
        return index

    def _add(self, key: str, person_id: int, kind: str) -> None:
        if key:
            # A person's name beats their title, which beats an alias, when both share a key.
            known = self.keys.setdefault(key, {})
            if person_id not in known or _RANK[kind] < _RANK[known[person_id]]:
                known[person_id] = kind

    def by_name(self, text: str) -> Match:
        """People whose name, title or alias is `text` (or a part of it, see name_keys)."""
        several: Match | None = None
        for key in name_keys(text):
            found = self.keys.get(key)
            if not found:
                continue
            people = tuple(
                p for p in (self.session.get(Person, pid) for pid in sorted(found)) if p is not None
            )
            via = min((found[p.id] for p in people), key=_RANK.__getitem__, default=NAME)
            if len(people) == 1:
                return Match("resolved", people, via)
            several = several or Match("ambiguous", people, via)
        return several or Match("unresolved")


_RANK = {NAME: 0, TITLE: 1, ALIAS: 2}


def find_people(session: Session, text: str, *, index: PeopleIndex | None = None) -> Match:
    """Who `text` names: by email, then chat account, then directory name, job title or alias."""
    email = email_in(text)
    if email is not None:
        person = find_by_email(session, email=email)
        if person is not None:
            return Match("resolved", (person,), "email", email)
        return Match("unresolved", email=email)
    chat_id = chat_id_in(text)
    if chat_id is not None:
        people = _by_account(session, chat_id)
        if len(people) == 1:
            return Match("resolved", people, "chat id")
        if is_platform_id(text):
            return Match("ambiguous", people, "chat id") if people else Match("unresolved")
    return (index or PeopleIndex.build(session)).by_name(text)


def _by_account(session: Session, external_id: str) -> tuple[Person, ...]:
    query = (
        select(Person)
        .join(Identity)
        .where(Identity.external_id.in_({external_id, external_id.lower()}))
        .distinct()
        .order_by(Person.id)
    )
    return tuple(session.scalars(query))


# --- loading ----------------------------------------------------------------------------------


@dataclass
class PeopleReport:
    """What a people load did, person by person (names as shown)."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    #: Rows that name nobody (no name and no email), as `row N`.
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """`2 added, 1 updated, 5 unchanged`."""
        text = f"{len(self.added)} added, {len(self.updated)} updated, {self.unchanged} unchanged"
        return text + (f", {len(self.skipped)} skipped" if self.skipped else "")


def load_people(session: Session, rows: Sequence[PersonRow], *, now: dt.datetime) -> PeopleReport:
    """Add or update the person of each row; loading the same rows again changes nothing.

    A row matches a person by email first, then by name. Names and job titles follow the
    file; aliases are only ever added (chat teaches them too, and a file must not forget them).
    """
    report = PeopleReport()
    index = PeopleIndex.build(session)
    for row in rows:
        where = f"'{row.sheet}' row {row.number}" if row.sheet else f"row {row.number}"
        email = email_in(row.email) if row.email else None
        if not (row.name and row.name.strip()) and email is None:
            report.skipped.append(where)
            continue
        person = _match(session, index, row, email)
        if person is None:
            name = display_name(row.name) if row.name else email or ""
            person = Person(display_name=name, email=email, created_at=now)
            session.add(person)
            _apply(person, row, email, index)
            session.flush()
            report.added.append(person.display_name)
        elif _apply(person, row, email, index):
            report.updated.append(person.display_name)
        else:
            report.unchanged += 1
        _reindex(index, person)
    session.flush()
    return report


def learn_alias(person: Person, text: str) -> bool:
    """Teach the directory that `text` names `person`; False when it already did."""
    key = fold(text)
    if not key or any(n.key == key for n in person.names):
        return False
    person.names.append(PersonName(kind=ALIAS, text=text.strip()[:_WIDTH], key=key))
    return True


def _match(
    session: Session, index: PeopleIndex, row: PersonRow, email: str | None
) -> Person | None:
    if email is not None:
        person = find_by_email(session, email=email)
        if person is not None:
            return person
    if row.name:
        found = index.by_name(display_name(row.name))
        # A name two people share is not enough to update either: add the row as someone new
        # only when nobody has it, otherwise take the one person it names.
        if found.outcome == "resolved" and found.via == NAME:
            person = found.person
            if person is not None and (email is None or person.email in (None, email)):
                return person
    return None


def _apply(person: Person, row: PersonRow, email: str | None, index: PeopleIndex) -> bool:
    """Make `person` say what `row` says; True when anything changed."""
    changed = False
    if row.name and row.name.strip():
        name = display_name(row.name)
        # "gareth  lowe" is the same name as "Gareth Lowe": not a reason to rename anybody.
        if fold(person.display_name) != fold(name):
            person.display_name, changed = name, True
    if email is not None and person.email != email:
        person.email, changed = email, True
    for attribute, value in (("job_title", row.role), ("organisation", row.organisation)):
        text = " ".join(value.split())[:_WIDTH] if value and value.strip() else None
        if text is not None and getattr(person, attribute) != text:
            setattr(person, attribute, text)
            changed = True
    wanted: dict[tuple[str, str], str] = {}
    if row.name and row.name.strip():
        wanted[(NAME, fold(display_name(row.name)))] = display_name(row.name)
        for part in [a or b for a, b in _PARENS.findall(row.name)]:
            if fold(part):
                wanted.setdefault((ALIAS, fold(part)), part.strip())
    if row.role and row.role.strip():
        for title in _titles(row.role):
            wanted.setdefault((TITLE, fold(title)), title)
    for alias in row.aliases:
        if alias.strip() and fold(alias):
            wanted.setdefault((ALIAS, fold(alias)), alias.strip())
    have = {(n.kind, n.key): n for n in person.names}
    removed = False
    for entry, name_row in have.items():
        kind = entry[0]
        # The file is the source of names and titles; aliases learned in chat stay.
        follows_file = (kind == NAME and row.name) or (kind == TITLE and row.role)
        if follows_file and entry not in wanted:
            person.names.remove(name_row)
            removed = changed = True
    session = object_session(person)
    if removed and session is not None:
        # A flush writes inserts before deletes: a later row of the same file giving a
        # removed name back would otherwise meet the old row in the unique index.
        session.flush()
    for (kind, key), text in wanted.items():
        if (kind, key) not in have:
            person.names.append(PersonName(kind=kind, text=text[:_WIDTH], key=key))
            changed = True
    return changed


def _titles(role: str) -> list[str]:
    """A role cell's job titles: the whole, and each of several ("DCS; Director of …")."""
    whole = " ".join(role.split())
    parts = [" ".join(p.split()) for p in re.split(r"[;\n]| / ", role)]
    return list(dict.fromkeys([whole, *(p for p in parts if p)]))


def _reindex(index: PeopleIndex, person: Person) -> None:
    for known in index.keys.values():
        known.pop(person.id, None)
    index._add(fold(person.display_name), person.id, NAME)
    for entry in person.names:
        index._add(entry.key, person.id, entry.kind)


def people_rows(people: Iterable[Person]) -> list[Person]:
    """People in the order a list shows them: by name, then by id."""
    return sorted(people, key=lambda p: (fold(p.display_name), p.id))


def directory_listing(session: Session) -> list[tuple[Person, list[str]]]:
    """Everybody with their aliases, for `actionbot people list`."""
    people = people_rows(session.scalars(select(Person)))
    aliases: dict[int, list[str]] = defaultdict(list)
    for person_id, text in session.execute(
        select(PersonName.person_id, PersonName.text)
        .where(PersonName.kind == ALIAS)
        .order_by(PersonName.id)
    ):
        aliases[person_id].append(text)
    return [(person, aliases[person.id]) for person in people]
