"""The parts of an action notice every renderer draws the same way: the action's name in a
heading, its one line of context, its latest update, and what each button is called and stands
for (the command typed where there are no buttons, as in the console).
"""

from __future__ import annotations

import datetime as dt

from bot.domain import Rag, Status
from bot.grammar.dates import format_date
from bot.render.model import ActionButton, ActionView, LatestNote

#: RAG as a coloured marker and its word, the same on every platform.
RAG_MARK = {Rag.RED: "🔴", Rag.AMBER: "🟠", Rag.GREEN: "🟢", Rag.BLUE: "🔵"}

#: What each button says.
LABELS: dict[ActionButton, str] = {
    "done": "Mark done",
    "update": "Add update",
    "blocked": "Blocked",
    "unblocked": "Unblocked",
    "nudge": "Nudge owner",
    "move_due": "Move deadline",
    "reassign": "Reassign",
    "new_date": "Request new date",
}

#: The chair's buttons, in their order.
CHAIR_BUTTONS: tuple[ActionButton, ...] = ("nudge", "move_due", "reassign")


#: The chair's buttons as typed, for a list in plain text (each item's number for <id>).
CHAIR_COMMANDS = (
    "Commands: /action nudge <id> · /action due <id> <date> [reason] · /action assign <id> @user"
)


def named(action: ActionView) -> str:
    """`CP-02 Re-audit CP plans` (the plan's reference), or `#12 Title` without one."""
    return f"{action.ref} {action.title}" if action.ref else f"#{action.id} {action.title}"


def context_parts(action: ActionView) -> list[str]:
    """`Front door · priority High · 🔴 red · #12`: where it sits in the plan, how it is
    rated, and the bot's number when the heading shows the plan's reference instead."""
    parts = [action.workstream] if action.workstream else []
    if action.priority:
        parts.append(f"priority {action.priority}")
    parts.append(f"{RAG_MARK[action.rag]} {action.rag.value}" if action.rag else "not rated")
    if action.ref:
        parts.append(f"#{action.id}")
    return parts


def latest_words(latest: LatestNote | None, *, today: dt.date | None = None) -> str:
    """`Latest update, Wed 25 Nov (Amira Khan): audit booked`, or that there is none yet."""
    if latest is None:
        return "No update recorded yet."
    by = f" ({latest.by})" if latest.by else ""
    first, *rest = [line.strip() for line in latest.text.splitlines() if line.strip()] or [""]
    more = " …" if rest else ""
    return f"Latest update, {format_date(latest.on, today=today)}{by}: {first}{more}"


def owner_buttons(action: ActionView) -> list[ActionButton]:
    """What the owner may press: Mark done, Add update, Blocked; on a blocked action,
    Unblocked and Add update (Blocked again would ask what it already knows)."""
    if action.status.is_closed:
        return []
    if action.status == Status.BLOCKED:
        return ["unblocked", "update"]
    return ["done", "update", "blocked"]


def reminder_buttons(action: ActionView) -> list[ActionButton]:
    """The owner's buttons on a reminder or nudge: theirs, with Request new date after Add
    update while there is a deadline to move (asking the chairs to re-baseline it)."""
    kinds = owner_buttons(action)
    if action.due is None or "update" not in kinds or action.status == Status.DELIVERED:
        return kinds
    at = kinds.index("update") + 1
    return [*kinds[:at], "new_date", *kinds[at:]]


def chair_buttons(action: ActionView) -> list[ActionButton]:
    """What a chair may press on an open action: Nudge owner (when it has one), Move deadline,
    Reassign."""
    if action.status.is_closed:
        return []
    return [b for b in CHAIR_BUTTONS if b != "nudge" or action.owner is not None]


def typed(button: ActionButton, action_id: int) -> str:
    """The command a button stands for, as typed."""
    return {
        "done": f"/action done {action_id}",
        "update": f"/action update {action_id} <note>",
        "blocked": f"/action blocked {action_id} <reason>",
        "unblocked": f"/action reopen {action_id}",
        "nudge": f"/action nudge {action_id}",
        "move_due": f"/action due {action_id} <date> [reason]",
        "reassign": f"/action assign {action_id} @user",
        "new_date": f"/action rebaseline {action_id} <date> <reason>",
    }[button]


def typed_line(buttons: list[ActionButton], action_id: int) -> str:
    """`Commands: /action done 12 · /action update 12 <note> · …`, where buttons would be."""
    return "Commands: " + " · ".join(typed(b, action_id) for b in buttons)
