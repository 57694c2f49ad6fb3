"""Read-only use cases: show, list and the /status family."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain import OPEN_STATUSES, Rag, Status
from bot.grammar import paging
from bot.grammar.commands import (
    ListActions,
    Paged,
    ShowAction,
    StatusDue,
    StatusNoDate,
    StatusOverdue,
    StatusPerson,
    StatusUnassigned,
)
from bot.render import replies
from bot.render.from_storage import action_view, history_view
from bot.render.latest import latest_note
from bot.render.model import ActionView, Count
from bot.services import rebaseline, signoff, views
from bot.services.ratings import request_flagged
from bot.services.request import Outcome, Request
from storage import queries
from storage.models import Action, Person

#: History entries `/action show` lists before "and N earlier".
HISTORY_LIMIT = 10

P = TypeVar("P", bound=Paged)


def show_action(request: Request, command: ShowAction) -> Outcome:
    """One action in full, with its latest history."""
    action = request.action(command.action_id)
    entries = queries.history_for(request.session, action_id=action.id, limit=HISTORY_LIMIT)
    total = queries.count_history(request.session, action_id=action.id)
    (view,) = request_flagged(request, [action], [action_view(action, today=request.today)])
    more = total - len(entries)
    people = replies.People(
        supporters=[s.person.display_name for s in action.supporters],
        owner_text=action.owner_text if action.owner is None else None,
        unreachable=[p.display_name for p in _people(action) if not p.identities],
        deadline=rebaseline.deadline_lines(request, action),
    )
    latest = latest_note(request.session, action.id, tz=request.core.settings.tz)
    return Outcome(
        replies.detail(
            view,
            [history_view(e) for e in entries],
            more=more,
            people=people,
            latest=latest,
            chair=request.actor_is_chair,
        )
    )


def status_unassigned(request: Request, command: StatusUnassigned | None = None) -> Outcome:
    """Open actions nobody owns yet, with the owner as the plan wrote it."""
    query = (
        select(Action)
        .where(
            Action.board_id == request.board_id,
            Action.owner_id.is_(None),
            Action.status.in_(OPEN_STATUSES),
        )
        .order_by(Action.due_date.is_(None), Action.due_date, Action.id)
    )
    total = request.session.scalar(
        select(func.count()).select_from(query.order_by(None).subquery())
    )
    shown, items = _page(
        command or StatusUnassigned(),
        lambda limit: request.session.scalars(query.limit(limit)).all(),
        total or 0,
    )
    return Outcome(
        replies.unassigned_list(
            _views(request, items),
            [a.owner_text for a in items],
            total=total or 0,
            command=shown,
        )
    )


def _page(
    command: P, fetch: Callable[[int], Sequence[Action]], total: int, size: int = paging.PAGE_SIZE
) -> tuple[P, Sequence[Action]]:
    """The page of a list the command asks for (the last one if it asks past the end).

    Pages are read as the first `page × PAGE_SIZE` rows, cut: plans hold hundreds of
    actions, not millions, and every list query stays one simple ordered query.
    """
    page = min(command.page, paging.pages(total, size))
    items = fetch(page * size)[paging.offset(page, size) :]
    return command.model_copy(update={"page": page}), items


def _people(action: Action) -> list[Person]:
    owner = [action.owner] if action.owner is not None else []
    return owner + [s.person for s in action.supporters]


def list_actions(request: Request, command: ListActions) -> Outcome:
    """Open actions: everyone's, the caller's, or one person's."""
    if command.scope == "all":
        board_id = request.board_id
        total = queries.count_open(request.session, board_id=board_id)
        shown, items = _page(
            command,
            lambda limit: queries.open_actions(request.session, board_id=board_id, limit=limit),
            total,
        )
        return Outcome(
            replies.action_list(
                "Open actions",
                _views(request, items),
                total=total,
                empty="There are no open actions.",
                command=shown,
            )
        )
    if command.scope == "mine" or command.user is None:
        person = request.actor
    else:
        person = request.person(command.user)
    return _person_list(
        request, person.id, person.display_name, mine=command.scope == "mine", command=command
    )


def status_person(request: Request, command: StatusPerson) -> Outcome:
    """`/status mine` and `/status @user`."""
    if command.user is None:
        return _person_list(
            request, request.actor.id, request.actor.display_name, mine=True, command=command
        )
    person = request.person(command.user)
    return _person_list(
        request,
        person.id,
        person.display_name,
        mine=person.id == request.actor.id,
        command=command,
    )


