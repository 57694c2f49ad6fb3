"""Delivery of queued messages: claim a row, send it through a platform, mark it sent.

A row is claimed by a conditional UPDATE (works the same on SQLite and PostgreSQL: the second
of two concurrent UPDATEs re-reads the row, finds it no longer claimable and changes nothing),
so two workers never both send it. A claim left by a crashed worker expires after CLAIM_LEASE
and the row is sent again — the only window for a duplicate is between the platform's answer
and our commit (docs/ARCHITECTURE.md, the outbox's guarantees).

Failures: a rate limit (Retry-After) pauses the pass and retries the row when asked; other
transient errors back off exponentially up to BACKOFF_CAP and give up after MAX_ATTEMPTS;
permanent ones (user_not_found, channel_not_found…) give up at once. A row given up on is
marked failed and the chairs are told, so nothing is dropped silently.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from bot.boards.view import BoardView
from bot.outbox import bundles
from bot.outbox.deferred import (
    NOTICE_KINDS,
    UnreadableNotice,
    Withdrawn,
    is_deferred,
    render_notice,
)
from bot.outbox.queue import enqueue
from bot.outbox.sender import Delivered, Sender, SendError, workspace_of
from bot.people.leavers import OWNER_LEFT, mark_left, owns_open_actions
from bot.people.resolve import chairs
from bot.render import notices
from bot.render.from_storage import action_view
from bot.render.model import Message
from bot.services.context import Core
from storage.db import transaction
from storage.models import DEFAULT_BOARD_ID, Action, OutboxMessage, OutboxStatus, Person

log = logging.getLogger(__name__)

#: How long a claim protects a row; longer than any one send, retries inside the client included.
CLAIM_LEASE = dt.timedelta(minutes=5)
#: Transient failures (5xx, timeouts) before a row is given up on: about three hours of backoff.
MAX_ATTEMPTS = 10
#: Rate-limited answers before giving up; Slack asks us to wait, which is not a failure.
MAX_RATE_LIMITED_ATTEMPTS = 50
BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_CAP = dt.timedelta(hours=1)
#: Kind of the notice that tells chairs a message could not be delivered; never itself escalated.
UNREACHABLE = "unreachable"

class _HasLeft(SendError):
    """Not sent: the recipient is known to have left, and the chairs were told then."""


@dataclass
class DeliveryReport:
    """What one delivery call did, for the one-line log and for tests."""

    sent: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    #: Notices queued to the chairs about failed rows.
    notices: list[int] = field(default_factory=list)
    #: Failed rows nobody could be told about (no chair known, or the notice itself failed).
    unreported: list[int] = field(default_factory=list)
    #: Set when a platform answered "slow down": the rest waits for the next pass.
    paused_until: dt.datetime | None = None

    def summary(self) -> str:
        """`sent 3, retried 1, failed 0` (and a pause for a rate limit, if any)."""
        text = f"sent {len(self.sent)}, retried {len(self.retried)}, failed {len(self.failed)}"
        if self.unreported:
            text += f" ({len(self.unreported)} not reported to anyone)"
        if self.paused_until is not None:
            text += f", rate-limited until {self.paused_until:%H:%M:%S}"
        return text

    @property
    def anything(self) -> bool:
        """Whether the call touched any row."""
        return bool(self.sent or self.retried or self.failed)


def worker_name() -> str:
    """Who claims rows: host and process, shown in the outbox for operators."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class _Claimed:
    id: int
    key: str
    kind: str
    token: str
    attempts: int
    recipient: Person | None
    channel: str | None
    payload: Message | None
    payload_error: str | None
    #: Rendered now from a deferred notice: _mark_sent keeps the text sent, as evidence.
    rendered: bool = False
    #: A bundle's notices, settled with it (sent, failed) in the same transaction.
    items: tuple[int, ...] = ()
    #: The board it is about: its workspace is the one it goes through.
    board_id: int = DEFAULT_BOARD_ID


