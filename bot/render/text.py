"""Plain-text rendering of replies, for the console and for fallbacks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from bot.domain import Change, Status
from bot.grammar.dates import format_date
from bot.grammar.paging import typed
from bot.render.date_requests import HISTORY_WORDS, card_text
from bot.render.inline import people_in, plain
from bot.render.model import (
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
    HistoryView,
    Image,
    Message,
    NoticeList,
    Pager,
    Paragraph,
    Usage,
)
from bot.render.notice_parts import (
    CHAIR_COMMANDS,
    chair_buttons,
    context_parts,
    latest_words,
    named,
    owner_buttons,
    typed_line,
)
from bot.render.timeline import timeline

_MARK = {"error": "✗ ", "warning": "! ", "success": "✓ ", "info": ""}


def render(message: Message, *, today: dt.date | None = None, tz: ZoneInfo | None = None) -> str:
    """The whole message as lines of plain text."""
    lines: list[str] = []
    for index, block in enumerate(message.blocks):
        prefix = _MARK[message.tone] if index == 0 else ""
        lines.extend(_block(block, prefix, today, tz))
    # Stored text keeps mentions as references (bot/render/inline.py): shown as `@Name`.
    return plain("\n".join(lines) if lines else message.text, people_in(message))


def _block(block: Block, prefix: str, today: dt.date | None, tz: ZoneInfo | None) -> list[str]:
    if isinstance(block, Heading):
        return [prefix + block.text, "=" * len(block.text)]
    if isinstance(block, Paragraph):
        return [prefix + block.text]
    if isinstance(block, Usage):
        return (
            [f"{prefix}Usage: {block.lines[0]}"]
            if len(block.lines) == 1
            else [prefix + line if i == 0 else line for i, line in enumerate(block.lines)]
        )
    if isinstance(block, Counts):
        if block.line:
            figures = " · ".join(count_words(c) for c in block.items)
        else:
            figures = " · ".join(
                _count(c.label, c.value, c.delta) + (f" ({c.note})" if c.note else "")
                for c in block.items
            )
        return [prefix + (f"{block.title}: {figures}" if block.title else figures)]
    if isinstance(block, ActionList):
        return _action_list(block, prefix, today, tz)
    if isinstance(block, ActionDetail):
        return _detail(block, today, tz)
    if isinstance(block, Pager):
        return [pager_line(block)]
    if isinstance(block, Buttons):
        # No buttons in plain text: the command each one runs, as typed.
        return [f"{button.label}: {button.command.typed()}" for button in block.items]
    if isinstance(block, DateRequestCard):
        return card_text(block, prefix, today)
    if isinstance(block, ActionNotice):
        return _notice(block, "", today)  # its headline carries its own mark
    if isinstance(block, NoticeList):
        return _notice_list(block, prefix, today)
    if isinstance(block, Divider):
        return ["—" * 20]
    if isinstance(block, Image):
        # No pictures here: the text alternative carries the figures.
        return [f"{block.title}: {block.alt}" if block.title else block.alt]
    raise TypeError(f"unknown block {type(block).__name__}")  # pragma: no cover


def pager_line(block: Pager) -> str:
    """`page 1 of 3 — type /status overdue page 2` (or `page 2` for the earlier page)."""
    text = f"page {block.page} of {block.pages}"
    if block.page < block.pages:
        return f"{text} — type {typed(block.command, page=block.page + 1)}"
    return f"{text} — type {typed(block.command, page=block.page - 1)} for the one before"


def _count(label: str, value: int, delta: int | None) -> str:
    change = arrow(delta)
    return f"{label} {value} {change}" if change else f"{label} {value}"


def arrow(delta: int | None) -> str:
    """The change since last time as an arrow: `▲2`, `▼1`; nothing when there is none."""
    if not delta:
        return ""
    return f"▲{delta}" if delta > 0 else f"▼{-delta}"


def count_words(count: Count) -> str:
    """A figure in a line of words, number first: `5 overdue ▲2 (3 red)`."""
    text = f"{count.value} {count.label}"
    if change := arrow(count.delta):
        text += f" {change}"
    return text + (f" ({count.note})" if count.note else "")


#: A deadline this close is "due in 4 days" in a list; further off, its date.
DUE_SOON_DAYS = 7

#: What an item of a list leads with: its state, which renderers draw in their colours.
ItemState = Literal["overdue", "blocked", "due", "later", "undated", "done", "closed"]


@dataclass(frozen=True)
class ItemLead:
    """`14 days late` (state `overdue`): the first words of a list item."""

    state: ItemState
    words: str


def _days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


def item_lead(
    action: ActionView, today: dt.date | None = None, tz: ZoneInfo | None = None
) -> ItemLead:
    """An action's state and lateness, what a reader of a list needs first."""
    if action.status == Status.DONE:
        if action.done_at is None:
            return ItemLead("done", "done")
        day = (action.done_at.astimezone(tz) if tz else action.done_at).date()
        return ItemLead("done", f"done {format_date(day, today=today)}")
    if action.status.is_closed:
        return ItemLead("closed", action.status.label)
    if action.status == Status.BLOCKED:
        late = f", {_days(action.days_late)} late" if action.days_late else ""
        return ItemLead("blocked", f"blocked{late}")
    if action.days_late:
        return ItemLead("overdue", f"{_days(action.days_late)} late")
    if action.due is None or action.days_left is None:
        cadence = f" ({action.cadence})" if action.cadence else ""
        return ItemLead("undated", f"no deadline{cadence}")
    if action.days_left == 0:
        return ItemLead("due", "due today")
    if action.days_left == 1:
        return ItemLead("due", "due tomorrow")
    if action.days_left <= DUE_SOON_DAYS:
        return ItemLead("due", f"due in {_days(action.days_left)}")
    return ItemLead("later", f"due {format_date(action.due, today=today)}")


