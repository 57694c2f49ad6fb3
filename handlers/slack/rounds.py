"""The update round's Update button on Slack: a form for one action with its RAG, a note of
progress and a link to evidence, opened with the RAG and the last update the button holds.
Sent, it does what `/action rag`, `/action update` and `/action evidence` do.
https://api.slack.com/reference/block-kit/block-elements#static_select
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App

from bot.domain import Rag
from bot.grammar.commands import NOTE_CHARS, UpdateRound
from bot.outbox.delivery import deliver_queued
from bot.render.inline import plain as plain_text
from bot.render.model import ActionView
from bot.services.dispatch import execute
from bot.services.lookup import action_to_change
from handlers.slack.blocks import MODAL_TITLE, SECTION_TEXT, md, plain, safe
from handlers.slack.buttons import form_metadata, presser
from handlers.slack.deps import SlackDeps
from handlers.slack.forms import value_of
from handlers.slack.interact import Origin, after_ack, publish_home, tell, unless_refused

log = logging.getLogger(__name__)

#: callback_id of the form.
ROUND_FORM = "round_update_form"

_RAG_WORDS = {Rag.RED: "Red", Rag.AMBER: "Amber", Rag.GREEN: "Green"}


def register(app: App, deps: SlackDeps) -> None:
    """The form's submission (the button is a command button: handlers/slack/signoff.py)."""

    @app.view(ROUND_FORM)
    def submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submit_round(deps, ack, body, view)


def open_round_form(deps: SlackDeps, body: dict[str, Any], command: UpdateRound) -> None:
    """Open the form for the pressed action, or say why it cannot be updated by the presser."""
    origin = Origin.from_body(body)
    trigger_id = body.get("trigger_id")
    caller = presser(deps, body)
    number = command.action_id
    view = unless_refused(
        deps, origin, trigger_id, lambda: action_to_change(deps.core, caller, number, "update it")
    )
    if view is None:
        return
    metadata = form_metadata(number, origin)
    deps.client.views_open(trigger_id=trigger_id, view=round_form(command, view, metadata=metadata))


def _option(rag: Rag) -> dict[str, Any]:
    return {"text": plain(_RAG_WORDS[rag], 75), "value": rag.value}


def round_form(
    command: UpdateRound, view: ActionView | None, *, metadata: dict[str, Any]
) -> dict[str, Any]:
    """The form: RAG (its current one chosen), the last update to edit, a link to evidence."""
    title = f"*#{command.action_id}*" + (
        f" {safe(plain_text(view.title), SECTION_TEXT - 20)}" if view is not None else ""
    )
    rag: dict[str, Any] = {
        "type": "static_select",
        "action_id": "rag",
        "placeholder": plain("Choose a RAG", 150),
        "options": [_option(r) for r in _RAG_WORDS],
    }
    if command.rag in _RAG_WORDS:
        rag["initial_option"] = _option(command.rag)
    note: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "note",
        "multiline": True,
        "max_length": NOTE_CHARS,
        "placeholder": plain("What has happened since the last board?", 150),
    }
    if command.note:
        note["initial_value"] = command.note[:NOTE_CHARS]
    return {
        "type": "modal",
        "callback_id": ROUND_FORM,
        "title": plain("Update for the board", MODAL_TITLE),
        "submit": plain("Send update", MODAL_TITLE),
        "close": plain("Cancel", MODAL_TITLE),
        "private_metadata": json.dumps(metadata),
        "blocks": [
            {"type": "section", "text": md(title)},
            {
                "type": "input",
                "block_id": "rag",
                "optional": True,
                "label": plain("RAG", 2000),
                "element": rag,
            },
            {
                "type": "input",
                "block_id": "note",
                "label": plain("Progress (your last update, to edit)", 2000),
                "element": note,
            },
            {
                "type": "input",
                "block_id": "link",
                "optional": True,
                "label": plain("Link to evidence", 2000),
                "element": {
                    "type": "url_text_input",
                    "action_id": "link",
                    "placeholder": plain("where the evidence is kept", 150),
                },
            },
        ],
    }


def _chosen_rag(view: dict[str, Any]) -> Rag | None:
    state = (view.get("state") or {}).get("values") or {}
    option = ((state.get("rag") or {}).get("rag") or {}).get("selected_option") or {}
    chosen = option.get("value")
    try:
        return Rag(str(chosen)) if chosen else None
    except ValueError:
        return None


def submit_round(deps: SlackDeps, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Record what the form sends; the answer goes beside the round's message."""
    meta = json.loads(view.get("private_metadata") or "{}")
    number = int(meta["action"])
    origin = Origin.from_dict(meta.get("origin") or {})
    note = str(value_of(view, "note", "note") or "").strip() or None
    link = str(value_of(view, "link", "link") or "").strip() or None
    command = UpdateRound(action_id=number, rag=_chosen_rag(view), note=note, link=link)
    caller = presser(deps, body)
    outcome = execute(deps.core, caller, command)
    if outcome.message.tone == "error":
        ack(response_action="errors", errors={"note": outcome.message.text[:2000]})
        return
    ack()

    def after() -> None:
        # Beside the round's message, which keeps listing every action.
        tell(deps, origin, outcome.message)
        deliver_queued(deps.core, deps.senders, outcome.outbox_ids)
        publish_home(deps, caller)

    after_ack(deps, body, after)
