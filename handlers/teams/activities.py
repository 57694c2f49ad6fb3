"""Teams activities in, the core's replies out: the Teams adapter's receiving side.

Thin like the Slack adapter: remember where the user and channel are (for proactive sends),
work out who is speaking, hand the typed words (`/action …`, `/status …`) or the card button's
command to the core, and reply with a card. A button pressed on a card (an `adaptiveCard/action`
invoke) is answered with that card redrawn, the way Slack updates the message in place.
Everything here is synchronous (the core is); the HTTP endpoint runs it in a worker thread.

Activity fields: https://learn.microsoft.com/en-us/azure/bot-service/rest-api/bot-framework-rest-connector-api-reference#activity-object
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.domain import Platform
from bot.errors import CommandError
from bot.grammar import commands as c
from bot.grammar.add_words import parse_user
from bot.grammar.commands import (
    AddUpdate,
    AssignAction,
    Command,
    MarkBlocked,
    MarkDone,
    MoveDue,
    NudgeOwner,
    Paged,
    Reopen,
    UndoReply,
    UserRef,
)
from bot.grammar.parser import parse
from bot.grammar.usage import action_usage
from bot.outbox.delivery import deliver_queued
from bot.outbox.retract import drawn
from bot.outbox.sender import Sender
from bot.outbox.sent import find_sent, with_action
from bot.people.directory import Account
from bot.people.resolve import Outsider, resolve_caller, upsert_account
from bot.render import replies
from bot.render.inline import channel_ids, link_text
from bot.render.model import ActionDetail, ActionView, Message
from bot.services.context import Caller, Core
from bot.services.dispatch import execute, run_command
from bot.services.lookup import action_for_chair, current_action
from bot.services.reminder_replies import RepliedTo, answer_reply
from bot.services.request import Outcome
from handlers.teams.cards import (
    BLOCKED,
    BUTTON_KINDS,
    COMMAND,
    DONE,
    FORM_CANCEL,
    FORM_KINDS,
    INVOKE_CARD,
    MORE_KINDS,
    MOVE_DUE,
    MOVE_DUE_FORM,
    NUDGE,
    PAGE,
    REASSIGN,
    UNBLOCK,
    UPDATE,
    form_card,
    invoke_card,
    invoke_message,
    note_input_id,
    reason_input_id,
    to_activity,
)
from handlers.teams.connector import Connector, ConnectorError
from handlers.teams.date_requests import DATE_KINDS, date_command
from handlers.teams.references import (
    Reference,
    conversation_key,
    get_reference,
    is_external_member,
    name_channels,
    save_reference,
    user_key,
)
from handlers.teams.signoff import attached_files, signoff_command, take_evidence
from handlers.teams.tenants import tenant_of
from storage.db import transaction
from storage.queries import find_by_email

log = logging.getLogger(__name__)

_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_ANCHOR = re.compile(r"<a\b[^>]*?\bhref=\"((?:https?|mailto):[^\"]*)\"[^>]*>(.*?)</a>", re.I | re.S)
_COMMANDS = {"action": "/action", "status": "/status", "board": "/board"}
#: The invoke a Universal Actions button (`Action.Execute`) sends.
CARD_ACTION = "adaptiveCard/action"
#: Commands that only show actions: safe to run again to redraw the card they produced (the
#: command comes back from the client in the button's data, so nothing else is ever re-run).
_VIEWS = (
    c.ShowAction,
    c.ListActions,
    c.StatusSummary,
    c.StatusOverdue,
    c.StatusPerson,
    c.StatusDue,
    c.StatusUnassigned,
    c.StatusNoDate,
    c.StatusBlocked,
    c.StatusRag,
    c.StatusDone,
)


@dataclass(frozen=True)
class Incoming:
    """The parts of an activity the bot uses, read once and checked."""

    type: str
    id: str | None
    name: str | None
    reply_to_id: str | None
    service_url: str
    conversation_id: str
    conversation_type: str
    tenant_id: str | None
    bot_id: str
    user_id: str | None
    user_name: str | None
    channel_id: str | None
    #: The channel's name when Teams gives it (not for a team's General channel).
    channel_name: str | None
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
        tenant = tenant_of(activity)
        channel = _dict(channel_data.get("channel")).get("id")
        channel_name = _dict(channel_data.get("channel")).get("name") or conversation.get("name")
        value = activity.get("value")
        added = [
            str(member["id"])
            for member in activity.get("membersAdded") or []
            if isinstance(member, dict) and member.get("id")
        ]
        return cls(
            type=str(activity.get("type") or ""),
            id=str(activity["id"]) if activity.get("id") else None,
            name=str(activity["name"]) if activity.get("name") else None,
            reply_to_id=str(activity["replyToId"]) if activity.get("replyToId") else None,
            service_url=service_url,
            conversation_id=str(conversation["id"]),
            conversation_type=str(conversation.get("conversationType") or "personal"),
            tenant_id=str(tenant) if tenant else None,
            bot_id=str(recipient["id"]),
            user_id=str(sender["id"]) if sender.get("id") else None,
            user_name=str(sender["name"]) if sender.get("name") else None,
            channel_id=str(channel) if channel else None,
            channel_name=str(channel_name) if channel_name else None,
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
    def place(self) -> str | None:
        """The channel (or group chat) this activity happened in; None in a personal chat."""
        if self.personal:
            return None
        # A channel's threads have ids like `19:…@thread.tacv2;messageid=…`: the channel id
        # itself is where new posts (the digest) go.
        return self.channel_id or self.conversation_id.split(";", 1)[0]

    @property
    def place_key(self) -> str:
        """The reference key of where this activity happened (a channel or group chat)."""
        return conversation_key(self.channel_id or self.conversation_id.split(";", 1)[0])


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class TeamsBot:
    """Handles one activity at a time; safe to call from several threads at once."""

    def __init__(self, core: Core, connector: Connector, senders: Sequence[Sender]) -> None:
        self.core = core
        self.connector = connector
        self.senders = senders

    def handle(self, activity: dict[str, Any]) -> dict[str, Any] | None:
        """Process one activity; errors in the core are logged and answered with an apology.

        Returns the body of the HTTP answer for an invoke that expects one (a pressed card's
        new state), None when a plain 200 will do.
        """
        incoming = Incoming.parse(activity)
        if incoming is None:
            log.warning("ignored a Teams activity without serviceUrl, conversation or recipient")
            return None
        self.remember(incoming)
        if incoming.user_id is None:
            return None
        if incoming.type == "invoke" and incoming.name == CARD_ACTION:
            return self.card_action(incoming)
        if incoming.type != "message":
            if incoming.personal and incoming.bot_id in incoming.members_added:
                # Installed in personal scope: link the user now (by email) so reminders to
                # an owner imported from the plan reach them before they ever type anything.
                self.register(self.caller(incoming))
            return None
        if incoming.personal and (files := attached_files(activity)):
            # A file in the personal chat: evidence of the action it answers.
            take_evidence(self, incoming, files)
            return None
        command = self.command_of(incoming)
        if command is None:
            return None
        caller = self.caller(incoming)
        self.register(caller)
        self.learn_mentioned(incoming)
        view: str | None = None
        try:
            replied = self.reply_to_reminder(incoming, caller, command)
            if replied is not None:
                outcome = replied
            elif isinstance(command, Command):
                outcome = execute(self.core, caller, command)
            else:
                outcome = run_command(self.core, caller, *command)
                view = " ".join(command) if self.shows_actions(*command) else None
        except Exception:
            # The one global handler of this adapter: log it, tell the user, stay up.
            log.exception("Teams command %r failed", command)
            self.reply(incoming, replies.sorry())
            return None
        self.reply(incoming, outcome.message, view=view)
        deliver_queued(self.core, self.senders, outcome.outbox_ids)
        return None

    def reply_to_reminder(
        self, incoming: Incoming, caller: Caller, command: Command | tuple[str, str]
    ) -> Outcome | None:
        """Words in the personal chat that are no command, written after a reminder: a reply
        to it, recorded (bot.services.reminder_replies). A text that reads as a command is
        one; words that answer no recent reminder get the command's usual answer."""
        if not incoming.personal or not isinstance(command, tuple):
            return None
        name, text = command
        if _plain_text(incoming).split(" ", 1)[0].lower().lstrip("/") in _COMMANDS:
            return None  # `/action …` or `status …`: meant as a command
        try:
            parse(name, text, today=self.core.today())
            return None
        except CommandError:
            pass
        where = RepliedTo(Platform.TEAMS, incoming.conversation_id, incoming.reply_to_id)
        outcome = answer_reply(self.core, caller, text, where)
        if outcome is None and incoming.reply_to_id is not None:
            # A reply to another of the bot's messages: the latest reminder is what it answers.
            outcome = answer_reply(self.core, caller, text, replace(where, ref=None))
        return outcome

    def card_action(self, incoming: Incoming) -> dict[str, Any]:
        """A button pressed on a card (Universal Actions): make the change, answer the card
        as it is now (the item redrawn, its buttons gone once it is closed), or a message that
        leaves the card alone when there is nothing to redraw."""
        action = _dict((incoming.value or {}).get("action"))
        data = _dict(action.get("data"))
        if data.get("actionbot") == PAGE:
            return self.turn_page(incoming, data)
        if data.get("actionbot") == COMMAND:
            return self.run_pressed(incoming, data)
        if data.get("actionbot") in FORM_KINDS:
            return self.input_card(incoming, data)
        if data.get("actionbot") in DATE_KINDS:
            # A request for a new date decided, or asked for: the typed command's twin.
            dated = date_command(data)
            if isinstance(dated, str):
                return invoke_message(dated)
            return self._card_for(incoming, dated)
        if data.get("actionbot") not in (*BUTTON_KINDS, *MORE_KINDS):
            log.warning("a Teams card action with unexpected data %r", data)
            return invoke_message("That button is not one of mine.")
        caller = self.caller(incoming)
        self.register(caller)
        command = self.button_command(data)
        if isinstance(command, Message):
            return invoke_message(command.text)
        try:
            outcome = execute(self.core, caller, command)
            shown = self.redrawn(incoming, caller, command.action_id, data, outcome.message)
        except Exception:
            log.exception("Teams card action %r failed", command)
            return invoke_message(replies.sorry().text)
        if shown is not None and incoming.reply_to_id is not None:
            # The answer below replaces the pressed card: a queued edit of it would only
            # draw it again (without the line saying what happened).
            for place in dict.fromkeys(
                [incoming.conversation_id, incoming.conversation_id.split(";")[0]]
            ):
                drawn(self.core, platform=Platform.TEAMS, channel=place, ref=incoming.reply_to_id)
        deliver_queued(self.core, self.senders, outcome.outbox_ids)
        if shown is None:
            return invoke_message(outcome.message.text)
        view = data.get("view") if isinstance(data.get("view"), str) else None
        return invoke_card(shown, today=self.core.today(), tz=self.core.settings.tz, view=view)

    def input_card(self, incoming: Incoming, data: dict[str, Any]) -> dict[str, Any]:
        """Move deadline / Reassign: the input card for the action, for a chair, in place of
        the pressed card; its Cancel draws the pressed card again as the action now stands."""
        number = data.get("action")
        if not isinstance(number, int) or isinstance(number, bool) or not 0 < number < 10**10:
            log.warning("a Teams form button with unexpected data %r", data)
            return invoke_message("That button does not name an action I know.")
        caller = self.caller(incoming)
        self.register(caller)
        kind = data.get("actionbot")
        today, tz = self.core.today(), self.core.settings.tz
        try:
            if kind == FORM_CANCEL:
                view = current_action(self.core, number, caller=caller)
                base = (
                    self.sent_card(incoming)
                    or self.list_again(caller, data.get("list"))
                    or self.view_again(caller, data.get("view"))
                    or Message(text=f"#{view.id}", blocks=[ActionDetail(action=view, chair=True)])
                )
                return invoke_card(with_action(base, view), today=today, tz=tz)
            doing = "move deadlines" if kind == MOVE_DUE_FORM else "assign actions"
            view = action_for_chair(self.core, caller, number, doing)
        except CommandError as exc:
            return invoke_message(exc.reason)
        if view.status.is_closed:
            return invoke_message(f"#{view.id} is already {view.status.label}; nothing changed.")
        card = form_card(view, str(kind), today=today, data=data)
        return {"statusCode": 200, "type": INVOKE_CARD, "value": card}

    def turn_page(self, incoming: Incoming, data: dict[str, Any]) -> dict[str, Any]:
        """Previous / Next: the list command for that page, answered as the card's new face."""
        try:
            command = Paged.from_data(data.get("list"))
        except ValueError:
            log.warning("a Teams page button with unexpected data %r", data)
            return invoke_message("That button is not one of mine.")
        return self._card_for(incoming, command)

    def run_pressed(self, incoming: Incoming, data: dict[str, Any]) -> dict[str, Any]:
        """A button holding a typed command (a reply's Undo): the outcome replaces the card,
        its button gone; a refusal is said beside the card, which stays as it was."""
        try:
            command = signoff_command(data) or UndoReply.model_validate(data.get("command"))
        except ValueError:
            log.warning("a Teams command button with unexpected data %r", data)
            return invoke_message("That button is not one of mine.")
        return self._card_for(incoming, command)

    def _card_for(self, incoming: Incoming, command: Command) -> dict[str, Any]:
        """Carry out a pressed button's typed command; its outcome is the card's new face, a
        refusal a message beside the card."""
        caller = self.caller(incoming)
        self.register(caller)
        try:
            outcome = execute(self.core, caller, command)
        except Exception:
            log.exception("Teams button %r failed", command)
            return invoke_message(replies.sorry().text)
        deliver_queued(self.core, self.senders, outcome.outbox_ids)
        if outcome.message.tone == "error":
            return invoke_message(outcome.message.text)
        return invoke_card(outcome.message, today=self.core.today(), tz=self.core.settings.tz)

    def list_again(self, caller: Caller, data: object) -> Message | None:
        """The list a pressed button was in (its command in the button's data), shown now."""
        if not data:
            return None
        try:
            command = Paged.from_data(data)
        except ValueError:
            return None
        outcome = execute(self.core, caller, command)
        return None if outcome.message.tone == "error" else outcome.message

    def redrawn(
        self,
        incoming: Incoming,
        caller: Caller,
        number: int,
        data: dict[str, Any],
        outcome: Message,
    ) -> Message | None:
        """The pressed card with the action's new state; None when it cannot be rebuilt.

        A card the outbox sent (a reminder, the digest) is rebuilt from the message kept as
        sent, so its other actions stay; a reply to a command that shows actions is shown
        again by running that command; otherwise the outcome itself (the action in full)
        replaces the card. The outcome's first line goes on top, so the person sees what
        happened (or why nothing did) where they pressed.
        """
        view = _action_of(outcome)
        if view is None:
            try:
                view = current_action(self.core, number, caller=caller)
            except CommandError:
                view = None
        base = self.sent_card(incoming)
        if base is None:
            base = self.list_again(caller, data.get("list"))
        if base is None:
            base = self.view_again(caller, data.get("view"))
        if base is None:
            if outcome.tone == "error" or _action_of(outcome) is None:
                return None
            return _with_buttons(outcome)
        if view is not None:
            base = with_action(base, view)
        return base.model_copy(
            update={
                "text": outcome.text,
                "tone": outcome.tone,
                "blocks": [*outcome.blocks[:1], *base.blocks],
            }
        )

    def sent_card(self, incoming: Incoming) -> Message | None:
        """The message the outbox delivered as the pressed activity, if it was one of ours."""
        if incoming.reply_to_id is None:
            return None
        # A post in a channel lives in the channel's conversation; a press on it names the
        # thread (`19:…;messageid=…`).
        places = dict.fromkeys([incoming.conversation_id, incoming.conversation_id.split(";")[0]])
        for place in places:
            found = find_sent(
                self.core, platform=Platform.TEAMS, channel=place, ref=incoming.reply_to_id
            )
            if found is not None:
                return found
        return None

    def view_again(self, caller: Caller, view: object) -> Message | None:
        """The command that showed the pressed list, run again; only commands that show."""
        if not isinstance(view, str):
            return None
        name, _, rest = view.partition(" ")
        if not self.shows_actions(name, rest):
            return None
        outcome = run_command(self.core, caller, name, rest)
        return None if outcome.message.tone == "error" else outcome.message

    def shows_actions(self, name: str, rest: str) -> bool:
        """Whether `name rest` is a command that only shows actions (safe to run again)."""
        if name not in _COMMANDS.values():
            return False
        try:
            return isinstance(parse(name, rest, today=self.core.today()), _VIEWS)
        except CommandError:
            return False

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
                    name=incoming.channel_name,
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
            known = self.member(incoming, str(user_id), mentioned.get("name"))
            if known is not None:
                self.link(known)

    def link(self, known: Reference) -> None:
        """Give the person of a mentioned user's email (an owner imported from the plan)
        their Teams account, so reminders reach them in Teams before they ever write.

        Only someone already known by that email is linked: a mention alone makes nobody a
        person of the plan (a command that names them does, through the directory).
        """
        if known.user_id is None or not known.email:
            return
        account = Account(Platform.TEAMS, known.user_id, known.name or known.user_id, known.email)
        for attempt in (1, 2):
            try:
                with transaction(self.core.sessions) as session:
                    person = find_by_email(session, email=known.email)
                    if person is not None and person.identity(Platform.TEAMS) is None:
                        upsert_account(session, account=account, now=self.core.now())
                return
            except IntegrityError:
                # The same user linked by two activities at once: the other one won.
                if attempt == 2:
                    raise

    def command_of(self, incoming: Incoming) -> Command | tuple[str, str] | None:
        """A card button's command, or the typed words as `("/action", "done 12")`."""
        if incoming.value and incoming.value.get("actionbot") in BUTTON_KINDS:
            # An `Action.Submit` of a card sent before the buttons became `Action.Execute`.
            command = self.button_command(incoming.value)
            if isinstance(command, Message):
                self.reply(incoming, command)
                return None
            return command
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

    def button_command(
        self, value: dict[str, Any]
    ) -> (
        MarkDone | AddUpdate | MarkBlocked | Reopen | NudgeOwner | MoveDue | AssignAction | Message
    ):
        """The command of a card's button (with what was typed in the card for Add update,
        Blocked, Move deadline and Reassign); a message saying what is wrong with a value we
        cannot use."""
        kind = str(value.get("actionbot"))
        number = value.get("action")
        if not isinstance(number, int) or isinstance(number, bool) or not 0 < number < 10**10:
            log.warning("a Teams card button with an unexpected action %r", number)
            return replies.error("That button does not name an action I know.", None)
        if kind == DONE:
            return MarkDone(action_id=number)
        if kind == UNBLOCK:
            return Reopen(action_id=number)
        if kind == NUDGE:
            return NudgeOwner(action_id=number)
        if kind == MOVE_DUE:
            return _move_due(number, value)
        if kind == REASSIGN:
            return _reassign(number, value)
        assert kind in (UPDATE, BLOCKED)
        note = " ".join(str(value.get(note_input_id(number, kind)) or "").split())
        if not note:
            # The card requires the note; a client that does not check gets the reason here.
            return replies.error(replies.NOTE_REQUIRED, action_usage(kind))
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
            external=bool(known and known.external),
            # The tenant and the channel name the board a command is about.
            workspace=incoming.tenant_id,
            channel=incoming.place,
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
            external=is_external_member(member, incoming.tenant_id),
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
            except Outsider:
                return  # not registered; a command they type is answered with the reason
            except IntegrityError:
                # Two first activities of one user raced; the second try finds the row.
                if attempt == 2:
                    raise

    def reply(self, incoming: Incoming, message: Message, *, view: str | None = None) -> None:
        """Answer in the conversation the activity came from (in its thread in a channel)."""
        if channel_ids(message):  # the bot names a channel: by the name Teams gave it
            with transaction(self.core.sessions) as session:
                message = name_channels(session, message)
        activity = to_activity(
            message, today=self.core.today(), tz=self.core.settings.tz, view=view
        )
        try:
            self.connector.send(
                incoming.service_url, incoming.conversation_id, activity, reply_to=incoming.id
            )
        except ConnectorError as exc:
            log.error("could not reply in Teams conversation: %s", exc.reason)


