"""Personal data: everything held about a person (subject access), erasing it, and retention.

The bot holds people's names, emails and chat ids in a few known places (the person row, their
accounts, the directory's names, Teams conversation references) and, as words, in text anywhere:
titles and notes mention people (`<@person:7|Amira Khan>`), the history names owners
(`assigned … → Amira Khan`), sent messages keep the exact words that went out. An erasure
replaces them by a pseudonym ("Former member 7") everywhere: the known places by their fields,
and every text column of every table by matching the person's mention tokens, names, email and
chat ids as whole words. Person ids stay, so the history still says that the same (now unnamed)
person owned, changed and closed each action.

History entries are evidence and append-only: their texts are rewritten only through
storage.history_chain.rewrite_history, which lifts the UPDATE guard inside the transaction and
re-seals the chain; each action whose trail changed gets an `erased` entry keeping the old chain
head, the pseudonym, who erased and why. Retention (RETENTION_MONTHS) forgets the people whose
only involvement is in actions closed longer ago than that.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    Enum,
    String,
    Table,
    and_,
    or_,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.domain import Platform, Status
from bot.people.names import NAME
from bot.people.resolve import named_chair
from bot.render.inline import person_token
from storage.db import transaction
from storage.guards import updates_allowed
from storage.history_chain import HistoryRewrite, Reseal, begin_writing, rewrite_history
from storage.models import (
    DEFAULT_BOARD_ID,
    Action,
    Base,
    Board,
    BoardMember,
    HistoryEntry,
    Identity,
    OutboxMessage,
    OutboxStatus,
    Person,
    Supporter,
    TeamsReference,
)
from storage.queries import find_by_email

T = TypeVar("T")

#: `action_history.change` of the entry an erasure leaves on each action whose trail changed.
ERASED = "erased"
#: `action_history.source` of that entry.
PRIVACY_SOURCE = "privacy"
#: `people.left_reason` of a person whose personal data was erased.
ERASED_REASON = "personal data erased"
#: What replaces the owner a plan named (matching nobody) in a long-closed action's texts.
REMOVED_OWNER = "[owner's name removed]"
#: `outbox.last_error` of a message to them that was still waiting when they were forgotten.
CANCELLED_ERASED = "not sent: the recipient's personal data was erased"
#: Tables whose rows an erasure handles field by field; every other table's text is matched.
_OWN_TABLES = frozenset({"people", "identities", "person_names", "action_history"})
_CLOSED = tuple(status for status in Status if status.is_closed)
_TOKEN_ID = re.compile(r"<@person:(\d{1,12})(?:\|[^<>|\n]*)?>")


def pseudonym(person_id: int) -> str:
    """The name a forgotten person is shown by."""
    return f"Former member {person_id}"


def is_forgotten(person: Person) -> bool:
    """Whether `person`'s personal data was erased."""
    return person.left_reason == ERASED_REASON and person.email is None


# --- recognising a person in text -----------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One person to find in text: their id, and the words that name them."""

    person_id: int
    words: tuple[str, ...]
    external_ids: tuple[str, ...]

    @property
    def pseudonym(self) -> str:
        return pseudonym(self.person_id)


def target_of(session: Session, person: Person) -> Target:
    """Everything that names `person` in text: names, email, chat ids, Teams names."""
    words: list[str] = [person.display_name]
    words += [n.text for n in person.names if n.kind == NAME]
    if person.email:
        words.append(person.email)
    external = [identity.external_id for identity in person.identities]
    for reference in _teams_references(session, person):
        words += [w for w in (reference.name, reference.email) if w]
    for name in list(words):
        parts = name.split()
        if len(parts) == 2 and "@" not in name:
            words.append(f"{parts[1]}, {parts[0]}")  # "Marsh, Helen", as plans write it
    unique: dict[str, str] = {}
    for word in [*words, *external]:
        cleaned = word.strip()
        # One letter would match too much; the pseudonym needs no replacing.
        if len(cleaned) >= 2 and cleaned != pseudonym(person.id):
            unique.setdefault(cleaned.casefold(), cleaned)
    return Target(person.id, tuple(unique.values()), tuple(external))


