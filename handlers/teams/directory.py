"""Teams' directory: the people the bot has met in Teams, by Teams user id or by email.

The Bot Connector can only describe members of a conversation the bot is in, so Teams users
are known once they install the app, talk to the bot, or are @mentioned in a command (looked
up then among that conversation's members, handlers/teams/activities.py); the email kept links them
to the person imported from the plan (or met on Slack).
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bot.domain import Platform
from bot.services.directory import Account
from handlers.teams.references import find_user_by_email, get_reference, user_key
from storage.db import transaction


class TeamsDirectory:
    """Looks Teams users up among the conversation references the bot has kept."""

    platform = Platform.TEAMS

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def lookup_id(self, external_id: str) -> Account | None:
        """The Teams user with this id (from a mention), if the bot has seen them."""
        with transaction(self._sessions) as session:
            ref = get_reference(session, key=user_key(external_id))
        if ref is None or ref.user_id is None:
            return None
        return Account(Platform.TEAMS, ref.user_id, ref.name or ref.user_id, ref.email)

    def lookup_email(self, email: str) -> Account | None:
        """The Teams user with this email, if the bot has seen them."""
        with transaction(self._sessions) as session:
            ref = find_user_by_email(session, email=email)
        if ref is None or ref.user_id is None:
            return None
        return Account(Platform.TEAMS, ref.user_id, ref.name or ref.user_id, ref.email)
