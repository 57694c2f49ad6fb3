"""Delivery of queued messages: claim a row, send it through a platform, mark it sent.

A row is claimed by a conditional UPDATE (works the same on SQLite and PostgreSQL), so two
workers never both send it; a claim left by a crashed worker expires after CLAIM_LEASE and the
row is sent again — the only window for a duplicate is between the platform's answer and our
commit, as DESIGN.md allows.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import or_, select, update

from bot.render.model import Message
from bot.services.context import Core
from storage.db import transaction
from storage.models import OutboxMessage, OutboxStatus, Person, Platform

log = logging.getLogger(__name__)

CLAIM_LEASE = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 8


class SendError(Exception):
    """A send that failed; `permanent` ones are not retried, others wait `retry_after` seconds."""

    def __init__(self, reason: str, *, permanent: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(frozen=True)
class Delivered:
    """Where a message landed: the platform's channel and message reference (Slack's ts)."""

    channel: str
    ref: str | None = None


class Sender(Protocol):
    """One platform's way of delivering a message."""

    platform: Platform

    def send_to_account(self, external_id: str, message: Message) -> Delivered:
        """Send a direct message to a user of this platform."""
        ...

    def send_to_channel(self, channel: str, message: Message) -> Delivered:
        """Post to a channel or conversation of this platform."""
        ...

    def owns_channel(self, channel: str) -> bool:
        """Whether `channel` is an address of this platform."""
        ...


@dataclass
class DeliveryReport:
    """What one delivery pass did, for the one-line log and for tests."""

    sent: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)

    def summary(self) -> str:
        """`sent 3, retried 1, failed 0`."""
        return f"sent {len(self.sent)}, retried {len(self.retried)}, failed {len(self.failed)}"


def worker_name() -> str:
    """Who claims rows: host and process, shown in the outbox for operators."""
    return f"{socket.gethostname()}:{os.getpid()}"


def deliver(
    core: Core,
    senders: Sequence[Sender],
    *,
    ids: Iterable[int] | None = None,
    limit: int = 200,
) -> DeliveryReport:
    """Deliver the given outbox rows, or every due one when `ids` is None."""
    report = DeliveryReport()
    for outbox_id in _candidates(core, ids, limit):
        _deliver_one(core, senders, outbox_id, report)
    return report


def _candidates(core: Core, ids: Iterable[int] | None, limit: int) -> list[int]:
    now = core.now()
    with transaction(core.sessions) as session:
        query = select(OutboxMessage.id).where(
            or_(
                OutboxMessage.status == OutboxStatus.PENDING,
                (OutboxMessage.status == OutboxStatus.SENDING)
                & (OutboxMessage.claimed_at < now - CLAIM_LEASE),
            ),
            OutboxMessage.not_before <= now,
        )
        if ids is not None:
            query = query.where(OutboxMessage.id.in_(list(ids)))
        return list(session.scalars(query.order_by(OutboxMessage.id).limit(limit)))


def _claim(core: Core, outbox_id: int) -> bool:
    now = core.now()
    with transaction(core.sessions) as session:
        result = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == outbox_id,
                or_(
                    OutboxMessage.status == OutboxStatus.PENDING,
                    (OutboxMessage.status == OutboxStatus.SENDING)
                    & (OutboxMessage.claimed_at < now - CLAIM_LEASE),
                ),
            )
            .values(
                status=OutboxStatus.SENDING,
                claimed_at=now,
                claimed_by=worker_name(),
                attempts=OutboxMessage.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _deliver_one(
    core: Core, senders: Sequence[Sender], outbox_id: int, report: DeliveryReport
) -> None:
    if not _claim(core, outbox_id):
        report.skipped.append(outbox_id)
        return
    with transaction(core.sessions) as session:
        row = session.get(OutboxMessage, outbox_id)
        assert row is not None
        message = Message.model_validate(row.payload)
        recipient, channel, attempts = row.recipient, row.channel, row.attempts
    try:
        sender, delivered = _send(senders, recipient, channel, message)
    except SendError as exc:
        _record_failure(core, outbox_id, exc, attempts, report)
        return
    with transaction(core.sessions) as session:
        row = session.get(OutboxMessage, outbox_id)
        assert row is not None
        row.status = OutboxStatus.SENT
        row.sent_at = core.now()
        row.platform = sender.platform.value
        row.platform_channel = delivered.channel
        row.platform_ref = delivered.ref
        row.last_error = None
    report.sent.append(outbox_id)


def _send(
    senders: Sequence[Sender], recipient: Person | None, channel: str | None, message: Message
) -> tuple[Sender, Delivered]:
    if recipient is not None:
        for sender in senders:
            identity = recipient.identity(sender.platform)
            if identity is not None:
                return sender, sender.send_to_account(identity.external_id, message)
        raise SendError(
            f"{recipient.display_name} has no account the bot can reach", permanent=True
        )
    assert channel is not None
    for sender in senders:
        if sender.owns_channel(channel):
            return sender, sender.send_to_channel(channel, message)
    raise SendError(f"no platform is configured for channel {channel}", permanent=True)


def _record_failure(
    core: Core, outbox_id: int, exc: SendError, attempts: int, report: DeliveryReport
) -> None:
    now = core.now()
    give_up = exc.permanent or attempts >= MAX_ATTEMPTS
    with transaction(core.sessions) as session:
        row = session.get(OutboxMessage, outbox_id)
        assert row is not None
        row.last_error = exc.reason
        if give_up:
            row.status = OutboxStatus.FAILED
        else:
            row.status = OutboxStatus.PENDING
            row.claimed_at = None
            wait = exc.retry_after if exc.retry_after is not None else min(2**attempts, 600)
            row.not_before = now + dt.timedelta(seconds=wait)
    (report.failed if give_up else report.retried).append(outbox_id)
    log.warning("outbox %s %s: %s", outbox_id, "failed" if give_up else "will retry", exc.reason)
