"""Read queries behind the status commands, the digest and reminders; each one indexed.

Every query of actions names its board (`board_id`, never defaulted): a command on one board
never reads another's actions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain import OPEN_STATUSES, Rag, Status
from storage.models import Action, HistoryEntry, Person


def get_action(session: Session, *, action_id: int, board_id: int) -> Action | None:
    """The action with this number on the board, or None (an action of another board is
    as absent as one that never was)."""
    action = session.get(Action, action_id)
    return action if action is not None and action.board_id == board_id else None


def overdue_actions(
    session: Session, *, board_id: int, today: dt.date, limit: int | None = None
) -> Sequence[Action]:
    """Open actions whose deadline has passed, most late first."""
    query = (
        select(Action)
        .where(
            Action.board_id == board_id, Action.status.in_(OPEN_STATUSES), Action.due_date < today
        )
        .order_by(Action.due_date, Action.id)
        .limit(limit)
    )
    return session.scalars(query).all()


def count_overdue(session: Session, *, board_id: int, today: dt.date) -> int:
    """How many open actions are past their deadline."""
    query = select(func.count()).where(
        Action.board_id == board_id, Action.status.in_(OPEN_STATUSES), Action.due_date < today
    )
    return session.scalar(query) or 0


def due_between(
    session: Session, *, board_id: int, start: dt.date, end: dt.date, limit: int | None = None
) -> Sequence[Action]:
    """Open actions due from `start` to `end` inclusive, soonest first."""
    query = (
        select(Action)
        .where(
            Action.board_id == board_id,
            Action.status.in_(OPEN_STATUSES),
            Action.due_date.between(start, end),
        )
        .order_by(Action.due_date, Action.id)
        .limit(limit)
    )
    return session.scalars(query).all()


def count_due_between(session: Session, *, board_id: int, start: dt.date, end: dt.date) -> int:
    """How many open actions fall due from `start` to `end` inclusive."""
    query = select(func.count()).where(
        Action.board_id == board_id,
        Action.status.in_(OPEN_STATUSES),
        Action.due_date.between(start, end),
    )
    return session.scalar(query) or 0


def open_for_owner(
    session: Session, *, board_id: int, owner_id: int, limit: int | None = None
) -> Sequence[Action]:
    """One person's open actions on the board, soonest deadline first (undated last)."""
    query = (
        select(Action)
        .where(
            Action.board_id == board_id,
            Action.owner_id == owner_id,
            Action.status.in_(OPEN_STATUSES),
        )
        .order_by(Action.due_date.is_(None), Action.due_date, Action.id)
        .limit(limit)
    )
    return session.scalars(query).all()


def open_actions(session: Session, *, board_id: int, limit: int | None = None) -> Sequence[Action]:
    """Every open action of the board, soonest deadline first (undated last)."""
    query = (
        select(Action)
        .where(Action.board_id == board_id, Action.status.in_(OPEN_STATUSES))
        .order_by(Action.due_date.is_(None), Action.due_date, Action.id)
        .limit(limit)
    )
    return session.scalars(query).all()


def count_open(session: Session, *, board_id: int, owner_id: int | None = None) -> int:
    """How many actions of the board are open, for everyone or for one owner."""
    query = select(func.count()).where(
        Action.board_id == board_id, Action.status.in_(OPEN_STATUSES)
    )
    if owner_id is not None:
        query = query.where(Action.owner_id == owner_id)
    return session.scalar(query) or 0


def blocked_actions(
    session: Session, *, board_id: int, limit: int | None = None
) -> Sequence[Action]:
    """Blocked actions, longest-standing deadline first."""
    query = (
        select(Action)
        .where(Action.board_id == board_id, Action.status == Status.BLOCKED)
        .order_by(Action.due_date.is_(None), Action.due_date, Action.id)
        .limit(limit)
    )
    return session.scalars(query).all()


