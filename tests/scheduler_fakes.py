"""Fakes and seeding helpers shared by the scheduler, outbox and digest tests."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from bot.domain import Platform, Rag, Status
from bot.outbox.sender import Delivered, SendError
from bot.render.model import Message
from bot.services.context import Core
from storage.db import transaction
from storage.models import Action, Identity, OutboxMessage, OutboxStatus, Person

LONG_AGO = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
#: The day of the tests' clock (tests.conftest.MONDAY).
MONDAY = dt.date(2026, 11, 23)


def days(n: int) -> dt.date:
    """The day `n` days from MONDAY."""
    return MONDAY + dt.timedelta(days=n)


class Crash(BaseException):
    """A process dying mid-step (like SIGKILL): not an Exception, so nothing catches it."""


@dataclass
class Sent:
    where: str  # "dm" or "channel"
    to: str
    message: Message


@dataclass
class FakeSender:
    """A Sender that records what it sends and fails on demand, one planned error per call."""

    platform: Platform = Platform.CONSOLE
    sent: list[Sent] = field(default_factory=list)
    #: Errors to raise, by recipient or channel, one per attempt, before succeeding.
    errors: dict[str, list[BaseException]] = field(default_factory=dict)
    #: Raise this after recording the send (a crash between send and mark).
    crash_after_send: BaseException | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    before_send: threading.Barrier | None = None
    #: The workspace of each send, in order (None: the single workspace).
    workspaces: list[str | None] = field(default_factory=list)

    def send_to_account(
        self, external_id: str, message: Message, *, workspace: str | None = None
    ) -> Delivered:
        self.workspaces.append(workspace)
        return self._send("dm", external_id, message)

    def send_to_channel(
        self, channel: str, message: Message, *, workspace: str | None = None
    ) -> Delivered:
        self.workspaces.append(workspace)
        return self._send("channel", channel, message)

    def owns_channel(self, channel: str) -> bool:
        return True

    def _send(self, where: str, to: str, message: Message) -> Delivered:
        if self.before_send is not None:
            self.before_send.wait(timeout=10)
        with self.lock:
            pending = self.errors.get(to)
            if pending:
                raise pending.pop(0)
            self.sent.append(Sent(where, to, message))
            ref = f"{len(self.sent)}.000100"
        if self.crash_after_send is not None:
            crash, self.crash_after_send = self.crash_after_send, None
            raise crash
        return Delivered(channel=f"D-{to}" if where == "dm" else to, ref=ref)

    def dms(self) -> list[str]:
        """Recipients of direct messages, in order."""
        return [s.to for s in self.sent if s.where == "dm"]

    def texts(self, to: str | None = None) -> list[str]:
        """Summary texts sent (to one recipient)."""
        return [s.message.text for s in self.sent if to is None or s.to == to]


def permanent(reason: str = "Slack refused the message: user_not_found") -> SendError:
    return SendError(reason, permanent=True)


def transient(reason: str = "Slack error: HTTP 500", retry_after: float | None = None) -> SendError:
    return SendError(reason, permanent=False, retry_after=retry_after)


def person(core: Core, name: str, *, platform: Platform = Platform.CONSOLE) -> int:
    """A person with one account named `name` (lower case) on `platform`; returns the id."""
    with transaction(core.sessions) as session:
        existing = session.scalars(
            select(Person).join(Identity).where(Identity.external_id == name.lower())
        ).first()
        if existing is not None:
            return existing.id
        row = Person(display_name=name.capitalize(), created_at=LONG_AGO)
        row.identities.append(Identity(platform=platform, external_id=name.lower()))
        session.add(row)
        session.flush()
        return row.id


def action(
    core: Core,
    title: str,
    *,
    owner: str | None,
    due: dt.date | None,
    status: Status = Status.OPEN,
    rag: Rag | None = None,
    created: dt.datetime = LONG_AGO,
    blocked_reason: str | None = None,
    done_at: dt.datetime | None = None,
) -> int:
    """An action inserted directly (no history, no notifications); returns its number."""
    owner_id = person(core, owner) if owner else None
    with transaction(core.sessions) as session:
        row = Action(
            title=title,
            owner_id=owner_id,
            due_date=due,
            status=status,
            rag=rag,
            blocked_reason=blocked_reason,
            created_at=created,
            updated_at=created,
            done_at=done_at,
        )
        session.add(row)
        session.flush()
        return row.id


def bulk_actions(core: Core, rows: Iterable[dict[str, object]]) -> None:
    """Many actions at once, for the large-plan tests."""
    with transaction(core.sessions) as session:
        session.execute(
            Action.__table__.insert(),  # type: ignore[attr-defined]
            [
                {
                    "status": Status.OPEN.value,
                    "created_at": LONG_AGO,
                    "updated_at": LONG_AGO,
                    "version": 1,
                    **row,
                }
                for row in rows
            ],
        )


def outbox(core: Core, *, kind: str | None = None) -> list[OutboxMessage]:
    """Every outbox row (of `kind`), oldest first."""
    with core.sessions() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind is not None:
            query = query.where(OutboxMessage.kind == kind)
        return list(session.scalars(query))


def statuses(core: Core, *, kind: str | None = None) -> dict[str, OutboxStatus]:
    return {row.key: row.status for row in outbox(core, kind=kind)}
