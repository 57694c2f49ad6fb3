"""The owner's buttons: Mark done, Add update (a form for the note), Blocked (a form for why).

Each button's value is the action's number. Buttons are acknowledged at once (Slack shows an
error after 3 s), then the change is made and shown where the button was pressed.
https://api.slack.com/reference/interaction-payloads/block-actions
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App

from bot.errors import CommandError
from bot.grammar.commands import MarkDone
from bot.render import replies
from bot.render.model import Message, Paragraph, Usage
from bot.services.context import Caller
from bot.services.dispatch import execute
from bot.services.lookup import current_action
from handlers.slack.blocks import BLOCKED, DONE, UPDATE
from handlers.slack.deps import SlackDeps
from handlers.slack.forms import BLOCKED_FORM, UPDATE_FORM, note_form
from handlers.slack.interact import Origin, after_ack, after_change, tell, update_message

log = logging.getLogger(__name__)


def register(app: App, deps: SlackDeps) -> None:
    """Listeners for the three buttons."""

    @app.action(DONE)
    def mark_done(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        after_ack(deps, body, lambda: press_done(deps, body, action))

    @app.action(UPDATE)
    def add_update(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        after_ack(deps, body, lambda: open_note_form(deps, body, action, UPDATE_FORM))

    @app.action(BLOCKED)
    def mark_blocked(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        after_ack(deps, body, lambda: open_note_form(deps, body, action, BLOCKED_FORM))


def presser(deps: SlackDeps, body: dict[str, Any]) -> Caller:
    """Who pressed, from the payload's `user`."""
    user = body.get("user") or {}
    return deps.caller(str(user["id"]), user.get("name") or user.get("username"))


def action_number(action: dict[str, Any]) -> int | None:
    """The action a button is for; None for a value we did not put there."""
    value = str(action.get("value") or "")
    return int(value) if value.isdigit() and len(value) < 11 else None


def press_done(deps: SlackDeps, body: dict[str, Any], action: dict[str, Any]) -> None:
    """Mark done, as `/action done <id>` would, for whoever pressed; the result shown in place."""
    number = action_number(action)
    if number is None:
        log.warning("Mark done with an unexpected value %r", action.get("value"))
        return
    caller = presser(deps, body)
    outcome = execute(deps.core, caller, MarkDone(action_id=number))
    after_change(deps, caller, Origin.from_body(body), outcome, trigger_id=body.get("trigger_id"))


def open_note_form(
    deps: SlackDeps, body: dict[str, Any], action: dict[str, Any], form: str
) -> None:
    """Add update / Blocked: open the form for the note, unless the action is closed already."""
    number = action_number(action)
    if number is None:
        log.warning("%s with an unexpected value %r", form, action.get("value"))
        return
    origin = Origin.from_body(body)
    trigger_id = body.get("trigger_id")
    try:
        view = current_action(deps.core, number)
    except CommandError as exc:  # no such action (any more)
        tell(deps, origin, replies.error(exc.reason, exc.usage), trigger_id=trigger_id)
        return
    if view.status.is_closed:
        # A stale button: say so kindly, change nothing, and redraw the message without buttons.
        text = f"#{view.id} is already {view.status.label}; nothing changed."
        message = Message(
            text=text,
            blocks=[
                Paragraph(text=text),
                Usage(lines=[f"/action reopen {view.id}  ·  /action update {view.id} <note>"]),
            ],
        )
        if origin.kind == "message" and origin.channel and origin.ts:
            fallback = replies.detail(view, [], more=0)
            update_message(deps, origin.channel, origin.ts, view, fallback=fallback)
        tell(deps, origin, message, trigger_id=trigger_id)
        return
    metadata = {"action": view.id, "origin": origin.to_dict()}
    deps.client.views_open(trigger_id=trigger_id, view=note_form(form, view, metadata=metadata))
