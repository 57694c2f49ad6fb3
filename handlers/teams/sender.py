"""Delivers outbox messages into Teams: proactive posts through stored conversation references.

https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/conversations/send-proactive-messages
A user is reached in their personal chat with the bot; when the bot has only seen them in a
channel, that chat is created first (POST /v3/conversations) and kept for next time. A channel
gets a new post (a new thread) in the channel's own conversation.
"""

from __future__ import annotations

import logging
import re

from bot.domain import Platform
from bot.outbox.delivery import Delivered, SendError
from bot.render.model import Message
from bot.services.context import Core
from handlers.teams.cards import to_activity
from handlers.teams.connector import Connector, ConnectorError
from handlers.teams.references import (
    Reference,
    conversation_key,
    get_reference,
    save_reference,
    user_key,
)
from storage.db import transaction

log = logging.getLogger(__name__)

#: Teams channel and group-chat ids: `19:…@thread.tacv2` (also `.skype`, `.v2`).
_CHANNEL = re.compile(r"19:[^\s;]+@thread\.[a-z0-9]+")

#: Answers that trying again will not change: the bot was removed or blocked (403), the
#: conversation is gone (404), or the activity itself is wrong (400, 413).
_PERMANENT = frozenset({400, 403, 404, 413})


class TeamsSender:
    """The outbox's Teams platform."""

    platform = Platform.TEAMS

    def __init__(self, core: Core, connector: Connector) -> None:
        self._core = core
        self._connector = connector

    def send_to_account(self, external_id: str, message: Message) -> Delivered:
        """Post in the user's personal chat with the bot, opening it if needed."""
        ref = self._reference(user_key(external_id))
        if ref is None:
            raise SendError(
                "the bot has never seen this Teams user; they need to install the app or "
                "message the bot once",
                permanent=True,
            )
        conversation_id = ref.conversation_id
        if conversation_id is None:
            conversation_id = self._open_personal(ref, external_id)
        return self._post(ref, conversation_id, message)

    def send_to_channel(self, channel: str, message: Message) -> Delivered:
        """Post a new message in a channel the bot has been added to."""
        ref = self._reference(conversation_key(channel))
        if ref is None or ref.conversation_id is None:
            raise SendError(
                f"the bot has not been added to the Teams channel {channel} (or has never "
                "been mentioned there)",
                permanent=True,
            )
        return self._post(ref, ref.conversation_id, message)

    def owns_channel(self, channel: str) -> bool:
        """A channel the bot has seen in Teams, or one with a Teams id (`19:…@thread.…`).

        The stored references come first: a channel's id is whatever Teams (or a tenant's
        client, or the Agents Playground) gave in the activity, not always that pattern.
        """
        if self._reference(conversation_key(channel)) is not None:
            return True
        return _CHANNEL.fullmatch(channel) is not None

    def _reference(self, key: str) -> Reference | None:
        with transaction(self._core.sessions) as session:
            return get_reference(session, key=key)

    def _open_personal(self, ref: Reference, user_id: str) -> str:
        try:
            conversation_id = self._connector.create_personal(
                ref.service_url, bot_id=ref.bot_id, user_id=user_id, tenant_id=ref.tenant_id
            )
        except ConnectorError as exc:
            raise send_error(exc) from exc
        with transaction(self._core.sessions) as session:
            save_reference(
                session,
                Reference(
                    key=ref.key,
                    service_url=ref.service_url,
                    conversation_id=conversation_id,
                    conversation_type="personal",
                    tenant_id=ref.tenant_id,
                    bot_id=ref.bot_id,
                    user_id=user_id,
                ),
                now=self._core.now(),
            )
        return conversation_id

    def _post(self, ref: Reference, conversation_id: str, message: Message) -> Delivered:
        activity = to_activity(message, today=self._core.today(), tz=self._core.settings.tz)
        try:
            activity_id = self._connector.send(ref.service_url, conversation_id, activity)
        except ConnectorError as exc:
            raise send_error(exc) from exc
        return Delivered(channel=conversation_id, ref=activity_id)


def send_error(exc: ConnectorError) -> SendError:
    """The outbox's view of a connector failure: 429 waits, removed bots are permanent."""
    if exc.status == 429:
        return SendError("Teams rate limit (429)", permanent=False, retry_after=exc.retry_after)
    return SendError(exc.reason, permanent=exc.status in _PERMANENT)
