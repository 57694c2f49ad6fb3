"""One message per person per run: a person's due reminders, nudges and escalations, bundled.

Planning queues each notice under its own key (so the same deadline never nags twice). At
delivery, `gather` takes every due notice of one recipient into one `bundle` row, keyed
`bundle:{person}:{run day}:{n}`, in one transaction: the notices move to BUNDLED only if
they were still claimable, so two workers never put one notice in two bundles, and the
bundle's unique key settles two workers bundling at once. The bundle is worded when its turn
comes, from each action as it is then (a withdrawn notice is left out and marked cancelled;
a bundle with nothing left is cancelled), and its notices are marked sent, with the bundle's
message reference, in the transaction that marks the bundle sent.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import ColumnElement, and_, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.outbox.deferred import NOTICE_KINDS, UnreadableNotice, Withdrawn, notice_item
from bot.render import notices
from bot.render.latest import latest_notes
from bot.render.model import Message
from storage.db import transaction
from storage.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

#: Kind of the outbox row that carries one person's notices of a run.
BUNDLE = "bundle"


class _Lost(Exception):
    """Another worker bundled for this person at the same moment: roll back, theirs stands."""


def deferred_notice() -> ColumnElement[bool]:
    """Rows that go out only inside a bundle: deferred notices to a person."""
    return and_(
        OutboxMessage.kind.in_(NOTICE_KINDS),
        OutboxMessage.recipient_id.is_not(None),
        OutboxMessage.payload["notice"].as_string().is_not(None),
    )


def not_bundled_alone() -> ColumnElement[bool]:
    """The complement of `deferred_notice`, for the delivery's own candidates."""
    return or_(
        OutboxMessage.kind.not_in(NOTICE_KINDS),
        OutboxMessage.recipient_id.is_(None),
        OutboxMessage.payload["notice"].as_string().is_(None),
    )


def gather(
    sessions: Any,
    *,
    now: dt.datetime,
    day: dt.date,
    claimable: ColumnElement[bool],
    kinds: Collection[str] | None = None,
) -> list[int]:
    """Bundle every claimable deferred notice (of `kinds`) per recipient and board (a
    person on two boards gets each board's notices apart); new bundle ids."""
    wanted = sorted(set(NOTICE_KINDS) & set(kinds)) if kinds is not None else list(NOTICE_KINDS)
    if not wanted:
        return []
    with transaction(sessions) as session:
        rows = session.execute(
            select(OutboxMessage.id, OutboxMessage.recipient_id, OutboxMessage.board_id)
            .where(claimable, deferred_notice(), OutboxMessage.kind.in_(wanted))
            .order_by(OutboxMessage.id)
        ).all()
    by_person: dict[tuple[int, int], list[int]] = defaultdict(list)
    for outbox_id, recipient_id, board_id in rows:
        assert recipient_id is not None  # deferred_notice()
        by_person[recipient_id, board_id].append(outbox_id)
    made: list[int] = []
    for (person_id, board_id), ids in by_person.items():
        try:
            with transaction(sessions) as session:
                bundle_id = _bundle(
                    session, person_id, board_id, ids, now=now, day=day, claimable=claimable
                )
        except _Lost:
            log.info("bundle for person %s: another worker bundled first", person_id)
            continue
        if bundle_id is not None:
            made.append(bundle_id)
    return made


def _bundle(
    session: Session,
    person_id: int,
    board_id: int,
    ids: Sequence[int],
    *,
    now: dt.datetime,
    day: dt.date,
    claimable: ColumnElement[bool],
) -> int | None:
    prefix = f"{BUNDLE}:{person_id}:{day.isoformat()}:"
    earlier = session.scalar(
        select(func.count(OutboxMessage.id)).where(OutboxMessage.key.startswith(prefix))
    )
    key = f"{prefix}{(earlier or 0) + 1}"
    # Only notices still claimable are taken: one another worker bundled meanwhile is not.
    taken = sorted(
        session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), claimable)
            .values(status=OutboxStatus.BUNDLED, claimed_at=now, claimed_by=key)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
    )
    if not taken:
        return None
    actions = set(
        session.scalars(select(OutboxMessage.action_id).where(OutboxMessage.id.in_(taken)))
    )
    values = {
        "board_id": board_id,
        "key": key,
        "kind": BUNDLE,
        "recipient_id": person_id,
        "channel": None,
        # One action: the bundle is about it (a reply to the message updates it).
        "action_id": next(iter(actions)) if len(actions) == 1 else None,
        "payload": {"notice": BUNDLE, "today": day.isoformat(), "items": taken},
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "not_before": now,
        "created_at": now,
    }
    result = session.execute(_insert_new(session).values(values).returning(OutboxMessage.id))
    bundle_id: int | None = result.scalar_one_or_none()
    if bundle_id is None:  # the same key from another worker: undo our taking of the notices
        raise _Lost(key)
    return bundle_id