def deliver(
    core: Core,
    senders: Sequence[Sender],
    *,
    ids: Iterable[int] | None = None,
    kinds: Collection[str] | None = None,
    limit: int = 200,
    stop: threading.Event | None = None,
    budget: dt.timedelta | None = None,
) -> DeliveryReport:
    """Deliver the given outbox rows, or every due one (of `kinds`) when `ids` is None.

    Notices to the chairs about rows given up on are delivered in the same call. The call
    ends when nothing due is left, on a rate limit, when `stop` is set, or after `budget`
    of wall time (so a worker's tick stays short and a SIGTERM is honoured quickly).
    """
    report = DeliveryReport()
    wanted = set(ids) if ids is not None else None
    if wanted is None:
        # Each person's due notices become one message (bot.outbox.bundles).
        now = core.now()
        bundles.gather(
            core.sessions, now=now, day=core.today(), claimable=_claimable(now), kinds=kinds
        )
    if kinds is not None:
        kinds = {*kinds, UNREACHABLE}
        if kinds & set(NOTICE_KINDS):
            kinds.add(bundles.BUNDLE)
    deadline = time.monotonic() + budget.total_seconds() if budget is not None else None
    cursor = 0
    while True:
        if wanted is not None:
            wanted.update(report.notices)
        batch = _candidates(core, wanted, kinds, after=cursor, limit=limit)
        if not batch:
            return report
        for outbox_id in batch:
            cursor = outbox_id
            if (stop is not None and stop.is_set()) or (
                deadline is not None and time.monotonic() > deadline
            ):
                return report
            _deliver_one(core, senders, outbox_id, report)
            if report.paused_until is not None:
                return report


def deliver_queued(
    core: Core, senders: Sequence[Sender], outbox_ids: Sequence[int]
) -> DeliveryReport:
    """Send at once what one command queued; a row that fails stays for the worker to retry."""
    if not outbox_ids:  # most commands queue nothing
        return DeliveryReport()
    report = deliver(core, senders, ids=outbox_ids)
    log.info("delivered after a command: %s", report.summary())
    return report


def _claimable(now: dt.datetime) -> ColumnElement[bool]:
    return or_(
        (OutboxMessage.status == OutboxStatus.PENDING) & (OutboxMessage.not_before <= now),
        (OutboxMessage.status == OutboxStatus.SENDING)
        & (OutboxMessage.claimed_at < now - CLAIM_LEASE),
    )


def _candidates(
    core: Core, ids: set[int] | None, kinds: Collection[str] | None, *, after: int, limit: int
) -> list[int]:
    # Walking up the ids makes every call finish: a row retried later is never seen twice.
    if ids is not None and not ids:
        return []
    now = core.now()
    with transaction(core.sessions) as session:
        query = select(OutboxMessage.id).where(
            _claimable(now), OutboxMessage.id > after, bundles.not_bundled_alone()
        )
        if ids is not None:
            query = query.where(OutboxMessage.id.in_(sorted(ids)))
        if kinds is not None:
            query = query.where(OutboxMessage.kind.in_(sorted(kinds)))
        return list(session.scalars(query.order_by(OutboxMessage.id).limit(limit)))


