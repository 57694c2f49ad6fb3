"""How an action's status may move, and what moving it does to the action's other fields.

Chat commands and plan imports both go through these, so `done_at`, `delivered_at` and
`blocked_reason` follow one set of rules whoever changes the status.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from bot.domain.enums import Status


class HasStatus(Protocol):
    """The fields of an action that a status change touches (an `Action` row has them)."""

    status: Status
    done_at: dt.datetime | None
    blocked_reason: str | None
    delivered_at: dt.datetime | None


@dataclass(frozen=True)
class StatusState:
    """A status with the fields that go with it."""

    status: Status
    done_at: dt.datetime | None = None
    blocked_reason: str | None = None
    delivered_at: dt.datetime | None = None

    @classmethod
    def of(cls, action: HasStatus) -> StatusState:
        return cls(action.status, action.done_at, action.blocked_reason, action.delivered_at)


def moved(
    state: StatusState, to: Status, *, now: dt.datetime, reason: str | None = None
) -> StatusState:
    """`state` once moved to `to`: done and delivered are stamped when reached and forgotten
    when left (signed off, complete keeps when it was delivered); a blocked reason belongs to
    blocked only (without a new `reason`, the old one stays)."""
    done_at: dt.datetime | None = None
    if to == Status.DONE:
        done_at = state.done_at if state.status == Status.DONE and state.done_at else now
    delivered_at: dt.datetime | None = None
    if to == Status.DELIVERED:
        delivered_at = state.delivered_at if state.status == Status.DELIVERED else now
    elif to == Status.DONE and state.status in (Status.DELIVERED, Status.DONE):
        delivered_at = state.delivered_at
    blocked_reason: str | None = None
    if to == Status.BLOCKED:
        blocked_reason = reason if reason is not None else state.blocked_reason
    return StatusState(to, done_at, blocked_reason, delivered_at)


def move(
    action: HasStatus, to: Status, *, now: dt.datetime, reason: str | None = None
) -> StatusState:
    """Apply `moved` to `action` in place; returns the state it was in before."""
    before = StatusState.of(action)
    put(action, moved(before, to, now=now, reason=reason))
    return before


def put(action: HasStatus, state: StatusState) -> None:
    """Give `action` the status `state` holds, with the fields that go with it."""
    action.status, action.done_at, action.blocked_reason, action.delivered_at = (
        state.status,
        state.done_at,
        state.blocked_reason,
        state.delivered_at,
    )


def already(current: Status, to: Status) -> bool:
    """Whether asking for `to` changes nothing: an action in progress is already open."""
    if to == Status.OPEN:
        return current in (Status.OPEN, Status.IN_PROGRESS)
    return current == to


def must_reopen_first(current: Status, to: Status) -> bool:
    """A closed action (done, cancelled) goes nowhere but back to open until it is reopened."""
    return current.is_closed and to not in (current, Status.OPEN)


def after_note(current: Status) -> Status | None:
    """The status a progress note moves an action to: the first note starts an open action."""
    return Status.IN_PROGRESS if current == Status.OPEN else None
