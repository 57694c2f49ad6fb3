"""The filtered lists people ask for by name: `/status blocked`, `/status red`, `/action list
done` and `/status overdue @dee`. Each is one ordered query, paged like every other list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select

from bot.domain import OPEN_STATUSES, Status
from bot.grammar import paging
from bot.grammar.commands import (
    Paged,
    StatusBlocked,
    StatusDone,
    StatusDue,
    StatusOverdue,
    StatusRag,
)
from bot.render import replies
from bot.render.from_storage import action_view
from bot.services.ratings import request_flagged
from bot.services.request import Outcome, Request
from storage.models import Action

_SOONEST: tuple[Any, ...] = (Action.due_date.is_(None), Action.due_date, Action.id)


def status_blocked(request: Request, command: StatusBlocked) -> Outcome:
    """Blocked actions with their reasons, soonest deadline first."""
    return _listed(
        request,
        command,
        "Blocked actions",
        "Nothing is blocked.",
        [Action.status == Status.BLOCKED],
        _SOONEST,
    )


def status_rag(request: Request, command: StatusRag) -> Outcome:
    """Open actions of one RAG rating, soonest deadline first."""
    colour = command.rag.value
    return _listed(
        request,
        command,
        f"Open actions rated {colour}",
        f"No open action is rated {colour}.",
        [Action.status.in_(OPEN_STATUSES), Action.rag == command.rag],
        _SOONEST,
    )


def status_done(request: Request, command: StatusDone) -> Outcome:
    """Finished actions, the latest first (cancelled ones are not done, and not listed)."""
    return _listed(
        request,
        command,
        "Done actions",
        "Nothing is done yet.",
        [Action.status == Status.DONE],
        (Action.done_at.is_(None), Action.done_at.desc(), Action.id.desc()),
    )


def overdue_of(request: Request, command: StatusOverdue) -> Outcome:
    """One person's overdue actions (`/status overdue @dee`), most late first."""
    assert command.user is not None
    person = request.person(command.user)
    mine = person.id == request.actor.id
    title = "Your overdue actions" if mine else f"Overdue actions of {person.display_name}"
    empty = (
        "Nothing of yours is overdue." if mine else f"Nothing of {person.display_name} is overdue."
    )
    where = [
        Action.owner_id == person.id,
        Action.status.in_(OPEN_STATUSES),
        Action.due_date < request.today,
    ]
    return _listed(request, command, title, empty, where, (Action.due_date, Action.id))


def _listed(
    request: Request,
    command: Paged,
    title: str,
    empty: str,
    where: Sequence[ColumnElement[bool]],
    order: tuple[Any, ...],
) -> Outcome:
    session = request.session
    # Every list is of the command's board.
    where = [Action.board_id == request.board_id, *where]
    total = session.scalar(select(func.count()).select_from(Action).where(*where)) or 0
    page = min(command.page, paging.pages(total))
    query = (
        select(Action)
        .where(*where)
        .order_by(*order)
        .offset(paging.offset(page))
        .limit(paging.PAGE_SIZE)
    )
    items = session.scalars(query).all()
    views = request_flagged(request, items, [action_view(a, today=request.today) for a in items])
    shown = command.model_copy(update={"page": page})
    return Outcome(replies.action_list(title, views, total=total, empty=empty, command=shown))


def due_window(today: dt.date, command: StatusDue) -> tuple[dt.date, dt.date, str]:
    """The first and last day of a `/status due` window, and how to name it."""
    start = today + dt.timedelta(days=command.offset)
    end = start + dt.timedelta(days=command.days)
    if command.span and command.span[0].isdigit():
        return start, end, f"in the next {command.span}"
    if command.span:
        return start, end, command.span
    return start, end, "today" if command.days == 0 else f"in the next {command.days} days"