def _claim(core: Core, outbox_id: int) -> _Claimed | None:
    now = core.now()
    token = f"{worker_name()}:{uuid.uuid4().hex[:8]}"[-100:]
    with transaction(core.sessions) as session:
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id, _claimable(now))
            .values(
                status=OutboxStatus.SENDING,
                claimed_at=now,
                claimed_by=token,
                attempts=OutboxMessage.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        row = session.get(OutboxMessage, outbox_id)
        assert row is not None
        rendered = is_deferred(row.payload)
        payload: Message | None = None
        error = None
        items: tuple[int, ...] = ()
        # Dated in the row's board's timezone: boards may keep different ones.
        tz = (core.boards.get(row.board_id) or core.board).settings.tz
        try:
            if bundles.is_bundle(row):
                # Worded under our claim from each action as it is now; withdrawn ones left out.
                worded = bundles.word(session, row, tz=tz)
                if isinstance(worded, Withdrawn):
                    row.status = OutboxStatus.CANCELLED
                    row.last_error = worded.reason
                    row.attempts -= 1
                    log.info("withdrew %s: %s", row.key, worded.reason)
                    return None
                payload, items = worded.message, worded.items
            elif rendered:
                # Rendered under our claim, so what is sent matches the action as it is now.
                outcome = render_notice(
                    session,
                    row.payload,
                    action_id=row.action_id,
                    recipient_id=row.recipient_id,
                    tz=tz,
                )
                if isinstance(outcome, Withdrawn):
                    row.status = OutboxStatus.CANCELLED
                    row.last_error = outcome.reason
                    row.attempts -= 1  # nothing was tried; claimed_at/_by say who decided
                    log.info("withdrew %s: %s", row.key, outcome.reason)
                    return None
                payload = outcome
            else:
                payload = Message.model_validate(row.payload)
        except ValidationError as exc:
            error = f"unreadable message: {exc.error_count()} error(s)"
        except UnreadableNotice as exc:
            error = f"unreadable message: {exc}"
        return _Claimed(
            id=row.id,
            key=row.key,
            kind=row.kind,
            token=token,
            attempts=row.attempts,
            recipient=row.recipient,
            channel=row.channel,
            payload=payload,
            payload_error=error,
            rendered=rendered,
            items=items,
            board_id=row.board_id,
        )


def _deliver_one(
    core: Core, senders: Sequence[Sender], outbox_id: int, report: DeliveryReport
) -> None:
    claimed = _claim(core, outbox_id)
    if claimed is None:
        report.skipped.append(outbox_id)  # another worker has it, or it is no longer due
        return
    if claimed.payload is None:
        _record_failure(
            core, claimed, SendError(claimed.payload_error or "?", permanent=True), report
        )
        return
    try:
        if claimed.kind == "edit":  # a message sent before, redrawn in place
            from bot.outbox.retract import edit_sent

            sender, delivered = edit_sent(core, senders, claimed.id, claimed.payload)
        else:
            board = core.boards.get(claimed.board_id)
            sender, delivered = _send(
                senders, claimed.recipient, claimed.channel, claimed.payload, board
            )
    except SendError as exc:
        _record_failure(core, claimed, exc, report)
        return
    except Exception as exc:
        # A bug or an unexpected network error in a sender: retried with backoff like a 5xx,
        # never left claimed until the lease runs out and never allowed to stop the pass.
        log.exception("outbox %s: unexpected error from the sender", claimed.key)
        _record_failure(
            core, claimed, SendError(f"{type(exc).__name__}: {exc}", permanent=False), report
        )
        return
    _mark_sent(core, claimed, sender, delivered)
    report.sent.append(outbox_id)


def _mark_sent(core: Core, claimed: _Claimed, sender: Sender, delivered: Delivered) -> None:
    # A deferred row's payload becomes the message as sent: the evidence of what the owner
    # saw, and what a button press on it redraws (bot.outbox.sent).
    kept = (
        claimed.payload.model_dump(mode="json")
        if claimed.rendered and claimed.payload is not None
        else None
    )
    sent_at = core.now()
    with transaction(core.sessions) as session:
        # Not conditional on our claim: the message did go out, whoever holds the row now.
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == claimed.id, OutboxMessage.status != OutboxStatus.SENT)
            .values(
                status=OutboxStatus.SENT,
                sent_at=sent_at,
                platform=sender.platform.value,
                platform_channel=delivered.channel,
                platform_ref=delivered.ref,
                last_error=None,
                **({"payload": kept} if kept is not None else {}),
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            log.warning("outbox %s was marked sent by another worker as well", claimed.key)
        # The bundle's notices went out in it: they point at the message that carried them.
        bundles.settle(
            session,
            claimed.items,
            status=OutboxStatus.SENT,
            values={
                "sent_at": sent_at,
                "platform": sender.platform.value,
                "platform_channel": delivered.channel,
                "platform_ref": delivered.ref,
                "last_error": None,
            },
        )
    where = delivered.channel + (f" ts={delivered.ref}" if delivered.ref else "")
    log.info("sent %s to %s", claimed.key, where)


def _send(
    senders: Sequence[Sender],
    recipient: Person | None,
    channel: str | None,
    message: Message,
    board: BoardView | None,
) -> tuple[Sender, Delivered]:
    if recipient is not None:
        if recipient.left_at is not None:
            raise _HasLeft(
                f"{recipient.display_name} has left ({recipient.left_reason or 'account gone'})",
                permanent=True,
            )
        for sender in senders:
            identity = recipient.identity(sender.platform)
            if identity is not None:
                workspace = workspace_of(board, sender.platform)
                return sender, sender.send_to_account(
                    identity.external_id, message, workspace=workspace
                )
        raise SendError(
            f"{recipient.display_name} has no account the bot can reach", permanent=True
        )
    if channel is None:
        raise SendError("the message has neither a recipient nor a channel", permanent=True)
    for sender in senders:
        if sender.owns_channel(channel):
            workspace = workspace_of(board, sender.platform)
            return sender, sender.send_to_channel(channel, message, workspace=workspace)
    raise SendError(f"no platform is configured for channel {channel}", permanent=True)


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait after the `attempts`-th failed try: 30 s, 1 min, 2 min … at most 1 h."""
    return min(BACKOFF_BASE * (1 << min(max(0, attempts - 1), 20)), BACKOFF_CAP)


def _record_failure(core: Core, claimed: _Claimed, exc: SendError, report: DeliveryReport) -> None:
    now = core.now()
    limit = MAX_RATE_LIMITED_ATTEMPTS if exc.retry_after is not None else MAX_ATTEMPTS
    give_up = exc.permanent or claimed.attempts >= limit
    notice_ids: list[int] = []
    flagged = False
    with transaction(core.sessions) as session:
        row = session.get(OutboxMessage, claimed.id)
        assert row is not None
        if row.status != OutboxStatus.SENDING or row.claimed_by != claimed.token:
            # Our lease ran out and another worker took the row over: its outcome stands.
            log.warning("outbox %s: lost the claim while sending (%s)", claimed.key, exc.reason)
            report.skipped.append(claimed.id)
            return
        row.last_error = exc.reason
        if give_up:
            row.status = OutboxStatus.FAILED
            bundles.settle(
                session,
                claimed.items,
                status=OutboxStatus.FAILED,
                values={"last_error": f"its message {row.key} failed: {exc.reason}"},
            )
            gone = exc.account_gone
            if isinstance(exc, _HasLeft):
                flagged = True  # the chairs were told when they left
            elif (
                gone is not None
                and row.recipient is not None
                and owns_open_actions(session, row.recipient, board_id=row.board_id)
            ):
                # An owner left: the chairs hear it once, with their actions, rather than
                # once per message that can no longer reach them.
                notice_ids = _tell_chairs(
                    session, core, row, exc.reason, now, attempts=None, left=gone
                )
                flagged = bool(notice_ids)
            else:
                notice_ids = _tell_chairs(
                    session,
                    core,
                    row,
                    exc.reason,
                    now,
                    attempts=None if exc.permanent else row.attempts,
                )
        else:
            row.status = OutboxStatus.PENDING
            row.claimed_at = None
            row.claimed_by = None
            wait = (
                dt.timedelta(seconds=max(0.0, exc.retry_after))
                if exc.retry_after is not None
                else backoff(claimed.attempts)
            )
            row.not_before = now + wait
    if not give_up:
        report.retried.append(claimed.id)
        if exc.retry_after is not None:
            report.paused_until = now + dt.timedelta(seconds=max(0.0, exc.retry_after))
        log.warning(
            "will retry %s at %s (attempt %d): %s",
            claimed.key,
            row.not_before.isoformat(timespec="seconds"),
            claimed.attempts,
            exc.reason,
        )
        return
    report.failed.append(claimed.id)
    report.notices.extend(notice_ids)
    if notice_ids:
        log.error(
            "gave up on %s after %d attempt(s): %s; told %d chair(s)",
            claimed.key,
            claimed.attempts,
            exc.reason,
            len(notice_ids),
        )
    elif flagged:
        log.warning("gave up on %s: %s; its recipient has left", claimed.key, exc.reason)
    else:
        report.unreported.append(claimed.id)


def _tell_chairs(
    session: Session,
    core: Core,
    row: OutboxMessage,
    reason: str,
    now: dt.datetime,
    *,
    attempts: int | None,
    left: str | None = None,
) -> list[int]:
    """Queue a notice per chair about a row given up on; never about a notice (no loops).

    `left` says why the recipient's account is gone: they are marked as left, and the notice
    (once per person) lists their open actions.
    """
    who = row.recipient.display_name if row.recipient else row.channel
    if row.kind == UNREACHABLE:
        log.error("gave up on %s (a notice to %s about a failure): %s", row.key, who, reason)
        return []
    if row.kind == "edit":  # buttons left on an old message: a press is refused anyway
        log.warning("could not redraw the message of %s for %s: %s", row.key, who, reason)
        return []
    board = core.boards.get(row.board_id) or core.board
    people = [p for p in chairs(session, board=board) if p.id != row.recipient_id]
    if not people:
        log.error(
            "gave up on %s to %s: %s; no chair is known to tell (set CHAIR_USER_IDS)",
            row.key,
            who,
            reason,
        )
        return []
    action = session.get(Action, row.action_id) if row.action_id is not None else None
    kind = row.kind
    if kind == bundles.BUNDLE:
        # Named by what it carried: "a deadline reminder about #12 …" when that is all it was.
        carried = bundles.item_kinds(session, row)
        kind = carried.pop() if len(carried) == 1 else kind
    message = notices.unreachable(
        kind=kind,
        reason=reason,
        recipient=row.recipient.display_name if row.recipient else None,
        channel=row.channel,
        action=action_view(action, today=core.today()) if action is not None else None,
        attempts=attempts,
    )
    key = f"{UNREACHABLE}:{row.id}"
    if left is not None and row.recipient is not None:
        message = mark_left(
            session,
            person=row.recipient,
            reason=left,
            failure=message,
            now=now,
            today=core.today(),
            board_id=row.board_id,
        )
        key = f"{OWNER_LEFT}:{row.recipient.id}"
    ids: list[int] = []
    for chair in people:
        outbox_id = enqueue(
            session,
            board_id=row.board_id,
            key=f"{key}:{chair.id}",
            kind=UNREACHABLE,
            message=message,
            now=now,
            recipient=chair,
            action=action,
        )
        if outbox_id is not None:
            ids.append(outbox_id)
    return ids
