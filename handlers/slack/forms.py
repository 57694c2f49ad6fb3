"""The forms: adding an action, and the note behind the Add update and Blocked buttons.

Views are built with slack_sdk's classes and validated by `View.to_dict()`.
https://api.slack.com/reference/surfaces/views
"""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    DatePickerElement,
    InputBlock,
    PlainTextInputElement,
    SectionBlock,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.grammar.commands import NOTE_CHARS, TITLE_CHARS, WORKSTREAM_CHARS
from bot.render.inline import plain as plain_text
from bot.render.model import ActionView
from handlers.slack.blocks import MODAL_TITLE, SECTION_TEXT, md, plain, safe

#: callback_ids of the forms.
ADD_FORM = "action_add_form"
UPDATE_FORM = "action_update_form"
BLOCKED_FORM = "action_blocked_form"

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
    view = View(
        type="modal",
        callback_id=ADD_FORM,
        title=plain("Add an action", MODAL_TITLE),
        submit=plain("Add", MODAL_TITLE),
        close=plain("Cancel", MODAL_TITLE),
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
    return view.to_dict()


def note_form(form: str, action: ActionView, *, metadata: dict[str, Any]) -> dict[str, Any]:
    """The note behind Add update (`form` UPDATE_FORM) or the reason behind Blocked."""
    title, label, submit, hint = _NOTE_TEXT[form]
    view = View(
        type="modal",
        callback_id=form,
        title=plain(title, MODAL_TITLE),
        submit=plain(submit, MODAL_TITLE),
        close=plain("Cancel", MODAL_TITLE),
        private_metadata=json.dumps(metadata),
        blocks=[
            SectionBlock(
                text=md(f"*#{action.id}* {safe(plain_text(action.title), SECTION_TEXT - 20)}")
            ),
            InputBlock(
                block_id="note",
                label=plain(label, 2000),
                element=PlainTextInputElement(
                    action_id="note",
                    multiline=True,
                    max_length=NOTE_MAX,
                    placeholder=plain(hint, 150),
                ),
            ),
        ],
    )
    return view.to_dict()


def value_of(view: dict[str, Any], block_id: str, action_id: str) -> Any:
    """The submitted value of one input: text, selected user or date (None when empty)."""
    state = (view.get("state") or {}).get("values") or {}
    element = (state.get(block_id) or {}).get(action_id) or {}
    for key in ("value", "selected_user", "selected_date"):
        if element.get(key):
            return element[key]
    return None