def item_ref(action: ActionView) -> str:
    """`CIN-01 · #12`: the plan's reference (the board papers' name) and the bot's number."""
    return f"{action.ref} · #{action.id}" if action.ref else f"#{action.id}"


def item_facts(action: ActionView, today: dt.date | None = None) -> list[str]:
    """What an item says after its owner: the deadline where the lead did not give it and a
    status the lead does not name (`in progress`); renderers add the RAG and why it is
    blocked, each in their own way."""
    facts: list[str] = []
    lead = item_lead(action, today)
    dated = lead.state in ("overdue", "blocked") or (lead.state == "due" and action.days_left)
    if action.due is not None and dated:
        facts.append(f"due {format_date(action.due, today=today)}")
    if action.status not in (Status.OPEN, Status.BLOCKED) and not action.status.is_closed:
        facts.append(action.status.label)
    if action.moved:
        facts.append(action.moved)
    return facts


def action_line(
    action: ActionView, today: dt.date | None = None, tz: ZoneInfo | None = None
) -> str:
    """`13 days late · CIN-01 · #12 Title — Owner — due Tue 10 Nov — RAG red`: state and
    lateness first, then the reference, title and owner."""
    lead = item_lead(action, today, tz)
    owner = action.owner.name if action.owner else "no owner"
    parts = [f"{lead.words} · {item_ref(action)} {action.title}", owner]
    parts += item_facts(action, today)
    if action.rag:
        parts.append(f"RAG {action.rag.value}")
    if action.rag_flag:
        parts.append(f"{FLAG_MARK} {action.rag_flag}")
    if action.status == Status.BLOCKED and action.blocked_reason:
        parts.append(f"blocked: {action.blocked_reason}")
    return " — ".join(parts)


def due_phrase(action: ActionView, today: dt.date | None = None) -> str:
    """How an action's deadline reads: `due Fri 4 Dec (3 days late)`."""
    if action.due is None:
        return f"no deadline ({action.cadence})" if action.cadence else "no deadline"
    text = f"due {format_date(action.due, today=today)}"
    if action.days_late:
        text += f" ({action.days_late} day{'s' if action.days_late != 1 else ''} late)"
    elif action.days_left == 0 and not action.status.is_closed:
        text += " (today)"
    return text


def _action_list(
    block: ActionList, prefix: str, today: dt.date | None, tz: ZoneInfo | None = None
) -> list[str]:
    lines = [prefix + block.title] if block.title else []
    if not block.items:
        return [*lines, (prefix if not lines else "") + block.empty]
    lines += [f"  {action_line(item, today, tz)}" for item in block.items]
    if block.chair and any(chair_buttons(item) for item in block.items):
        # The chair's buttons, once for the list: each item's number goes in place of <id>.
        lines.append(f"  {CHAIR_COMMANDS}")
    if block.more:
        hint = f" ({block.more_hint})" if block.more_hint else ""
        lines.append(f"  … and {block.more} more{hint}")
    return lines


#: What leads a declared rating that is greener than the bot's computed one.
FLAG_MARK = "⚠️"


