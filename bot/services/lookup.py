"""Read queries for buttons and forms: an action's current state as a view, not as a reply.

Each reads the action on `core.board` only: a button or form of one board never shows
another's action.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError

from bot.errors import CommandError
from bot.render.from_storage import action_view
from bot.render.model import ActionView
from bot.services.context import Caller, Core
from bot.services.dispatch import TRY_AGAIN, database_unavailable
from bot.services.permissions import require_chair, require_owner_or_chair
from bot.services.request import existing_action, request_on_board
from storage.db import transaction

log = logging.getLogger(__name__)


def current_action(core: Core, action_id: int, *, caller: Caller | None = None) -> ActionView:
    """The action as it stands now, e.g. for the form that adds a note to it: on the board
    `caller`'s press is on (found as the dispatcher finds a command's), else `core.board`.

    CommandError when that board has no such action or the database is not answering.
    """
    try:
        with transaction(core.sessions) as session:
            if caller is None:
                action = existing_action(session, action_id, board_id=core.board.id)
                return action_view(action, today=core.today())
            request = request_on_board(core, session, caller, action_id=action_id)
            return action_view(request.action(action_id), today=request.today)
    except DBAPIError as exc:
        if not database_unavailable(exc):
            raise
        log.warning("database unavailable reading #%s: %s", action_id, exc.orig)
        raise CommandError(TRY_AGAIN, None) from None


def action_to_change(core: Core, caller: Caller, action_id: int, doing: str) -> ActionView:
    """The action as it stands now, if `caller` may `doing` it (e.g. "add updates to it").

    Asked before a form opens, so a stale button (someone who no longer owns the action)
    is refused with the reason at once, not after the form has been filled in. CommandError
    (the same reason the command would give) otherwise.
    """
    try:
        with transaction(core.sessions) as session:
            request = request_on_board(core, session, caller, action_id=action_id)
            action = request.action(action_id)
            require_owner_or_chair(request, action, doing)
            return action_view(action, today=request.today)
    except DBAPIError as exc:
        if not database_unavailable(exc):
            raise
        log.warning("database unavailable reading #%s: %s", action_id, exc.orig)
        raise CommandError(TRY_AGAIN, None) from None


def action_for_chair(core: Core, caller: Caller, action_id: int, doing: str) -> ActionView:
    """The action as it stands now, if `caller` runs the plan (a chair's Move deadline and
    Reassign forms); CommandError with the reason otherwise, before any form opens."""
    try:
        with transaction(core.sessions) as session:
            request = request_on_board(core, session, caller, action_id=action_id)
            require_chair(request, doing)
            return action_view(request.action(action_id), today=request.today)
    except DBAPIError as exc:
        if not database_unavailable(exc):
            raise
        log.warning("database unavailable reading #%s: %s", action_id, exc.orig)
        raise CommandError(TRY_AGAIN, None) from None