def status_overdue(request: Request, command: StatusOverdue | None = None) -> Outcome:
    """Overdue actions, most late first, with owners and days late."""
    if command is not None and command.user is not None:
        return views.overdue_of(request, command)
    today, board_id = request.today, request.board_id
    total = queries.count_overdue(request.session, board_id=board_id, today=today)
    shown, items = _page(
        command or StatusOverdue(),
        lambda limit: queries.overdue_actions(
            request.session, board_id=board_id, today=today, limit=limit
        ),
        total,
    )
    return Outcome(
        replies.action_list(
            "Overdue actions",
            _views(request, items),
            total=total,
            empty="Nothing is overdue.",
            command=shown,
            chair=request.actor_is_chair,
        )
    )


def status_due(request: Request, command: StatusDue) -> Outcome:
    """Open actions due in the command's window (from today to `days` ahead by default)."""
    start, end, span = views.due_window(request.today, command)
    board_id = request.board_id
    total = queries.count_due_between(request.session, board_id=board_id, start=start, end=end)
    shown, items = _page(
        command,
        lambda limit: queries.due_between(
            request.session, board_id=board_id, start=start, end=end, limit=limit
        ),
        total,
    )
    return Outcome(
        replies.action_list(
            f"Due {span}",
            _views(request, items),
            total=total,
            empty=f"Nothing is due {span}.",
            command=shown,
        )
    )


def status_summary(request: Request) -> Outcome:
    """The plan in figures: open, due this week, overdue, blocked, done, RAG."""
    today, board_id = request.today, request.board_id
    figures = queries.plan_figures(
        request.session, board_id=board_id, today=today, soon=today + dt.timedelta(days=7)
    )
    counts = [
        Count(label="open", value=figures.open),
        Count(label="due in 7 days", value=figures.due_soon),
        Count(label="overdue", value=figures.overdue),
        Count(label="blocked", value=figures.by_status[Status.BLOCKED]),
        Count(label="done", value=figures.by_status[Status.DONE]),
        Count(label="need a date", value=count_undated(request.session, board_id=board_id)),
    ]
    # Blue means complete, so open actions are rarely blue: shown only when some are.
    rag = [
        Count(label=r.value, value=figures.open_by_rag[r])
        for r in Rag
        if r != Rag.BLUE or figures.open_by_rag[r]
    ]
    rag.append(Count(label="not rated", value=figures.open_by_rag[None]))
    waiting = figures.by_status[Status.DELIVERED]
    if waiting or signoff.signoff_on(request.session, board_id):
        # After blocked; a board that does not sign off sees it only while some still wait.
        counts.insert(4, Count(label="awaiting sign-off", value=waiting))
    board = request.core.board
    # The default board keeps its old title; another board says whose plan this is.
    title = "Improvement plan" if board.is_default else f"Improvement plan: {board.name}"
    summary = replies.summary(counts, rag, title=title)
    return Outcome(signoff.awaiting_summary(request, summary))


def status_nodate(request: Request, command: StatusNoDate | None = None) -> Outcome:
    """Open actions without a deadline ("Ongoing", "Monthly" in the plan): a chair sets one."""
    board_id = request.board_id
    total = count_undated(request.session, board_id=board_id)
    shown, items = _page(
        command or StatusNoDate(),
        lambda limit: undated_actions(request.session, board_id=board_id, limit=limit),
        total,
    )
    return Outcome(
        replies.action_list(
            "Actions that need a date",
            _views(request, items),
            total=total,
            empty="Every open action has a deadline.",
            command=shown,
        )
    )


def undated_actions(
    session: Session, *, board_id: int, limit: int | None = None
) -> Sequence[Action]:
    """Open actions of the board without a deadline, oldest first."""
    query = (
        select(Action)
        .where(
            Action.board_id == board_id,
            Action.status.in_(OPEN_STATUSES),
            Action.due_date.is_(None),
        )
        .order_by(Action.id)
        .limit(limit)
    )
    return session.scalars(query).all()


def count_undated(session: Session, *, board_id: int) -> int:
    """How many open actions of the board have no deadline."""
    query = select(func.count()).where(
        Action.board_id == board_id, Action.status.in_(OPEN_STATUSES), Action.due_date.is_(None)
    )
    return session.scalar(query) or 0


def _person_list(
    request: Request, owner_id: int, name: str, *, mine: bool, command: Paged
) -> Outcome:
    board_id = request.board_id
    total = queries.count_open(request.session, board_id=board_id, owner_id=owner_id)
    shown, items = _page(
        command,
        lambda limit: queries.open_for_owner(
            request.session, board_id=board_id, owner_id=owner_id, limit=limit
        ),
        total,
        paging.BUTTONS_PAGE_SIZE if mine else paging.PAGE_SIZE,
    )
    title = "Your open actions" if mine else f"Open actions of {name}"
    empty = "You have no open actions." if mine else f"{name} has no open actions."
    return Outcome(
        replies.action_list(
            title, _views(request, items), total=total, empty=empty, buttons=mine, command=shown
        )
    )


def _views(request: Request, items: Sequence[Action]) -> list[ActionView]:
    return request_flagged(request, items, [action_view(a, today=request.today) for a in items])