class Matcher:
    """Finds and replaces the people of `targets` in text, leaving others' mentions alone."""

    def __init__(self, targets: Sequence[Target]) -> None:
        self.targets = {t.person_id: t for t in targets}
        self._external = {e.casefold(): t for t in targets for e in t.external_ids}
        self._words = {w.casefold(): t for t in targets for w in t.words}
        alternatives = [
            r"(?P<token><@person:(?P<pid>\d{1,12})(?:\|[^<>|\n]*)?>)",
            # Slack's own markup in rows stored before mentions were neutral.
            r"(?P<legacy><@(?P<ext>[^<>|\s]+)(?:\|[^<>\n]*)?>)",
        ]
        # Longest first, so "Amira Khan" is one match rather than "Amira" and a leftover.
        ordered = sorted({w for t in targets for w in t.words}, key=len, reverse=True)
        if ordered:
            alternatives.append(
                r"(?<![\w.+-])(?P<word>" + "|".join(re.escape(w) for w in ordered) + r")(?!\w)"
            )
        self._pattern = re.compile("|".join(alternatives), re.IGNORECASE)

    def _target(self, match: re.Match[str]) -> Target | None:
        if match.group("token") is not None:
            return self.targets.get(int(match.group("pid")))
        if match.group("legacy") is not None:
            return self._external.get(match.group("ext").casefold())
        return self._words.get(match.group("word").casefold())

    def names(self, text: str | None) -> bool:
        """Whether `text` names one of the targets."""
        if not text:
            return False
        return any(self._target(m) is not None for m in self._pattern.finditer(text))

    def scrub(self, text: str) -> str:
        """`text` with every mention of a target made their pseudonym."""

        def replace(match: re.Match[str]) -> str:
            target = self._target(match)
            if target is None:
                return match.group(0)  # someone else's mention, with their name, stays whole
            if match.group("word") is not None:
                return target.pseudonym
            return person_token(target.person_id, target.pseudonym)

        return self._pattern.sub(replace, text)

    def scrub_json(self, value: Any) -> Any:
        """A JSON value (a stored message) with every target made their pseudonym."""
        return _scrub_json(value, self.scrub, self._unnamed)

    def _unnamed(self, scrubbed: dict[str, Any]) -> dict[str, Any]:
        # A person drawn in a reply (PersonView): their name and their chat accounts.
        person = scrubbed.get("id")
        if isinstance(person, int) and person in self.targets and "accounts" in scrubbed:
            scrubbed["name"] = pseudonym(person)
            scrubbed["accounts"] = {}
        return scrubbed


class PlanWords:
    """An owner as a plan wrote it, matching nobody the bot knows (`actions.owner_text`):
    found as whole words in one action's texts and replaced by `REMOVED_OWNER`."""

    def __init__(self, text: str) -> None:
        self._pattern = re.compile(
            r"(?<![\w.+-])" + re.escape(text.strip()) + r"(?!\w)", re.IGNORECASE
        )

    def scrub(self, text: str) -> str:
        return self._pattern.sub(REMOVED_OWNER, text)

    def scrub_json(self, value: Any) -> Any:
        return _scrub_json(value, self.scrub)


