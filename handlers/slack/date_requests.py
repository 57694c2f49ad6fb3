"""Requests for a new date on Slack: the Approve and Decline buttons of the message the chairs
and the secretary get (Decline opens a form for the reason), and the owner's "Request new
date" (a form for the date and the reason). Each does what its typed command does:
`/action approve <id>`, `/action decline <id> <reason>`, `/action rebaseline <id> <date>
<reason>`.

A decision replaces the pressed message with its outcome (its buttons gone); a refusal is
told beside it and leaves it as it was.
https://api.slack.com/reference/interaction-payloads/block-actions
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.models.blocks import DatePickerElement, InputBlock

from bot.domain import Platform
from bot.grammar.commands import ApproveDate, DeclineDate, RequestDate
from bot.outbox.delivery import deliver_queued
from bot.outbox.retract import drawn
from bot.render.date_requests import card_lines
from bot.render.model import ActionView, DateRequestCard, Message, Paragraph
from bot.services.dispatch import execute
from bot.services.lookup import action_to_change
from bot.services.rebaseline import request_to_decide
from handlers.slack.blocks import (
    DATE_APPROVE,
    DATE_DECLINE,
    NEW_DATE,
    SECTION_TEXT,
    cut_escaped,
    md,
    ours,
    plain,
)
from handlers.slack.buttons import form_metadata, pressed_action, presser
from handlers.slack.deps import SlackDeps
from handlers.slack.forms import form_modal, note_input, value_of
from handlers.slack.interact import (
    Origin,
    accepted,
    after_ack,
    after_change,
    on_press,
    publish_home,
    show_in_place,
    tell,
    unless_refused,
)

log = logging.getLogger(__name__)

#: callback_ids of the forms.
DECLINE_FORM = "date_decline_form"
REQUEST_FORM = "date_request_form"


def register(app: App, deps: SlackDeps) -> None:
    """Listeners for Approve, Decline and Request new date, and their forms."""
    on_press(app, deps, DATE_APPROVE, press_approve)
    on_press(app, deps, DATE_DECLINE, open_decline_form)
    on_press(app, deps, NEW_DATE, open_request_form)

    @app.view(DECLINE_FORM)
    def decline_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submit_decline(deps, ack, body, view)

    @app.view(REQUEST_FORM)
    def request_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submit_request(deps, ack, body, view)


def read_request_value(value: object) -> tuple[int, int] | None:
    """(action, request) from an Approve or Decline value; None for a value we did not write."""
    text = str(value or "")
    try:
        data = json.loads(text) if len(text) <= 200 else None
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    numbers = (data.get("action"), data.get("request"))
    if not all(isinstance(n, int) and not isinstance(n, bool) and 0 < n < 2**31 for n in numbers):
        return None
    return int(numbers[0]), int(numbers[1])  # type: ignore[arg-type]


def press_approve(deps: SlackDeps, body: dict[str, Any], action: dict[str, Any]) -> None:
    """Approve, as `/action approve` would, for whoever pressed; the outcome replaces the
    message (its buttons gone), a refusal is told beside it."""
    read = read_request_value(action.get("value"))
    if read is None:
        log.warning("Approve with an unexpected value %r", action.get("value"))
        return
    number, request_id = read
    caller = presser(deps, body)
    outcome = execute(deps.core, caller, ApproveDate(action_id=number, request_id=request_id))
    origin = Origin.from_body(body)
    show_in_place(deps, origin, outcome.message, trigger_id=body.get("trigger_id"))
    _drawn(deps, origin, outcome.message)
    deliver_queued(deps.core, deps.senders, outcome.outbox_ids)
    if outcome.message.tone != "error":
        publish_home(deps, caller)


def open_decline_form(deps: SlackDeps, body: dict[str, Any], action: dict[str, Any]) -> None:
    """Decline…: the form for the reason, unless the presser may not decide or the request
    was decided (or replaced) meanwhile, which is told at once instead."""
    read = read_request_value(action.get("value"))
    if read is None:
        log.warning("Decline with an unexpected value %r", action.get("value"))
        return
    number, request_id = read
    origin = Origin.from_body(body)
    trigger_id = body.get("trigger_id")
    caller = presser(deps, body)
    card = unless_refused(
        deps, origin, trigger_id, lambda: request_to_decide(deps.core, caller, number, request_id)
    )
    if card is None:
        return
    metadata = {"action": number, "request": request_id, "origin": origin.to_dict()}
    deps.client.views_open(
        trigger_id=trigger_id, view=decline_form(card, metadata, today=deps.core.today())
    )


def decline_form(
    card: DateRequestCard, metadata: dict[str, Any], *, today: dt.date | None = None
) -> dict[str, Any]:
    """The form behind Decline…: the request in words and the reason, which the owner reads."""
    return form_modal(
        DECLINE_FORM,
        title="Decline the new date",
        submit="Decline",
        metadata=metadata,
        blocks=[
            {
                "type": "section",
                "text": md(cut_escaped(ours("\n".join(card_lines(card, today))), SECTION_TEXT)),
            },
            note_input(
                "reason",
                "Why is it declined? The owner is told.",
                "e.g. the inspection is in January",
            ),
        ],
    )


def submit_decline(deps: SlackDeps, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Decline with the reason; a refusal stays in the form under the reason, the outcome
    replaces the message the button was on."""
    meta = json.loads(view.get("private_metadata") or "{}")
    reason = str(value_of(view, "reason", "reason") or "").strip()
    if not reason:
        ack(response_action="errors", errors={"reason": "Please give the reason."})
        return
    caller = presser(deps, body)
    command = DeclineDate(
        action_id=int(meta["action"]), request_id=int(meta["request"]), reason=reason
    )
    outcome = execute(deps.core, caller, command)
    if not accepted(deps, ack, outcome, "reason"):
        return
    origin = Origin.from_dict(meta.get("origin") or {})

    def after() -> None:
        show_in_place(deps, origin, outcome.message)
        _drawn(deps, origin, outcome.message)
        deliver_queued(deps.core, deps.senders, outcome.outbox_ids)
        publish_home(deps, caller)

    after_ack(deps, body, after)


