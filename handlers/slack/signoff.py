"""Delivered actions on Slack: the buttons Sign off, Return (a form for the reason) and Add
evidence (a form with a file input, a link and a note). Each does what its typed command
does: `/action signoff <id> [note]`, `/action return <id> <reason>`, `/action evidence <id>
<note or link>`.

A file given as evidence is read through the bot token (files.info, then its url_private) to
learn its size and SHA-256; the bytes are thrown away and the file stays in Slack.
https://api.slack.com/reference/block-kit/block-elements#file_input
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import TypeAdapter, ValidationError
from slack_bolt import Ack, App
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.errors import CommandError
from bot.grammar.commands import (
    NOTE_CHARS,
    AddEvidence,
    ButtonCommand,
    EvidenceFile,
    ReturnAction,
    UpdateRound,
)
from bot.outbox.delivery import deliver_queued
from bot.render import replies
from bot.render.inline import plain as plain_text
from bot.render.model import ActionView, Message
from bot.services.dispatch import execute
from bot.services.lookup import action_to_change
from bot.services.request import Outcome
from handlers.file_digest import FileUnreadable, digest, trusted
from handlers.slack.blocks import MODAL_TITLE, SECTION_TEXT, SIGNOFF_PRESS, md, plain, safe
from handlers.slack.buttons import form_metadata, presser
from handlers.slack.deps import SlackDeps
from handlers.slack.forms import value_of
from handlers.slack.interact import (
    Origin,
    accepted,
    after_ack,
    on_press,
    publish_home,
    show_in_place,
    tell,
)
from handlers.slack.rounds import open_round_form

log = logging.getLogger(__name__)

#: callback_ids of the forms.
RETURN_FORM = "signoff_return_form"
EVIDENCE_FORM = "signoff_evidence_form"
#: Files one evidence form takes at once.
MAX_FILES = 5

_COMMAND: TypeAdapter[ButtonCommand] = TypeAdapter(ButtonCommand)


def register(app: App, deps: SlackDeps) -> None:
    """Listeners for the buttons of a delivered action and their forms."""

    on_press(app, deps, re.compile(f"^{SIGNOFF_PRESS}_"), press)

    @app.view(RETURN_FORM)
    def return_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submit_return(deps, ack, body, view)

    @app.view(EVIDENCE_FORM)
    def evidence_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submit_evidence(deps, ack, body, view)


def press(deps: SlackDeps, body: dict[str, Any], action: dict[str, Any]) -> None:
    """Sign off at once; Return, Add evidence and the round's Update open their form first."""
    try:
        command = _COMMAND.validate_json(str(action.get("value") or ""))
    except ValidationError:
        log.warning("a sign-off button with an unexpected value %r", action.get("value"))
        return
    origin = Origin.from_body(body)
    trigger_id = body.get("trigger_id")
    caller = presser(deps, body)
    if isinstance(command, ReturnAction | AddEvidence) and _asks(command):
        doing = "return it" if isinstance(command, ReturnAction) else "add evidence to it"
        try:
            view = action_to_change(deps.core, caller, command.action_id, doing)
        except CommandError as exc:
            # The owner check of evidence; the sign-off check is made when the form is sent.
            if isinstance(command, AddEvidence):
                tell(deps, origin, replies.error(exc.reason, exc.usage), trigger_id=trigger_id)
                return
            view = None
        metadata = form_metadata(command.action_id, origin)
        form = (
            return_form(command.action_id, view, metadata=metadata)
            if isinstance(command, ReturnAction)
            else evidence_form(command.action_id, view, metadata=metadata)
        )
        deps.client.views_open(trigger_id=trigger_id, view=form)
        return
    if isinstance(command, UpdateRound):
        open_round_form(deps, body, command)
        return
    outcome = execute(deps.core, caller, command)
    show_in_place(deps, origin, outcome.message, trigger_id=trigger_id)
    deliver_queued(deps.core, deps.senders, outcome.outbox_ids)
    if outcome.message.tone != "error":
        publish_home(deps, caller)


def _asks(command: ReturnAction | AddEvidence) -> bool:
    """A button's command without its words: the form asks for them."""
    if isinstance(command, ReturnAction):
        return not command.reason
    return command.file is None and not command.link and not command.note


def _heading(number: int, view: ActionView | None) -> dict[str, Any]:
    title = f"*#{number}*" + (
        f" {safe(plain_text(view.title), SECTION_TEXT - 20)}" if view is not None else ""
    )
    return {"type": "section", "text": md(title)}


def return_form(
    number: int, view: ActionView | None, *, metadata: dict[str, Any]
) -> dict[str, Any]:
    """Return: the reason the owner is told."""
    return {
        "type": "modal",
        "callback_id": RETURN_FORM,
        "title": plain("Return to owner", MODAL_TITLE),
        "submit": plain("Return", MODAL_TITLE),
        "close": plain("Cancel", MODAL_TITLE),
        "private_metadata": json.dumps(metadata),
        "blocks": [
            _heading(number, view),
            {
                "type": "input",
                "block_id": "reason",
                "label": plain("Why does it go back? The owner is told.", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "reason",
                    "multiline": True,
                    "max_length": NOTE_CHARS,
                    "placeholder": plain("e.g. the audit covers 30 files, not 50", 150),
                },
            },
        ],
    }


