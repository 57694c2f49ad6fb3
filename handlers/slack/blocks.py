"""Block Kit rendering of the neutral reply model, within Slack's limits and safe for user text.

Blocks are built as plain dicts, every text cut to Slack's limits here. They used to be built
with slack_sdk's Block Kit classes, whose validators made rendering a quarter of a command's CPU;
the tests now round-trip every shape through those classes instead (tests/test_slack_blocks.py),
so Slack's own library still checks what we send.

Safety of text: every string we put in mrkdwn is escaped (`&`, `<`, `>` only, as Slack asks:
https://api.slack.com/reference/surfaces/formatting#escaping) and sent with `verbatim: true`,
so Slack does not turn words into links or mentions either
(https://api.slack.com/reference/block-kit/composition-objects#text). A title that says
`<!channel>` is therefore shown as those characters and notifies nobody.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.views import View

from bot.domain import Platform, Rag, Status
from bot.grammar.commands import Paged
from bot.render import inline
from bot.render import text as text_render
from bot.render.date_requests import card_lines
from bot.render.model import (
    ActionButton,
    ActionDetail,
    ActionList,
    ActionNotice,
    ActionView,
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
from bot.render.model import Block as NeutralBlock
from bot.render.notice_parts import (
    LABELS,
    chair_buttons,
    context_parts,
    latest_words,
    named,
    owner_buttons,
)
from bot.render.text import NOTE_INDENT, due_phrase
from bot.render.timeline import timeline

# Limits from https://api.slack.com/reference/block-kit/blocks and
# https://api.slack.com/reference/block-kit/block-elements (slack_sdk enforces the same).
MAX_BLOCKS = 50  # a message
MAX_VIEW_BLOCKS = 100  # a modal or the home tab
SECTION_TEXT = 3000
FIELD_TEXT = 2000
MAX_FIELDS = 10
HEADER_TEXT = 150
BUTTON_TEXT = 75
CONTEXT_TEXT = 3000
CONTEXT_ELEMENTS = 10
#: chat.postMessage's `text` is cut by Slack past 40,000 characters and should stay under
#: 4,000 (https://api.slack.com/methods/chat.postMessage#truncating); ours is a summary.
FALLBACK_TEXT = 3000
MODAL_TITLE = 24
ELLIPSIS = "…"

#: action_ids of the owner's buttons; their value is the action's number.
DONE = "action_done"
UPDATE = "action_update"
BLOCKED = "action_blocked"
BUTTON_ACTION_IDS = (DONE, UPDATE, BLOCKED)
#: action_ids of the other buttons on an action (the value is the same): Unblocked reopens a
#: blocked action; the chair's Nudge owner, Move deadline (a form) and Reassign (a form).
UNBLOCK = "action_unblock"
NUDGE = "action_nudge"
MOVE_DUE = "action_move_due"
REASSIGN = "action_reassign"
#: Request new date on a reminder: a form for the date and the reason (handlers/slack/
#: date_requests.py), the same as `/action rebaseline`.
NEW_DATE = "action_new_date"
ACTION_IDS: dict[ActionButton, str] = {
    "done": DONE,
    "update": UPDATE,
    "blocked": BLOCKED,
    "unblocked": UNBLOCK,
    "nudge": NUDGE,
    "move_due": MOVE_DUE,
    "reassign": REASSIGN,
    "new_date": NEW_DATE,
}
#: action_id of a list's Previous and Next buttons; their value is the list command (JSON).
PAGE = "list_page"
#: action_id of a button that runs a typed command (a reply's Undo); its value is the command.
COMMAND = "command_press"
#: action_id prefix of a delivered action's buttons (Sign off, Return, Add evidence), whose
#: value is the command as JSON (handlers/slack/signoff.py).
SIGNOFF_PRESS = "signoff_press"
#: action_ids of Approve and Decline on a request for a new date; the value is
#: `{"action": 12, "request": 5}` (`date_request_value`). Decline opens a form for the reason.
DATE_APPROVE = "date_approve"
DATE_DECLINE = "date_decline"
#: A button's value may hold 2000 characters.
BUTTON_VALUE = 2000

_TONE_MARK: dict[Tone, str] = {
    "success": ":white_check_mark: ",
    "error": ":x: ",
    "warning": ":warning: ",
    "info": "",
}
_RAG_MARK = {
    Rag.RED: ":red_circle:",
    Rag.AMBER: ":large_orange_circle:",
    Rag.GREEN: ":large_green_circle:",
    Rag.BLUE: ":large_blue_circle:",
}
#: A figure's colour (Count.tone) as a coloured mark before it.
_COUNT_MARK = {
    "attention": ":red_circle:",
    "warning": ":large_orange_circle:",
    "good": ":large_green_circle:",
    "accent": ":large_blue_circle:",
}
#: What a list item leads with, by its state (bot/render/text.py: item_lead).
_LEAD_MARK: dict[text_render.ItemState, str] = {
    "overdue": ":red_circle:",
    "blocked": ":no_entry:",
    "due": ":hourglass_flowing_sand:",
    "later": ":spiral_calendar_pad:",
    "undated": ":spiral_calendar_pad:",
    "done": ":white_check_mark:",
    "closed": ":heavy_multiplication_x:",
}


@dataclass(frozen=True)
class SlackMessage:
    """A rendered message: Block Kit blocks and the plain-text fallback Slack shows in alerts."""

    text: str
    blocks: list[dict[str, Any]]


def escape(text: str) -> str:
    """Escape the three characters Slack treats as control characters in mrkdwn."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Undo Slack's escaping of `&`, `<`, `>` in text it sends us (slash commands, messages)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def cut(text: str, limit: int) -> str:
    """`text` shortened to `limit` characters, ending in an ellipsis when it was longer."""
    if len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def cut_escaped(text: str, limit: int) -> str:
    """Like `cut`, for escaped text: never leaves half an entity such as `&am` behind, nor
    half a mention or link (`<@U1…`: every `<` left in escaped text starts our markup)."""
    if len(text) <= limit:
        return text
    head = text[: limit - len(ELLIPSIS)]
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    if head.rfind("<") > head.rfind(">"):
        head = head[: head.rfind("<")]
    return head.rstrip() + ELLIPSIS


