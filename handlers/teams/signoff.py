"""Delivered actions on Teams: the card's Sign off, Return (a text box for the reason) and Add
evidence (a text box for a link or a note; a file is sent in the personal chat), and a file
sent to the bot in the personal chat, taken as evidence of the action it answers.

A file is read once from the address Teams gives (a personal chat's file: its pre-signed
download URL; an inline attachment: its contentUrl, with the bot's token only when it is on
the Bot Connector's own host) for its size and SHA-256; the bytes are thrown away.
https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/bots-filesv4
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import TypeAdapter

from bot.domain import Rag
from bot.grammar.commands import (
    AddEvidence,
    ButtonCommand,
    Command,
    EvidenceFile,
    ReturnAction,
    UpdateRound,
)
from bot.grammar.parser import evidence_of
from bot.outbox.delivery import deliver_queued
from bot.render import replies
from bot.render.model import Buttons
from bot.services.dispatch import execute
from bot.services.signoff import evidence_target
from handlers.file_digest import FileUnreadable, digest, trusted

if TYPE_CHECKING:
    from handlers.teams.activities import Incoming, TeamsBot

log = logging.getLogger(__name__)

#: What Teams attaches for a file sent in a personal chat (the bot supports files).
FILE_INFO = "application/vnd.microsoft.teams.file.download.info"
#: Attachments that are the message itself or a card, not a file.
_NOT_FILES = ("text/html", "application/vnd.microsoft.card.")
_TAG = re.compile(r"</?[A-Za-z][^>]*>")

_COMMAND: TypeAdapter[ButtonCommand] = TypeAdapter(ButtonCommand)


def reason_id(action_id: int) -> str:
    """The id of the card's text box for a return's reason (its value comes with the press)."""
    return f"return_reason_{action_id}"


def evidence_id(action_id: int) -> str:
    """The id of the card's text box for a link or a note given as evidence."""
    return f"evidence_text_{action_id}"


def round_ids(action_id: int) -> tuple[str, str, str]:
    """The ids of the card's boxes of the round's Update: its RAG, its note, its link."""
    return (f"round_rag_{action_id}", f"round_note_{action_id}", f"round_link_{action_id}")


def round_inputs(command: UpdateRound) -> list[dict[str, Any]]:
    """The round's Update on a card: the RAG chosen as it is, the last update to edit, a link."""
    rag, note, link = round_ids(command.action_id)
    choices = [
        {"title": r.value.title(), "value": r.value} for r in (Rag.RED, Rag.AMBER, Rag.GREEN)
    ]
    return [
        {
            "type": "Input.ChoiceSet",
            "id": rag,
            "label": f"#{command.action_id}: RAG",
            "style": "compact",
            "choices": choices,
            "value": command.rag.value if command.rag and command.rag != Rag.BLUE else "",
        },
        {
            "type": "Input.Text",
            "id": note,
            "label": f"#{command.action_id}: progress (your last update, to edit)",
            "isMultiline": True,
            "maxLength": 2000,
            "value": command.note or "",
        },
        {"type": "Input.Text", "id": link, "label": f"#{command.action_id}: link to evidence"},
    ]


def inputs(block: Buttons) -> list[dict[str, Any]]:
    """The text boxes a row of buttons asks for (Return's reason, Add evidence's link or
    note), drawn above the buttons; Teams sends their values with the pressed button."""
    items: list[dict[str, Any]] = []
    for button in block.items:
        number = getattr(button.command, "action_id", None)
        if isinstance(button.command, UpdateRound):
            items += round_inputs(button.command)
        elif button.form == "reason" and number is not None:
            items.append(
                {
                    "type": "Input.Text",
                    "id": reason_id(number),
                    "label": "Reason, if you return it (the owner is told)",
                    "isMultiline": True,
                    "maxLength": 2000,
                }
            )
        elif button.form == "evidence" and number is not None:
            items.append(
                {
                    "type": "TextBlock",
                    "wrap": True,
                    "text": "To add a file, send it here in this chat.",
                }
            )
            items.append(
                {
                    "type": "Input.Text",
                    "id": evidence_id(number),
                    "label": "Or a link or a note",
                    "isMultiline": True,
                    "maxLength": 2000,
                }
            )
    return items


