"""Reminders before a deadline and nudges after it, planned for a whole plan at once.

Rules (README, "Scheduler"):

- An owner is reminded REMINDER_DAYS days before the deadline (default 7, 1 and 0). A
  reminder day that is not a working day moves to the working day *before* it, so the 0-day
  reminder of a deadline on a Saturday or a bank holiday arrives on the last working day
  before it, never after the deadline has passed. When two reminders land on the same day
  only the most urgent one is sent.
- Reminders missed while the worker was down are caught up: each action gets the latest
  reminder that was due, once. Reminders whose day came before the action existed are not
  sent (its owner has just been told about it).
- Once late, the owner is nudged every working day for OVERDUE_DAILY_DAYS days, then once
  every OVERDUE_REPEAT_DAYS days.

Supporting owners are reminded and nudged with the owner, each under their own key.

Keys: `reminder:{action}:{due}:{lead}` (a moved deadline re-arms the reminders; the same
deadline never nags twice) and `overdue:{action}:{due}:{day or period start}`; a supporting
owner's keys end in `:s{person}`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from functools import cache

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.domain import OPEN_STATUSES
from bot.domain.workdays import WorkingCalendar
from bot.outbox import deferred
from scheduler.bulk_queue import Planned
from scheduler.groups import on_boards
from storage.models import DEFAULT_BOARD_ID, Action, Supporter

REMINDER = "reminder"
OVERDUE = "overdue"


def reminder_lead(
    *,
    due: dt.date,
    today: dt.date,
    leads: Sequence[int],
    calendar: WorkingCalendar,
    created: dt.date | None = None,
) -> int | None:
    """The lead (days before `due`) of the reminder due by `today`, or None when none is.

    That is the smallest lead whose send day (moved back to a working day) is not after
    `today`: the most urgent reminder due so far. None once the deadline has passed.
    """
    if due < today:
        return None
    for lead in sorted(set(leads)):
        nominal = due - dt.timedelta(days=lead)
        if calendar.previous_working_day(nominal) <= today:
            if created is not None and nominal < created:
                return None
            return lead
    return None


def overdue_period(
    *, due: dt.date, today: dt.date, daily_days: int, repeat_days: int
) -> dt.date | None:
    """Which nudge is due for a deadline `due` that has passed: its day, or None if not late.

    Days 1…daily_days late each get their own nudge (the day itself); after that one nudge
    per period of `repeat_days`, named by the period's first day.
    """
    late = (today - due).days
    if late <= 0:
        return None
    if late <= daily_days:
        return today
    period = (late - daily_days - 1) // repeat_days
    return due + dt.timedelta(days=daily_days + 1 + period * repeat_days)


def reminder_window(today: dt.date, leads: Sequence[int], calendar: WorkingCalendar) -> dt.date:
    """The latest deadline that can have a reminder due by `today`.

    A day before the next working day has its send day on or before `today`, so deadlines up
    to that day plus the longest lead are the only candidates.
    """
    return (
        calendar.next_working_day_after(today)
        - dt.timedelta(days=1)
        + dt.timedelta(days=max(leads, default=0))
    )


def plan_reminders(
    session: Session,
    *,
    settings: Settings,
    calendar: WorkingCalendar,
    today: dt.date,
    board_ids: Collection[int] | None = (DEFAULT_BOARD_ID,),
) -> list[Planned]:
    """Reminders and overdue nudges due by `today` for every open action with an owner, on
    the boards `board_ids` (None: every board), which plan alike: `settings` and `calendar`
    are theirs."""
    boards = sorted(board_ids) if board_ids is not None else None
    planned: list[Planned] = []
    # One payload dict per distinct (due, lead): a plan has few deadlines and many actions.
    reminder_for = cache(deferred.reminder_payload)
    overdue_for = cache(deferred.overdue_payload)
    leads = settings.reminder_days
    if leads:
        upcoming = _recipients(
            session,
            boards,
            Action.due_date.between(today, reminder_window(today, leads, calendar)),
        )
        for action_id, board_id, owner_id, due, created_at, suffix in upcoming:
            assert due is not None  # the query's conditions
            created = created_at.astimezone(calendar.tz).date()
            lead = reminder_lead(
                due=due, today=today, leads=leads, calendar=calendar, created=created
            )
            if lead is None:
                continue
            planned.append(
                Planned(
                    key=f"{REMINDER}:{action_id}:{due.isoformat()}:{lead}{suffix}",
                    kind=REMINDER,
                    recipient_id=owner_id,
                    action_id=action_id,
                    board_id=board_id,
                    payload=reminder_for(today, due, lead),
                )
            )
    late = _recipients(session, boards, Action.due_date < today)
    for action_id, board_id, owner_id, due, _created, suffix in late:
        assert due is not None
        period = overdue_period(
            due=due,
            today=today,
            daily_days=settings.overdue_daily_days,
            repeat_days=settings.overdue_repeat_days,
        )
        if period is None:  # pragma: no cover - the query only returns late actions
            continue
        planned.append(
            Planned(
                key=f"{OVERDUE}:{action_id}:{due.isoformat()}:{period.isoformat()}{suffix}",
                kind=OVERDUE,
                recipient_id=owner_id,
                action_id=action_id,
                board_id=board_id,
                payload=overdue_for(today, due),
            )
        )
    return planned


_Recipient = tuple[int, int, int, dt.date | None, dt.datetime, str]


def _recipients(
    session: Session, board_ids: Sequence[int] | None, due: ColumnElement[bool]
) -> list[_Recipient]:
    """(action, board, person, due, created, key suffix) for the owner and each supporting
    owner of every open action of `board_ids` whose deadline meets `due`."""
    # Plain columns, not entities: planning needs no owner, identities or title.
    mine = (on_boards(board_ids), Action.status.in_(OPEN_STATUSES), due)
    owners = select(
        Action.id, Action.board_id, Action.owner_id, Action.due_date, Action.created_at
    ).where(*mine, Action.owner_id.is_not(None))
    supporters = (
        select(Action.id, Action.board_id, Supporter.person_id, Action.due_date, Action.created_at)
        .join(Supporter, Supporter.action_id == Action.id)
        .where(*mine)
    )
    found: list[_Recipient] = []
    for action_id, board_id, owner_id, day, created in session.execute(owners):
        assert owner_id is not None  # the query's condition
        found.append((action_id, board_id, owner_id, day, created, ""))
    for action_id, board_id, person_id, day, created in session.execute(supporters):
        found.append((action_id, board_id, person_id, day, created, f":s{person_id}"))
    return found
