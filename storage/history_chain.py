"""The history's hash chain: each entry is sealed with a hash of its content and of the entry
before it, so an entry changed, removed or slipped in behind the bot's back is found.

The database already refuses UPDATE and DELETE on `action_history` (triggers since migration
0001); the chain is what shows, afterwards, that nobody went around those triggers. A board
pack exported with `--history` carries the hashes, so a rewritten chain also disagrees with
the packs handed out before it.

Sealing happens in one place, a `before_insert` hook on `HistoryEntry` (installed by the model
itself), so every writer through the ORM seals its entries without knowing it. The chain is
global, in id order; `CHAIN` is the one chain's key, which a per-board chain would replace by
the board's id (in the lock key and the tail query).

Two writers must never link to the same previous entry. The hook reads the tail of the chain
once per flush, inside a lock held until the transaction ends: PostgreSQL's transaction-level
advisory lock; on SQLite the database's write lock (taken with BEGIN IMMEDIATE when the
transaction has not written yet). A unique index on `prev_hash` makes a fork impossible even
for a writer that skipped the lock: the second link to one entry is refused.

One thing rewrites entries: erasing a person's personal data (bot/people/privacy.py). Their
names live in the entries' texts (`assigned` holds the owner's name, notes mention people), so
hashing only what never changes would leave most of an entry unprotected. Instead
`rewrite_history` replaces the texts under the lifted UPDATE guard and re-seals the chain from
the first entry changed; the erasure then appends an entry that keeps the old head, so the
chain verifies and an inspector holding an older board pack can see why its hashes differ.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    create_engine,
    event,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapper, Session, object_session

from storage.models import HistoryEntry

#: The `prev_hash` of the first entry of a chain.
GENESIS = "0" * 64
#: The key of the one chain there is (and of its advisory lock); per board, the board's id.
CHAIN = 0
#: First half of PostgreSQL's two-integer advisory lock key, "the history chain": any constant
#: no other lock uses, fixed so that every version of the bot takes the same lock.
_LOCK_CLASS = 0x2A1C_4E57
#: Where a flush keeps what it knows of the chain's tail (Session.info).
_TAIL = "storage.history_chain.tail"
#: Rows read at a time when the chain is checked.
_BATCH = 2000


def seal_hash(
    *,
    entry_id: int,
    action_id: int,
    at: dt.datetime,
    actor_id: int | None,
    source: str,
    change: str,
    field: str | None,
    old_value: str | None,
    new_value: str | None,
    note: str | None,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of an entry's content and the previous entry's hash.

    The content is a JSON array in a fixed order, ASCII-escaped (so any text, even one Python
    could not encode as UTF-8, has one byte form), `at` as UTC ISO 8601 to the microsecond.
    Migration 0008 writes this out again for the entries it seals: change both or neither.
    """
    content = [
        "v1",
        entry_id,
        action_id,
        utc_iso(at),
        actor_id,
        source,
        change,
        field,
        old_value,
        new_value,
        note,
        prev_hash,
    ]
    encoded = json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    return hashlib.sha256(encoded).hexdigest()


def utc_iso(at: dt.datetime) -> str:
    """`at` in UTC, ISO 8601 to the microsecond; a naive value (SQLite keeps no zone) is UTC."""
    utc = at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)
    return utc.isoformat(timespec="microseconds")


# --- sealing ---------------------------------------------------------------------------------


@dataclass
class _Tail:
    """The chain's end as one flush sees it, with ids reserved for the entries it inserts."""

    prev_hash: str
    ids: list[int] = field(default_factory=list)
    next_id: int | None = None  # SQLite: ids are counted on from the last one


def install() -> None:
    """Seal every HistoryEntry the ORM inserts (idempotent; called by the model)."""
    if event.contains(HistoryEntry, "before_insert", _seal):
        return
    event.listen(HistoryEntry, "before_insert", _seal)
    # Each flush reads the tail afresh: a rolled-back flush or savepoint may have taken
    # entries away, and the lock (held to the end of the transaction) makes the read cheap.
    event.listen(Session, "before_flush", _forget_tail)
    event.listen(Session, "after_soft_rollback", _forget_tail_after_rollback)


