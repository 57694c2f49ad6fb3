"""Teams activities in, the core's replies out: the Teams adapter's receiving side.

Thin like the Slack adapter: remember where the user and channel are (for proactive sends),
work out who is speaking, hand the typed words (`/action …`, `/status …`) or the card button's
command to the core, and reply with a card. Everything here is synchronous (the core is); the HTTP
endpoint runs it in a worker thread.

Activity fields: https://learn.microsoft.com/en-us/azure/bot-service/rest-api/bot-framework-rest-connector-api-reference#activity-object
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.domain import Platform
from bot.grammar.commands import AddUpdate, Command, MarkBlocked, MarkDone
from bot.grammar.usage import action_usage
from bot.outbox.delivery import Sender, deliver_queued
from bot.render import replies
from bot.render.model import Message
from bot.services.context import Caller, Core
from bot.services.dispatch import execute, run_command
from bot.services.people import resolve_caller
from handlers.teams.cards import BLOCKED, BUTTON_KINDS, DONE, UPDATE, note_input_id, to_activity
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

_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_COMMANDS = {"action": "/action", "status": "/status"}


@dataclass(frozen=True)
class Incoming:
    """The parts of an activity the bot uses, read once and checked."""

    type: str
    id: str | None
    service_url: str
    conversation_id: str
    conversation_type: str
    tenant_id: str | None
    bot_id: str
    user_id: str | None
    user_name: str | None
    channel_id: str | None
    text: str
    value: dict[str, Any] | None
    entities: list[dict[str, Any]]
    members_added: list[str]

    @classmethod
    def parse(cls, activity: dict[str, Any]) -> Incoming | None:
        """The activity's fields, or None when it lacks what any reply needs."""
        conversation = _dict(activity.get("conversation"))
        recipient = _dict(activity.get("recipient"))
        sender = _dict(activity.get("from"))
        channel_data = _dict(activity.get("channelData"))
        service_url = activity.get("serviceUrl")
        if not (
            isinstance(service_url, str)
            and service_url.startswith(("https://", "http://"))
            and isinstance(conversation.get("id"), str)
            and isinstance(recipient.get("id"), str)
        ):
            return None
        tenant = conversation.get("tenantId") or _dict(channel_data.get("tenant")).get("id")
        channel = _dict(channel_data.get("channel")).get("id")
        value = activity.get("value")
        added = [
            str(member["id"])
            for member in activity.get("membersAdded") or []
            if isinstance(member, dict) and member.get("id")
        ]
        return cls(
            type=str(activity.get("type") or ""),
            id=str(activity["id"]) if activity.get("id") else None,
            service_url=service_url,
            conversation_id=str(conversation["id"]),
            conversation_type=str(conversation.get("conversationType") or "personal"),
            tenant_id=str(tenant) if tenant else None,
            bot_id=str(recipient["id"]),
            user_id=str(sender["id"]) if sender.get("id") else None,
            user_name=str(sender["name"]) if sender.get("name") else None,
            channel_id=str(channel) if channel else None,
            text=str(activity.get("text") or ""),
            value=value if isinstance(value, dict) else None,
            entities=[e for e in activity.get("entities") or [] if isinstance(e, dict)],
            members_added=added,
        )

    @property
    def personal(self) -> bool:
        """A 1:1 chat between the bot and one user."""
        return self.conversation_type == "personal"

    @property
    def place_key(self) -> str:
        """The reference key of where this activity happened (a channel or group chat)."""
        # A channel's threads have ids like `19:…@thread.tacv2;messageid=…`: the channel id
        # itself is where new posts (the digest) go.
        return conversation_key(self.channel_id or self.conversation_id.split(";", 1)[0])


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class TeamsBot:
    """Handles one activity at a time; safe to call from several threads at once."""

    def __init__(self, core: Core, connector: Connector, senders: Sequence[Sender]) -> None:
        self.core = core
        self.connector = connector
        self.senders = senders

    def handle(self, activity: dict[str, Any]) -> None:
        """Process one activity; errors in the core are logged and answered with an apology."""
        incoming = Incoming.parse(activity)
        if incoming is None:
            log.warning("ignored a Teams activity without serviceUrl, conversation or recipient")
            return
        self.remember(incoming)
        if incoming.user_id is None:
            return
        if incoming.type != "message":
            if incoming.personal and incoming.bot_id in incoming.members_added:
                # Installed in personal scope: link the user now (by email) so reminders to
                # an owner imported from the plan reach them before they ever type anything.
                self.register(self.caller(incoming))
            return
        command = self.command_of(incoming)
        if command is None:
            return
        caller = self.caller(incoming)
        self.register(caller)
        self.learn_mentioned(incoming)
        try:
            if isinstance(command, Command):
                outcome = execute(self.core, caller, command)
            else:
                outcome = run_command(self.core, caller, *command)
        except Exception:
            # The one global handler of this adapter: log it, tell the user, stay up.
            log.exception("Teams command %r failed", command)
            self.reply(incoming, replies.sorry())
            return
        self.reply(incoming, outcome.message)
        deliver_queued(self.core, self.senders, outcome.outbox_ids)

    def remember(self, incoming: Incoming) -> None:
        """Keep the user's and the channel's conversation references (install or message)."""
        refs: list[Reference] = []
        common = Reference(
            key="",
            service_url=incoming.service_url,
            conversation_id=None,
            tenant_id=incoming.tenant_id,
            bot_id=incoming.bot_id,
        )
        if incoming.personal and incoming.user_id:
            refs.append(
                replace(
                    common,
                    key=user_key(incoming.user_id),
                    conversation_id=incoming.conversation_id,
                    conversation_type="personal",
                    user_id=incoming.user_id,
                    name=incoming.user_name,
                )
            )
        elif not incoming.personal:
            place = incoming.place_key.removeprefix("conversation:")
            refs.append(
                replace(
                    common,
                    key=incoming.place_key,
                    conversation_id=place,
                    conversation_type=incoming.conversation_type,
                )
            )
            if incoming.user_id:
                # Seen only in a channel so far: enough to open a 1:1 chat with them later.
                refs.append(
                    replace(
                        common,
                        key=user_key(incoming.user_id),
                        user_id=incoming.user_id,
                        name=incoming.user_name,
                    )
                )
        if not refs:
            return
        with transaction(self.core.sessions) as session:
            for ref in refs:
                save_reference(session, ref, now=self.core.now())

    def learn_mentioned(self, incoming: Incoming) -> None:
        """People @mentioned whom the bot has never met, asked of the conversation's members.

        `assign 12 @Dee` names Dee by her Teams id only; without her name and email (which
        links her to the plan's owner of that email) the directory could not find her, and
        she could not be assigned before she had talked to the bot herself.
        """
        for entity in incoming.entities:
            mentioned = _dict(entity.get("mentioned"))
            user_id = mentioned.get("id")
            if entity.get("type") != "mention" or not user_id or user_id == incoming.bot_id:
                continue
            self.member(incoming, str(user_id), mentioned.get("name"))

    def command_of(self, incoming: Incoming) -> Command | tuple[str, str] | None:
        """A card button's command, or the typed words as `("/action", "done 12")`."""
        if incoming.value and incoming.value.get("actionbot") in BUTTON_KINDS:
            return self.pressed(incoming, incoming.value)
        text = _plain_text(incoming)
        if not text:
            return None
        word, _, rest = text.partition(" ")
        name = _COMMANDS.get(word.lower().removeprefix("/"))
        if name is None:
            # `done 12` or `help` alone: the action words are the common case; anything else
            # gets the grammar's one-line reason and the usage.
            return ("/action", text.removeprefix("/"))
        return (name, rest.strip())

    def pressed(self, incoming: Incoming, value: dict[str, Any]) -> Command | None:
        """The command of a card's Mark done, or of its Add update / Blocked with the note."""
        kind = str(value.get("actionbot"))
        number = value.get("action")
        if not isinstance(number, int) or isinstance(number, bool) or not 0 < number < 10**10:
            log.warning("a Teams card button with an unexpected action %r", number)
            return None
        if kind == DONE:
            return MarkDone(action_id=number)
        assert kind in (UPDATE, BLOCKED)
        note = " ".join(str(value.get(note_input_id(number, kind)) or "").split())
        if not note:
            # The card requires the note; a client that does not check gets the reason here.
            self.reply(incoming, replies.error(replies.NOTE_REQUIRED, action_usage(kind)))
            return None
        if kind == UPDATE:
            return AddUpdate(action_id=number, note=note)
        return MarkBlocked(action_id=number, reason=note)

    def caller(self, incoming: Incoming) -> Caller:
        """The speaker, with the email that links them to the same person on Slack.

        Activities carry no email, so it is asked of the connector once (member lookup) and
        then kept with the user's reference.
        """
        assert incoming.user_id is not None
        known = self.member(incoming, incoming.user_id, incoming.user_name)
        return Caller(
            Platform.TEAMS,
            incoming.user_id,
            display_name=(known.name if known else None) or incoming.user_name or incoming.user_id,
            email=known.email if known else None,
        )

    def member(self, incoming: Incoming, user_id: str, name: str | None) -> Reference | None:
        """What the bot knows of a Teams user; without their email, asked of the members of
        the activity's conversation, and the answer kept with the user's reference."""
        with transaction(self.core.sessions) as session:
            known = get_reference(session, key=user_key(user_id))
        if known is not None and known.email:
            return known
        try:
            member = self.connector.member(incoming.service_url, incoming.conversation_id, user_id)
        except ConnectorError as exc:
            # The id is what counts; the email is only needed to link accounts.
            log.warning("member lookup for %s failed: %s", user_id, exc.reason)
            return known
        if not member:
            return known
        email = member.get("email") or member.get("userPrincipalName")
        asked = Reference(
            key=user_key(user_id),
            service_url=incoming.service_url,
            conversation_id=None,
            tenant_id=incoming.tenant_id,
            bot_id=incoming.bot_id,
            user_id=user_id,
            name=str(member.get("name") or name or "") or None,
            email=str(email).strip().lower() if email else None,
        )
        with transaction(self.core.sessions) as session:
            save_reference(session, asked, now=self.core.now())
        return asked

    def register(self, caller: Caller) -> None:
        """Make sure the person behind a Teams user exists, linked by email to the same
        person on Slack or in the imported plan (commands like `help` never touch people)."""
        for attempt in (1, 2):
            try:
                with transaction(self.core.sessions) as session:
                    resolve_caller(session, caller=caller, now=self.core.now())
                return
            except IntegrityError:
                # Two first activities of one user raced; the second try finds the row.
                if attempt == 2:
                    raise

    def reply(self, incoming: Incoming, message: Message) -> None:
        """Answer in the conversation the activity came from (in its thread in a channel)."""
        activity = to_activity(message, today=self.core.today(), tz=self.core.settings.tz)
        try:
            self.connector.send(
                incoming.service_url, incoming.conversation_id, activity, reply_to=incoming.id
            )
        except ConnectorError as exc:
            log.error("could not reply in Teams conversation: %s", exc.reason)


def _plain_text(incoming: Incoming) -> str:
    """The typed words: the bot's own @mention removed, other mentions as `<@id|name>`.

    Teams writes a mention as `<at>Name</at>` in the text and says who it is in `entities`
    (https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/conversations/channel-and-group-conversations#retrieve-mentions);
    the grammar reads `<@id|name>`, as Slack writes it.
    """
    text = incoming.text
    for entity in incoming.entities:
        if entity.get("type") != "mention":
            continue
        mentioned = _dict(entity.get("mentioned"))
        shown = entity.get("text")
        if not isinstance(shown, str) or not shown:
            continue
        if mentioned.get("id") == incoming.bot_id:
            text = text.replace(shown, " ", 1)
        elif mentioned.get("id"):
            name = str(mentioned.get("name") or "").replace("|", " ").replace(">", " ")
            text = text.replace(shown, f"<@{mentioned['id']}|{name}>", 1)
    # Rich-text messages arrive as HTML; the command is the words in it.
    text = html.unescape(_TAG.sub(" ", text))
    return " ".join(text.split())