def safe(text: str, limit: int) -> str:
    """User text made safe for mrkdwn and cut to `limit`."""
    return cut_escaped(escape(text), limit)


_SLACK_ID = re.compile(r"[A-Z0-9]+")


def said(text: str, people: Mapping[int, PersonView] | None = None) -> str:
    """Stored user text (bot/render/inline.py) as mrkdwn: words escaped, links as links, and a
    mention a real one when `people` gives the person a Slack account, else `@Name`."""
    parts: list[str] = []
    for segment in inline.segments(text):
        if isinstance(segment, inline.Link):
            parts.append(f"<{escape(segment.url)}>")
        elif isinstance(segment, inline.Channel):
            parts.append(channel_link(segment))
        elif isinstance(segment, inline.Mention):
            person = people.get(segment.person_id) if people else None
            slack_id = person.accounts.get(Platform.SLACK.value, "") if person else ""
            if _SLACK_ID.fullmatch(slack_id):
                parts.append(f"<@{slack_id}>")
            else:
                parts.append(escape("@" + inline.mention_name(segment, people)))
        else:
            parts.append(escape(segment.text))
    return "".join(parts)


def channel_link(channel: inline.Channel) -> str:
    """A channel the bot names: a real link (`<#C0BOARD>`, Slack shows its name) when the id
    is a Slack one, else its words."""
    if _SLACK_ID.fullmatch(channel.channel_id):
        return f"<#{channel.channel_id}>"
    return escape(channel.text)


def ours(text: str) -> str:
    """Our own words as mrkdwn: escaped, a mention in them shown as `@Name` (never notified),
    a channel the bot names as a link to it."""
    parts: list[str] = []
    for segment in inline.segments(text):
        if isinstance(segment, inline.Channel):
            parts.append(channel_link(segment))
        elif isinstance(segment, inline.Mention):
            parts.append(escape("@" + inline.mention_name(segment, None)))
        else:
            parts.append(escape(segment.url if isinstance(segment, inline.Link) else segment.text))
    return "".join(parts)


#: A Block Kit block or composition object, as sent to Slack.
Block = dict[str, Any]


