"""People who left: recorded once, their open actions flagged to the chairs once.

An owner leaves when a message to them is refused for good because their account is gone
(bot/outbox/delivery.py, which tells the chairs under a key per person). From then on their
actions show as unowned ("owner left: …"), they cannot be given new ones
(bot/people/resolve.py: require_present), and nothing more is queued for them; typing a
command brings them back.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from bot.render import owner_notices
from bot.render.from_storage import action_view
from bot.render.model import Message
from storage.models import Person
from storage.queries import count_open, open_for_owner

#: Start of the outbox key of the chairs' notice: `owner-left:{person}:{chair}`, sent once.
OWNER_LEFT = "owner-left"
#: Actions listed in that notice; the rest are counted.
LISTED = 20


def owns_open_actions(session: Session, person: Person, *, board_id: int) -> bool:
    """Whether `person` is the owner of any open action of the board."""
    return count_open(session, board_id=board_id, owner_id=person.id) > 0


def mark_left(
    session: Session,
    *,
    person: Person,
    reason: str,
    failure: Message,
    now: dt.datetime,
    today: dt.date,
    board_id: int,
) -> Message:
    """Record that `person` left; returns the notice to the chairs of the board `board_id`:
    `failure` (what could not be delivered), then that they left and the board's open
    actions that now have no owner (another board's chairs hear only of theirs)."""
    if person.left_at is None:
        person.left_at = now
        person.left_reason = reason[:200]
        session.flush()
    actions = open_for_owner(session, board_id=board_id, owner_id=person.id, limit=LISTED)
    return owner_notices.owner_left(
        failure=failure.text,
        person=person.display_name,
        reason=reason,
        actions=[action_view(action, today=today) for action in actions],
        total=count_open(session, board_id=board_id, owner_id=person.id),
    )
