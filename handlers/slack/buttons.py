"""The owner's buttons: Mark done, Add update (a form for the note), Blocked (a form for why),
Unblocked (reopens a blocked action); the chair's Nudge owner, Move deadline (a form for the
date and why) and Reassign (a form for the person); a list's Previous / Next; and buttons that
run a typed command (a reply's Undo).

An owner's button's value is the action's number, and, inside a list, the list's command
(`blocks.button_value`); Previous / Next hold the list command for their page. Buttons are
acknowledged at once (Slack shows an error after 3 s), then the change is made and shown where
the button was pressed: a list is shown again, the pressed item as it now stands.
https://api.slack.com/reference/interaction-payloads/block-actions
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import App

from bot.grammar.commands import ActionChange, MarkDone, NudgeOwner, Paged, Reopen, UndoReply
from bot.outbox.delivery import deliver_queued
from bot.render import replies
from bot.render.model import Message, Paragraph, Usage
from bot.services.context import Caller
from bot.services.dispatch import execute
from bot.services.lookup import action_for_chair, action_to_change
from handlers.slack.blocks import (
    BLOCKED,
    COMMAND,
    DONE,
    MOVE_DUE,
    NUDGE,
    PAGE,
    REASSIGN,
    UNBLOCK,
    UPDATE,
    read_button_value,
)
from handlers.slack.deps import SlackDeps
from handlers.slack.forms import (
    BLOCKED_FORM,
    MOVE_DUE_FORM,
    REASSIGN_FORM,
    UPDATE_FORM,
    move_due_form,
    note_form,
    reassign_form,
)
from handlers.slack.interact import (
    Origin,
    after_change,
    on_press,
    publish_home,
    show_in_place,
    tell,
    unless_refused,
    update_message,
)

#: What the forms let someone do, in the words of the permission check's reason.
_DOING = {UPDATE_FORM: "add updates to it", BLOCKED_FORM: "mark it blocked"}

log = logging.getLogger(__name__)


def register(app: App, deps: SlackDeps) -> None:
    """Listeners for the buttons."""
    on_press(app, deps, DONE, press_done)
    on_press(app, deps, UNBLOCK, lambda d, body, action: press_change(d, body, action, Reopen))
    on_press(app, deps, NUDGE, press_nudge)
    on_press(app, deps, MOVE_DUE, lambda d, b, a: open_chair_form(d, b, a, MOVE_DUE_FORM))
    on_press(app, deps, REASSIGN, lambda d, b, a: open_chair_form(d, b, a, REASSIGN_FORM))
    on_press(app, deps, UPDATE, lambda d, b, a: open_note_form(d, b, a, UPDATE_FORM))
    on_press(app, deps, BLOCKED, lambda d, b, a: open_note_form(d, b, a, BLOCKED_FORM))
    on_press(app, deps, re.compile(f"^{PAGE}_"), press_page)
    on_press(app, deps, re.compile(f"^{COMMAND}_"), press_command)


def presser(deps: SlackDeps, body: dict[str, Any]) -> Caller:
    """Who pressed, from the payload's `user`."""
    user = body.get("user") or {}
    return deps.caller(str(user["id"]), user.get("name") or user.get("username"))


def pressed_action(action: dict[str, Any], what: str) -> tuple[int, Paged | None] | None:
    """The action (and the list it was shown in) a pressed button is for; None, logged as
    `what` with an unexpected value, for a value we did not put there."""
    read = read_button_value(action.get("value"))
    if read is None:
        log.warning("%s with an unexpected value %r", what, action.get("value"))
    return read


def form_metadata(number: int, origin: Origin, listed: Paged | None = None) -> dict[str, Any]:
    """A form's private_metadata: the action, where the button was pressed and the list it
    was in, so the submission can show the outcome there."""
    metadata: dict[str, Any] = {"action": number, "origin": origin.to_dict()}
    if listed is not None:
        metadata["list"] = listed.model_dump(mode="json", exclude_none=True)
    return metadata


def press_done(deps: SlackDeps, body: dict[str, Any], action: dict[str, Any]) -> None:
    """Mark done, as `/action done <id>` would, for whoever pressed; the result shown in place."""
    press_change(deps, body, action, MarkDone)


