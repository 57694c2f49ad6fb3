"""Adaptive Card rendering of the neutral reply model, for Microsoft Teams.

Version 1.5 is the newest Adaptive Card schema Teams renders on every client
(https://learn.microsoft.com/en-us/microsoftteams/platform/task-modules-and-cards/cards/cards-reference).

Safety of text: a TextBlock's text and a fact's title and value render a markdown subset (bold,
italic, lists, links: https://learn.microsoft.com/en-us/adaptive-cards/authoring-cards/text-features,
https://learn.microsoft.com/en-us/microsoftteams/platform/task-modules-and-cards/cards/cards-format),
so every string we did not write ourselves goes through `escape()` there, and only there: button
titles, input labels, placeholders and error messages, choice titles, fallback text and the
activity's summary are shown as they are, where a backslash would show. A mention notifies only
through its `msteams.entities` entry, which only `_said` adds for a person a text names.

Size: Teams refuses a message over about 28 KB
(https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/format-your-bot-messages);
lists are cut with "… and N more" until the card fits in `MAX_CARD_BYTES`.

The owner's buttons are `Action.Execute` (Mark done) and `Action.ShowCard` holding a text input
and an `Action.Execute` (Add update, Blocked): the note is typed in the card itself, where Slack
opens a modal. Universal Actions (https://learn.microsoft.com/en-us/microsoftteams/platform/task-modules-and-cards/cards/universal-actions-for-adaptive-cards/overview)
send a press as an `invoke` activity named `adaptiveCard/action` whose `value.action.data` is the
`data` below plus the inputs, e.g. `{"actionbot": "update", "action": 12, "note_12_update":
"Draft sent"}`; the bot answers it with the card redrawn, which Teams puts in place of the one
pressed (so a done action loses its buttons). Cards sent before used `Action.Submit`, which
comes back as a message activity with that same `value`: both are understood.

A reply to a typed command that only shows actions (`list`, `status overdue`, `show`) carries
that command in its buttons' data as `view`, so a press can redraw the whole list as it is now.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain import Platform, Rag, Status
from bot.grammar.commands import Paged
from bot.grammar.dates import format_date
from bot.render import text as text_render
from bot.render.date_requests import card_lines
from bot.render.inline import Link, Mention, mention_name, people_in, people_map, plain, segments
from bot.render.model import (
    ActionButton,
    ActionDetail,
    ActionList,
    ActionNotice,
    ActionView,
    Block,
    Buttons,
    Count,
    Counts,
    DateRequestCard,
    Divider,
    Heading,
    Image,
    LatestNote,
    Message,
    NoticeList,
    Pager,
    Paragraph,
    PersonView,
    Tone,
    Usage,
)
from bot.render.notice_parts import (
    LABELS,
    chair_buttons,
    context_parts,
    latest_words,
    named,
    owner_buttons,
)
from bot.render.replies import NOTE_REQUIRED
from bot.render.text import NOTE_INDENT, action_facts
from bot.render.timeline import timeline
from handlers.teams.signoff import inputs as signoff_inputs

CARD_VERSION = "1.5"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
#: Teams' limit is ~28 KB for the whole activity; the rest is the envelope and fallback text.
MAX_CARD_BYTES = 24_000
#: Lists start at this many items; the size check cuts further when rows are long.
MAX_ITEMS = 25
MAX_HISTORY = 15
FALLBACK_TEXT = 2000

#: What an `adaptiveCard/action` invoke is answered with when it carries a card to show.
INVOKE_CARD = CARD_CONTENT_TYPE
#: ... or a short message, shown by Teams beside the card, which stays as it was.
INVOKE_MESSAGE = "application/vnd.microsoft.activity.message"
#: A command longer than this is not kept in the buttons' data (the card would grow by three
#: times its length for every item).
MAX_VIEW = 120

#: `data.actionbot` of the owner's buttons (and the `verb` of their `Action.Execute`).
DONE = "done"
UPDATE = "update"
BLOCKED = "blocked"
BUTTON_KINDS = (DONE, UPDATE, BLOCKED)
#: ... of Unblocked (reopens a blocked action), and of the chair's Nudge owner, Move deadline
#: (a date and a reason typed in the card) and Reassign (who, typed in the card).
UNBLOCK = "reopen"
NUDGE = "nudge"
MOVE_DUE = "due"
REASSIGN = "assign"
MORE_KINDS = (UNBLOCK, NUDGE, MOVE_DUE, REASSIGN)
#: `data.actionbot` of Move deadline and Reassign on a card: the answer is an input card for
#: that action (its Save runs MOVE_DUE or REASSIGN with what was typed; Cancel, FORM_CANCEL,
#: draws the card as it was). The inputs are not carried in every card: a list of twenty
#: overdue actions would not fit in one.
MOVE_DUE_FORM = "due_form"
REASSIGN_FORM = "assign_form"
FORM_CANCEL = "form_cancel"
FORM_KINDS = (MOVE_DUE_FORM, REASSIGN_FORM, FORM_CANCEL)
#: `data.actionbot` of a button that runs a typed command (a reply's Undo); `data.command` is it.
COMMAND = "command"
#: `data.actionbot` of Approve and Decline on a request for a new date (`data.action`,
#: `data.request`; Decline's reason is typed in the card, input `decline_<request>`).
DATE_APPROVE = "date_approve"
DATE_DECLINE = "date_decline"
#: `data.actionbot` of a list's Previous / Next; `data.list` is the list command for that page
#: (inside a list, the owner's buttons carry the list's command there too).
PAGE = "page"

_TONE_COLOR: dict[Tone, str] = {
    "success": "Good",
    "error": "Attention",
    "warning": "Warning",
    "info": "Default",
}
#: A figure's colour (Count.tone) and a RAG as a coloured mark; what a list item leads with,
#: by its state, and the colour of that line.
_COUNT_MARK = {"attention": "🔴", "warning": "🟠", "good": "🟢", "accent": "🔵"}
_RAG_MARK = {Rag.RED: "🔴", Rag.AMBER: "🟠", Rag.GREEN: "🟢", Rag.BLUE: "🔵"}
_LEAD: dict[text_render.ItemState, tuple[str, str]] = {
    "overdue": ("🔴", "Attention"),
    "blocked": ("⛔", "Attention"),
    "due": ("⏳", "Warning"),
    "later": ("📅", "Default"),
    "undated": ("📅", "Default"),
    "done": ("✅", "Good"),
    "closed": ("✖️", "Default"),
}
#: A reference keeps to one line: its hyphens and spaces made non-breaking.
_UNSPLIT = str.maketrans({"-": "\u2011", " ": "\u00a0"})

# Characters of markdown inline syntax (emphasis, code, links: a link needs `[…]`, so the
# brackets are enough and ordinary parentheses stay readable), and those of HTML: Teams renders
# `<b>` as bold and drops tags it does not know (`<id>` in a usage line vanished), and reads
# `&lt;` as `<`. A backslash makes each of them literal, as CommonMark defines.
_INLINE = re.compile(r"([\\`*_\[\]~<>&])")
# Line starts that become lists, quotes or headings: "- x", "+ x", "1. x", "> x", "# x".
_LINE_START = re.compile(r"^(\s*)([-+>#]|\d+[.)])", re.MULTILINE)


def escape(text: str) -> str:
    """`text` with markdown backslash-escaped, so it shows as typed in a TextBlock."""
    text = _INLINE.sub(r"\\\1", text)
    return _LINE_START.sub(_escape_line_start, text)


def _escape_line_start(match: re.Match[str]) -> str:
    lead, marker = match.group(1), match.group(2)
    if marker[0].isdigit():  # `1.` is escaped as `1\.`, the CommonMark way
        return f"{lead}{marker[:-1]}\\{marker[-1]}"
    return f"{lead}\\{marker}"


def note_input_id(action_id: int, kind: str) -> str:
    """The id of the text input of an Add update / Blocked button; unique within a card."""
    return f"note_{action_id}_{kind}"


def render_card(
    message: Message,
    *,
    today: dt.date | None = None,
    tz: ZoneInfo | None = None,
    max_bytes: int = MAX_CARD_BYTES,
    view: str | None = None,
) -> dict[str, Any]:
    """The message as one Adaptive Card, cut down until its JSON fits in `max_bytes`.

    `view` is the typed command that showed these actions, kept in the buttons' data so a
    press can show the list again with fresh state.
    """
    limit = MAX_ITEMS
    extra: dict[str, Any] = {"view": view} if view and len(view) <= MAX_VIEW else {}
    while True:
        card = _card(message, today, tz, limit, extra)
        if len(json.dumps(card).encode()) <= max_bytes or limit == 0:
            return card
        if any(isinstance(b, ActionList) and b.chair for b in message.blocks):
            # The list comes first: a long one keeps its items and loses the chair's buttons
            # (`/action show <id>` has them) before it is cut.
            message = _without_chair_buttons(message)
            continue
        limit //= 2


def _without_chair_buttons(message: Message) -> Message:
    blocks = [
        b.model_copy(update={"chair": False}) if isinstance(b, ActionList) else b
        for b in message.blocks
    ]
    return message.model_copy(update={"blocks": blocks})


def to_activity(
    message: Message,
    *,
    today: dt.date | None = None,
    tz: ZoneInfo | None = None,
    view: str | None = None,
) -> dict[str, Any]:
    """A Bot Connector message activity carrying the card, with plain text as its summary."""
    text = plain(message.text)[:FALLBACK_TEXT]
    return {
        "type": "message",
        # `summary` is what notifications and the chat list show; `text` would render above
        # the card as markdown, so it is left out.
        "summary": text,
        "attachments": [
            {
                "contentType": CARD_CONTENT_TYPE,
                "content": render_card(message, today=today, tz=tz, view=view),
            }
        ],
    }


def invoke_card(
    message: Message,
    *,
    today: dt.date | None = None,
    tz: ZoneInfo | None = None,
    view: str | None = None,
) -> dict[str, Any]:
    """The body of an `adaptiveCard/action` invoke response that replaces the pressed card."""
    card = render_card(message, today=today, tz=tz, view=view)
    return {"statusCode": 200, "type": INVOKE_CARD, "value": card}


def invoke_message(text: str) -> dict[str, Any]:
    """The body of an `adaptiveCard/action` invoke response that leaves the card as it is."""
    return {"statusCode": 200, "type": INVOKE_MESSAGE, "value": plain(text)[:FALLBACK_TEXT]}


def _card(
    message: Message,
    today: dt.date | None,
    tz: ZoneInfo | None,
    limit: int,
    extra: dict[str, Any],
) -> dict[str, Any]:
    body: list[dict[str, Any]] = []
    for index, block in enumerate(message.blocks):
        tone = message.tone if index == 0 else "info"
        body.extend(_block(block, today, tz, limit, tone, extra))
    if not body:
        body.append(_text(message.text, color=_TONE_COLOR[message.tone]))
    # Use the full width of the chat: long action titles wrap less.
    msteams: dict[str, Any] = {"width": "Full"}
    if entities := _mention_entities(body, {**_owners(message), **people_in(message)}):
        msteams["entities"] = entities
    return {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "msteams": msteams,
        "body": body,
    }


def _text(text: str, said: Sequence[PersonView] | None = None, **style: Any) -> dict[str, Any]:
    """A TextBlock; `said`: the text is stored user text, drawn with the people it mentions
    (without it, a mention is shown as `@Name`, as in our own words around a title)."""
    shown = _said(text, said) if said is not None else escape(plain(text))
    return {"type": "TextBlock", "text": shown, "wrap": True, **style}


#: A mention as `_said` draws it; a `<` from any text is escaped (`\<`), so these are ours.
_AT = re.compile(r"(?<!\\)<at>([^<>]*)</at>")


def _said(text: str, people: Sequence[PersonView]) -> str:
    """Stored user text (bot/render/inline.py) as card markdown: words escaped, links as links,
    a mention `<at>Name</at>` when the person has a Teams account, else `@Name`."""
    known = people_map(people)
    parts: list[str] = []
    for segment in segments(text):
        if isinstance(segment, Link):
            parts.append(f"[{escape(segment.url)}]({segment.url})")
        elif isinstance(segment, Mention):
            person = known.get(segment.person_id)
            if person is not None and person.accounts.get(Platform.TEAMS.value):
                parts.append(f"<at>{_at_name(person)}</at>")
            else:
                parts.append(escape("@" + mention_name(segment, known)))
        else:
            parts.append(escape(segment.text))
    return "".join(parts)


def _owners(message: Message) -> dict[int, PersonView]:
    """The owners of the actions a message lists, whom their items mention."""
    return {
        item.owner.id: item.owner
        for block in message.blocks
        if isinstance(block, ActionList)
        for item in block.items
        if item.owner is not None
    }


def _at_name(person: PersonView) -> str:
    return " ".join(re.sub(r"[<>\\]", " ", person.name).split()) or "someone"


def _mention_entities(body: object, people: dict[int, PersonView]) -> list[dict[str, Any]]:
    """The `msteams.entities` Teams needs for each `<at>Name</at>` in the card: without its
    entity a mention shows as plain text (https://learn.microsoft.com/en-us/microsoftteams/platform/task-modules-and-cards/cards/cards-format#mention-support-within-adaptive-cards)."""
    shown: dict[str, None] = {}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            shown.update(dict.fromkeys(_AT.findall(node)))

    walk(body)
    by_name = {_at_name(p): p for p in people.values() if p.accounts.get(Platform.TEAMS.value)}
    return [
        {
            "type": "mention",
            "text": f"<at>{name}</at>",
            "mentioned": {"id": by_name[name].accounts[Platform.TEAMS.value], "name": name},
        }
        for name in shown
        if name in by_name
    ]


def _block(
    block: Block,
    today: dt.date | None,
    tz: ZoneInfo | None,
    limit: int,
    tone: Tone,
    extra: dict[str, Any],
) -> list[dict[str, Any]]:
    color = _TONE_COLOR[tone]
    if isinstance(block, Heading):
        return [_text(block.text, size="Medium", weight="Bolder", color=color)]
    if isinstance(block, Paragraph):
        return [_text(block.text, color=color)]
    if isinstance(block, Usage):
        return [
            _text("Usage: " + block.lines[0] if len(block.lines) == 1 else block.lines[0]),
            *(_text(line, fontType="Monospace", isSubtle=True) for line in block.lines[1:]),
        ]
    if isinstance(block, Counts) and block.line:
        return [_count_line(block)]
    if isinstance(block, Counts):
        facts = [{"title": escape(c.label), "value": _count(c)} for c in block.items]
        title = [_text(block.title, weight="Bolder")] if block.title else []
        return [*title, {"type": "FactSet", "facts": facts}]
    if isinstance(block, ActionList):
        return _action_list(block, today, limit, extra, tz)
    if isinstance(block, ActionDetail):
        return _detail(block, today, tz, limit, extra)
    if isinstance(block, Pager):
        return _pager(block)
    if isinstance(block, Buttons):
        # Return's reason and Add evidence's words are typed on the card, above the buttons.
        return [*signoff_inputs(block), _command_buttons(block)]
    if isinstance(block, DateRequestCard):
        return _date_request(block, today, color)
    if isinstance(block, ActionNotice):
        return _notice(block, today, extra, tone)
    if isinstance(block, NoticeList):
        return _notice_list(block, today, limit, extra)
    if isinstance(block, Divider):
        return [{"type": "Container", "separator": True, "spacing": "Large", "items": []}]
    if isinstance(block, Image):
        title = [_text(block.title, weight="Bolder")] if block.title else []
        return [*title, {"type": "Image", "url": block.url, "altText": block.alt}]
    raise TypeError(f"unknown block {type(block).__name__}")  # pragma: no cover


def _count(count: Count) -> str:
    """A figure in a FactSet: `5 ▲2 (3 red)`."""
    text = str(count.value)
    if change := text_render.arrow(count.delta):
        text += f" {change}"
    return text + (f" ({escape(count.note)})" if count.note else "")


def _count_line(block: Counts) -> dict[str, Any]:
    """Figures as one line, numbers in bold, each coloured one after its coloured mark:
    `🔴 **5** overdue ▲2 (3 red) · 🟠 **2** blocked · **4** due this week`."""
    parts = []
    for count in block.items:
        mark = f"{_COUNT_MARK[count.tone]} " if count.tone else ""
        text = f"{mark}**{count.value}** {escape(count.label)}"
        if change := text_render.arrow(count.delta):
            text += f" {change}"
        parts.append(text + (f" ({escape(count.note)})" if count.note else ""))
    title = f"**{escape(block.title)}**: " if block.title else ""
    return {"type": "TextBlock", "text": title + "  ·  ".join(parts), "wrap": True}


def _item(item: ActionView, today: dt.date | None, tz: ZoneInfo | None) -> list[dict[str, Any]]:
    """A list item: its state and lateness in their colour with the reference (never split
    across lines); the title in bold; then the owner (mentioned), the deadline, the RAG in
    its colour and why it is blocked."""
    lead = text_render.item_lead(item, today, tz)
    mark, color = _LEAD[lead.state]
    ref = escape(item.ref).translate(_UNSPLIT) + "\u00a0·\u00a0" if item.ref else ""
    head = f"{mark} **{escape(lead.words)}** · {ref}#{item.id}"
    people = [*item.mentions, *([item.owner] if item.owner else [])]
    facts = [_owner(item), *map(escape, text_render.item_facts(item, today))]
    if item.rag:
        facts.append(f"RAG {_RAG_MARK[item.rag]} {item.rag.value}")
    if item.rag_flag:
        facts.append(f"{text_render.FLAG_MARK} {escape(item.rag_flag)}")
    if item.status == Status.BLOCKED and item.blocked_reason:
        facts.append("blocked: " + _said(item.blocked_reason, people))
    return [
        {"type": "TextBlock", "text": head, "wrap": True, "color": color},
        _text(item.title, people, weight="Bolder"),
        {"type": "TextBlock", "text": " · ".join(facts), "wrap": True, "isSubtle": True},
    ]


def _owner(item: ActionView) -> str:
    """The owner as a Teams mention when they have a Teams account, else their name."""
    if item.owner is None:
        return "no owner"
    if item.owner.accounts.get(Platform.TEAMS.value):
        return f"<at>{_at_name(item.owner)}</at>"
    return escape(item.owner.name)


def _action_list(
    block: ActionList,
    today: dt.date | None,
    limit: int,
    extra: dict[str, Any],
    tz: ZoneInfo | None = None,
) -> list[dict[str, Any]]:
    out = [_text(block.title, weight="Bolder")] if block.title else []
    if not block.items:
        return [*out, _text(block.empty, isSubtle=True)]
    shown = block.items[: max(limit, 1)]
    for item in shown:
        container: dict[str, Any] = {
            "type": "Container",
            "separator": True,
            "items": _item(item, today, tz),
        }
        listed = {"list": list_data(block.source)} if block.source is not None else {}
        if block.buttons and not item.status.is_closed:
            container["items"].append(_buttons(item, {**extra, **listed}))
        if block.chair and (kinds := chair_buttons(item)):
            container["items"].append(kind_buttons(item, kinds, {**extra, **listed}))
        out.append(container)
    more = block.more + len(block.items) - len(shown)
    if more:
        hint = f" ({block.more_hint})" if block.more_hint else ""
        out.append(_text(f"… and {more} more{hint}", isSubtle=True))
    return out


def list_data(command: Paged) -> dict[str, Any]:
    """A list command as a button's data (read back with `Paged.from_data`)."""
    data: dict[str, Any] = command.model_dump(mode="json", exclude_none=True)
    return data


def _pager(block: Pager) -> list[dict[str, Any]]:
    """`Page 2 of 3 · 45 actions` and the Previous / Next buttons that redraw the card."""
    actions = [
        {
            "type": "Action.Execute",
            "title": f"{label} (page {page})",
            "verb": PAGE,
            "data": {"actionbot": PAGE, "list": list_data(block.at(page))},
        }
        for label, page in (("Previous", block.page - 1), ("Next", block.page + 1))
        if 1 <= page <= block.pages
    ]
    line = _text(f"Page {block.page} of {block.pages} · {block.total} actions", isSubtle=True)
    return [line, {"type": "ActionSet", "actions": actions}] if actions else [line]


_STYLE = {"default": "default", "primary": "positive", "danger": "destructive"}


def decline_input_id(request_id: int) -> str:
    """The id of a request's Decline reason input; unique within a card."""
    return f"decline_{request_id}"


def _date_request(card: DateRequestCard, today: dt.date | None, color: str) -> list[dict[str, Any]]:
    """The request in words, then Approve and Decline (the reason typed in the card) while it
    waits for a decision."""
    first, *rest = card_lines(card, today)
    out = [_text(first, card.action.mentions, color=color), *(_text(line) for line in rest)]
    if not card.pending:
        return out
    data = {"action": card.action.id, "request": card.request_id}
    decline = {
        "type": "Action.Execute",
        "title": "Decline",
        "verb": DATE_DECLINE,
        "style": "destructive",
        "data": {"actionbot": DATE_DECLINE, **data},
    }
    out.append(
        {
            "type": "ActionSet",
            "actions": [
                {
                    "type": "Action.Execute",
                    "title": "Approve",
                    "verb": DATE_APPROVE,
                    "style": "positive",
                    "data": {"actionbot": DATE_APPROVE, **data},
                },
                {
                    "type": "Action.ShowCard",
                    "title": "Decline…",
                    "card": {
                        "type": "AdaptiveCard",
                        "body": [
                            {
                                "type": "Input.Text",
                                "id": decline_input_id(card.request_id),
                                "label": "Why is it declined? The owner is told.",
                                "isMultiline": True,
                                "isRequired": True,
                                "errorMessage": "Please give the reason.",
                                "maxLength": 2000,
                            }
                        ],
                        "actions": [decline],
                    },
                },
            ],
        }
    )
    return out


def _command_buttons(block: Buttons) -> dict[str, Any]:
    """Buttons that each run a typed command, answered like any card button."""
    return {
        "type": "ActionSet",
        "actions": [
            {
                "type": "Action.Execute",
                "title": button.label,
                "verb": COMMAND,
                "style": _STYLE[button.style],
                "data": {"actionbot": COMMAND, "command": button.command.model_dump(mode="json")},
            }
            for button in block.items
        ],
    }


def _detail(
    block: ActionDetail,
    today: dt.date | None,
    tz: ZoneInfo | None,
    limit: int,
    extra: dict[str, Any],
) -> list[dict[str, Any]]:
    a = block.action
    title = f"#{a.id} {a.title}" + (f"  [{a.ref}]" if a.ref else "")
    facts = action_facts(a, today)
    out: list[dict[str, Any]] = [
        _text(title, a.mentions, size="Medium", weight="Bolder"),
        {
            "type": "FactSet",
            "facts": [{"title": n, "value": _said(v, a.mentions)} for n, v in facts],
        },
    ]
    if block.latest is not None:
        out.append(_latest(block.latest, today))
    history = block.history[: min(MAX_HISTORY, max(limit, 1))]
    if history:
        out.append(_text("History, newest first", weight="Bolder", separator=True))
        for line in timeline(history, tz=tz, today=today):
            # A note of several lines stays under its entry, each further line indented.
            out.append(_text(line.text, line.mentions, size="Small"))
            out += [_text(NOTE_INDENT + more, line.mentions, size="Small") for more in line.more]
        earlier = block.history_more + len(block.history) - len(history)
        if earlier:
            out.append(_text(f"… and {earlier} earlier", isSubtle=True, size="Small"))
    if block.buttons and not a.status.is_closed:
        out.append(kind_buttons(a, owner_buttons(a), extra))
    if block.chair and (kinds := chair_buttons(a)):
        out.append(kind_buttons(a, kinds, extra))
    return out


def _notice(
    block: ActionNotice, today: dt.date | None, extra: dict[str, Any], tone: Tone = "info"
) -> list[dict[str, Any]]:
    """`⚠️ Due today: CP-02 Re-audit CP plans` in bold, the question for the owner, one line
    of context, the latest update, then the buttons."""
    a = block.action
    out: list[dict[str, Any]] = [
        _text(
            f"{block.headline}: {named(a)}",
            a.mentions,
            weight="Bolder",
            color=_TONE_COLOR[tone],
        )
    ]
    if block.prompt:
        out.append(_text(block.prompt, a.mentions, spacing="Small"))
    out.append(_text(" · ".join(context_parts(a)), isSubtle=True, size="Small", spacing="Small"))
    if block.latest is not None:
        out.append(_latest(block.latest, today))
    if a.status.is_closed:
        out.append(_text(f"{a.status.label}: nothing more to do here.", isSubtle=True))
    elif block.buttons:
        out.append(kind_buttons(a, block.buttons, extra))
    return out


def _latest(latest: LatestNote, today: dt.date | None) -> dict[str, Any]:
    """The latest update, its date and author first in italics, the note as written."""
    bare = latest.model_copy(update={"text": ""})
    head = latest_words(bare, today=today).removesuffix(": ")
    shown = f"_{escape(head)}:_ {_said(latest.text, latest.mentions)}"
    return {"type": "TextBlock", "text": shown, "wrap": True}


def _notice_list(
    block: NoticeList, today: dt.date | None, limit: int, extra: dict[str, Any]
) -> list[dict[str, Any]]:
    out = [_text(block.title, weight="Bolder")] if block.title else []
    shown = block.items[: max(limit, 1)]
    for item in shown:
        out.append({"type": "Container", "separator": True, "items": _notice(item, today, extra)})
    more = block.more + len(block.items) - len(shown)
    if more:
        hint = f" ({block.more_hint})" if block.more_hint else ""
        out.append(_text(f"… and {more} more{hint}", isSubtle=True))
    return out


def kind_buttons(
    action: ActionView, kinds: Sequence[ActionButton], extra: dict[str, Any]
) -> dict[str, Any]:
    """The buttons `kinds` for one action, in that order, as an ActionSet."""
    return {"type": "ActionSet", "actions": [_kind(action, kind, extra) for kind in kinds]}


def _kind(action: ActionView, kind: ActionButton, extra: dict[str, Any]) -> dict[str, Any]:
    label = LABELS[kind]
    if kind == "done":
        return {**_execute(action, DONE, label, extra), "style": "positive"}
    if kind == "update":
        return _note_button(action, UPDATE, label, "What has been done?", extra)
    if kind == "blocked":
        return _note_button(action, BLOCKED, label, "What is blocking it?", extra)
    if kind == "unblocked":
        return {**_execute(action, UNBLOCK, label, extra), "style": "positive"}
    if kind == "nudge":
        return _execute(action, NUDGE, label, extra)
    if kind == "move_due":
        return _execute(action, MOVE_DUE_FORM, label, extra)
    if kind == "new_date":
        return _new_date_button(action, label, extra)
    return _execute(action, REASSIGN_FORM, label, extra)


#: `data.actionbot` of Request new date (`data.action`; the date and the reason typed in the
#: card: `new_date_<id>`, `new_date_reason_<id>`).
NEW_DATE = "new_date"


def new_date_input_id(action_id: int) -> str:
    """The id of Request new date's date input; unique within a card."""
    return f"new_date_{action_id}"


def new_date_reason_id(action_id: int) -> str:
    """The id of Request new date's reason input."""
    return f"new_date_reason_{action_id}"


def _new_date_button(action: ActionView, label: str, extra: dict[str, Any]) -> dict[str, Any]:
    """Request new date: the date and the reason typed in the card, then Ask the chairs."""
    return {
        "type": "Action.ShowCard",
        "title": label,
        "card": {
            "type": "AdaptiveCard",
            "body": [
                {
                    "type": "Input.Date",
                    "id": new_date_input_id(action.id),
                    "label": "New date",
                    "isRequired": True,
                    "errorMessage": "Pick the new date.",
                },
                {
                    "type": "Input.Text",
                    "id": new_date_reason_id(action.id),
                    "label": "Why should it move? The chairs decide.",
                    "isMultiline": True,
                    "isRequired": True,
                    "errorMessage": "Please give the reason.",
                    "maxLength": 2000,
                },
            ],
            "actions": [_execute(action, NEW_DATE, "Ask the chairs", extra)],
        },
    }


def form_card(
    action: ActionView, form: str, *, today: dt.date | None, data: dict[str, Any]
) -> dict[str, Any]:
    """The input card Move deadline (`form` MOVE_DUE_FORM) or Reassign opens in place of the
    pressed card: the action, the inputs, Save (as `/action due` or `/action assign`) and
    Cancel. `data` is the pressed button's (the list or view it was in stays with it)."""
    keep = {k: v for k, v in data.items() if k in ("view", "list")}
    if form == MOVE_DUE_FORM:
        now = (
            f"Due now: {format_date(action.due, today=today)}" if action.due else "No deadline yet"
        )
        inputs: list[dict[str, Any]] = [
            {
                "type": "Input.Date",
                "id": note_input_id(action.id, MOVE_DUE),
                "label": "New deadline",
                "isRequired": True,
                "errorMessage": "Pick the new deadline.",
                **({"value": action.due.isoformat()} if action.due else {}),
            },
            {
                "type": "Input.Text",
                "id": reason_input_id(action.id),
                "label": "Why (kept in the history)",
                "maxLength": 2000,
            },
        ]
        verb, title = MOVE_DUE, "Move deadline"
    else:
        now = f"Owner now: {action.owner.name}" if action.owner else "Nobody owns it yet"
        inputs = [
            {
                "type": "Input.Text",
                "id": note_input_id(action.id, REASSIGN),
                "label": "New owner: their email address or @name",
                "isRequired": True,
                "errorMessage": "Say who should own it.",
                "maxLength": 320,
            }
        ]
        verb, title = REASSIGN, "Reassign"
    body = [
        _text(title, size="Medium", weight="Bolder"),
        _text(named(action), action.mentions, weight="Bolder"),
        _text(now, isSubtle=True, spacing="Small"),
        *inputs,
        {
            "type": "ActionSet",
            "actions": [
                {**_execute(action, verb, "Save", keep), "style": "positive"},
                _execute(action, FORM_CANCEL, "Cancel", keep),
            ],
        },
    ]
    return {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "msteams": {"width": "Full"},
        "body": body,
    }


def reason_input_id(action_id: int) -> str:
    """The id of Move deadline's reason input; unique within a card."""
    return f"reason_{action_id}_{MOVE_DUE}"


def _buttons(action: ActionView, extra: dict[str, Any]) -> dict[str, Any]:
    """The owner's buttons for one action (Mark done / Add update / Blocked; Unblocked and
    Add update on a blocked one), as an ActionSet."""
    return kind_buttons(action, owner_buttons(action), extra)


def _execute(action: ActionView, kind: str, title: str, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Action.Execute",
        "title": title,
        "verb": kind,
        "data": {"actionbot": kind, "action": action.id, **extra},
    }


def _note_button(
    action: ActionView, kind: str, title: str, prompt: str, extra: dict[str, Any]
) -> dict[str, Any]:
    return {
        "type": "Action.ShowCard",
        "title": title,
        "card": {
            "type": "AdaptiveCard",
            "body": [
                {
                    "type": "Input.Text",
                    "id": note_input_id(action.id, kind),
                    "label": prompt,
                    "isMultiline": True,
                    "isRequired": True,
                    "errorMessage": NOTE_REQUIRED,
                    "maxLength": 2000,
                }
            ],
            "actions": [_execute(action, kind, "Save", extra)],
        },
    }