def _scrub_json(
    value: Any,
    scrub: Callable[[str], str],
    mend: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Any:
    """A JSON value with `scrub` applied to every string in it, and `mend` to every object
    once its members are scrubbed."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_scrub_json(item, scrub, mend) for item in value]
    if isinstance(value, dict):
        scrubbed = {key: _scrub_json(item, scrub, mend) for key, item in value.items()}
        return scrubbed if mend is None else mend(scrubbed)
    return value


@dataclass
class _Scrub:
    """The people to replace everywhere, and plan owners' words to replace in one action."""

    people: Matcher | None
    owners: dict[int, PlanWords]

    def text(self, value: str, action_id: int | None) -> str:
        value = self.people.scrub(value) if self.people is not None else value
        owner = self.owners.get(action_id) if action_id is not None else None
        return owner.scrub(value) if owner is not None else value

    def json(self, value: Any, action_id: int | None) -> Any:
        value = self.people.scrub_json(value) if self.people is not None else value
        owner = self.owners.get(action_id) if action_id is not None else None
        return owner.scrub_json(value) if owner is not None else value


# --- planning and applying an erasure -------------------------------------------------------


@dataclass
class Erasure:
    """What an erasure changed (or, dry, would change)."""

    people: list[tuple[int, str]] = field(default_factory=list)  # (id, pseudonym)
    fields: Counter[str] = field(default_factory=Counter)  # "table.column" → rows
    accounts: list[str] = field(default_factory=list)
    names_removed: int = 0
    references_removed: int = 0
    cancelled: int = 0
    history_entries: int = 0
    actions: set[int] = field(default_factory=set)
    reseal: Reseal | None = None
    recorded: int = 0
    dry: bool = False
    owner_texts: list[int] = field(default_factory=list)  # actions whose plan owner went

    @property
    def anything(self) -> bool:
        return bool(self.people or self.owner_texts)

    def lines(self) -> list[str]:
        """What changed (or would, dry), one line each, for the command line."""
        gone = "would be removed" if self.dry else "removed"
        out = [f"now known as: {', '.join(name for _, name in self.people) or 'nobody'}"]
        if self.people:
            out.append(f"person rows: name, email, job title and organisation {gone}")
        if self.owner_texts:
            listed = ", ".join(f"#{action_id}" for action_id in self.owner_texts)
            out.append(f"owners named by the plan (matching nobody) {gone} from {listed}")
        if self.accounts:
            out.append(f"chat accounts {gone}: {', '.join(self.accounts)}")
        if self.names_removed:
            out.append(f"directory names, job titles and aliases {gone}: {self.names_removed}")
        if self.references_removed:
            out.append(f"Teams conversation references {gone}: {self.references_removed}")
        if self.cancelled:
            verb = "would be cancelled" if self.dry else "cancelled"
            out.append(f"messages to them still waiting, {verb}: {self.cancelled}")
        for where, count in sorted(self.fields.items()):
            verb = "would be rewritten" if self.dry else "rewritten"
            out.append(f"{where}: {count} row{'s' if count != 1 else ''} {verb}")
        if self.reseal is not None and self.reseal.first_id is not None:
            out.append(
                f"history: {self.reseal.rewritten} entries rewritten; the chain was sealed "
                f"again from entry #{self.reseal.first_id} ({self.reseal.resealed} entries); "
                f"the head was {self.reseal.old_head}"
            )
        elif self.history_entries:
            out.append(f"history: {self.history_entries} entries would be rewritten and re-sealed")
        if self.recorded:
            out.append(f"erasure recorded in the history of {self.recorded} actions")
        elif self.dry and self.actions:
            out.append(f"erasure would be recorded in the history of {len(self.actions)} actions")
        return out


def erase(
    session: Session,
    people: Sequence[Person],
    *,
    now: dt.datetime,
    reason: str,
    by: str,
    dry_run: bool = False,
    owner_texts: Mapping[int, str] | None = None,
) -> Erasure:
    """Replace the personal data of `people` by pseudonyms everywhere, and each of
    `owner_texts` (action id → the owner a plan named) in its action, in the session's
    transaction; `dry_run` only counts what would change (the caller rolls back)."""
    report = Erasure(dry=dry_run)
    owners = {aid: PlanWords(text) for aid, text in (owner_texts or {}).items() if text.strip()}
    if not people and not owners:
        return report
    targets = [target_of(session, person) for person in people]
    matcher = Matcher(targets) if targets else None
    scrub = _Scrub(matcher, owners)
    report.owner_texts = sorted(owners)
    # Found before the texts are matched: their keys and user ids hold the chat ids matched.
    references = {person.id: _teams_references(session, person) for person in people}
    connection = session.connection()
    if dry_run:
        _plan_history(connection, scrub, report, rewrite=None)
        _scrub_tables(connection, scrub, report, write=False)
        _erase_people(session, people, references, report, now=now, write=False)
        return report
    begin_writing(connection)
    # Rows first, then the chain's lock: the order every command takes them in (its action
    # and people rows, then the lock when its history entry is flushed), so an erasure and a
    # command wait for each other rather than deadlock. The history is read under the lock,
    # so no entry written meanwhile is missed.
    _scrub_tables(connection, scrub, report, write=True)
    _erase_people(session, people, references, report, now=now, write=True)
    session.flush()
    with rewrite_history(connection) as rewrite:
        _plan_history(connection, scrub, report, rewrite=rewrite)
    report.reseal = rewrite.result
    _record(session, report, reason=scrub.text(reason, None), by=by, now=now)
    return report


def _plan_history(
    connection: Connection, scrub: _Scrub, report: Erasure, *, rewrite: HistoryRewrite | None
) -> None:
    c = HistoryEntry.__table__.c
    rows = connection.execute(
        select(c.id, c.action_id, c.old_value, c.new_value, c.note).order_by(c.id)
    ).all()
    for row in rows:
        values: dict[str, str | None] = {}
        for column in ("old_value", "new_value", "note"):
            text = getattr(row, column)
            if text and (scrubbed := scrub.text(text, row.action_id)) != text:
                values[column] = scrubbed
        if values:
            report.history_entries += 1
            report.actions.add(row.action_id)
            if rewrite is not None:
                rewrite.replace(row.id, values)


def _text_columns(table: Table) -> list[Any]:
    return [
        column
        for column in table.columns
        if not column.primary_key
        and not isinstance(column.type, Enum)
        and isinstance(column.type, String | JSON)
    ]


def _scrub_tables(connection: Connection, scrub: _Scrub, report: Erasure, *, write: bool) -> None:
    for table in Base.metadata.sorted_tables:
        if table.name in _OWN_TABLES:
            continue
        columns = _text_columns(table)
        if not columns:
            continue
        keys = list(table.primary_key.columns)
        # Which action a row belongs to, for the plan owners' words replaced in one action.
        action = table.c.id if table.name == "actions" else table.c.get("action_id")
        scope = [action] if action is not None and action not in keys else []
        query = select(*keys, *scope, *columns)
        found: list[Any] = []
        for row in connection.execute(query):
            action_id = row._mapping[action] if action is not None else None
            values = _scrubbed(row, table, columns, scrub, action_id)
            if not values:
                continue
            found.append(and_(*(k == row._mapping[k] for k in keys)))
            for name in values:
                report.fields[f"{table.name}.{name}"] += 1
            if action_id is not None:
                report.actions.add(int(action_id))
        if not write or not found:
            continue
        with updates_allowed(connection, table.name):
            _rewrite_rows(connection, table, query, found, scrub, action)


def _rewrite_rows(
    connection: Connection,
    table: Table,
    query: Any,
    found: Sequence[Any],
    scrub: _Scrub,
    action: Any,
) -> None:
    for where in found:
        # Read again under the row's lock (PostgreSQL; SQLite holds the whole database),
        # so a change a command made since the scan is scrubbed, not overwritten.
        locked = connection.execute(query.where(where).with_for_update()).first()
        if locked is None:
            continue
        action_id = locked._mapping[action] if action is not None else None
        values = _scrubbed(locked, table, _text_columns(table), scrub, action_id)
        if not values:
            continue
        if table.name == "actions":
            # Optimistic locking: a command holding the old version must read it again.
            values["version"] = table.c.version + 1
        connection.execute(update(table).where(where).values(**values))


def _scrubbed(
    row: Any, table: Table, columns: Sequence[Any], scrub: _Scrub, action_id: int | None
) -> dict[str, Any]:
    """The new values of `row`'s text columns that name someone forgotten."""
    values: dict[str, Any] = {}
    for column in columns:
        value = row._mapping[column]
        if value is None:
            continue
        if isinstance(column.type, JSON):
            scrubbed = scrub.json(value, action_id)
        else:
            width = getattr(column.type, "length", None)
            scrubbed = scrub.text(value, action_id)
            scrubbed = scrubbed[:width] if width else scrubbed
        if scrubbed != value:
            values[column.name] = scrubbed
    if table.name == "actions" and action_id in scrub.owners:
        # The plan's words for an owner nobody answers to are the owner's name: gone.
        values["owner_text"] = None
    return values


def _erase_people(
    session: Session,
    people: Sequence[Person],
    references: dict[int, list[TeamsReference]],
    report: Erasure,
    *,
    now: dt.datetime,
    write: bool,
) -> None:
    for person in people:
        name = pseudonym(person.id)
        report.people.append((person.id, name))
        report.accounts += [
            f"{identity.platform.value} {identity.external_id}" for identity in person.identities
        ]
        report.names_removed += len(person.names)
        report.references_removed += len(references[person.id])
        waiting = (
            OutboxMessage.recipient_id == person.id,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        if not write:
            report.cancelled += len(session.scalars(select(OutboxMessage.id).where(*waiting)).all())
            continue
        for reference in references[person.id]:
            session.delete(reference)
        # Only what is still pending: a message a worker has claimed goes out (to nobody who
        # can read it any more) and its evidence is scrubbed like the rest.
        cancelled = session.execute(
            update(OutboxMessage)
            .where(*waiting)
            .values(status=OutboxStatus.CANCELLED, last_error=CANCELLED_ERASED)
            .execution_options(synchronize_session=False)
        )
        report.cancelled += int(getattr(cancelled, "rowcount", 0))
        # The DM they were sent messages in is a chat id of theirs too; without a channel the
        # message's buttons are no longer looked for (bot/outbox/retract.py).
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.recipient_id == person.id)
            .values(platform_channel=None, platform_ref=None)
        )
        person.identities.clear()
        person.names.clear()
        person.display_name = name
        person.email = None
        person.job_title = None
        person.organisation = None
        person.left_at = person.left_at or now
        person.left_reason = ERASED_REASON