def _forget_tail(session: Session, *_args: Any) -> None:
    session.info.pop(_TAIL, None)


def _forget_tail_after_rollback(session: Session, _previous: Any) -> None:
    session.info.pop(_TAIL, None)


def _seal(_mapper: Mapper[Any], connection: Connection, entry: HistoryEntry) -> None:
    session = object_session(entry)
    if session is None:  # pragma: no cover - the ORM inserts only what a session holds
        raise RuntimeError("a history entry is inserted outside a session")
    tail: _Tail | None = session.info.get(_TAIL)
    if tail is None:
        # The entries this flush inserts, so PostgreSQL hands out their ids in one query.
        count = sum(1 for obj in session.new if isinstance(obj, HistoryEntry))
        tail = _lock_and_read_tail(connection, max(count, 1))
        session.info[_TAIL] = tail
    entry.id = _take_id(connection, tail)
    entry.prev_hash = tail.prev_hash
    # Foreign keys are synchronised before this hook: action_id is set even for an action
    # inserted in the same flush.
    entry.hash = _entry_hash(entry, entry.prev_hash)
    tail.prev_hash = entry.hash


def _lock_and_read_tail(connection: Connection, count: int) -> _Tail:
    _lock_chain(connection)
    if connection.dialect.name == "postgresql":
        # Read the tail in a statement after the lock's, whose snapshot is taken once the lock
        # is held (READ COMMITTED) and so sees the last writer's rows.
        row = connection.execute(
            text(
                "SELECT (SELECT hash FROM action_history WHERE hash IS NOT NULL "
                "ORDER BY id DESC LIMIT 1), "
                "ARRAY(SELECT nextval(pg_get_serial_sequence('action_history', 'id')) "
                "FROM generate_series(1, :n) ORDER BY 1)"
            ),
            {"n": count},
        ).one()
        return _Tail(prev_hash=row[0] or GENESIS, ids=sorted(int(i) for i in row[1]))
    row = connection.execute(
        text(
            "SELECT (SELECT max(id) FROM action_history), "
            "(SELECT hash FROM action_history WHERE hash IS NOT NULL ORDER BY id DESC LIMIT 1)"
        )
    ).one()
    return _Tail(prev_hash=row[1] or GENESIS, next_id=int(row[0] or 0) + 1)


