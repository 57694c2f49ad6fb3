"""Read-only use cases: show, list and the /status family."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain import OPEN_STATUSES, Rag, Status
from bot.grammar.commands import ListActions, ShowAction, StatusDue, StatusPerson
from bot.render import replies
from bot.render.from_storage import action_view, history_view
from bot.render.model import ActionView, Count
from bot.services.request import Outcome, Request
from storage import queries
from storage.models import Action, Person

#: History entries `/action show` lists before "and N earlier".
HISTORY_LIMIT = 10


def show_action(request: Request, command: ShowAction) -> Outcome:
    """One action in full, with its latest history."""
    action = request.action(command.action_id)
    entries = queries.history_for(request.session, action_id=action.id, limit=HISTORY_LIMIT)
    total = queries.count_history(request.session, action_id=action.id)
    view = action_view(action, today=request.today)
    more = total - len(entries)
    people = replies.People(
        supporters=[s.person.display_name for s in action.supporters],
        owner_text=action.owner_text if action.owner is None else None,
        unreachable=[p.display_name for p in _people(action) if not p.identities],
    )
    return Outcome(
        replies.detail(view, [history_view(e) for e in entries], more=more, people=people)
    )


def status_unassigned(request: Request) -> Outcome:
    """Open actions nobody owns yet, with the owner as the plan wrote it."""
    query = (
        select(Action)
        .where(Action.owner_id.is_(None), Action.status.in_(OPEN_STATUSES))
        .order_by(Action.due_date.is_(None), Action.due_date, Action.id)
    )
    items = request.session.scalars(query.limit(replies.LIST_LIMIT)).all()
    total = request.session.scalar(
        select(func.count()).select_from(query.order_by(None).subquery())
    )
    return Outcome(
        replies.unassigned_list(
            _views(request, items),
            [a.owner_text for a in items],
            total=total or 0,
        )
    )


def _people(action: Action) -> list[Person]:
    owner = [action.owner] if action.owner is not None else []
    return owner + [s.person for s in action.supporters]


def list_actions(request: Request, command: ListActions) -> Outcome:
    """Open actions: everyone's, the caller's, or one person's."""
    if command.scope == "all":
        items = queries.open_actions(request.session, limit=replies.LIST_LIMIT)
        total = queries.count_open(request.session)
        return Outcome(
            replies.action_list(
                "Open actions",
                _views(request, items),
                total=total,
                empty="There are no open actions.",
                more_hint="/status due 30 narrows it down",
            )
        )
    if command.scope == "mine" or command.user is None:
        person = request.actor
    else:
        person = request.person(command.user)
    return _person_list(request, person.id, person.display_name, mine=command.scope == "mine")


def status_person(request: Request, command: StatusPerson) -> Outcome:
    """`/status mine` and `/status @user`."""
    if command.user is None:
        return _person_list(request, request.actor.id, request.actor.display_name, mine=True)
    person = request.person(command.user)
    return _person_list(request, person.id, person.display_name, mine=person.id == request.actor.id)


def status_overdue(request: Request) -> Outcome:
    """Overdue actions, most late first, with owners and days late."""
    items = queries.overdue_actions(request.session, today=request.today, limit=replies.LIST_LIMIT)
    total = queries.count_overdue(request.session, today=request.today)
    return Outcome(
        replies.action_list(
            "Overdue actions",
            _views(request, items),
            total=total,
            empty="Nothing is overdue.",
            more_hint="actionbot export lists them all",
        )
    )


def status_due(request: Request, command: StatusDue) -> Outcome:
    """Open actions due from today to `days` ahead."""
    end = request.today + dt.timedelta(days=command.days)
    items = queries.due_between(
        request.session, start=request.today, end=end, limit=replies.LIST_LIMIT
    )
    total = queries.count_due_between(request.session, start=request.today, end=end)
    span = "today" if command.days == 0 else f"in the next {command.days} days"
    return Outcome(
        replies.action_list(
            f"Due {span}", _views(request, items), total=total, empty=f"Nothing is due {span}."
        )
    )


def status_summary(request: Request) -> Outcome:
    """The plan in figures: open, due this week, overdue, blocked, done, RAG."""
    today = request.today
    figures = queries.plan_figures(request.session, today=today, soon=today + dt.timedelta(days=7))
    counts = [
        Count(label="open", value=figures.open),
        Count(label="due in 7 days", value=figures.due_soon),
        Count(label="overdue", value=figures.overdue),
        Count(label="blocked", value=figures.by_status[Status.BLOCKED]),
        Count(label="done", value=figures.by_status[Status.DONE]),
        Count(label="need a date", value=count_undated(request.session)),
    ]
    # Blue means complete, so open actions are rarely blue: shown only when some are.
    rag = [
        Count(label=r.value, value=figures.open_by_rag[r])
        for r in Rag
        if r != Rag.BLUE or figures.open_by_rag[r]
    ]
    rag.append(Count(label="not rated", value=figures.open_by_rag[None]))
    return Outcome(replies.summary(counts, rag, title="Improvement plan"))


def status_nodate(request: Request) -> Outcome:
    """Open actions without a deadline ("Ongoing", "Monthly" in the plan): a chair sets one."""
    items = undated_actions(request.session, limit=replies.LIST_LIMIT)
    total = count_undated(request.session)
    return Outcome(
        replies.action_list(
            "Actions that need a date",
            _views(request, items),
            total=total,
            empty="Every open action has a deadline.",
            more_hint="actionbot export lists them all",
        )
    )


def undated_actions(session: Session, *, limit: int | None = None) -> Sequence[Action]:
    """Open actions without a deadline, oldest first."""
    query = (
        select(Action)
        .where(Action.status.in_(OPEN_STATUSES), Action.due_date.is_(None))
        .order_by(Action.id)
        .limit(limit)
    )
    return session.scalars(query).all()


def count_undated(session: Session) -> int:
    """How many open actions have no deadline."""
    query = select(func.count()).where(Action.status.in_(OPEN_STATUSES), Action.due_date.is_(None))
    return session.scalar(query) or 0


def _person_list(request: Request, owner_id: int, name: str, *, mine: bool) -> Outcome:
    items = queries.open_for_owner(request.session, owner_id=owner_id, limit=replies.LIST_LIMIT)
    total = queries.count_open(request.session, owner_id=owner_id)
    title = "Your open actions" if mine else f"Open actions of {name}"
    empty = "You have no open actions." if mine else f"{name} has no open actions."
    return Outcome(
        replies.action_list(title, _views(request, items), total=total, empty=empty, buttons=mine)
    )


def _views(request: Request, items: Sequence[Action]) -> list[ActionView]:
    return [action_view(a, today=request.today) for a in items]