def _teams_references(session: Session, person: Person) -> list[TeamsReference]:
    teams_ids = [i.external_id for i in person.identities if i.platform == Platform.TEAMS]
    conditions: list[ColumnElement[bool]] = [
        TeamsReference.key.in_([f"user:{tid}" for tid in teams_ids])
    ]
    conditions.append(TeamsReference.user_id.in_(teams_ids))
    if person.email:
        conditions.append(TeamsReference.email == person.email)
    if not teams_ids and not person.email:
        return []
    return list(session.scalars(select(TeamsReference).where(or_(*conditions))).all())


def _record(session: Session, report: Erasure, *, reason: str, by: str, now: dt.datetime) -> None:
    """An `erased` entry on each action whose row or trail changed: who, by whom, why, and the
    chain's head before the re-seal, so an inspector can tell a re-seal from tampering."""
    if not report.actions:
        return
    reseal = report.reseal
    erased = [f"{name} (person {pid})" for pid, name in report.people]
    if report.owner_texts:
        erased.append(
            "the owner named by the plan on "
            + ", ".join(f"#{action_id}" for action_id in report.owner_texts)
        )
    note = f"Personal data erased: {'; '.join(erased)}; by {by}"
    note += f"; reason: {reason.strip()}" if reason.strip() else ""
    if reseal is not None and reseal.first_id is not None:
        note += (
            f". History re-sealed from entry #{reseal.first_id}; "
            f"the chain's head before was {reseal.old_head}"
        )
    for action_id in sorted(report.actions):
        session.add(
            HistoryEntry(
                action_id=action_id,
                at=now,
                actor_id=None,
                source=PRIVACY_SOURCE,
                change=ERASED,
                field=None,
                old_value=reseal.old_head if reseal is not None else None,
                new_value=None,
                note=note,
            )
        )
    session.flush()
    report.recorded = len(report.actions)