def md(text: str) -> Block:
    """A mrkdwn text object that Slack shows verbatim: no auto-links, no parsed mentions."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def plain(text: str, limit: int) -> Block:
    """A plain_text object cut to `limit` (plain text is never parsed for mentions or links)."""
    return {"type": "plain_text", "text": cut(text, limit), "emoji": True}


def render(
    message: Message,
    *,
    today: dt.date | None = None,
    tz: ZoneInfo | None = None,
    max_blocks: int = MAX_BLOCKS,
) -> SlackMessage:
    """The message as blocks within Slack's limits, plus its fallback text."""
    return SlackMessage(
        text=fallback_text(message),
        blocks=to_blocks(message, today=today, tz=tz, max_blocks=max_blocks),
    )


def fallback_text(message: Message) -> str:
    """The one-line summary, escaped: Slack shows it in notifications and to screen readers."""
    return safe(inline.plain(message.text), FALLBACK_TEXT) or " "


def to_blocks(
    message: Message,
    *,
    today: dt.date | None = None,
    tz: ZoneInfo | None = None,
    max_blocks: int = MAX_BLOCKS,
) -> list[dict[str, Any]]:
    """The message as Block Kit dicts, at most `max_blocks` of them."""
    shown = _fit_lists(message.blocks, max_blocks)
    out: list[Block] = []
    for index, block in enumerate(message.blocks):
        mark = _TONE_MARK[message.tone] if index == 0 else ""
        out.extend(_block(block, mark, today, tz, shown.get(index)))
    if len(out) > max_blocks:  # only reachable with absurd inputs; lists are fitted above
        out = [*out[: max_blocks - 1], _context("… the rest does not fit in one Slack message.")]
    return out


def view_blocks(
    message: Message, *, today: dt.date | None = None, tz: ZoneInfo | None = None
) -> list[dict[str, Any]]:
    """Blocks for a modal or the home tab, which may hold up to 100."""
    return to_blocks(message, today=today, tz=tz, max_blocks=MAX_VIEW_BLOCKS)


def home_view(
    message: Message, *, today: dt.date | None = None, tz: ZoneInfo | None = None
) -> dict[str, Any]:
    """The App Home tab for views.publish, validated by slack_sdk's View."""
    view = View(type="home", blocks=view_blocks(message, today=today, tz=tz))
    return view.to_dict()


def notice_modal(message: Message, *, title: str, today: dt.date | None = None) -> dict[str, Any]:
    """A modal that only shows a message (with a Close button)."""
    view = View(
        type="modal",
        title=plain(title, MODAL_TITLE),
        close=plain("Close", MODAL_TITLE),
        blocks=view_blocks(message, today=today),
    )
    return view.to_dict()


# --- the neutral blocks -----------------------------------------------------------------


def _block(
    block: NeutralBlock,
    mark: str,
    today: dt.date | None,
    tz: ZoneInfo | None,
    shown: int | None,
) -> list[Block]:
    if isinstance(block, Heading):
        return [{"type": "header", "text": plain(block.text, HEADER_TEXT)}]
    if isinstance(block, Paragraph):
        # Our words around a title or a note: a mention in them is shown, never notified.
        return [_section(mark + ours(block.text))]
    if isinstance(block, Usage):
        return _usage(block, mark)
    if isinstance(block, Counts):
        return _counts(block, mark)
    if isinstance(block, ActionList):
        return _action_list(block, mark, today, len(block.items) if shown is None else shown, tz)
    if isinstance(block, ActionDetail):
        return _detail(block, today, tz)
    if isinstance(block, Pager):
        return _pager(block)
    if isinstance(block, Buttons):
        return [_command_buttons(block)]
    if isinstance(block, DateRequestCard):
        return _date_request(block, mark, today)
    if isinstance(block, ActionNotice):
        # Its headline carries its own mark (⚠️ Due today, 🔴 3 days late): not a second one.
        return _notice(block, "", today)
    if isinstance(block, NoticeList):
        return _notice_list(block, mark, today, len(block.items) if shown is None else shown)
    if isinstance(block, Divider):
        return [{"type": "divider"}]
    if isinstance(block, Image):
        image: Block = {"type": "image", "image_url": block.url, "alt_text": block.alt[:2000]}
        if block.title:
            image["title"] = {"type": "plain_text", "text": block.title[:2000]}
        return [image]
    raise TypeError(f"unknown block {type(block).__name__}")  # pragma: no cover


