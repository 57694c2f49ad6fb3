"""Notifications are written to the outbox in the same transaction as the change they report.

Delivery happens after commit (at once for commands, on the worker's tick otherwise), so a
crash can delay a message but never lose it; the unique key stops a second copy being queued.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.render.model import Message
from storage.models import Action, OutboxMessage, OutboxStatus, Person


def enqueue(
    session: Session,
    *,
    board_id: int,
    key: str,
    kind: str,
    message: Message,
    now: dt.datetime,
    recipient: Person | None = None,
    channel: str | None = None,
    action: Action | None = None,
    not_before: dt.datetime | None = None,
) -> int | None:
    """Queue `message` of the board `board_id` under `key`; returns its outbox id, or None if
    that key was queued before."""
    if (recipient is None) == (channel is None):
        raise ValueError("a message goes to exactly one of a recipient or a channel")
    values = {
        "board_id": board_id,
        "key": key,
        "kind": kind,
        "recipient_id": recipient.id if recipient else None,
        "channel": channel,
        "action_id": action.id if action else None,
        "payload": message.model_dump(mode="json"),
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "not_before": not_before or now,
        "created_at": now,
    }
    dialect = session.get_bind().dialect.name
    # ON CONFLICT DO NOTHING: a key queued before (another worker, a re-run) is not queued again.
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(OutboxMessage).on_conflict_do_nothing(index_elements=["key"])
    elif dialect == "sqlite":
        stmt = sqlite.insert(OutboxMessage).on_conflict_do_nothing(index_elements=["key"])
    else:  # pragma: no cover - only the two supported databases reach here
        stmt = insert(OutboxMessage)
    result = session.execute(stmt.values(values).returning(OutboxMessage.id))
    return result.scalar_one_or_none()


def notify_people(
    session: Session,
    *,
    board_id: int,
    kind: str,
    people: Iterable[Person],
    message: Message,
    now: dt.datetime,
    action: Action | None = None,
    skip: Person | None = None,
) -> list[int]:
    """Queue one direct message per person (skipping `skip`, who caused it); returns outbox ids."""
    event = uuid.uuid4().hex
    ids: list[int] = []
    seen: set[int] = set()
    for person in people:
        if (skip is not None and person.id == skip.id) or person.id in seen:
            continue
        seen.add(person.id)
        outbox_id = enqueue(
            session,
            board_id=board_id,
            key=f"{kind}:{event}:{person.id}",
            kind=kind,
            message=message,
            now=now,
            recipient=person,
            action=action,
        )
        if outbox_id is not None:
            ids.append(outbox_id)
    return ids