#: Times an erasure is tried when the database gives it up to break a deadlock.
ATTEMPTS = 3
#: PostgreSQL's deadlock_detected and serialization_failure.
_RETRYABLE = frozenset({"40P01", "40001"})


def retried(sessions: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    """`work` in one transaction, tried again when PostgreSQL broke a deadlock by cancelling it.

    A command holding its action's row waits for the chain's lock an erasure holds while the
    erasure waits for the history table that command read: the database cancels one of them.
    """
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction(sessions) as session:
                return work(session)
        except DBAPIError as exc:
            if attempt == ATTEMPTS or getattr(exc.orig, "sqlstate", None) not in _RETRYABLE:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def find_subject(session: Session, who: str) -> Person | None:
    """The person `who` names: an email, `person:N` (their id, as exports and mentions show
    it), or a chat account id (a Slack or Teams user id, a console name) for someone the bot
    never learnt an email of."""
    text = who.strip()
    if "@" in text:
        return find_by_email(session, email=text)
    if text.lower().startswith("person:") and text[7:].isdigit():
        return session.get(Person, int(text[7:]))
    account = session.scalars(
        select(Identity).where(Identity.external_id.in_({text, text.lower()}))
    ).first()
    return account.person if account is not None else None


def refusal(session: Session, person: Person) -> str | None:
    """Why `person` cannot be forgotten as they are, or None."""
    held = session.execute(
        select(BoardMember.role, Board.id, Board.name)
        .join(Board, Board.id == BoardMember.board_id)
        .where(BoardMember.person_id == person.id)
        .order_by(Board.id)
    ).first()
    if held is not None:
        # Their role is on record with its own trail (role_changes): it is taken away there.
        role, board_id, name = held
        where = "the board" if board_id == DEFAULT_BOARD_ID else f"the board {name}"
        return (
            f"{person.display_name} holds the role {role.value} on {where}: take it "
            "away first (`actionbot people role EMAIL none`), then forget them"
        )
    return None


def unknown_subject(who: str) -> str:
    """What to say when `find_subject` finds nobody."""
    if "@" in who:
        return f"nobody has the email {who.strip()!r}"
    return f"nobody is known as {who.strip()!r} (give an email, person:N or a chat user id)"


# --- subject access -------------------------------------------------------------------------


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _action_brief(action: Action) -> dict[str, Any]:
    return {
        "id": action.id,
        "ref": action.ref,
        "title": action.title,
        "status": action.status.value,
        "due": _iso(action.due_date),
    }


def export_person(session: Session, person: Person, *, now: dt.datetime) -> dict[str, Any]:
    """Everything the database holds about `person`, as JSON-ready data."""
    matcher = Matcher([target_of(session, person)])
    owned = session.scalars(select(Action).where(Action.owner_id == person.id).order_by(Action.id))
    supported = session.scalars(
        select(Action)
        .join(Supporter, Supporter.action_id == Action.id)
        .where(Supporter.person_id == person.id)
        .order_by(Action.id)
    )
    history: list[dict[str, Any]] = []
    for entry in session.scalars(select(HistoryEntry).order_by(HistoryEntry.id)):
        why = []
        if entry.actor_id == person.id:
            why.append("made by them")
        if any(matcher.names(t) for t in (entry.old_value, entry.new_value, entry.note)):
            why.append("names them")
        if why:
            history.append(
                {
                    "id": entry.id,
                    "action_id": entry.action_id,
                    "at": _iso(entry.at),
                    "source": entry.source,
                    "change": entry.change,
                    "field": entry.field,
                    "old_value": entry.old_value,
                    "new_value": entry.new_value,
                    "note": entry.note,
                    "why": why,
                }
            )
    messages: list[dict[str, Any]] = []
    mentioned: list[dict[str, Any]] = []
    for message in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)):
        if message.recipient_id == person.id:
            messages.append(
                {
                    "id": message.id,
                    "kind": message.kind,
                    "status": message.status.value,
                    "action_id": message.action_id,
                    "created_at": _iso(message.created_at),
                    "sent_at": _iso(message.sent_at),
                    "platform": message.platform,
                    "platform_channel": message.platform_channel,
                    "platform_ref": message.platform_ref,
                    "last_error": message.last_error,
                    "payload": message.payload,
                }
            )
        elif matcher.names(message.channel) or _json_names(matcher, message.payload):
            mentioned.append(
                {"id": message.id, "kind": message.kind, "channel": message.channel,
                 "created_at": _iso(message.created_at), "payload": message.payload}
            )  # fmt: skip
    actions_naming = [
        _action_brief(action)
        for action in session.scalars(select(Action).order_by(Action.id))
        if action.owner_id != person.id
        and any(
            matcher.names(t)
            for t in (action.title, action.notes, action.blocked_reason, action.owner_text,
                      action.success_measure)
        )
    ]  # fmt: skip
    return {
        "exported_at": _iso(now),
        "person": {
            "id": person.id,
            "display_name": person.display_name,
            "email": person.email,
            "roles": {
                str(board_id): role.value
                for board_id, role in session.execute(
                    select(BoardMember.board_id, BoardMember.role).where(
                        BoardMember.person_id == person.id
                    )
                )
            },
            "job_title": person.job_title,
            "organisation": person.organisation,
            "created_at": _iso(person.created_at),
            "left_at": _iso(person.left_at),
            "left_reason": person.left_reason,
        },
        "accounts": [
            {"platform": i.platform.value, "external_id": i.external_id} for i in person.identities
        ],
        "directory_names": [{"kind": n.kind, "text": n.text} for n in person.names],
        "teams_conversation_references": [
            {
                "key": r.key,
                "user_id": r.user_id,
                "name": r.name,
                "email": r.email,
                "conversation_id": r.conversation_id,
                "conversation_type": r.conversation_type,
                "tenant_id": r.tenant_id,
                "service_url": r.service_url,
                "updated_at": _iso(r.updated_at),
            }
            for r in _teams_references(session, person)
        ],
        "actions_owned": [_action_brief(a) for a in owned],
        "actions_supported": [_action_brief(a) for a in supported],
        "actions_naming_them": actions_naming,
        "history": history,
        "messages_to_them": messages,
        "messages_naming_them": mentioned,
        "other_records": _other_records(session, person, matcher),
        "not_held": {
            "digest_snapshots": "counts of actions by status only; no personal data",
        },
    }


