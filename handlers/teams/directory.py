"""Teams' directory: the people the bot has met in Teams, by Teams user id or by email.

The Bot Connector can only describe members of a conversation the bot is in, so Teams users
are known once they install the app, talk to the bot, or are @mentioned in a command (looked
up then among that conversation's members, handlers/teams/activities.py); the email kept links them
to the person imported from the plan (or met on Slack). An email nobody met yet is looked for
among the members of the board's team (the channels the bot is used in): a Teams-only
deployment resolves a plan's owners by email before any of them has spoken to the bot.
"""

from __future__ import annotations

import time

from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, SystemClock
from bot.domain import Platform
from bot.people.directory import Account
from handlers.teams.connector import Connector, ConnectorError
from handlers.teams.references import (
    Reference,
    find_user_by_email,
    get_reference,
    is_external_member,
    save_reference,
    team_conversations,
    user_key,
)
from storage.db import transaction


class TeamsDirectory:
    """Looks Teams users up among the conversation references the bot has kept."""

    platform = Platform.TEAMS

    #: How long a sweep of the team's members answers for: an import asks about many emails
    #: at once, and one member list serves them all.
    SWEEP_SECONDS = 300.0

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        connector: Connector | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._sessions = sessions
        self._connector = connector
        self._clock = clock or SystemClock()
        self._swept_at: float | None = None

    def lookup_id(self, external_id: str) -> Account | None:
        """The Teams user with this id (from a mention), if the bot has seen them."""
        with transaction(self._sessions) as session:
            ref = get_reference(session, key=user_key(external_id))
        if ref is None or ref.user_id is None:
            return None
        return _account(ref)

    def lookup_email(self, email: str) -> Account | None:
        """The Teams user with this email: met by the bot, or a member of the board's team."""
        with transaction(self._sessions) as session:
            ref = find_user_by_email(session, email=email)
        if ref is None and self._sweep():
            with transaction(self._sessions) as session:
                ref = find_user_by_email(session, email=email)
        if ref is None or ref.user_id is None:
            return None
        return _account(ref)

    def departure(self, external_id: str) -> str | None:
        """Always None: the Bot Connector does not say whether an account was disabled.

        A Teams user who left is noticed when a message to them is refused for good.
        """
        return None

    def _sweep(self) -> bool:
        """Keep a reference to every member of the board's team; False when nothing was asked."""
        fresh = self._swept_at is not None
        if self._connector is None or (
            fresh and time.monotonic() - (self._swept_at or 0.0) < self.SWEEP_SECONDS
        ):
            return False
        with transaction(self._sessions) as session:
            places = team_conversations(session)
        found: list[Reference] = []
        for place in places:
            assert place.conversation_id is not None  # team_conversations' condition
            try:
                members = list(
                    self._connector.paged_members(place.service_url, place.conversation_id)
                )
            except ConnectorError as exc:
                if exc.status in (403, 404):
                    continue  # the bot was removed from that team: ask the next one
                raise
            for member in members:
                email = member.get("email") or member.get("userPrincipalName")
                found.append(
                    Reference(
                        key=user_key(str(member["id"])),
                        service_url=place.service_url,
                        conversation_id=None,
                        tenant_id=place.tenant_id,
                        bot_id=place.bot_id,
                        user_id=str(member["id"]),
                        name=str(member["name"]) if member.get("name") else None,
                        email=str(email) if email else None,
                        external=is_external_member(member, place.tenant_id),
                    )
                )
        self._swept_at = time.monotonic()
        if found:
            with transaction(self._sessions) as session:
                now = self._clock.now()
                for ref in found:
                    save_reference(session, ref, now=now)
        return bool(places)


def _account(ref: Reference) -> Account:
    assert ref.user_id is not None
    return Account(
        Platform.TEAMS,
        ref.user_id,
        ref.name or ref.user_id,
        ref.email,
        external=bool(ref.external),
    )
