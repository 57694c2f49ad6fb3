"""Adaptive Cards for Teams: valid 1.5 for every reply, user text shown as text, within size."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import jsonschema
import pytest

from bot.domain import Rag, Status
from bot.render import replies
from bot.render.model import (
    ActionDetail,
    ActionList,
    ActionView,
    Count,
    Counts,
    Heading,
    HistoryView,
    Message,
    Paragraph,
    PersonView,
    Usage,
)
from handlers.teams.cards import (
    MAX_CARD_BYTES,
    escape,
    invoke_card,
    invoke_message,
    render_card,
    to_activity,
)
from tests.support.adaptive_card_schema import SCHEMA

TODAY = dt.date(2026, 11, 23)


def _with_execute(schema: dict[str, Any]) -> dict[str, Any]:
    """The card schema plus `Action.Execute` (Universal Actions, card version 1.4 and later):
    a title, a verb, data, and the style Teams draws a positive button with."""
    extended = copy.deepcopy(schema)
    extended["$defs"]["Action"]["oneOf"].append(
        {
            "type": "object",
            "required": ["type", "title", "verb", "data"],
            "additionalProperties": False,
            "properties": {
                "type": {"const": "Action.Execute"},
                "title": {"type": "string"},
                "verb": {
                    "enum": [
                        "done",
                        "update",
                        "blocked",
                        "reopen",
                        "nudge",
                        "due_form",
                        "assign_form",
                    ]
                },
                "style": {"enum": ["default", "positive", "destructive"]},
                "data": {"type": "object"},
            },
        }
    )
    return extended


CARD_SCHEMA = _with_execute(SCHEMA)


def validate(card: dict[str, Any]) -> None:
    jsonschema.validate(card, CARD_SCHEMA, cls=jsonschema.Draft202012Validator)


def actions_of(node: Any) -> list[dict[str, Any]]:
    """Every action of a card, nested ShowCards included, in order."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if str(node.get("type", "")).startswith("Action."):
            found.append(node)
        for value in node.values():
            found.extend(actions_of(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(actions_of(item))
    return found


def view(number: int, title: str = "Audit case files", **extra: Any) -> ActionView:
    fields: dict[str, Any] = {
        "id": number,
        "title": title,
        "owner": PersonView(id=1, name="Amira"),
        "due": TODAY - dt.timedelta(days=2),
        "status": Status.OPEN,
        "rag": Rag.RED,
        "days_late": 2,
        **extra,
    }
    return ActionView(**fields)


def every_block() -> Message:
    history = [
        HistoryView(
            at=dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC),
            actor="Amira",
            source="teams",
            change="note",
            note="Sent *draft*",
        ),
    ]
    return Message(
        text="All shapes",
        tone="warning",
        blocks=[
            Heading(text="Overdue"),
            Paragraph(text="Two actions"),
            Counts(title="This week", items=[Count(label="open", value=3, delta=-1)]),
            ActionList(title="Mine", items=[view(1), view(2, status=Status.DONE)], buttons=True),
            ActionList(items=[], empty="Nothing overdue."),
            ActionDetail(
                action=view(3, workstream="A", priority="high"),
                history=history,
                history_more=4,
                buttons=True,
            ),
            Usage(lines=["/action done <id>", "/status overdue"]),
        ],
    )


def test_every_block_renders_a_valid_card_with_the_owner_buttons() -> None:
    card = render_card(every_block(), today=TODAY)
    validate(card)
    text = json.dumps(card)
    assert text.count('"Mark done"') == 2  # the open list item and the detail; not the done one
    assert '"Add update"' in text and '"Blocked"' in text


def test_every_reply_of_the_help_renders_valid() -> None:
    validate(render_card(replies.help_message(None), today=TODAY))


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("**bold** _it_", r"\*\*bold\*\* \_it\_"),
        ("[click](https://evil.example)", r"\[click\](https://evil.example)"),
        ("- not a list", r"\- not a list"),
        ("1. not a list", r"1\. not a list"),
        ("# not a heading", r"\# not a heading"),
        ("back\\slash", "back\\\\slash"),
        ("plain words", "plain words"),
        ("see <b>attached</b>", r"see \<b\>attached\</b\>"),
        ("/action done <id>", r"/action done \<id\>"),
        ("R&amp;D & co", r"R\&amp;D \& co"),
        ("> not a quote", r"\> not a quote"),
    ],
)
def test_markdown_in_user_text_is_escaped(typed: str, shown: str) -> None:
    assert escape(typed) == shown
    card = render_card(Message(text=typed, blocks=[Paragraph(text=typed)]))
    assert card["body"][0]["text"] == shown


def test_long_lists_are_cut_with_and_n_more_within_the_size_limit() -> None:
    items = [view(n, "A long title " * 30) for n in range(1, 301)]
    message = Message(text="many", blocks=[ActionList(items=items, buttons=True)])
    card = render_card(message, today=TODAY)
    validate(card)
    assert len(json.dumps(to_activity(message, today=TODAY)).encode()) < 28 * 1024
    assert len(json.dumps(card).encode()) <= MAX_CARD_BYTES
    more = [b["text"] for b in card["body"] if b.get("type") == "TextBlock" and "more" in b["text"]]
    assert more and more[0].startswith("… and ")