def _lock_chain(connection: Connection) -> None:
    """Hold the chain's lock until the transaction ends."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        # Released by COMMIT or ROLLBACK.
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:cls, :key)"), {"cls": _LOCK_CLASS, "key": CHAIN}
        )
    elif dialect == "sqlite":
        begin_writing(connection)


def begin_writing(connection: Connection) -> None:
    """On SQLite, hold the database's write lock from now to the end of the transaction.

    pysqlite begins a transaction only before its first write; until then a read sees a
    moment another writer may already have moved past. BEGIN IMMEDIATE takes the write lock
    first, so what this transaction reads is what it writes over (the chain's tail, or rows an
    erasure rewrites). PostgreSQL needs no such step: its writers lock what they change.
    """
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _take_id(connection: Connection, tail: _Tail) -> int:
    if tail.next_id is not None:
        taken = tail.next_id
        tail.next_id += 1
        return taken
    if not tail.ids:
        # More entries than counted at the flush's start (one cascaded in during the flush):
        # the lock is still held, so the sequence's next value still comes after the tail.
        tail.ids.append(
            int(
                connection.execute(
                    text("SELECT nextval(pg_get_serial_sequence('action_history', 'id'))")
                ).scalar_one()
            )
        )
    return tail.ids.pop(0)


# --- checking --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mismatch:
    """The first entry that does not match, and why."""

    entry_id: int
    action_id: int
    at: dt.datetime
    reason: str

    def describe(self) -> str:
        return (
            f"history entry #{self.entry_id} (action #{self.action_id}, "
            f"{self.at.astimezone(dt.UTC).isoformat(timespec='seconds')}) does not match: "
            f"{self.reason}"
        )


@dataclass(frozen=True)
class ChainReport:
    """What checking the chain found: how many entries, and the first that does not match."""

    entries: int
    mismatch: Mismatch | None

    @property
    def intact(self) -> bool:
        return self.mismatch is None

    def describe(self) -> str:
        if self.mismatch is None:
            return f"{self.entries:,} entries, chain intact"
        return self.mismatch.describe()


_COLUMNS = HistoryEntry.__table__.c


def check_rows(rows: Iterable[Any]) -> ChainReport:
    """Walk `rows` (id order, with the columns of `_query`) and report the first mismatch."""
    expected_prev = GENESIS
    previous_id: int | None = None
    count = 0
    for row in rows:
        count += 1
        reason = _mismatch(row, expected_prev, previous_id)
        if reason is not None:
            return ChainReport(count, Mismatch(row.id, row.action_id, row.at, reason))
        expected_prev, previous_id = row.hash, row.id
    return ChainReport(count, None)


def _mismatch(row: Any, expected_prev: str, previous_id: int | None) -> str | None:
    if row.hash is None or row.prev_hash is None:
        return "it is not sealed (written around the bot, or hashes removed)"
    recomputed = _entry_hash(row, row.prev_hash)
    if recomputed != row.hash:
        return "content changed (its hash does not match what it holds now)"
    if row.prev_hash != expected_prev:
        if previous_id is None:
            return "chain broken: it is the first entry but links to an earlier one (removed?)"
        return (
            f"chain broken: it does not link to entry #{previous_id} before it "
            "(an entry between them is missing, or that one was rewritten)"
        )
    return None


def _entry_hash(entry: Any, prev_hash: str) -> str:
    """The hash of a history entry (a HistoryEntry or a row of `_query`) linked to `prev_hash`."""
    return seal_hash(
        entry_id=entry.id,
        action_id=entry.action_id,
        at=entry.at,
        actor_id=entry.actor_id,
        source=entry.source,
        change=entry.change,
        field=entry.field,
        old_value=entry.old_value,
        new_value=entry.new_value,
        note=entry.note,
        prev_hash=prev_hash,
    )


def _query() -> Any:
    c = _COLUMNS
    return select(
        c.id, c.action_id, c.at, c.actor_id, c.source, c.change, c.field,
        c.old_value, c.new_value, c.note, c.prev_hash, c.hash,
    ).order_by(c.id)  # fmt: skip


def _stream(connection: Connection) -> Iterator[Any]:
    result = connection.execution_options(yield_per=_BATCH).execute(_query())
    yield from result


def verify(engine: Engine) -> ChainReport:
    """Check the whole chain of the database behind `engine`, in one read transaction."""
    with engine.connect() as connection:
        return check_rows(_stream(connection))


def verify_url(url: str) -> ChainReport:
    """Check the chain of the database at `url`."""
    engine = create_engine(url)
    try:
        return verify(engine)
    finally:
        engine.dispose()


def restore_check(url: str) -> str | None:
    """storage.backup.restore's check: the restored copy's history must verify."""
    report = verify_url(url)
    return None if report.intact else report.describe()


# --- rewriting (erasure) ---------------------------------------------------------------------

#: The append-only guard on UPDATE (migration 0001), as each database writes it.
_UPDATE_GUARD = {
    "postgresql": (
        "CREATE TRIGGER action_history_no_update BEFORE UPDATE ON action_history "
        "FOR EACH ROW EXECUTE FUNCTION action_history_append_only()"
    ),
    "sqlite": (
        "CREATE TRIGGER action_history_no_update BEFORE UPDATE ON action_history "
        "BEGIN SELECT RAISE(ABORT, 'action_history is append-only'); END"
    ),
}
_DROP_UPDATE_GUARD = {
    "postgresql": "DROP TRIGGER action_history_no_update ON action_history",
    "sqlite": "DROP TRIGGER action_history_no_update",
}
#: The text columns an erasure may rewrite; everything else of an entry stays as written.
REWRITABLE = ("old_value", "new_value", "note")


@dataclass
class Reseal:
    """What a rewrite did to the chain: its head before, the first entry sealed again, after."""

    old_head: str
    new_head: str
    first_id: int | None = None
    rewritten: int = 0
    resealed: int = 0


@dataclass
class HistoryRewrite:
    """Entries' texts replaced inside `rewrite_history`; `result` is set when the block ends."""

    connection: Connection
    old_head: str
    changes: dict[int, dict[str, str | None]] = field(default_factory=dict)
    result: Reseal | None = None

    def replace(self, entry_id: int, values: dict[str, str | None]) -> None:
        """Replace some of `REWRITABLE` of entry `entry_id` (applied when the block ends)."""
        unknown = set(values) - set(REWRITABLE)
        if unknown:
            raise ValueError(f"history columns that may not be rewritten: {sorted(unknown)}")
        self.changes.setdefault(entry_id, {}).update(values)