#: Tables the export reads field by field above.
_EXPORTED = frozenset(
    {"people", "identities", "person_names", "teams_references", "actions", "action_supporters"}
    | {"action_history", "outbox", "digest_snapshots"}
)


def _other_records(session: Session, person: Person, matcher: Matcher) -> dict[str, Any]:
    """Rows of every other table (roles, evidence, requests, settings, and any added later)
    that point at the person or whose text names them."""
    records: dict[str, Any] = {}
    connection = session.connection()
    for table in Base.metadata.sorted_tables:
        if table.name in _EXPORTED:
            continue
        theirs = [
            column
            for column in table.columns
            if any(fk.column.table.name == "people" for fk in column.foreign_keys)
        ]
        texts = _text_columns(table)
        rows = []
        for row in connection.execute(select(table)):
            values = row._mapping
            if any(values[c] == person.id for c in theirs) or any(
                _json_names(matcher, values[c])
                if isinstance(c.type, JSON)
                else matcher.names(values[c])
                for c in texts
            ):
                rows.append({c.name: _jsonable(values[c]) for c in table.columns})
        if rows:
            records[table.name] = rows
    return records


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, str | int | float | bool | dict | list) or value is None:
        return value
    return str(value)


def _json_names(matcher: Matcher, value: Any) -> bool:
    return bool(matcher.scrub_json(value) != value)