def _notice(block: ActionNotice, mark: str, today: dt.date | None) -> list[Block]:
    """`*⚠️ Due today: CP-02 Re-audit CP plans*`, the question for the owner, one line of
    context, the latest update, then the buttons."""
    a = block.action
    people = inline.view_people(a)
    name = cut_escaped(said(named(a), people), SECTION_TEXT // 2)
    text = f"{mark}*{ours(block.headline)}: {name}*"
    if block.prompt:
        text += "\n" + cut_escaped(said(block.prompt, people), SECTION_TEXT // 3)
    out = [_section(text), _context(escape(" · ".join(context_parts(a))))]
    if block.latest is not None:
        out.append(_section(_latest(block.latest, today)))
    if a.status.is_closed:
        out.append(_context(f"{_status(a)} — nothing more to do here."))
    elif block.buttons:
        out.append(buttons_block(block.buttons, a.id))
    return out


def _latest(latest: LatestNote, today: dt.date | None) -> str:
    """`_Latest update, Wed 25 Nov (Amira Khan):_ audit booked`, the note drawn as written."""
    bare = latest.model_copy(update={"text": ""})
    head = latest_words(bare, today=today).removesuffix(": ")
    people = {p.id: p for p in latest.mentions}
    note = cut_escaped(said(latest.text, people), SECTION_TEXT - 200)
    return f"_{escape(head)}:_ {note}"


def _notice_list(block: NoticeList, mark: str, today: dt.date | None, shown: int) -> list[Block]:
    out: list[Block] = []
    if block.title:
        out.append(_section(f"{mark}*{escape(block.title)}*"))
    for item in block.items[:shown]:
        out.append({"type": "divider"})
        out.extend(_notice(item, "", today))
    more = block.more + len(block.items) - shown
    if more:
        hint = f" ({escape(block.more_hint)})" if block.more_hint else ""
        out.append(_context(f"… and {more} more{hint}"))
    return out


def date_request_value(card: DateRequestCard) -> str:
    """The value of a request's Approve and Decline: the action and the request they decide."""
    return json.dumps({"action": card.action.id, "request": card.request_id}, separators=(",", ":"))


def _date_request(card: DateRequestCard, mark: str, today: dt.date | None) -> list[Block]:
    """The request in words (a title or reason mentioning someone shows `@Name`), then
    Approve and Decline while it waits for a decision."""
    out = [_section(mark + "\n".join(ours(line) for line in card_lines(card, today)))]
    if card.pending:
        value = date_request_value(card)
        out.append(
            {
                "type": "actions",
                "block_id": f"date_request_{card.request_id}",
                "elements": [
                    {
                        "type": "button",
                        "text": plain("Approve", BUTTON_TEXT),
                        "action_id": DATE_APPROVE,
                        "value": value,
                        "style": "primary",
                    },
                    {
                        "type": "button",
                        "text": plain("Decline…", BUTTON_TEXT),
                        "action_id": DATE_DECLINE,
                        "value": value,
                        "style": "danger",
                    },
                ],
            }
        )
    return out


def _command_buttons(block: Buttons) -> Block:
    """Buttons that each run a typed command; the value is the command as JSON."""
    elements: list[Block] = []
    for button in block.items:
        element: Block = {
            "type": "button",
            "text": plain(button.label, BUTTON_TEXT),
            "action_id": (
                f"{COMMAND}_{len(elements)}"
                if button.command.verb == "undo"
                else f"{SIGNOFF_PRESS}_{len(elements)}"
            ),
            "value": json.dumps(button.command.model_dump(mode="json"), separators=(",", ":")),
        }
        if button.style != "default":
            element["style"] = button.style
        elements.append(element)
    return {"type": "actions", "elements": elements}


def _section(text: str) -> Block:
    return {"type": "section", "text": md(cut_escaped(text, SECTION_TEXT))}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [md(cut_escaped(text, CONTEXT_TEXT))]}


def _usage(block: Usage, mark: str) -> list[Block]:
    lines = [f"`{escape(line)}`" for line in block.lines]
    if len(lines) == 1:
        return [_context(f"{mark}Usage: {lines[0]}")]
    return [_section(mark + "\n".join(lines))]


def _counts(block: Counts, mark: str) -> list[Block]:
    if block.line:  # one line of words: `🔴 *5* overdue ▲2 (3 red) · *2* blocked`
        head = f"*{escape(block.title)}*: " if block.title else ""
        return [_section(mark + head + "  ·  ".join(_count_words(c) for c in block.items))]
    fields = [md(cut_escaped(_count_field(c), FIELD_TEXT)) for c in block.items]
    title = f"{mark}*{escape(block.title)}*" if block.title else (mark.strip() or None)
    sections: list[Block] = []
    for start in range(0, max(len(fields), 1), MAX_FIELDS):
        chunk = fields[start : start + MAX_FIELDS]
        text = md(cut_escaped(title, SECTION_TEXT)) if title and start == 0 else None
        section: Block = {"type": "section"}
        if text:
            section["text"] = text
        if chunk:
            section["fields"] = chunk
        if chunk or text:
            sections.append(section)
    return sections


def _count_field(count: Count) -> str:
    """A figure in a grid: its label, then the number in bold with its colour and change."""
    return f"{escape(count.label)}\n{_figure(count)}" + (
        f" ({escape(count.note)})" if count.note else ""
    )


def _count_words(count: Count) -> str:
    """A figure in a line of words, number first: `:red_circle: *5* overdue ▲2 (3 red)`."""
    dot = f"{_COUNT_MARK[count.tone]} " if count.tone else ""
    text = f"{dot}*{count.value}* {escape(count.label)}"
    if change := text_render.arrow(count.delta):
        text += f" {change}"
    return text + (f" ({escape(count.note)})" if count.note else "")


def _figure(count: Count) -> str:
    """`:red_circle: *5* ▲2`: the number in bold, its colour before it, its change after."""
    dot = f"{_COUNT_MARK[count.tone]} " if count.tone else ""
    change = text_render.arrow(count.delta)
    return f"{dot}*{count.value}*" + (f" {change}" if change else "")


def _action_list(
    block: ActionList, mark: str, today: dt.date | None, shown: int, tz: ZoneInfo | None = None
) -> list[Block]:
    out: list[Block] = []
    if block.title:
        out.append(_section(f"{mark}*{escape(block.title)}*"))
        mark = ""
    if not block.items:
        out.append(_context(mark + escape(block.empty)))
        return out
    for item in block.items[:shown]:
        out.append(_section(_item_text(item, today, tz)))
        if block.buttons:
            out.extend(_buttons_or_state(item, block.source))
        if block.chair and (kinds := chair_buttons(item)):
            out.append(buttons_block(kinds, item.id, block.source))
    more = block.more + len(block.items) - shown
    if more:
        hint = f" ({escape(block.more_hint)})" if block.more_hint else ""
        out.append(_context(f"… and {more} more{hint}"))
    return out


def _item_text(action: ActionView, today: dt.date | None, tz: ZoneInfo | None = None) -> str:
    """`:red_circle: *14 days late* · `CIN-01` · #12  Title`, then the owner (a real mention
    when they have a Slack account), the deadline, the RAG and why it is blocked."""
    people = inline.view_people(action)
    lead = text_render.item_lead(action, today, tz)
    title = cut_escaped(said(action.title, people), SECTION_TEXT // 2)
    ref = f"#{action.id}"
    if action.ref:
        code = safe(action.ref.replace("`", "'"), 64)
        ref = f"`{code}` · {ref}"
    first = f"{_LEAD_MARK[lead.state]} *{escape(lead.words)}* · {ref}  {title}"
    facts = [_owner(action), *map(escape, text_render.item_facts(action, today))]
    if action.rag:
        facts.append(f"RAG {_RAG_MARK[action.rag]} {action.rag.value}")
    if action.rag_flag:
        facts.append(f"{text_render.FLAG_MARK} {escape(action.rag_flag)}")
    if action.status == Status.BLOCKED and action.blocked_reason:
        facts.append("blocked: " + cut_escaped(said(action.blocked_reason, people), 500))
    return f"{first}\n{' · '.join(facts)}"


def _owner(action: ActionView) -> str:
    """The owner as a mention Slack draws (and notifies in a channel) when they have a Slack
    account, else their name."""
    if action.owner is None:
        return "_no owner_"
    slack_id = action.owner.accounts.get(Platform.SLACK.value, "")
    if _SLACK_ID.fullmatch(slack_id):
        return f"<@{slack_id}>"
    return escape(action.owner.name)


def _status(action: ActionView) -> str:
    text = action.status.label
    if action.status == Status.DONE:
        text = ":white_check_mark: done"
    elif action.status == Status.BLOCKED:
        text = ":no_entry: blocked"
        if action.blocked_reason:
            reason = said(action.blocked_reason, inline.view_people(action))
            text += f": {cut_escaped(reason, 500)}"
    return text


def _detail(block: ActionDetail, today: dt.date | None, tz: ZoneInfo | None) -> list[Block]:
    a = block.action
    people = inline.view_people(a)
    ref = f"  `{safe(a.ref, 64)}`" if a.ref else ""
    facts = [
        ("Owner", escape(a.owner.name) if a.owner else "nobody yet"),
        ("Due", escape(due_phrase(a, today).removeprefix("due "))),
        ("Status", _status(a)),
        ("RAG", f"{_RAG_MARK[a.rag]} {a.rag.value}" if a.rag else "not rated"),
    ]
    if a.rag_flag:
        facts[-1] = ("RAG", f"{facts[-1][1]}\n{text_render.FLAG_MARK} {escape(a.rag_flag)}")
    if a.workstream:
        facts.append(("Workstream", escape(a.workstream)))
    if a.priority:
        facts.append(("Priority", escape(a.priority)))
    if a.success_measure:
        facts.append(("Success measure", escape(a.success_measure)))
    out: list[Block] = [
        {
            "type": "section",
            "text": md(f"*#{a.id}* {cut_escaped(said(a.title, people), SECTION_TEXT - 100)}{ref}"),
            "fields": [md(cut_escaped(f"*{name}*\n{value}", FIELD_TEXT)) for name, value in facts],
        }
    ]
    if block.latest is not None:
        out.append(_section(_latest(block.latest, today)))
    if block.history:
        lines = []
        for line in timeline(block.history, tz=tz, today=today):
            # A note of several lines stays under its entry, each further line indented.
            people = {p.id: p for p in line.mentions}
            lines += [said(line.text, people), *(NOTE_INDENT + said(m, people) for m in line.more)]
        if block.history_more:
            lines.append(f"… and {block.history_more} earlier")
        out.append(_section("*History*, newest first\n" + "\n".join(lines)))
    if block.buttons:
        out.extend(_buttons_or_state(a))
    if block.chair and (kinds := chair_buttons(a)):
        out.append(buttons_block(kinds, a.id))
    return out


def _buttons_or_state(action: ActionView, source: Paged | None = None) -> list[Block]:
    """The owner's buttons, or, once the action is closed, a line saying so instead.

    Replacing the buttons is what stops a stale message from being pressed twice to effect.
    """
    if action.status.is_closed:
        return [_context(f"{_status(action)} — nothing more to do here.")]
    return [buttons_block(owner_buttons(action), action.id, source)]


def command_value(command: Paged) -> str:
    """A list command as a button's value (JSON; read back with `Paged.from_data`)."""
    return json.dumps(command.model_dump(mode="json", exclude_none=True), separators=(",", ":"))


def button_value(action_id: int, source: Paged | None = None) -> str:
    """The value of an owner's button: the action's number, and the list it is in, if any,
    so a press redraws that list (Slack does not send an ephemeral message back with it)."""
    if source is not None:
        value = json.dumps(
            {"action": action_id, "list": json.loads(command_value(source))},
            separators=(",", ":"),
        )
        if len(value) <= BUTTON_VALUE:
            return value
    return str(action_id)


def read_button_value(value: object) -> tuple[int, Paged | None] | None:
    """The action (and list) a button's value names; None for a value we did not write."""
    text = str(value or "")
    if text.isdigit() and len(text) < 11:
        return int(text), None
    try:
        data = json.loads(text) if len(text) <= BUTTON_VALUE else None
        if not isinstance(data, dict):
            return None
        number = data.get("action")
        if not isinstance(number, int) or isinstance(number, bool) or not 0 < number < 10**10:
            return None
        return number, Paged.from_data(data["list"]) if data.get("list") else None
    except ValueError:  # not JSON, or not a list command (pydantic's errors are ValueErrors)
        return None


def _pager(block: Pager) -> list[Block]:
    """`Page 2 of 3 · 45 actions` and the Previous / Next buttons that redraw the list."""
    out = [_context(f"Page {block.page} of {block.pages} · {block.total} actions")]
    buttons: list[Block] = []
    for label, page in (("Previous", block.page - 1), ("Next", block.page + 1)):
        if 1 <= page <= block.pages:
            buttons.append(
                {
                    "type": "button",
                    "text": plain(f"{label} (page {page})", BUTTON_TEXT),
                    "action_id": f"{PAGE}_{'prev' if page < block.page else 'next'}",
                    "value": command_value(block.at(page)),
                }
            )
    if buttons:
        out.append({"type": "actions", "block_id": "pager", "elements": buttons})
    return out


def action_buttons(action_id: int, source: Paged | None = None) -> Block:
    """Mark done / Add update / Blocked for one action; each button's value is its number
    (with the list the buttons are in, see `button_value`)."""
    return buttons_block(["done", "update", "blocked"], action_id, source)


def buttons_block(
    kinds: Sequence[ActionButton], action_id: int, source: Paged | None = None
) -> Block:
    """The buttons `kinds` for one action, in that order; each value is the action's number
    (with the list the buttons are in, see `button_value`)."""
    value = button_value(action_id, source)
    elements: list[Block] = []
    for kind in kinds:
        element: Block = {
            "type": "button",
            "text": plain(LABELS[kind], BUTTON_TEXT),
            "action_id": ACTION_IDS[kind],
            "value": value,
        }
        if kind in ("done", "unblocked"):
            element["style"] = "primary"
        elements.append(element)
    return {"type": "actions", "elements": elements}


# --- keeping within the block limit ----------------------------------------------------


def _fit_lists(blocks: Sequence[NeutralBlock], max_blocks: int) -> dict[int, int]:
    """How many items each action list may show so the whole message stays within the limit.

    Lists share the room left by the other blocks one item at a time, so on the home tab a
    long list of one's own actions does not crowd the board overview out.
    """
    fixed = 0
    lists: dict[int, ActionList | NoticeList] = {}
    for index, block in enumerate(blocks):
        if isinstance(block, ActionList | NoticeList):
            lists[index] = block
            # the title, and one line for "and N more" (or for the empty text)
            fixed += (1 if block.title else 0) + 1
        else:
            fixed += _cost(block)
    shown = dict.fromkeys(lists, 0)
    room = max_blocks - fixed
    progress = True
    while progress:
        progress = False
        for index, block in lists.items():
            per_item = _item_cost(block, shown[index])
            if shown[index] < len(block.items) and room >= per_item:
                shown[index] += 1
                room -= per_item
                progress = True
    return shown


def _item_cost(block: ActionList | NoticeList, index: int) -> int:
    """The blocks the list's item `index` takes: its line and its rows of buttons."""
    if isinstance(block, NoticeList):
        # a divider before it, then the notice itself
        return 1 + _cost(block.items[index]) if index < len(block.items) else 1
    return 1 + (1 if block.buttons else 0) + (1 if block.chair else 0)


def _cost(block: NeutralBlock) -> int:
    if isinstance(block, Pager):
        return 2
    if isinstance(block, ActionNotice):
        return 2 + (1 if block.latest else 0) + (1 if block.buttons else 0)
    if isinstance(block, Counts):
        return max(1, -(-len(block.items) // MAX_FIELDS))
    if isinstance(block, ActionDetail):
        parts = (block.history, block.buttons, block.chair, block.latest)
        return 1 + sum(1 for part in parts if part)
    return 1
