"""Form submissions: the add form, the notes behind Add update and Blocked, and the chair's
Move deadline and Reassign (the same as `/action due` and `/action assign`).

A submission is answered in its acknowledgement: `errors` keeps the form open with the reason
under the field, `update` replaces it with the outcome.
https://api.slack.com/surfaces/modals#updating_response
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from slack_bolt import Ack, App

from bot.grammar.commands import (
    AddAction,
    AddUpdate,
    AssignAction,
    Command,
    MarkBlocked,
    MoveDue,
    Paged,
    UserRef,
)
from bot.outbox.delivery import deliver_queued
from bot.render.replies import NOTE_REQUIRED
from bot.services.dispatch import execute
from handlers.slack.buttons import presser
from handlers.slack.deps import SlackDeps
from handlers.slack.forms import (
    ADD_FORM,
    BLOCKED_FORM,
    MOVE_DUE_FORM,
    REASSIGN_FORM,
    UPDATE_FORM,
    value_of,
)
from handlers.slack.interact import Origin, accepted, after_ack, after_change, publish_home

log = logging.getLogger(__name__)


def register(app: App, deps: SlackDeps) -> None:
    """Listeners for the forms' submissions."""

    @app.view(ADD_FORM)
    def add_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submit_add(deps, ack, body, view)

    @app.view(UPDATE_FORM)
    def update_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submit_note(deps, ack, body, view, UPDATE_FORM)

    @app.view(BLOCKED_FORM)
    def blocked_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submit_note(deps, ack, body, view, BLOCKED_FORM)

    @app.view(MOVE_DUE_FORM)
    def move_due_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submit_chair_form(deps, ack, body, view, MOVE_DUE_FORM)

    @app.view(REASSIGN_FORM)
    def reassign_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submit_chair_form(deps, ack, body, view, REASSIGN_FORM)


def submit_add(deps: SlackDeps, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Create the action from the form; the owner gets their DM after the form closes."""
    title = str(value_of(view, "title", "title") or "").strip()
    owner = value_of(view, "owner", "owner")
    due_text = value_of(view, "due", "due")
    workstream = str(value_of(view, "workstream", "workstream") or "").strip() or None
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = "Please give the action a title."
    due = dt.date.fromisoformat(str(due_text)) if due_text else None
    if due is not None and due < deps.core.today():
        errors["due"] = "That date is in the past; pick today or a later day."
    if owner and deps.directory.lookup_id(str(owner)) is None:
        errors["owner"] = "I can't assign actions to that account (a bot or a deactivated user)."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    caller = presser(deps, body)
    command = AddAction(
        title=title,
        owner=UserRef(platform_id=str(owner)) if owner else None,
        due=due,
        workstream=workstream,
    )
    outcome = execute(deps.core, caller, command)
    if not accepted(deps, ack, outcome, "title", notice="Action added"):
        return

    def after() -> None:
        deliver_queued(deps.core, deps.senders, outcome.outbox_ids)
        publish_home(deps, caller)

    after_ack(deps, body, after)


def submit_note(
    deps: SlackDeps, ack: Ack, body: dict[str, Any], view: dict[str, Any], form: str
) -> None:
    """Record the update or the blocking reason, then redraw where the button was pressed."""
    meta = json.loads(view.get("private_metadata") or "{}")
    number = int(meta["action"])
    origin = Origin.from_dict(meta.get("origin") or {})
    note = str(value_of(view, "note", "note") or "").strip()
    if not note:
        ack(response_action="errors", errors={"note": NOTE_REQUIRED})
        return
    caller = presser(deps, body)
    command = (
        AddUpdate(action_id=number, note=note)
        if form == UPDATE_FORM
        else MarkBlocked(action_id=number, reason=note)
    )
    outcome = execute(deps.core, caller, command)
    if not accepted(deps, ack, outcome, "note"):
        return
    listed = _listed(meta.get("list"))
    after_ack(deps, body, lambda: after_change(deps, caller, origin, outcome, listed=listed))


def submit_chair_form(
    deps: SlackDeps, ack: Ack, body: dict[str, Any], view: dict[str, Any], form: str
) -> None:
    """Move the deadline or give the action to someone else, as the typed command would;
    a refusal stays in the form under its field, the outcome is shown where it was pressed."""
    meta = json.loads(view.get("private_metadata") or "{}")
    number = int(meta["action"])
    origin = Origin.from_dict(meta.get("origin") or {})
    command: Command
    if form == MOVE_DUE_FORM:
        field = "due"
        picked = value_of(view, "due", "due")
        if not picked:
            ack(response_action="errors", errors={"due": "Pick the new deadline."})
            return
        reason = str(value_of(view, "reason", "reason") or "").strip() or None
        command = MoveDue(action_id=number, due=dt.date.fromisoformat(str(picked)), reason=reason)
    else:
        field = "owner"
        owner = value_of(view, "owner", "owner")
        if not owner:
            ack(response_action="errors", errors={"owner": "Choose who should own it."})
            return
        if deps.directory.lookup_id(str(owner)) is None:
            ack(
                response_action="errors",
                errors={
                    "owner": "I can't assign actions to that account (a bot or a deactivated user)."
                },
            )
            return
        command = AssignAction(action_id=number, owner=UserRef(platform_id=str(owner)))
    caller = presser(deps, body)
    outcome = execute(deps.core, caller, command)
    if not accepted(deps, ack, outcome, field):
        return
    listed = _listed(meta.get("list"))
    after_ack(deps, body, lambda: after_change(deps, caller, origin, outcome, listed=listed))


def _listed(data: object) -> Paged | None:
    """The list the pressed button was in (kept in the form's metadata), if any."""
    try:
        return Paged.from_data(data) if data else None
    except ValueError:
        return None