def press_change(
    deps: SlackDeps,
    body: dict[str, Any],
    action: dict[str, Any],
    command: Callable[..., ActionChange],
) -> None:
    """A button that changes the action with nothing to ask (Mark done; Unblocked, as
    `/action reopen <id>`), for whoever pressed; the result shown in place."""
    read = pressed_action(action, str(action.get("action_id")))
    if read is None:
        return
    number, listed = read
    caller = presser(deps, body)
    outcome = execute(deps.core, caller, command(action_id=number))
    after_change(
        deps,
        caller,
        Origin.from_body(body),
        outcome,
        trigger_id=body.get("trigger_id"),
        listed=listed,
    )


def press_nudge(deps: SlackDeps, body: dict[str, Any], action: dict[str, Any]) -> None:
    """Nudge owner, as `/action nudge <id>`: the answer (sent, or already nudged today) is
    told beside the message, which stays as it was; the owner's message goes out now."""
    read = pressed_action(action, "Nudge owner")
    if read is None:
        return
    caller = presser(deps, body)
    outcome = execute(deps.core, caller, NudgeOwner(action_id=read[0]))
    tell(deps, Origin.from_body(body), outcome.message, trigger_id=body.get("trigger_id"))
    deliver_queued(deps.core, deps.senders, outcome.outbox_ids)


def open_chair_form(
    deps: SlackDeps, body: dict[str, Any], action: dict[str, Any], form: str
) -> None:
    """Move deadline / Reassign: the form, for a chair, with the action as it stands now."""
    read = pressed_action(action, form)
    if read is None:
        return
    number, listed = read
    origin = Origin.from_body(body)
    trigger_id = body.get("trigger_id")
    caller = presser(deps, body)
    doing = "move deadlines" if form == MOVE_DUE_FORM else "assign actions"
    view = unless_refused(
        deps, origin, trigger_id, lambda: action_for_chair(deps.core, caller, number, doing)
    )
    if view is None:
        return
    if view.status.is_closed:
        text = f"#{view.id} is already {view.status.label}; nothing changed."
        tell(deps, origin, Message(text=text, blocks=[Paragraph(text=text)]), trigger_id=trigger_id)
        return
    metadata = form_metadata(view.id, origin, listed)
    if form == MOVE_DUE_FORM:
        modal = move_due_form(view, today=deps.core.today(), metadata=metadata)
    else:
        modal = reassign_form(view, metadata=metadata)
    deps.client.views_open(trigger_id=trigger_id, view=modal)


def press_page(deps: SlackDeps, body: dict[str, Any], action: dict[str, Any]) -> None:
    """Previous / Next: the same list command for another page, shown where it was pressed."""
    try:
        command = Paged.from_data(json.loads(str(action.get("value") or "")))
    except ValueError:
        log.warning("a page button with an unexpected value %r", action.get("value"))
        return
    outcome = execute(deps.core, presser(deps, body), command)
    show_in_place(deps, Origin.from_body(body), outcome.message, trigger_id=body.get("trigger_id"))


def press_command(deps: SlackDeps, body: dict[str, Any], action: dict[str, Any]) -> None:
    """A button holding a typed command (a reply's Undo): run it for whoever pressed; the
    outcome replaces the message (its button gone), a refusal is told beside it."""
    try:
        command = UndoReply.model_validate(json.loads(str(action.get("value") or "")))
    except ValueError:
        log.warning("a command button with an unexpected value %r", action.get("value"))
        return
    caller = presser(deps, body)
    outcome = execute(deps.core, caller, command)
    show_in_place(deps, Origin.from_body(body), outcome.message, trigger_id=body.get("trigger_id"))
    deliver_queued(deps.core, deps.senders, outcome.outbox_ids)
    if outcome.message.tone != "error":
        publish_home(deps, caller)


def open_note_form(
    deps: SlackDeps, body: dict[str, Any], action: dict[str, Any], form: str
) -> None:
    """Add update / Blocked: open the form for the note, unless the action is closed already."""
    read = pressed_action(action, form)
    if read is None:
        return
    number, listed = read
    origin = Origin.from_body(body)
    trigger_id = body.get("trigger_id")
    caller = presser(deps, body)
    # Asked before the form opens: someone who may not change the action (a former owner
    # pressing an old message) is told why now, not after writing the note.
    view = unless_refused(
        deps, origin, trigger_id, lambda: action_to_change(deps.core, caller, number, _DOING[form])
    )
    if view is None:
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
    metadata = form_metadata(view.id, origin, listed)
    deps.client.views_open(trigger_id=trigger_id, view=note_form(form, view, metadata=metadata))
