"""Delivers outbox messages into Teams: proactive posts through stored conversation references.

https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/conversations/send-proactive-messages
A user is reached in their personal chat with the bot; when the bot has only seen them in a
channel, that chat is created first (POST /v3/conversations) and kept for next time. A channel
gets a new post (a new thread) in the channel's own conversation.

Sends are paced (bot/outbox/pacing.py) like Slack's: Teams throttles a bot per conversation and
per app and answers 429 with Retry-After, so the pacer learns the allowance from those answers.
A short Retry-After and a single 5xx are retried here; anything longer goes back to the outbox.
A conversation Teams refuses for good (403: the bot was removed or blocked; 404: it is gone) is
forgotten, so the next message to that person opens a new chat instead of failing the same way.

A message the bot sent is edited (an action's buttons taken off it) by replacing its activity:
the activity id Teams gave the post is the outbox row's reference, and the conversation's
stored reference says which service URL holds it.

Many tenants: a message for a board goes only through references kept in that board's tenant
(handlers/teams/tenants.py): `workspace` is the board's tenant (None: the default board, of
the deployment's single tenant, or of any in a multi-tenant deployment).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TypeVar

from bot.domain import Platform
from bot.outbox.pacing import Backlogged, Pacer
from bot.outbox.sender import Delivered, SendError
from bot.render.model import Message
from bot.services.context import Core
from handlers.teams.cards import to_activity
from handlers.teams.connector import Connector, ConnectorError
from handlers.teams.references import (
    Reference,
    conversation_key,
    drop_conversation,
    find_conversation,
    get_reference,
    save_reference,
    user_key,
)
from handlers.teams.tenants import Tenants
from storage.db import transaction

log = logging.getLogger(__name__)

#: Teams channel and group-chat ids: `19:…@thread.tacv2` (also `.skype`, `.v2`).
_CHANNEL = re.compile(r"19:[^\s;]+@thread\.[a-z0-9]+")

#: Answers that trying again will not change: the bot was removed or blocked (403), the
#: conversation is gone (404), or the activity itself is wrong (400, 413).
_PERMANENT = frozenset({400, 403, 404, 413})
#: Answers that mean the stored conversation is of no more use to the bot.
_GONE = frozenset({403, 404})
#: 429s waited out inside one send before the row is handed back to the outbox.
RATE_LIMIT_RETRIES = 2
#: The longest Retry-After a sending thread waits out itself; a longer one is the outbox's,
#: kept on the core's clock while the next rows go out.
MAX_INLINE_RETRY_AFTER = 10.0
#: A 5xx is retried once after this many seconds; a second one goes back to the outbox.
SERVER_ERROR_RETRIES = 1
SERVER_ERROR_RETRY_DELAY = 0.5

_T = TypeVar("_T")


class TeamsSender:
    """The outbox's Teams platform."""

    platform = Platform.TEAMS

    def __init__(
        self,
        core: Core,
        connector: Connector,
        *,
        pacer: Pacer | None = None,
        tenants: Tenants | None = None,
    ) -> None:
        self._core = core
        self._connector = connector
        self._tenants = tenants or Tenants.from_settings(core.settings)
        # One pacer per sender, shared by its threads: Teams' limits are per bot, so a second
        # pacer in the same process would spend the same allowance twice.
        self.pacer = pacer or Pacer()

    def send_to_account(
        self, external_id: str, message: Message, *, workspace: str | None = None
    ) -> Delivered:
        """Post in the user's personal chat with the bot, opening it if needed."""
        ref = self._reference(user_key(external_id), workspace, "this Teams user")
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

    def send_to_channel(
        self, channel: str, message: Message, *, workspace: str | None = None
    ) -> Delivered:
        """Post a new message in a channel the bot has been added to."""
        ref = self._reference(conversation_key(channel), workspace, f"the Teams channel {channel}")
        if ref is None or ref.conversation_id is None:
            raise SendError(
                f"the bot has not been added to the Teams channel {channel} (or has never "
                "been mentioned there)",
                permanent=True,
            )
        return self._post(ref, ref.conversation_id, message)

    def edit_message(
        self, channel: str, ref: str, message: Message, *, workspace: str | None = None
    ) -> None:
        """Redraw a card the bot sent (the activity `ref` in conversation `channel`), e.g.
        without an action's buttons; SendError when Teams refuses or cannot be reached."""
        with transaction(self._core.sessions) as session:
            stored = find_conversation(session, conversation_id=channel)
        if stored is not None:
            self._check_tenant(stored, workspace, f"the Teams conversation {channel}")
        if stored is None:
            raise SendError(
                f"the Teams conversation {channel} is no longer known to the bot", permanent=True
            )
        activity = to_activity(message, today=self._core.today(), tz=self._core.settings.tz)
        try:
            self._paced(lambda: self._connector.update(stored.service_url, channel, ref, activity))
        except ConnectorError as exc:
            # The conversation is kept: a message deleted (404) or no longer the bot's to edit
            # says nothing about whether the next post there will arrive.
            if exc.status in _GONE:
                raise SendError(
                    f"Teams refused to edit the message (HTTP {exc.status}): it was deleted, "
                    "or the bot can no longer post in that conversation",
                    permanent=True,
                ) from exc
            raise send_error(exc) from exc

    def owns_channel(self, channel: str) -> bool:
        """A channel the bot has seen in Teams, or one with a Teams id (`19:…@thread.…`).

        The stored references come first: a channel's id is whatever Teams (or a tenant's
        client, or the Agents Playground) gave in the activity, not always that pattern.
        """
        with transaction(self._core.sessions) as session:
            if get_reference(session, key=conversation_key(channel)) is not None:
                return True
        return _CHANNEL.fullmatch(channel) is not None

    def _reference(self, key: str, workspace: str | None, what: str) -> Reference | None:
        """The reference kept under `key`; SendError when it was kept in another tenant
        than the board's (`workspace`)."""
        with transaction(self._core.sessions) as session:
            ref = get_reference(session, key=key)
        if ref is not None:
            self._check_tenant(ref, workspace, what)
        return ref

    def _check_tenant(self, ref: Reference, workspace: str | None, what: str) -> None:
        """Refuse, for good, a reference of one organisation for a board of another."""
        wanted = self._tenants.for_board(workspace)
        if not self._tenants.matches(ref.tenant_id, wanted):
            raise SendError(
                f"the bot knows {what} in another Microsoft 365 organisation (tenant "
                f"{ref.tenant_id or 'unknown'}) than the board's ({wanted})",
                permanent=True,
            )

    def _open_personal(self, ref: Reference, user_id: str) -> str:
        try:
            conversation_id = self._paced(
                lambda: self._connector.create_personal(
                    ref.service_url, bot_id=ref.bot_id, user_id=user_id, tenant_id=ref.tenant_id
                )
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
            activity_id = self._paced(
                lambda: self._connector.send(ref.service_url, conversation_id, activity)
            )
        except ConnectorError as exc:
            if exc.status in _GONE:
                self._forget(ref.key, conversation_id, exc.status)
            raise send_error(exc) from exc
        return Delivered(channel=conversation_id, ref=activity_id)

    def _paced(self, call: Callable[[], _T]) -> _T:
        """`call` in a paced slot, short 429s and one 5xx retried; other failures raised.

        Raises SendError when the wait is the outbox's to keep (a long Retry-After, or a pace
        that leaves no slot soon), ConnectorError for everything else.
        """
        server_errors = rate_limits = 0
        delay = 0.0
        while True:
            try:
                self.pacer.acquire(after=delay, max_wait=MAX_INLINE_RETRY_AFTER)
            except Backlogged as exc:
                raise SendError(
                    "Teams rate limit (waiting for Retry-After)",
                    permanent=False,
                    retry_after=exc.wait,
                ) from None
            try:
                return call()
            except ConnectorError as exc:
                if exc.status == 429:
                    wait = exc.retry_after or 0.0
                    inline = rate_limits < RATE_LIMIT_RETRIES and wait <= MAX_INLINE_RETRY_AFTER
                    self.pacer.throttled(exc.retry_after, hold=inline)
                    if not inline:
                        raise send_error(exc) from exc
                    rate_limits += 1
                    delay = 0.0  # acquire() waits out the Retry-After
                    continue
                if exc.status >= 500 and server_errors < SERVER_ERROR_RETRIES:
                    server_errors += 1
                    delay = SERVER_ERROR_RETRY_DELAY
                    log.info("Bot Connector answered HTTP %s; retrying once", exc.status)
                    continue
                raise

    def _forget(self, key: str, conversation_id: str, status: int) -> None:
        with transaction(self._core.sessions) as session:
            dropped = drop_conversation(session, key=key, conversation_id=conversation_id)
        if dropped:
            log.warning(
                "Teams answered HTTP %s for conversation %s: its reference is dropped",
                status,
                conversation_id,
            )


def send_error(exc: ConnectorError) -> SendError:
    """The outbox's view of a connector failure: 429 waits, removed bots are permanent."""
    if exc.status == 429:
        return SendError("Teams rate limit (429)", permanent=False, retry_after=exc.retry_after)
    if exc.status == 403:
        return SendError(
            "Teams refused the message (403): the bot was removed from the conversation or "
            "blocked by the person",
            permanent=True,
        )
    if exc.status == 404:
        return SendError(
            "Teams refused the message (404): the conversation no longer exists", permanent=True
        )
    return SendError(exc.reason, permanent=exc.status in _PERMANENT)
