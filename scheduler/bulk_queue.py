"""Turning due reminders into outbox rows in bulk: keys computed in Python, one existence
query, one multi-row INSERT … ON CONFLICT DO NOTHING. The statement count does not grow
with the number of actions, and two workers planning at once queue each key once.

Rows hold a small deferred payload (bot.outbox.deferred), not the rendered message: the
outbox renders it when it sends it, so planning a large plan stays cheap and a notice that
no longer applies by then is withdrawn instead of sent."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import OutboxMessage, OutboxStatus


@dataclass(frozen=True, slots=True)
class Planned:
    """A message the scheduler wants queued: ids and a deferred payload, no ORM objects."""

    key: str
    kind: str
    recipient_id: int
    action_id: int
    #: The action's board: the outbox row names it.
    board_id: int
    #: A bot.outbox.deferred payload; rows planned in one pass may share one dict.
    payload: dict[str, Any]


def existing_keys(session: Session, *, kinds: Collection[str], since: dt.datetime) -> set[str]:
    """Keys of `kinds` queued since `since` (index ix_outbox_kind_created), in one query."""
    query = select(OutboxMessage.key).where(
        OutboxMessage.kind.in_(sorted(kinds)), OutboxMessage.created_at >= since
    )
    return set(session.scalars(query))


def queue_planned(
    session: Session, planned: Sequence[Planned], *, now: dt.datetime, since: dt.datetime
) -> Counter[str]:
    """Queue the planned messages whose keys are new; returns how many of each kind."""
    if not planned:
        return Counter()
    known = existing_keys(session, kinds={p.kind for p in planned}, since=since)
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in planned:
        if item.key in known or item.key in seen:
            continue
        seen.add(item.key)
        rows.append(
            {
                "board_id": item.board_id,
                "key": item.key,
                "kind": item.kind,
                "recipient_id": item.recipient_id,
                "channel": None,
                "action_id": item.action_id,
                "payload": item.payload,
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "not_before": now,
                "created_at": now,
            }
        )
    if rows:
        # One Core executemany (psycopg pipelines it; SQLite runs it in one call), not the
        # ORM's row-by-row bulk path. ON CONFLICT DO NOTHING settles a race with another
        # worker planning at the same moment.
        session.connection().execute(_insert_ignoring_duplicates(session), rows)
    return Counter(row["kind"] for row in rows)


_OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]


def _insert_ignoring_duplicates(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(_OUTBOX).on_conflict_do_nothing(index_elements=["key"])
    if dialect == "sqlite":
        return sqlite.insert(_OUTBOX).on_conflict_do_nothing(index_elements=["key"])
    return insert(_OUTBOX)  # pragma: no cover - only the two supported databases


def local_midnight(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """The instant `day` starts in `tz`."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz)
