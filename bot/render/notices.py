"""Messages the scheduler sends: reminders, overdue nudges, escalations, failures, the digest.

Like replies.py these are platform-neutral; every string a user typed stays data (titles,
reasons), so renderers escape it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.grammar.dates import format_date
from bot.render.model import (
    ActionDetail,
    ActionList,
    ActionView,
    Block,
    Count,
    Counts,
    Heading,
    Message,
    Paragraph,
)

EscalationReason = Literal["overdue", "blocked"]

#: How each kind of outbox message is named when telling the chairs it could not be delivered.
KIND_NAMES = {
    "reminder": "a deadline reminder",
    "overdue": "an overdue reminder",
    "escalation": "an escalation",
    "digest": "the weekly digest",
    "assigned": "the message assigning an action",
    "reassigned": "a reassignment notice",
    "blocked": "a blocked-action alert",
}


def _label(action: ActionView) -> str:
    return f"#{action.id} {action.title}"


def _days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


def due_words(due: dt.date, *, today: dt.date) -> str:
    """`due today`, `due tomorrow (Tue 24 Nov)`, `due in 7 days (Mon 30 Nov)`."""
    left = (due - today).days
    when = format_date(due, today=today)
    if left == 0:
        return "due today"
    if left == 1:
        return f"due tomorrow ({when})"
    if left < 0:
        return f"{_days(-left)} overdue (due {when})"
    return f"due in {_days(left)} ({when})"


def reminder(action: ActionView, *, today: dt.date) -> Message:
    """DM to an owner before a deadline, with the action's buttons."""
    assert action.due is not None
    text = f"Reminder: action {_label(action)} is {due_words(action.due, today=today)}."
    return Message(
        text=text,
        blocks=[Paragraph(text=text), ActionDetail(action=action, buttons=True)],
        tone="warning" if action.due <= today else "info",
        ephemeral=False,
    )


def overdue_nudge(action: ActionView, *, today: dt.date) -> Message:
    """DM to an owner whose action is past its deadline."""
    assert action.due is not None
    text = (
        f"Action {_label(action)} is {due_words(action.due, today=today)}. "
        "Mark it done, add an update, or say what blocks it."
    )
    return Message(
        text=text,
        blocks=[Paragraph(text=text), ActionDetail(action=action, buttons=True)],
        tone="warning",
        ephemeral=False,
    )


def escalation(
    action: ActionView, *, reason: EscalationReason, days: int, today: dt.date
) -> Message:
    """DM to a chair: an action long overdue, or blocked for a while."""
    owner = action.owner.name if action.owner else "no owner"
    if reason == "blocked":
        why = f"has been blocked for {_days(days)}"
        if action.blocked_reason:
            why += f": {action.blocked_reason}"
    else:
        why = f"is {_days(days)} overdue"
    text = f"Escalation: action {_label(action)} ({owner}) {why}."
    return Message(
        text=text,
        blocks=[Paragraph(text=text), ActionDetail(action=action)],
        tone="warning",
        ephemeral=False,
    )


def unreachable(
    *,
    kind: str,
    reason: str,
    recipient: str | None,
    channel: str | None,
    action: ActionView | None,
    attempts: int | None = None,
) -> Message:
    """DM to the chairs: a message could not be delivered, so nobody relies on it silently.

    `attempts` is set when the platform kept failing and we stopped trying, rather than
    refusing the message for good.
    """
    what = KIND_NAMES.get(kind, "a message")
    about = f" about {_label(action)}" if action is not None else ""
    if attempts is not None:
        target = recipient if recipient is not None else channel
        text = f"I could not deliver {what}{about} to {target} ({reason})."
        hint = f"The platform kept failing; I stopped after {attempts} attempts."
    elif recipient is not None:
        text = f"I could not deliver {what}{about} to {recipient} ({reason})."
        if action is not None:
            hint = (
                f"They may have left the workspace; to give the action to someone else: "
                f"/action assign {action.id} @someone"
            )
        else:
            hint = "They may have left the workspace."
    else:
        text = f"I could not post {what}{about} to {channel} ({reason})."
        hint = "Check BOARD_CHANNEL and that the bot has been added to that channel."
    blocks: list[Block] = [Paragraph(text=text), Paragraph(text=hint)]
    if action is not None:
        blocks.append(ActionDetail(action=action))
    return Message(text=text, blocks=blocks, tone="error", ephemeral=False)


@dataclass(frozen=True)
class DigestSection:
    """One list of the digest: the actions shown, how many there are, how to see the rest."""

    title: str
    items: Sequence[ActionView]
    total: int
    empty: str
    more_hint: str | None = None


def digest(
    *,
    title: str,
    counts: Sequence[Count],
    rag: Sequence[Count],
    sections: Sequence[DigestSection],
    summary: str,
    note: str | None = None,
    ephemeral: bool = False,
    footnotes: Sequence[str] = (),
) -> Message:
    """The weekly digest: figures with their change since last week, the lists, then one
    paragraph per footnote (actions that need a date).

    Every list is cut by the caller, so the block count is bounded whatever the plan's size.
    """
    blocks: list[Block] = [Heading(text=title)]
    if note:
        blocks.append(Paragraph(text=note))
    blocks.append(Counts(items=list(counts)))
    blocks.append(Counts(title="RAG of open actions", items=list(rag)))
    for section in sections:
        shown = list(section.items)
        blocks.append(
            ActionList(
                title=f"{section.title} ({section.total})",
                items=shown,
                more=max(0, section.total - len(shown)),
                more_hint=section.more_hint,
                empty=section.empty,
            )
        )
    blocks.extend(Paragraph(text=footnote) for footnote in footnotes)
    return Message(text=summary, blocks=blocks, ephemeral=ephemeral)


def needs_date(items: Sequence[ActionView], *, total: int) -> str | None:
    """`2 open actions need a date: #4 Audit (monthly), #7 Review. …`; None when none do."""
    if total == 0:
        return None
    named = ", ".join(
        _label(item) + (f" ({item.cadence})" if item.cadence else "") for item in items
    )
    more = total - len(items)
    if more > 0:
        named += f" and {more} more"
    verb = "needs" if total == 1 else "need"
    return (
        f"{total} open action{'s' if total != 1 else ''} {verb} a date: {named}. "
        "A chair sets one with /action due <id> <date>; /status nodate lists them."
    )