def _move_due(number: int, value: dict[str, Any]) -> MoveDue | Message:
    """Move deadline's date (`Input.Date` sends `YYYY-MM-DD`) and reason, as `/action due`."""
    picked = str(value.get(note_input_id(number, MOVE_DUE)) or "").strip()
    try:
        due = dt.date.fromisoformat(picked)
    except ValueError:
        return replies.error("Pick the new deadline.", action_usage("due"))
    reason = " ".join(str(value.get(reason_input_id(number)) or "").split()) or None
    return MoveDue(action_id=number, due=due, reason=reason)


def _reassign(number: int, value: dict[str, Any]) -> AssignAction | Message:
    """Reassign's new owner, typed as an email address or @name, as `/action assign`."""
    typed = " ".join(str(value.get(note_input_id(number, REASSIGN)) or "").split())
    if typed.lower() in ("me", "myself"):
        return AssignAction(action_id=number, owner=UserRef(me=True))
    owner = parse_user(typed) or (parse_user("@" + typed) if typed else None)
    if owner is None:
        return replies.error(
            "Say who should own it: their email address or @name.", action_usage("assign")
        )
    return AssignAction(action_id=number, owner=owner)


def _action_of(message: Message) -> ActionView | None:
    """The action a reply is about (the one shown in full), if any."""
    for block in message.blocks:
        if isinstance(block, ActionDetail):
            return block.action
    return None


def _with_buttons(message: Message) -> Message:
    """`message` with the owner's buttons on the action it shows (drawn only while open)."""
    blocks = [
        block.model_copy(update={"buttons": True}) if isinstance(block, ActionDetail) else block
        for block in message.blocks
    ]
    return message.model_copy(update={"blocks": blocks})


def _link(match: re.Match[str]) -> str:
    url = html.unescape(match.group(1))
    label = html.unescape(_TAG.sub("", match.group(2)))
    return html.escape(link_text(url, label), quote=False)


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
    # Rich-text messages arrive as HTML; the command is the words in it, and a link with
    # words of its own keeps its address, as the core stores links (`the plan (https://…)`).
    text = _ANCHOR.sub(_link, text)
    text = html.unescape(_TAG.sub(" ", text))
    return " ".join(text.split())