@contextmanager
def rewrite_history(connection: Connection) -> Iterator[HistoryRewrite]:
    """Rewrite history texts (an erasure of personal data) and re-seal the chain after them.

    The only way the bot ever changes a history entry, in the caller's transaction: the chain's
    lock is taken (as for an insert), the UPDATE guard is dropped, the texts are replaced, every
    entry from the first one changed to the end is sealed again in order, and the guard is put
    back. DDL is transactional on PostgreSQL and SQLite, so a failure anywhere rolls back the
    guard's removal with the rest; on PostgreSQL the dropped trigger also holds the table's
    exclusive lock until the end of the transaction. The DELETE guard is never lifted: entries
    keep their rows. The caller records the re-seal (who, why, the old head) as a new entry.
    """
    _lock_chain(connection)
    old_head = _head(connection)
    rewrite = HistoryRewrite(connection, old_head)
    yield rewrite
    if not rewrite.changes:
        rewrite.result = Reseal(old_head=old_head, new_head=old_head)
        return
    dialect = connection.dialect.name
    drop, guard = _DROP_UPDATE_GUARD.get(dialect), _UPDATE_GUARD.get(dialect)
    if drop is not None:
        connection.exec_driver_sql(drop)
    for entry_id, values in sorted(rewrite.changes.items()):
        connection.execute(update(HistoryEntry).where(_COLUMNS.id == entry_id).values(**values))
    first = min(rewrite.changes)
    resealed = _reseal_from(connection, first)
    if guard is not None:
        connection.exec_driver_sql(guard)
    rewrite.result = Reseal(
        old_head=old_head,
        new_head=_head(connection),
        first_id=first,
        rewritten=len(rewrite.changes),
        resealed=resealed,
    )


def _head(connection: Connection) -> str:
    head = connection.execute(
        select(_COLUMNS.hash)
        .where(_COLUMNS.hash.is_not(None))
        .order_by(_COLUMNS.id.desc())
        .limit(1)
    ).first()
    return str(head[0]) if head is not None else GENESIS


def _reseal_from(connection: Connection, first_id: int) -> int:
    # The entry before the first one changed keeps its hash: the chain is sealed on from it.
    before = connection.execute(
        select(_COLUMNS.hash).where(_COLUMNS.id < first_id).order_by(_COLUMNS.id.desc()).limit(1)
    ).first()
    prev = before[0] if before is not None and before[0] is not None else GENESIS
    seals: list[dict[str, Any]] = []
    for row in connection.execute(_query().where(_COLUMNS.id >= first_id)).all():
        sealed = _entry_hash(row, prev)
        seals.append({"entry": row.id, "prev": prev, "sealed": sealed})
        prev = sealed
    statement = (
        update(HistoryEntry)
        .where(_COLUMNS.id == bindparam("entry"))
        .values(prev_hash=bindparam("prev"), hash=bindparam("sealed"))
    )
    # Links move forward one entry at a time; the unique index on prev_hash is checked per row,
    # and a new hash never equals an old one, so no step meets a link still to be replaced.
    for start in range(0, len(seals), _BATCH):
        connection.execute(statement, seals[start : start + _BATCH])
    return len(seals)