def _insert_new(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(OutboxMessage).on_conflict_do_nothing(index_elements=["key"])
    if dialect == "sqlite":
        return sqlite.insert(OutboxMessage).on_conflict_do_nothing(index_elements=["key"])
    return insert(OutboxMessage)  # pragma: no cover - only the two supported databases


@dataclass(frozen=True)
class Worded:
    """A bundle worded for sending: the message, and the notices it carries."""

    message: Message
    items: tuple[int, ...]


def is_bundle(row: OutboxMessage) -> bool:
    """Whether `row` is a bundle not yet worded (a sent one holds its message instead)."""
    return row.kind == BUNDLE and row.payload.get("notice") == BUNDLE


def word(session: Session, row: OutboxMessage, *, tz: ZoneInfo) -> Worded | Withdrawn:
    """Word a bundle from its notices' actions as they are now, under the bundle's claim.

    Notices that no longer apply are marked cancelled with their reason; one that cannot be
    read is marked failed. With nothing left, the bundle is withdrawn, or raises
    UnreadableNotice when what was left out could not be read.
    """
    ids = [int(i) for i in row.payload.get("items", [])]
    items = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.BUNDLED)
        .order_by(OutboxMessage.id)
    ).all()
    worded: list[notices.BundleItem] = []
    kept: list[int] = []
    # (action, is an escalation) -> (its place in `worded`, the notice's row id)
    latest: dict[tuple[int, bool], tuple[int, int]] = {}
    by_id = {item.id: item for item in items}
    updates = latest_notes(session, {i.action_id for i in items if i.action_id}, tz=tz)
    for item in items:
        try:
            outcome = notice_item(
                session,
                item.payload,
                action_id=item.action_id,
                recipient_id=item.recipient_id,
                latest=updates,
            )
        except (UnreadableNotice, ValidationError) as exc:
            item.status = OutboxStatus.FAILED
            item.last_error = f"unreadable message: {exc}"
            log.error("left %s out of %s: %s", item.key, row.key, item.last_error)
            continue
        if isinstance(outcome, Withdrawn):
            item.status = OutboxStatus.CANCELLED
            item.last_error = outcome.reason
            log.info("withdrew %s from %s: %s", item.key, row.key, outcome.reason)
            continue
        # Catching up after downtime can bring two notices about one action (Monday's and
        # Tuesday's): the latest stands for both, as it would have alone.
        family = (outcome.action.id, outcome.notice == "escalation")
        earlier = latest.get(family)
        if earlier is not None:  # rows come oldest first: this one is the later
            place, older_id = earlier
            worded[place], kept[place] = outcome, item.id
            latest[family] = (place, item.id)
            older = by_id[older_id]
            older.status = OutboxStatus.CANCELLED
            older.last_error = f"not sent: {item.key} about #{outcome.action.id} went instead"
            continue
        latest[family] = (len(worded), item.id)
        worded.append(outcome)
        kept.append(item.id)
    unreadable = [i.last_error for i in items if i.status == OutboxStatus.FAILED]
    if not worded and unreadable:
        # Nothing to send and something went wrong: fail the bundle, so the chairs are told.
        raise UnreadableNotice(str(unreadable[0]).removeprefix("unreadable message: "))
    if not worded:
        reasons = "; ".join(sorted({i.last_error or "" for i in items})) or "no notices"
        return Withdrawn(f"not sent: nothing left to say ({reasons})")
    return Worded(message=notices.bundle(worded), items=tuple(kept))


def settle(
    session: Session,
    items: Sequence[int],
    *,
    status: OutboxStatus,
    values: dict[str, Any],
) -> None:
    """Give a bundle's notices its outcome (sent, failed) in the bundle's own transaction."""
    if not items:
        return
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(items), OutboxMessage.status == OutboxStatus.BUNDLED)
        .values(status=status, **values)
        .execution_options(synchronize_session=False)
    )


def item_kinds(session: Session, row: OutboxMessage) -> set[str]:
    """The kinds of the notices a bundle carries (to name it when it cannot be delivered)."""
    ids = [int(i) for i in row.payload.get("items", [])] if is_bundle(row) else []
    if not ids:
        return set()
    return set(session.scalars(select(OutboxMessage.kind).where(OutboxMessage.id.in_(ids))))
