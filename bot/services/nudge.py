"""`/action nudge <id>` and the Nudge owner button: a chair sends the owner one message now.

Once per action per day is enough: a second nudge the same day (by any chair) is answered with
when the first went, and sends nothing. The outbox key `nudge:{action}:{day}` holds that even
when two chairs press at the same moment.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.domain import Change
from bot.errors import CommandError
from bot.grammar.commands import NudgeOwner
from bot.grammar.usage import action_usage
from bot.outbox.queue import enqueue
from bot.render import notices, replies
from bot.render.from_storage import action_view
from bot.render.latest import latest_note
from bot.render.model import ActionView
from bot.services.permissions import require_chair
from bot.services.request import Outcome, Request
from storage.models import HistoryEntry

NUDGE = "nudge"


def nudge_owner(request: Request, command: NudgeOwner) -> Outcome:
    """Message the owner about the action now, recorded in its history with who nudged."""
    require_chair(request, "nudge owners", action_usage("nudge"))
    action = request.action(command.action_id)
    view = action_view(action, today=request.today)
    if action.status.is_closed:
        raise CommandError(
            f"#{action.id} is {action.status.label}; there is nothing to nudge about.",
            f"/action show {action.id}",
        )
    owner = action.owner
    if owner is None:
        raise CommandError(
            f"#{action.id} has no owner to nudge; give it to someone first.",
            action_usage("assign"),
        )
    if owner.left_at is not None:
        raise CommandError(
            f"{owner.display_name} has left, so nobody would read a nudge; "
            "give the action to someone else.",
            action_usage("assign"),
        )
    if owner.id == request.actor.id:
        raise CommandError(f"#{action.id} is yours: there is nobody to nudge.", None)
    tz = request.core.settings.tz
    earlier = _nudged_today(request, action.id)
    if earlier is not None:
        return _already(request, view, earlier)
    message = notices.nudge(
        view,
        by=request.actor.display_name,
        today=request.today,
        latest=latest_note(request.session, action.id, tz=tz),
    )
    outbox_id = enqueue(
        request.session,
        board_id=request.board_id,
        key=f"{NUDGE}:{action.id}:{request.today.isoformat()}",
        kind=NUDGE,
        message=message,
        now=request.now,
        recipient=owner,
        action=action,
    )
    if outbox_id is None:  # another chair's nudge of today won the race
        return Outcome(
            replies.unchanged(
                f"{owner.display_name} was already nudged about #{action.id} today; "
                "once a day is enough.",
                view,
            )
        )
    request.record(action, Change.NUDGED, new=owner.display_name)
    text = f"Nudged {owner.display_name} about {replies.label(view)}: one message from me, now."
    return Outcome(replies.changed(text, view), [outbox_id])


def _nudged_today(request: Request, action_id: int) -> HistoryEntry | None:
    tz = request.core.settings.tz
    start = dt.datetime.combine(request.today, dt.time(), tzinfo=tz)
    return request.session.scalars(
        select(HistoryEntry)
        .where(
            HistoryEntry.action_id == action_id,
            HistoryEntry.change == Change.NUDGED.value,
            HistoryEntry.at >= start,
        )
        .order_by(HistoryEntry.at.desc())
        .limit(1)
    ).first()


def _already(request: Request, view: ActionView, earlier: HistoryEntry) -> Outcome:
    at = earlier.at.astimezone(request.core.settings.tz)
    by = earlier.actor.display_name if earlier.actor else "a chair"
    who = earlier.new_value or "The owner"
    by_whom = "you" if earlier.actor_id == request.actor.id else by
    text = (
        f"{who} was already nudged about #{view.id} today at {at:%H:%M} (by {by_whom}); "
        "once a day is enough."
    )
    return Outcome(replies.unchanged(text, view))
