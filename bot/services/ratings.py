"""Computed BRAG ratings of stored actions, and a chair accepting a declared rating.

The rules are bot/domain/brag.py; this module gathers their facts from the database in a few
grouped queries (however many actions are listed) and words the flag shown where a declared
rating is greener than the computed one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.domain import Change, Rag, Status
from bot.domain.brag import ActionFacts, Computed, compute, greener, mismatch_words
from bot.domain.workdays import WorkingCalendar
from bot.grammar.commands import AcceptRag
from bot.render import replies
from bot.render.from_storage import action_view
from bot.render.model import ActionView, Heading, Message, Paragraph
from bot.services.context import Core
from bot.services.permissions import Permission, require
from bot.services.request import Outcome, Request
from storage.models import Action, HistoryEntry

#: Changes that count as an update from the owner's side: a note, a status, a rating.
UPDATE_CHANGES = (Change.NOTE.value, Change.STATUS.value, Change.RAG.value)


@dataclass(frozen=True)
class Rating:
    """An action's computed rating, and the flag to show beside its declared one, if any."""

    computed: Computed
    flag: str | None


def ratings(
    session: Session,
    actions: Sequence[Action],
    *,
    settings: Settings,
    calendar: WorkingCalendar,
    today: dt.date,
) -> dict[int, Rating]:
    """The computed rating of each action (cancelled ones left out), by action id."""
    ids = [a.id for a in actions if a.status is not Status.CANCELLED]
    if not ids:
        return {}
    tz = settings.tz
    updated = _latest(session, ids, HistoryEntry.change.in_(UPDATE_CHANGES))
    blocked = _latest(
        session,
        [a.id for a in actions if a.status is Status.BLOCKED],
        (HistoryEntry.change == Change.STATUS.value)
        & (HistoryEntry.new_value == Status.BLOCKED.value),
    )
    accepted = accepted_ratings(session, ids)
    found: dict[int, Rating] = {}
    for action in actions:
        if action.id not in ids:
            continue
        since = blocked.get(action.id) or (
            action.updated_at if action.status is Status.BLOCKED else None
        )
        facts = ActionFacts(
            status=action.status,
            due=action.due_date,
            blocked_since=since.astimezone(tz).date() if since else None,
            last_update=_day(updated.get(action.id), tz),
            created=_day(action.created_at, tz),
            rebaselines=action.rebaselines or 0,
        )
        rules = settings.brag_rules
        computed = compute(facts, today=today, calendar=calendar, rules=rules)
        if computed is None:
            continue
        flag = None
        declared = action.rag
        if (
            declared is not None
            and greener(declared, computed.rag)
            and accepted.get(action.id) != (declared, computed.rag)
        ):
            flag = mismatch_words(declared, computed)
        found[action.id] = Rating(computed, flag)
    return found


def flagged(
    session: Session,
    actions: Sequence[Action],
    views: Sequence[ActionView],
    *,
    settings: Settings,
    calendar: WorkingCalendar,
    today: dt.date,
) -> list[ActionView]:
    """`views` of `actions` (in the same order), each saying where its declared rating is
    greener than its facts: lists, `show` and the digest put that beside the rating."""
    found = ratings(session, actions, settings=settings, calendar=calendar, today=today)
    return [
        view.model_copy(update={"rag_flag": found[action.id].flag})
        if action.id in found and found[action.id].flag
        else view
        for action, view in zip(actions, views, strict=True)
    ]


def request_flagged(
    request: Request, actions: Sequence[Action], views: Sequence[ActionView]
) -> list[ActionView]:
    """`flagged` for a command's lists, with its settings, calendar and day."""
    core = request.core
    return flagged(
        request.session,
        actions,
        views,
        settings=core.settings,
        calendar=core.calendar,
        today=request.today,
    )


def accepted_ratings(session: Session, ids: Sequence[int]) -> dict[int, tuple[Rag, Rag]]:
    """For each action, the (declared, computed) pair a chair last accepted, if any."""
    latest = (
        select(HistoryEntry.action_id, func.max(HistoryEntry.id).label("id"))
        .where(HistoryEntry.action_id.in_(ids), HistoryEntry.change == Change.RAG_ACCEPTED.value)
        .group_by(HistoryEntry.action_id)
        .subquery()
    )
    rows = session.execute(
        select(HistoryEntry.action_id, HistoryEntry.old_value, HistoryEntry.new_value).join(
            latest, HistoryEntry.id == latest.c.id
        )
    )
    return {
        action_id: (Rag(declared), Rag(computed))
        for action_id, declared, computed in rows
        if declared and computed
    }


def accept_rag(request: Request, command: AcceptRag) -> Outcome:
    """A chair accepts the owner's declared rating against the computed one, with a reason."""
    action = request.action(command.action_id)
    require(request, Permission.ACCEPT_RAG, action=action)
    rating = ratings(
        request.session,
        [action],
        settings=request.core.settings,
        calendar=request.core.calendar,
        today=request.today,
    ).get(action.id)
    view = action_view(action, today=request.today)
    if rating is None or action.rag is None or rating.flag is None:
        return Outcome(
            replies.unchanged(
                f"Nothing to accept: {replies.label(view)} is not rated greener than its facts.",
                view,
            )
        )
    request.record(
        action,
        Change.RAG_ACCEPTED,
        old=action.rag.value,
        new=rating.computed.rag.value,
        note=command.reason,
    )
    return Outcome(
        replies.changed(
            f"Accepted: {replies.label(view)} stays {action.rag.value}"
            f" ({rating.flag}). Reason kept in its history.",
            view,
        )
    )


def rules_message(core: Core) -> Message:
    """`/status rules`: how the bot computes a rating, from this deployment's settings."""
    lines = core.settings.brag_rules.lines()
    return Message(
        text="How the bot rates actions (BRAG)",
        blocks=[
            Heading(text="How the bot rates actions (BRAG)"),
            *(Paragraph(text=line) for line in lines),
            Paragraph(
                text="Where an owner's rating is greener than this, /status, the digest and the"
                " board pack say so; a chair can accept it with /action accept <id> <reason>."
            ),
        ],
    )


def _latest(session: Session, ids: Sequence[int], condition: object) -> dict[int, dt.datetime]:
    if not ids:
        return {}
    query = (
        select(HistoryEntry.action_id, func.max(HistoryEntry.at))
        .where(HistoryEntry.action_id.in_(ids), condition)  # type: ignore[arg-type]
        .group_by(HistoryEntry.action_id)
    )
    return {action_id: at for action_id, at in session.execute(query).all()}


def _day(instant: dt.datetime | None, tz: dt.tzinfo) -> dt.date | None:
    return instant.astimezone(tz).date() if instant is not None else None
