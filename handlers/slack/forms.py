"""The forms: adding an action, the note behind the Add update and Blocked buttons, and the
chair's Move deadline (a date and a reason) and Reassign (a person).

Views are built with slack_sdk's classes and validated by `View.to_dict()`.
https://api.slack.com/reference/surfaces/views
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    DatePickerElement,
    InputBlock,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.grammar.commands import NOTE_CHARS, TITLE_CHARS, WORKSTREAM_CHARS
from bot.grammar.dates import format_date
from bot.render.inline import plain as plain_text
from bot.render.model import ActionView
from handlers.slack.blocks import MODAL_TITLE, SECTION_TEXT, md, plain, safe

#: callback_ids of the forms.
ADD_FORM = "action_add_form"
UPDATE_FORM = "action_update_form"
BLOCKED_FORM = "action_blocked_form"
MOVE_DUE_FORM = "action_move_due_form"
REASSIGN_FORM = "action_reassign_form"

#: Field limits, the commands' own (checked again by the core for whatever is submitted).
TITLE_MAX = TITLE_CHARS
WORKSTREAM_MAX = WORKSTREAM_CHARS
NOTE_MAX = NOTE_CHARS

_NOTE_TEXT = {
    UPDATE_FORM: ("Add an update", "What has happened?", "Add update", "e.g. audit signed off"),
    BLOCKED_FORM: ("Mark blocked", "What is blocking it?", "Mark blocked", "e.g. waiting for data"),
}


def add_form() -> dict[str, Any]:
    """`/action add` with no text: title, owner, due date and workstream."""
    return form_modal(
        ADD_FORM,
        title="Add an action",
        submit="Add",
        blocks=[
            InputBlock(
                block_id="title",
                label=plain("Title", 2000),
                element=PlainTextInputElement(
                    action_id="title",
                    max_length=TITLE_MAX,
                    placeholder=plain("What needs to be done", 150),
                ),
            ),
            InputBlock(
                block_id="owner",
                label=plain("Owner", 2000),
                optional=True,
                element=UserSelectElement(
                    action_id="owner", placeholder=plain("Who will do it", 150)
                ),
            ),
            InputBlock(
                block_id="due",
                label=plain("Due", 2000),
                optional=True,
                element=DatePickerElement(action_id="due", placeholder=plain("Deadline", 150)),
            ),
            InputBlock(
                block_id="workstream",
                label=plain("Workstream", 2000),
                optional=True,
                element=PlainTextInputElement(
                    action_id="workstream",
                    max_length=WORKSTREAM_MAX,
                    placeholder=plain("e.g. Priority 1: front door", 150),
                ),
            ),
        ],
    )


def note_form(form: str, action: ActionView, *, metadata: dict[str, Any]) -> dict[str, Any]:
    """The note behind Add update (`form` UPDATE_FORM) or the reason behind Blocked."""
    title, label, submit, hint = _NOTE_TEXT[form]
    return form_modal(
        form,
        title=title,
        submit=submit,
        metadata=metadata,
        blocks=[
            SectionBlock(
                text=md(f"*#{action.id}* {safe(plain_text(action.title), SECTION_TEXT - 20)}")
            ),
            note_input("note", label, hint),
        ],
    )


def form_modal(
    callback_id: str,
    *,
    title: str,
    submit: str,
    blocks: list[Any],
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A form with its title, its submit and Cancel buttons, and the metadata its submission
    reads back (compact: Slack keeps 3000 characters at most)."""
    view = View(
        type="modal",
        callback_id=callback_id,
        title=plain(title, MODAL_TITLE),
        submit=plain(submit, MODAL_TITLE),
        close=plain("Cancel", MODAL_TITLE),
        private_metadata=None if metadata is None else json.dumps(metadata, separators=(",", ":")),
        blocks=blocks,
    )
    return view.to_dict()


def note_input(block_id: str, label: str, hint: str) -> InputBlock:
    """A required note of several lines, as long as a typed command's note may be."""
    return InputBlock(
        block_id=block_id,
        label=plain(label, 2000),
        element=PlainTextInputElement(
            action_id=block_id,
            multiline=True,
            max_length=NOTE_MAX,
            placeholder=plain(hint, 150),
        ),
    )


def _heading(action: ActionView) -> SectionBlock:
    name = f"{action.ref} {action.title}" if action.ref else f"#{action.id} {action.title}"
    return SectionBlock(text=md(f"*{safe(plain_text(name), SECTION_TEXT - 20)}*"))


def move_due_form(
    action: ActionView, *, today: dt.date, metadata: dict[str, Any]
) -> dict[str, Any]:
    """Move deadline: the new date (the current one preselected) and why, as `/action due`."""
    now = f"Due now: {format_date(action.due, today=today)}" if action.due else "No deadline yet"
    return form_modal(
        MOVE_DUE_FORM,
        title="Move deadline",
        submit="Move",
        metadata=metadata,
        blocks=[
            _heading(action),
            ContextBlock(elements=[PlainTextObject(text=now)]),
            InputBlock(
                block_id="due",
                label=plain("New deadline", 2000),
                element=DatePickerElement(
                    action_id="due",
                    initial_date=action.due.isoformat() if action.due else None,
                    placeholder=plain("Pick a day", 150),
                ),
            ),
            InputBlock(
                block_id="reason",
                label=plain("Why (kept in the history)", 2000),
                optional=True,
                element=PlainTextInputElement(
                    action_id="reason",
                    max_length=NOTE_MAX,
                    placeholder=plain("e.g. waiting for the audit tool", 150),
                ),
            ),
        ],
    )


def reassign_form(action: ActionView, *, metadata: dict[str, Any]) -> dict[str, Any]:
    """Reassign: the new owner, as `/action assign`."""
    owner = f"Owner now: {action.owner.name}" if action.owner else "Nobody owns it yet"
    return form_modal(
        REASSIGN_FORM,
        title="Reassign",
        submit="Reassign",
        metadata=metadata,
        blocks=[
            _heading(action),
            ContextBlock(elements=[PlainTextObject(text=owner)]),
            InputBlock(
                block_id="owner",
                label=plain("New owner", 2000),
                element=UserSelectElement(
                    action_id="owner", placeholder=plain("Who will do it", 150)
                ),
            ),
        ],
    )


def value_of(view: dict[str, Any], block_id: str, action_id: str) -> Any:
    """The submitted value of one input: text, selected user or date (None when empty)."""
    state = (view.get("state") or {}).get("values") or {}
    element = (state.get(block_id) or {}).get(action_id) or {}
    for key in ("value", "selected_user", "selected_date"):
        if element.get(key):
            return element[key]
    return None