def open_request_form(deps: SlackDeps, body: dict[str, Any], action: dict[str, Any]) -> None:
    """Request new date: the form for the date and the reason, if the presser may ask."""
    read = pressed_action(action, "Request new date")
    if read is None:
        return
    number, _ = read
    origin = Origin.from_body(body)
    trigger_id = body.get("trigger_id")
    caller = presser(deps, body)
    doing = "ask for a new date"
    view = unless_refused(
        deps, origin, trigger_id, lambda: action_to_change(deps.core, caller, number, doing)
    )
    if view is None:
        return
    if view.status.is_closed:
        text = f"#{view.id} is already {view.status.label}; there is no deadline to move."
        tell(deps, origin, Message(text=text, blocks=[Paragraph(text=text)]), trigger_id=trigger_id)
        return
    deps.client.views_open(
        trigger_id=trigger_id, view=request_form(view, form_metadata(view.id, origin))
    )


def request_form(action: ActionView, metadata: dict[str, Any]) -> dict[str, Any]:
    """The form behind Request new date: the date and the reason the chairs will read."""
    due = f" (now due {action.due.isoformat()})" if action.due else ""
    return form_modal(
        REQUEST_FORM,
        title="Request a new date",
        submit="Ask the chairs",
        metadata=metadata,
        blocks=[
            {
                "type": "section",
                "text": md(cut_escaped(ours(f"#{action.id} {action.title}{due}"), SECTION_TEXT)),
            },
            InputBlock(
                block_id="due",
                label=plain("New date", 2000),
                element=DatePickerElement(action_id="due"),
            ),
            note_input(
                "reason",
                "Why should it move? The chairs decide.",
                "e.g. the police data arrives in January",
            ),
        ],
    )


def submit_request(deps: SlackDeps, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Ask for the new date, as `/action rebaseline` would; a refusal stays in the form."""
    meta = json.loads(view.get("private_metadata") or "{}")
    picked = value_of(view, "due", "due")
    reason = str(value_of(view, "reason", "reason") or "").strip()
    errors: dict[str, str] = {}
    if not picked:
        errors["due"] = "Pick the new date."
    if not reason:
        errors["reason"] = "Please give the reason."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    caller = presser(deps, body)
    command = RequestDate(
        action_id=int(meta["action"]), due=dt.date.fromisoformat(str(picked)), reason=reason
    )
    outcome = execute(deps.core, caller, command)
    if not accepted(deps, ack, outcome, "due", notice="Asked"):
        return
    origin = Origin.from_dict(meta.get("origin") or {})
    after_ack(deps, body, lambda: after_change(deps, caller, origin, outcome))


def _drawn(deps: SlackDeps, origin: Origin, shown: Message) -> None:
    """The pressed message now shows the decision: the edit queued to take its buttons back
    (with the other deciders' copies) has nothing left to do there."""
    if shown.tone != "error" and origin.kind == "message" and origin.channel and origin.ts:
        drawn(deps.core, platform=Platform.SLACK, channel=origin.channel, ref=origin.ts)
