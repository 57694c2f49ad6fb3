"""Notices queued as a note of what to say, rendered only when their turn to be sent comes.

The scheduler plans thousands of reminders, overdue nudges and escalations in one pass.
Rendering each in full at planning time cost most of that pass, and froze a message that could
be stale by the time a rate limit or an outage let it go out. So a planned row's payload only
says which notice it is and for which day (`{"notice": "reminder", "today": "2026-11-23",
"due": "2026-11-24", "lead": 1}`); the outbox renders it from the action as it is at delivery,
with the same `notices` functions and the same `today` as planned, and keeps the rendered
message in the row once sent (the evidence of what the owner saw).

A notice that no longer applies when its turn comes (the action was done or cancelled, its
deadline moved, it was given to someone else, it is no longer blocked) is withdrawn rather than
sent: nobody is nagged about finished work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from sqlalchemy.orm import Session

from bot.domain import Status
from bot.render import notices
from bot.render.from_storage import action_view
from bot.render.latest import latest_notes
from bot.render.model import LatestNote, Message
from storage.models import Action


class _Notice(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The day it was planned for: the text says "due tomorrow" relative to this day.
    today: dt.date


class ReminderNotice(_Notice):
    """A reminder `lead` days before the deadline `due`."""

    notice: Literal["reminder"] = "reminder"
    due: dt.date
    lead: int


class OverdueNotice(_Notice):
    """A nudge to the owner of an action whose deadline `due` has passed."""

    notice: Literal["overdue"] = "overdue"
    due: dt.date


#: Who an escalation goes to, as the ladder names them (bot/domain/ladder.py).
EscalatedTo = Literal["owner", "supporter", "secretary", "chair"]


class EscalationNotice(_Notice):
    """A step of the escalation ladder: overdue or blocked for `days` working days, to a
    chair or the secretary (an escalation they can act on) or to the owner or a supporting
    owner (a nudge that says how long it has been)."""

    notice: Literal["escalation"] = "escalation"
    due: dt.date | None
    reason: notices.EscalationReason
    days: int
    to: EscalatedTo = "chair"

    @property
    def to_owners(self) -> bool:
        """Whether it goes to the owner or a supporting owner rather than the board."""
        return self.to in ("owner", "supporter")


Notice = Annotated[ReminderNotice | OverdueNotice | EscalationNotice, Field(discriminator="notice")]
_NOTICE: TypeAdapter[Notice] = TypeAdapter(Notice)


@dataclass(frozen=True)
class Withdrawn:
    """A notice that no longer applies, and why (kept on the outbox row)."""

    reason: str


class UnreadableNotice(ValueError):
    """A deferred payload that cannot be rendered (a malformed payload, a missing action)."""


def reminder_payload(today: dt.date, due: dt.date, lead: int) -> dict[str, Any]:
    """The outbox payload of a reminder planned on `today`."""
    return ReminderNotice(today=today, due=due, lead=lead).model_dump(mode="json")


def overdue_payload(today: dt.date, due: dt.date) -> dict[str, Any]:
    """The outbox payload of an overdue nudge planned on `today`."""
    return OverdueNotice(today=today, due=due).model_dump(mode="json")


def escalation_payload(
    today: dt.date,
    due: dt.date | None,
    reason: notices.EscalationReason,
    days: int,
    to: EscalatedTo = "chair",
) -> dict[str, Any]:
    """The outbox payload of a step of the escalation ladder planned on `today`."""
    notice = EscalationNotice(today=today, due=due, reason=reason, days=days, to=to)
    return notice.model_dump(mode="json")


def is_deferred(payload: Mapping[str, Any]) -> bool:
    """Whether an outbox payload is a notice to render rather than a rendered message."""
    # A rendered Message has no "notice" field: rows queued before deferral still send as-is.
    return "notice" in payload


#: The outbox kinds of deferred notices; they go out in bundles (bot.outbox.bundles).
NOTICE_KINDS = ("reminder", "overdue", "escalation")


def render_notice(
    session: Session,
    payload: Mapping[str, Any],
    *,
    action_id: int | None,
    recipient_id: int | None,
    tz: ZoneInfo,
) -> Message | Withdrawn:
    """The message a deferred payload stands for, or why it must not be sent any more.

    Raises UnreadableNotice (a ValueError, as pydantic's ValidationError is) when the payload
    cannot be rendered at all.
    """
    updates = latest_notes(session, [action_id], tz=tz) if action_id is not None else {}
    item = notice_item(
        session, payload, action_id=action_id, recipient_id=recipient_id, latest=updates
    )
    if isinstance(item, Withdrawn):
        return item
    return notices.bundle([item])


def notice_item(
    session: Session,
    payload: Mapping[str, Any],
    *,
    action_id: int | None,
    recipient_id: int | None,
    latest: Mapping[int, LatestNote],
) -> notices.BundleItem | Withdrawn:
    """One deferred notice as a bundle's item, worded from the action as it is now; `latest`
    holds the latest updates, looked up for all of a bundle's items at once.

    Raises UnreadableNotice (or pydantic's ValidationError) when it cannot be read.
    """
    notice = _NOTICE.validate_python(payload)
    action = session.get(Action, action_id) if action_id is not None else None
    if action is None:
        raise UnreadableNotice(f"the action of this {notice.notice} no longer exists")
    why = _no_longer_applies(notice, action, recipient_id)
    if why is not None:
        return Withdrawn(f"not sent: #{action.id} {why} before it went out")
    view = action_view(action, today=notice.today)
    update = latest.get(action.id)
    if isinstance(notice, EscalationNotice) and notice.to_owners:
        # The owner's rung of the ladder is their nudge: one item with the owner's buttons,
        # standing for the day's overdue nudge about the same action (bot/outbox/bundles.py).
        return notices.BundleItem(
            notice="overdue", action=view, today=notice.today, latest=update, days=notice.days
        )
    if isinstance(notice, EscalationNotice):
        return notices.BundleItem(
            notice="escalation",
            action=view,
            today=notice.today,
            reason=notice.reason,
            days=notice.days,
            latest=update,
        )
    return notices.BundleItem(notice=notice.notice, action=view, today=notice.today, latest=update)


def _no_longer_applies(notice: Notice, action: Action, recipient_id: int | None) -> str | None:
    if action.status.is_closed or action.status == Status.DELIVERED:
        # Delivered: no longer chased while it waits for sign-off.
        return f"was {action.status.label}"
    if isinstance(notice, EscalationNotice) and notice.reason == "blocked":
        return None if action.status == Status.BLOCKED else "was unblocked"
    if action.due_date != notice.due:
        return "had its deadline moved"
    # The new owner was told when it was assigned; the old one has nothing left to do. A
    # supporting owner is reminded with the owner for as long as they support it.
    if (
        (not isinstance(notice, EscalationNotice) or notice.to_owners)
        and action.owner_id != recipient_id
        and not any(s.person_id == recipient_id for s in action.supporters)
    ):
        return "was reassigned"
    return None
