"""Models into the views replies show, with lateness worked out for a given day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy.orm import object_session

from bot.domain import Status
from bot.domain.rebaseline import moved_words, slippage
from bot.domain.workdays import WorkingCalendar
from bot.render.inline import person_ids
from bot.render.model import ActionView, HistoryView, PersonView
from storage.models import Action, HistoryEntry, Person


def person_view(person: Person) -> PersonView:
    """A person as replies show them."""
    return PersonView(
        id=person.id,
        name=person.display_name,
        accounts={identity.platform.value: identity.external_id for identity in person.identities},
    )


def _owner_view(owner: Person) -> PersonView:
    if owner.left_at is None:
        return person_view(owner)
    # Shown as unowned, never as a mention of an account that is gone.
    return PersonView(id=owner.id, name=f"owner left: {owner.display_name}")


def action_view(
    action: Action, *, today: dt.date, calendar: WorkingCalendar | None = None
) -> ActionView:
    """An action as replies show it, late or due relative to `today`; with a `calendar`,
    how far its deadline moved from its baseline, in working days."""
    days_late = days_left = 0
    if action.due_date is not None:
        delta = (action.due_date - today).days
        # Delivered is not late: it waits for sign-off, no longer for its owner.
        waiting = action.status.is_closed or action.status == Status.DELIVERED
        days_late = max(0, -delta) if not waiting else 0
        days_left = delta
    return ActionView(
        id=action.id,
        ref=action.ref,
        title=action.title,
        owner=_owner_view(action.owner) if action.owner else None,
        due=action.due_date,
        cadence=action.cadence,
        status=action.status,
        rag=action.rag,
        workstream=action.workstream,
        priority=action.priority,
        blocked_reason=action.blocked_reason,
        success_measure=action.success_measure,
        days_late=days_late,
        days_left=days_left if action.due_date is not None else None,
        done_at=action.done_at if action.status.is_closed else None,
        mentions=mentioned(action, (action.title, action.blocked_reason)),
        moved=_moved(action, calendar),
    )


def _moved(action: Action, calendar: WorkingCalendar | None) -> str | None:
    if calendar is None or not action.rebaselines:
        return None
    days = slippage(action.baseline_due, action.due_date, calendar)
    return moved_words(action.rebaselines, days)


def history_view(entry: HistoryEntry) -> HistoryView:
    """A history entry as `/action show` lists it."""
    return HistoryView(
        at=entry.at,
        actor=entry.actor.display_name if entry.actor else None,
        source=entry.source,
        change=entry.change,
        field=entry.field,
        old=entry.old_value,
        new=entry.new_value,
        note=entry.note,
        mentions=mentioned(entry, (entry.old_value, entry.new_value, entry.note)),
    )


def mentioned(row: object, texts: Iterable[str | None]) -> list[PersonView]:
    """The people `texts` mention, loaded through the session `row` belongs to."""
    ids = person_ids(texts)
    session = object_session(row) if ids else None
    if session is None:  # no mentions (nearly always), or a row no longer in a session
        return []
    people = (session.get(Person, person_id) for person_id in sorted(ids))
    return [person_view(person) for person in people if person is not None]