def test_activity_wraps_the_card_as_an_attachment() -> None:
    activity = to_activity(Message(text="Done: #12"))
    assert activity["type"] == "message" and activity["summary"] == "Done: #12"
    [attachment] = activity["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    validate(attachment["content"])


def test_usage_lines_keep_their_angle_brackets() -> None:
    card = render_card(Message(text="usage", blocks=[Usage(lines=["/action done <id> [note]"])]))
    assert card["body"][0]["text"] == r"Usage: /action done \<id\> \[note\]"
    help_text = json.dumps(render_card(replies.help_message(None), today=TODAY))
    assert "<id>" not in help_text and r"\\<id\\>" in help_text


def test_buttons_are_universal_actions_with_a_verb_and_the_action() -> None:
    message = Message(text="one", blocks=[ActionList(items=[view(7)], buttons=True)])
    card = render_card(message, today=TODAY)
    validate(card)
    assert float(card["version"]) >= 1.4  # Action.Execute needs 1.4
    executes = [a for a in actions_of(card) if a["type"] == "Action.Execute"]
    assert [(a["title"], a["verb"], a["data"]) for a in executes] == [
        ("Mark done", "done", {"actionbot": "done", "action": 7}),
        ("Save", "update", {"actionbot": "update", "action": 7}),
        ("Save", "blocked", {"actionbot": "blocked", "action": 7}),
    ]
    assert not [a for a in actions_of(card) if a["type"] == "Action.Submit"]


def test_a_list_keeps_the_command_that_showed_it_in_its_buttons() -> None:
    message = Message(text="one", blocks=[ActionList(items=[view(7), view(8)], buttons=True)])
    card = render_card(message, today=TODAY, view="/action list mine")
    data = [a["data"] for a in actions_of(card) if a["type"] == "Action.Execute"]
    assert len(data) == 6 and all(d["view"] == "/action list mine" for d in data)
    # A long command is left out rather than tripling the card's size.
    long = render_card(message, today=TODAY, view="/status " + "x" * 500)
    assert all("view" not in a.get("data", {}) for a in actions_of(long))


def test_invoke_answers_carry_a_card_or_a_message() -> None:
    answer = invoke_card(Message(text="Done", blocks=[Paragraph(text="Done <now>")]))
    assert answer["statusCode"] == 200
    assert answer["type"] == "application/vnd.microsoft.card.adaptive"
    validate(answer["value"])
    assert answer["value"]["body"][0]["text"] == r"Done \<now\>"
    assert invoke_message("No such action") == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "No such action",
    }


#: A title with every markdown character a plan's titles hold: emphasis, a checkbox, a list.
MARKDOWN_TITLE = "1. Re-audit *CP* plans_v2 [x]"

#: Card properties Teams shows as they are, without markdown: a backslash there stays visible
#: (https://learn.microsoft.com/en-us/microsoftteams/platform/task-modules-and-cards/cards/cards-format:
#: markdown is read in TextBlock text and a fact's title and value only).
PLAIN_PROPERTIES = {"title", "label", "placeholder", "errorMessage", "fallbackText"}


def shown_text(node: Any, *, markdown: bool, parent: str | None = None) -> list[str]:
    """The strings of a card Teams reads as markdown (`markdown=True`) or shows as they are
    (`parent`: the type of the element whose list holds `node`, to tell facts from choices)."""
    found: list[str] = []
    if isinstance(node, dict):
        kind = node.get("type")
        for key, value in node.items():
            if isinstance(value, str):
                is_fact = kind is None and parent == "FactSet" and key in ("title", "value")
                is_markdown = (kind == "TextBlock" and key == "text") or is_fact
                is_plain = key in PLAIN_PROPERTIES and not is_markdown
                if (is_markdown if markdown else is_plain) and value:
                    found.append(value)
            else:
                found.extend(shown_text(value, markdown=markdown, parent=kind))
    elif isinstance(node, list):
        for value in node:
            found.extend(shown_text(value, markdown=markdown, parent=parent))
    return found


def markdown_everywhere() -> Message:
    from bot.grammar.commands import UndoReply
    from bot.render.model import Button, Buttons

    return Message(
        text=MARKDOWN_TITLE,
        blocks=[
            Heading(text=MARKDOWN_TITLE),
            Counts(items=[Count(label=MARKDOWN_TITLE, value=2)]),
            ActionList(items=[view(7, MARKDOWN_TITLE)], buttons=True),
            ActionDetail(action=view(8, MARKDOWN_TITLE, workstream=MARKDOWN_TITLE), buttons=True),
            Buttons(items=[Button(label=MARKDOWN_TITLE, command=UndoReply(first=1, last=2))]),
        ],
    )


def test_text_shown_without_markdown_has_no_backslashes() -> None:
    activity = to_activity(markdown_everywhere(), today=TODAY)
    card = activity["attachments"][0]["content"]
    plain_strings = [activity["summary"], *shown_text(card, markdown=False)]
    assert MARKDOWN_TITLE in plain_strings  # the summary and the Buttons label, as typed
    assert all("\\" not in text for text in plain_strings), plain_strings
    # Buttons, inputs and their errors are there, so the walk did look at them.
    assert {"Mark done", "Add update", "Blocked", "Save"} <= set(plain_strings)
    assert "What has been done?" in plain_strings


def test_text_read_as_markdown_is_still_escaped() -> None:
    card = render_card(markdown_everywhere(), today=TODAY)
    markdown = shown_text(card, markdown=True)
    assert escape(MARKDOWN_TITLE) == r"1\. Re-audit \*CP\* plans\_v2 \[x\]"
    # The heading, the count's label (a fact title), the list item, the detail's title and
    # its workstream fact: each keeps the title escaped (`1.` only where it starts a line, as
    # only there it makes a list), none shows it raw.
    assert markdown[0] == escape(MARKDOWN_TITLE)
    assert sum(r"Re-audit \*CP\* plans\_v2 \[x\]" in text for text in markdown) >= 5
    assert not [text for text in markdown if "Re-audit *CP* plans_v2 [x]" in text]
