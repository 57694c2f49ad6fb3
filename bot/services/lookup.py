"""Read queries for buttons and forms: an action's current state as a view, not as a reply."""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError

from bot.errors import CommandError
from bot.render.from_storage import action_view
from bot.render.model import ActionView
from bot.services.context import Core
from bot.services.dispatch import TRY_AGAIN, database_unavailable
from bot.services.request import existing_action
from storage.db import transaction

log = logging.getLogger(__name__)


def current_action(core: Core, action_id: int) -> ActionView:
    """The action as it stands now, e.g. for the form that adds a note to it.

    CommandError when there is no such action or the database is not answering.
    """
    try:
        with transaction(core.sessions) as session:
            return action_view(existing_action(session, action_id), today=core.today())
    except DBAPIError as exc:
        if not database_unavailable(exc):
            raise
        log.warning("database unavailable reading #%s: %s", action_id, exc.orig)
        raise CommandError(TRY_AGAIN, None) from None