def rag_words(a: ActionView) -> str:
    """`green ⚠️ declared green, computed red: overdue 12 working days`, or `not rated`."""
    words = a.rag.value if a.rag else "not rated"
    return f"{words} {FLAG_MARK} {a.rag_flag}" if a.rag_flag else words


def action_facts(a: ActionView, today: dt.date | None = None) -> list[tuple[str, str]]:
    """An action's facts as (name, plain text) pairs, for renderers that lay them out."""
    facts = [
        ("Owner", a.owner.name if a.owner else "nobody yet"),
        ("Due", due_phrase(a, today).removeprefix("due ")),
        ("Status", a.status.label + (f": {a.blocked_reason}" if a.blocked_reason else "")),
        ("RAG", rag_words(a)),
    ]
    if a.workstream:
        facts.append(("Workstream", a.workstream))
    if a.priority:
        facts.append(("Priority", a.priority))
    if a.success_measure:
        facts.append(("Success measure", a.success_measure))
    return facts


def _detail(block: ActionDetail, today: dt.date | None, tz: ZoneInfo | None) -> list[str]:
    a = block.action
    lines = [f"#{a.id} {a.title}" + (f"  [{a.ref}]" if a.ref else "")]
    lines += [f"  {name}: {value}" for name, value in action_facts(a, today)]
    if block.latest is not None:
        lines.append(f"  {latest_words(block.latest, today=today)}")
    if block.history:
        lines.append("  History, newest first:")
        for line in timeline(block.history, tz=tz, today=today):
            # A note of several lines stays under its entry, each line indented below it.
            lines += [f"    {line.text}", *(f"        {more}" for more in line.more)]
        if block.history_more:
            lines.append(f"    … and {block.history_more} earlier")
    if block.buttons and (kinds := owner_buttons(a)):
        lines.append(f"  {typed_line(kinds, a.id)}")
    if block.chair and (kinds := chair_buttons(a)):
        lines.append(f"  {typed_line(kinds, a.id)}")
    return lines


def _notice(block: ActionNotice, prefix: str, today: dt.date | None) -> list[str]:
    """`⚠️ Due today: CP-02 Re-audit CP plans`, its question, context, latest update and the
    commands the buttons stand for."""
    lines = [f"{prefix}{block.headline}: {named(block.action)}"]
    if block.prompt:
        lines.append(block.prompt)
    lines.append(" · ".join(context_parts(block.action)))
    if block.latest is not None:
        lines.append(latest_words(block.latest, today=today))
    if block.buttons:
        lines.append(typed_line(block.buttons, block.action.id))
    return lines


def _notice_list(block: NoticeList, prefix: str, today: dt.date | None) -> list[str]:
    lines = [prefix + block.title] if block.title else []
    for item in block.items:
        lines += ["", *(f"  {line}" for line in _notice(item, "", today))]
    if block.more:
        hint = f" ({block.more_hint})" if block.more_hint else ""
        lines.append(f"  … and {block.more} more{hint}")
    return lines


#: Before each further line of a note in a chat client, which would drop leading spaces: em
#: spaces, so the lines stand indented under their history entry.
NOTE_INDENT = "\u2003\u2003"


def history_line(entry: HistoryView, tz: ZoneInfo | None = None) -> str:
    """`2026-11-23 09:14 Amira Khan: status open → done — note`; a note's further lines
    follow on lines of their own."""
    return "\n".join(history_lines(entry, tz))


def history_lines(entry: HistoryView, tz: ZoneInfo | None = None) -> list[str]:
    """An entry as lines: the change with the note's first line, then the note's other lines
    (blank ones dropped), for renderers to indent under the entry."""
    at = entry.at.astimezone(tz) if tz else entry.at
    who = entry.actor or entry.source
    if entry.change == Change.NOTE:
        what = "update"
    elif entry.change == Change.CREATED:
        what = f"created “{entry.new}”"
    elif entry.change in HISTORY_WORDS:
        what = f"{HISTORY_WORDS[entry.change]} {entry.old or '—'} → {entry.new or '—'}"
    elif entry.field:
        what = f"{entry.field} {entry.old or '—'} → {entry.new or '—'}"
    else:
        what = entry.change
    notes = [line.strip() for line in (entry.note or "").splitlines() if line.strip()]
    note = f" — {notes[0]}" if notes else ""
    return [f"{at:%Y-%m-%d %H:%M} {who}: {what}{note}", *notes[1:]]