def count_by_status(session: Session, *, board_id: int) -> dict[Status, int]:
    """Number of actions in each status (every status present, zero when none)."""
    rows = session.execute(
        select(Action.status, func.count())
        .where(Action.board_id == board_id)
        .group_by(Action.status)
    ).all()
    counts = dict.fromkeys(Status, 0)
    counts.update({status: n for status, n in rows})
    return counts


@dataclass(frozen=True)
class PlanFigures:
    """The plan in figures, as `/status` and the digest show them."""

    by_status: dict[Status, int]
    #: Open actions by RAG rating; None counts those not rated yet.
    open_by_rag: dict[Rag | None, int]
    due_soon: int
    overdue: int

    @property
    def open(self) -> int:
        """Actions still to finish: open, in progress or blocked."""
        return sum(self.by_status[s] for s in OPEN_STATUSES)


def plan_figures(session: Session, *, board_id: int, today: dt.date, soon: dt.date) -> PlanFigures:
    """Counts by status and RAG, due from `today` to `soon`, and overdue: one grouped query."""
    is_open = Action.status.in_(OPEN_STATUSES)
    # One statement instead of four: `/status` is the board's most frequent question.
    rows = session.execute(
        select(
            Action.status,
            Action.rag,
            func.count(),
            func.count().filter(is_open & Action.due_date.between(today, soon)),
            func.count().filter(is_open & (Action.due_date < today)),
        )
        .where(Action.board_id == board_id)
        .group_by(Action.status, Action.rag)
    ).all()
    by_status = dict.fromkeys(Status, 0)
    open_by_rag: dict[Rag | None, int] = {rag: 0 for rag in Rag}
    open_by_rag[None] = 0
    due_soon = overdue = 0
    for status, rag, count, soon_count, late_count in rows:
        by_status[status] += count
        if status in OPEN_STATUSES:
            open_by_rag[rag] += count
        due_soon += soon_count
        overdue += late_count
    return PlanFigures(by_status, open_by_rag, due_soon, overdue)


def done_between(
    session: Session,
    *,
    board_id: int,
    start: dt.datetime,
    end: dt.datetime,
    limit: int | None = None,
) -> Sequence[Action]:
    """Actions marked done in [start, end), most recent first."""
    query = (
        select(Action)
        .where(
            Action.board_id == board_id,
            Action.status == Status.DONE,
            Action.done_at >= start,
            Action.done_at < end,
        )
        .order_by(Action.done_at.desc(), Action.id)
        .limit(limit)
    )
    return session.scalars(query).all()


def history_for(
    session: Session, *, action_id: int, limit: int | None = None
) -> Sequence[HistoryEntry]:
    """An action's history, newest first."""
    query = (
        select(HistoryEntry)
        .where(HistoryEntry.action_id == action_id)
        .order_by(HistoryEntry.at.desc(), HistoryEntry.id.desc())
        .limit(limit)
    )
    return session.scalars(query).all()


def count_history(session: Session, *, action_id: int) -> int:
    """How many history entries an action has."""
    query = select(func.count()).where(HistoryEntry.action_id == action_id)
    return session.scalar(query) or 0


def all_history(session: Session, *, board_id: int) -> Sequence[HistoryEntry]:
    """Every change to every action of the board, oldest first: the evidence trail."""
    return session.scalars(
        select(HistoryEntry)
        .join(Action, HistoryEntry.action_id == Action.id)
        .where(Action.board_id == board_id)
        .order_by(HistoryEntry.at, HistoryEntry.id)
    ).all()


def all_actions(session: Session, *, board_id: int) -> Sequence[Action]:
    """The board's whole register by number."""
    return session.scalars(
        select(Action).where(Action.board_id == board_id).order_by(Action.id)
    ).all()


def find_by_email(session: Session, *, email: str) -> Person | None:
    """The person with this email (emails are stored lower-case)."""
    return session.scalars(select(Person).where(Person.email == email.strip().lower())).first()