def evidence_form(
    number: int, view: ActionView | None, *, metadata: dict[str, Any]
) -> dict[str, Any]:
    """Add evidence: files, a link and a note, each optional (one of them is needed)."""
    return {
        "type": "modal",
        "callback_id": EVIDENCE_FORM,
        "title": plain("Add evidence", MODAL_TITLE),
        "submit": plain("Add", MODAL_TITLE),
        "close": plain("Cancel", MODAL_TITLE),
        "private_metadata": json.dumps(metadata),
        "blocks": [
            _heading(number, view),
            {
                "type": "input",
                "block_id": "file",
                "optional": True,
                "label": plain("Files", 2000),
                "element": {"type": "file_input", "action_id": "file", "max_files": MAX_FILES},
            },
            {
                "type": "input",
                "block_id": "link",
                "optional": True,
                "label": plain("Link", 2000),
                "element": {
                    "type": "url_text_input",
                    "action_id": "link",
                    "placeholder": plain("where the evidence is kept", 150),
                },
            },
            {
                "type": "input",
                "block_id": "note",
                "optional": True,
                "label": plain("Note", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "note",
                    "multiline": True,
                    "max_length": NOTE_CHARS,
                    "placeholder": plain("e.g. minutes of 12 Nov, item 4", 150),
                },
            },
        ],
    }


def submit_return(deps: SlackDeps, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Return with the reason; the pressed message shows the outcome, the owner is told."""
    meta = json.loads(view.get("private_metadata") or "{}")
    number = int(meta["action"])
    origin = Origin.from_dict(meta.get("origin") or {})
    reason = str(value_of(view, "reason", "reason") or "").strip()
    if not reason:
        ack(response_action="errors", errors={"reason": replies.NOTE_REQUIRED})
        return
    caller = presser(deps, body)
    outcome = execute(deps.core, caller, ReturnAction(action_id=number, reason=reason))
    if not accepted(deps, ack, outcome, "reason"):
        return

    def after() -> None:
        show_in_place(deps, origin, outcome.message)
        deliver_queued(deps.core, deps.senders, outcome.outbox_ids)
        publish_home(deps, caller)

    after_ack(deps, body, after)


def submit_evidence(deps: SlackDeps, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Keep what the form gives; files are read (size, hash) after the form closes."""
    meta = json.loads(view.get("private_metadata") or "{}")
    number = int(meta["action"])
    origin = Origin.from_dict(meta.get("origin") or {})
    files = _files(view)
    link = str(value_of(view, "link", "link") or "").strip() or None
    note = str(value_of(view, "note", "note") or "").strip() or None
    if not files and not link and not note:
        ack(response_action="errors", errors={"note": "Add a file, a link or a note."})
        return
    ack()

    def after() -> None:
        caller = presser(deps, body)
        outcomes: list[Outcome] = []
        problems: list[str] = []
        if link or (note and not files):
            command = AddEvidence(action_id=number, link=link, note=note)
            outcomes.append(execute(deps.core, caller, command))
        for position, file_id in enumerate(files):
            try:
                file = read_file(deps, file_id)
            except FileUnreadable as exc:
                problems.append(str(exc))
                continue
            said = note if position == 0 and not link else None
            command = AddEvidence(action_id=number, file=file, note=said)
            outcomes.append(execute(deps.core, caller, command))
        for outcome in outcomes:
            if outcome.message.tone == "error":
                problems.append(outcome.message.text)
        kept = [o for o in outcomes if o.message.tone != "error"]
        if kept:
            _answer(deps, origin, caller.external_id, kept[-1].message)
        if problems:
            text = "Not kept: " + " ".join(dict.fromkeys(problems))
            _answer(deps, origin, caller.external_id, replies.error(text, None))

    after_ack(deps, body, after)


def _files(view: dict[str, Any]) -> list[str]:
    """The ids of the files the form's file input holds."""
    state = (view.get("state") or {}).get("values") or {}
    element = (state.get("file") or {}).get("file") or {}
    files = element.get("files") or []
    return [str(f["id"]) for f in files if isinstance(f, dict) and f.get("id")][:MAX_FILES]


def read_file(deps: SlackDeps, file_id: str) -> EvidenceFile:
    """files.info, then the file itself through the bot token, for its size and SHA-256."""
    try:
        info = deps.client.files_info(file=file_id)
    except (SlackApiError, SlackClientError) as exc:
        error = exc.response.get("error") if isinstance(exc, SlackApiError) else str(exc)
        raise FileUnreadable(f"Slack did not give me the file {file_id} ({error}).") from None
    meta = info.get("file") or {}
    url = str(meta.get("url_private_download") or meta.get("url_private") or "")
    name = str(meta.get("name") or meta.get("title") or file_id)[:300]
    if not trusted(url, _file_hosts(deps)):
        raise FileUnreadable(f"Slack gave no address I may read {name} from.")
    try:
        found = digest(url, token=deps.client.token)
    except FileUnreadable as exc:
        raise FileUnreadable(f"{name}: {exc}") from None
    permalink = meta.get("permalink")
    return EvidenceFile(
        ref=file_id,
        name=name,
        size=found.size,
        sha256=found.sha256,
        url=str(permalink) if permalink else None,
    )


def _file_hosts(deps: SlackDeps) -> set[str]:
    """Where Slack serves files: its own hosts, and the API's host (a proxy or a test's fake)."""
    hosts = {"files.slack.com", ".slack.com"}
    api = urlsplit(deps.client.base_url).hostname
    if api:
        hosts.add(api.lower())
    return hosts


def _answer(deps: SlackDeps, origin: Origin, user_id: str, message: Message) -> None:
    """Tell whoever sent the form: beside the message the button was on, else in a DM."""
    if origin.response_url:
        tell(deps, origin, message)
        return
    rendered = deps.render(message)
    try:
        deps.client.chat_postMessage(channel=user_id, text=rendered.text, blocks=rendered.blocks)
    except SlackApiError as exc:
        error = exc.response.get("error")
        log.warning("could not tell %s about their evidence: %s", user_id, error)