def signoff_command(data: dict[str, Any]) -> Command | None:
    """The command of a pressed Sign off, Return or Add evidence, with the words typed into
    the card; None for another button's command (an Undo). ValueError when malformed."""
    raw = data.get("command")
    verbs = ("signoff", "return", "evidence", "round_update")
    if not isinstance(raw, dict) or raw.get("verb") not in verbs:
        return None
    command = _COMMAND.validate_python(raw)
    if isinstance(command, UpdateRound):
        # What the boxes hold when pressed; they start as the button's RAG and note.
        rag_id, note_id, link_id = round_ids(command.action_id)
        chosen = str(data.get(rag_id) or "").strip().lower()
        return command.model_copy(
            update={
                "rag": Rag(chosen) if chosen in ("red", "amber", "green") else None,
                "note": str(data.get(note_id) or "").strip() or None,
                "link": str(data.get(link_id) or "").strip() or None,
            }
        )
    if isinstance(command, ReturnAction) and not command.reason:
        typed = str(data.get(reason_id(command.action_id)) or "").strip()
        return command.model_copy(update={"reason": typed or None})
    if isinstance(command, AddEvidence) and command.file is None and not command.link:
        typed = str(data.get(evidence_id(command.action_id)) or "").strip()
        return evidence_of(command.action_id, typed) if typed else command
    return command


@dataclass(frozen=True)
class Attached:
    """A file attached to a message: its name, where to read it, and Teams' id for it."""

    name: str
    url: str
    ref: str
    #: Pre-signed (a personal chat's file): read without the bot's token.
    signed: bool


def attached_files(activity: dict[str, Any]) -> list[Attached]:
    """The files a message carries (not the message's own HTML, not cards)."""
    found: list[Attached] = []
    for attachment in activity.get("attachments") or []:
        if not isinstance(attachment, dict):
            continue
        kind = str(attachment.get("contentType") or "")
        if not kind or kind.startswith(_NOT_FILES):
            continue
        content = attachment.get("content") if isinstance(attachment.get("content"), dict) else {}
        assert isinstance(content, dict)
        name = str(attachment.get("name") or "file")[:300]
        if kind == FILE_INFO and content.get("downloadUrl"):
            ref = str(content.get("uniqueId") or attachment.get("contentUrl") or "")
            found.append(Attached(name, str(content["downloadUrl"]), ref or name, signed=True))
        elif attachment.get("contentUrl"):
            url = str(attachment["contentUrl"])
            found.append(Attached(name, url, url, signed=False))
    return found


def take_evidence(bot: TeamsBot, incoming: Incoming, files: list[Attached]) -> None:
    """Files sent in the personal chat: evidence of the action they answer (the number in
    the message, else the sender's latest delivered action); the sender is told."""
    caller = bot.caller(incoming)
    bot.register(caller)
    words = html.unescape(_TAG.sub(" ", incoming.text))
    number = evidence_target(bot.core, caller, words)
    if number is None:
        text = (
            "I keep a file as the evidence of an action you delivered. Send it with the "
            "action's number in the message, e.g. #12."
        )
        bot.reply(incoming, replies.error(text, "/status signoff"))
        return
    note = _NUMBER_WORDS.sub(" ", words).strip() or None
    problems: list[str] = []
    last = None
    for position, attached in enumerate(files):
        try:
            found = digest(attached.url, token=_token(bot, incoming, attached))
        except FileUnreadable as exc:
            problems.append(f"{attached.name}: {exc}")
            continue
        file = EvidenceFile(
            ref=attached.ref[:500],
            name=attached.name,
            size=found.size,
            sha256=found.sha256,
            url=None if attached.signed else attached.url,
        )
        command = AddEvidence(action_id=number, file=file, note=note if position == 0 else None)
        outcome = execute(bot.core, caller, command)
        deliver_queued(bot.core, bot.senders, outcome.outbox_ids)
        if outcome.message.tone == "error":
            problems.append(outcome.message.text)
        else:
            last = outcome.message
    if last is not None:
        bot.reply(incoming, last)
    if problems:
        bot.reply(incoming, replies.error("Not kept: " + " ".join(problems), None))


#: The words naming the action (`#12`, or only `12`): not part of the file's note.
_NUMBER_WORDS = re.compile(r"(?:(?<![\w/&])#\d{1,9}(?![\w/])|^\s*\d{1,9}\s*$)")


def _token(bot: TeamsBot, incoming: Incoming, attached: Attached) -> str | None:
    """The bot's token, for an attachment on the Bot Connector's own host only."""
    if attached.signed:
        return None
    host = (urlsplit(incoming.service_url).hostname or "").lower()
    if not host or not trusted(attached.url, {host}):
        return None
    return bot.connector.bearer()
