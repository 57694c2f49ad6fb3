"""People who left: recorded once, their open actions flagged to the chairs once.

An owner leaves when a message to them is refused for good because their account is gone
(bot/outbox/delivery.py). From then on their actions show as unowned ("owner left: …"), they
cannot be given new ones (bot/services/people.py: require_present), and messages to them are
not tried again; typing a command brings them back.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.outbox.queue import enqueue
from bot.render import owner_notices
from bot.render.from_storage import action_view
from bot.services.people import chairs
from storage.models import Person
from storage.queries import count_open, open_for_owner

#: Outbox kind of the notice to the chairs; its key is per person, so it goes out once.
OWNER_LEFT = "owner_left"
#: Actions listed in that notice; the rest are counted.
LISTED = 20


def owns_open_actions(session: Session, person: Person) -> bool:
    """Whether `person` is the owner of any open action."""
    return count_open(session, owner_id=person.id) > 0


def mark_left(
    session: Session,
    *,
    person: Person,
    reason: str,
    settings: Settings,
    now: dt.datetime,
    today: dt.date,
) -> list[int]:
    """Record that `person` left and queue the chairs' notice; [] if it was known already."""
    if person.left_at is not None:
        return []
    person.left_at = now
    person.left_reason = reason[:200]
    session.flush()
    actions = open_for_owner(session, owner_id=person.id, limit=LISTED)
    message = owner_notices.owner_left(
        person=person.display_name,
        reason=reason,
        actions=[action_view(action, today=today) for action in actions],
        total=count_open(session, owner_id=person.id),
    )
    ids: list[int] = []
    for chair in chairs(session, settings=settings):
        if chair.id == person.id:
            continue
        outbox_id = enqueue(
            session,
            key=f"{OWNER_LEFT}:{person.id}:{chair.id}",
            kind=OWNER_LEFT,
            message=message,
            now=now,
            recipient=chair,
        )
        if outbox_id is not None:
            ids.append(outbox_id)
    return ids