# --- retention ------------------------------------------------------------------------------


def months_before(now: dt.datetime, months: int) -> dt.datetime:
    """`now` moved back `months` calendar months (the 31st becomes the month's last day)."""
    index = now.year * 12 + (now.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    last_day = (following - dt.timedelta(days=1)).day
    return now.replace(year=year, month=month, day=min(now.day, last_day))


@dataclass
class Retention:
    """Who retention forgets (or would), and what that changes."""

    months: int
    cutoff: dt.datetime
    expired_actions: int
    people: list[tuple[int, str]]
    erasure: Erasure


def expired_action_ids(session: Session, cutoff: dt.datetime) -> set[int]:
    """Actions closed (done or cancelled) before `cutoff`."""
    closed_before = or_(
        and_(Action.done_at.is_not(None), Action.done_at < cutoff),
        and_(Action.done_at.is_(None), Action.updated_at < cutoff),
    )
    query = select(Action.id).where(Action.status.in_(_CLOSED), closed_before)
    return set(session.scalars(query).all())


def retention_candidates(
    session: Session, *, settings: Settings, cutoff: dt.datetime
) -> tuple[set[int], list[Person]]:
    """The expired actions, and the people whose only involvement is in them."""
    expired = expired_action_ids(session, cutoff)
    if not expired:
        return expired, []
    linked: set[int] = set()
    active: set[int] = set()
    for action_id, owner_id in session.execute(select(Action.id, Action.owner_id)):
        if owner_id is not None:
            (linked if action_id in expired else active).add(owner_id)
    for action_id, person_id in session.execute(select(Supporter.action_id, Supporter.person_id)):
        (linked if action_id in expired else active).add(person_id)
    for action_id, actor_id, at, texts in _history_people(session):
        mentioned = {int(pid) for text in texts if text for pid in _TOKEN_ID.findall(text)}
        involved = mentioned | ({actor_id} if actor_id is not None else set())
        if action_id in expired:
            linked |= involved
        if at >= cutoff and actor_id is not None:
            active.add(actor_id)  # acted lately, on anything
    for action in session.scalars(select(Action).where(Action.id.in_(expired))):
        for text in (action.title, action.notes, action.blocked_reason):
            linked |= {int(pid) for pid in _TOKEN_ID.findall(text or "")}
    active |= {p.id for p in session.scalars(select(Person)) if named_chair(p, settings)}
    # A role on a board is a current place on it, whatever the actions say.
    active |= set(session.scalars(select(BoardMember.person_id)).all())
    ids = linked - active
    if not ids:
        return expired, []
    people = session.scalars(select(Person).where(Person.id.in_(ids)).order_by(Person.id)).all()
    return expired, [p for p in people if not is_forgotten(p)]


def _history_people(
    session: Session,
) -> Iterable[tuple[int, int | None, dt.datetime, tuple[str | None, ...]]]:
    c = HistoryEntry.__table__.c
    query = select(c.action_id, c.actor_id, c.at, c.old_value, c.new_value, c.note)
    for row in session.execute(query):
        at = row.at if row.at.tzinfo is not None else row.at.replace(tzinfo=dt.UTC)
        yield row.action_id, row.actor_id, at, (row.old_value, row.new_value, row.note)


def apply_retention(
    session: Session, *, settings: Settings, months: int, now: dt.datetime, dry_run: bool
) -> Retention:
    """Forget the people of actions closed more than `months` ago who have nothing else; with
    `dry_run`, only say who and what (the caller rolls back)."""
    cutoff = months_before(now, months)
    expired, people = retention_candidates(session, settings=settings, cutoff=cutoff)
    named = [(p.id, p.display_name) for p in people]
    owners = {
        action_id: text
        for action_id, text in session.execute(
            select(Action.id, Action.owner_text).where(
                Action.id.in_(expired), Action.owner_text.is_not(None)
            )
        )
        if text
    }
    erasure = erase(
        session,
        people,
        now=now,
        reason=f"retention: actions closed more than {months} months ago",
        by=f"the retention rule (RETENTION_MONTHS={months})",
        dry_run=dry_run,
        owner_texts=owners,
    )
    return Retention(months, cutoff, len(expired), named, erasure)
