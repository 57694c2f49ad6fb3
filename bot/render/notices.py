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
from bot.render.inline import plain
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
from bot.render.text import item_ref

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
    "bundle": "a message of reminders",
    "deadline_moved": "the message saying a deadline moved",
    "rag_set": "the message saying the RAG was set",
    "owner_changed": "the message saying an action has a new owner",
    "owner_left": "the notice that an owner has left",
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


@dataclass(frozen=True)
class BundleItem:
    """One notice of a person's bundle: a reminder, an overdue nudge or an escalation."""

    notice: Literal["reminder", "overdue", "escalation"]
    action: ActionView
    #: The day the notice was planned for; its wording ("due tomorrow") counts from it.
    today: dt.date
    reason: EscalationReason | None = None
    days: int = 0


#: Actions a bundle shows with their buttons, and escalations it lists; the rest are counted
#: and named by a command, so one message fits Slack's 50 blocks and a Teams card.
BUNDLE_OWN_SHOWN = 15
BUNDLE_ESCALATIONS_SHOWN = 12


def bundle(items: Sequence[BundleItem]) -> Message:
    """One person's message of a run: their reminders and nudges, most urgent first, then the
    actions escalated to them as a chair. A single notice is worded as it always was."""
    if not items:
        raise ValueError("a bundle needs at least one notice")
    if len(items) == 1:
        return _single(items[0])
    own = sorted(
        (i for i in items if i.notice != "escalation"),
        key=lambda i: (i.action.due or i.today, i.action.id),
    )
    escalated = sorted(
        (i for i in items if i.notice == "escalation"), key=lambda i: (-i.days, i.action.id)
    )
    parts: list[str] = []
    blocks: list[Block] = []
    if own:
        late = sum(1 for i in own if i.notice == "overdue")
        split = ", ".join(
            f"{n} {what}" for n, what in ((late, "overdue"), (len(own) - late, "due soon")) if n
        )
        parts.append(f"Reminders: {_actions(len(own))} of yours need you ({split}).")
    if escalated:
        blocked = sum(1 for i in escalated if i.reason == "blocked")
        split = ", ".join(
            f"{n} {what}"
            for n, what in ((len(escalated) - blocked, "long overdue"), (blocked, "blocked"))
            if n
        )
        parts.append(f"Escalation: {_actions(len(escalated))} need the chairs ({split}).")
    text = " ".join(parts)
    blocks.append(Paragraph(text=text))
    if own:
        shown = [i.action for i in own[:BUNDLE_OWN_SHOWN]]
        blocks.append(
            ActionList(
                title=f"Your actions, most urgent first ({len(own)})",
                items=shown,
                more=len(own) - len(shown),
                more_hint="/action list mine lists them all",
                buttons=True,
            )
        )
    if escalated:
        listed = [i.action for i in escalated[:BUNDLE_ESCALATIONS_SHOWN]]
        blocks.append(
            ActionList(
                title=f"Escalated: overdue or blocked for a while ({len(escalated)})",
                items=listed,
                more=len(escalated) - len(listed),
                more_hint="/status overdue and /status blocked list them all",
            )
        )
    return Message(text=text, blocks=blocks, tone="warning", ephemeral=False)


def _actions(n: int) -> str:
    return f"{n} action{'s' if n != 1 else ''}"


def _single(item: BundleItem) -> Message:
    if item.notice == "reminder":
        return reminder(item.action, today=item.today)
    if item.notice == "overdue":
        return overdue_nudge(item.action, today=item.today)
    return escalation(
        item.action, reason=item.reason or "overdue", days=item.days, today=item.today
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
        if "not_in_channel" in reason or "channel_not_found" in reason:
            # A private channel looks "not found" to a bot that was never invited to it.
            again = "run /status digest post" if kind == "digest" else "try again"
            hint = (
                f"The bot is not a member of {channel}: invite it there (in the channel, "
                f"type /invite and pick the bot), then {again}. If {channel} is not the "
                "board's channel, correct BOARD_CHANNEL."
            )
        else:
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
    headline: Sequence[Count],
    rag: Sequence[Count],
    sections: Sequence[DigestSection],
    done: str,
    summary: str,
    rag_title: str = "RAG of open actions",
    note: str | None = None,
    ephemeral: bool = False,
    footnotes: Sequence[str] = (),
) -> Message:
    """The weekly digest, what needs attention first: one headline line of figures (with
    their change since last week), the lists (overdue, blocked, due), the `done` line, the
    RAG line, then one paragraph per footnote. `note` (a preview's) comes before it all.

    Every list is cut by the caller, so the block count is bounded whatever the plan's size.
    """
    blocks: list[Block] = [Heading(text=title)]
    if note:
        blocks.append(Paragraph(text=note))
    blocks.append(Counts(items=list(headline), line=True))
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
    blocks.append(Paragraph(text=done))
    blocks.append(Counts(title=rag_title, items=list(rag), line=True))
    blocks.extend(Paragraph(text=footnote) for footnote in footnotes)
    return Message(text=summary, blocks=blocks, ephemeral=ephemeral)


def _named(item: ActionView) -> str:
    """`CIN-03`, the plan's reference; `#12 Short title` for an action the plan never named."""
    if item.ref:
        return item.ref
    title = plain(item.title)
    return f"#{item.id} {title if len(title) <= 40 else title[:39].rstrip() + '…'}"


def done_line(
    items: Sequence[tuple[ActionView, dt.date]],
    *,
    total: int,
    since: str,
    today: dt.date,
    more_hint: str,
) -> str:
    """`2 completed this week: CIN-03 (Fri 27 Nov), QA-02 (Mon 30 Nov).`, each with the day
    it was completed."""
    if total == 0:
        return f"Nothing was completed {since}."
    named = ", ".join(f"{_named(item)} ({format_date(day, today=today)})" for item, day in items)
    more = total - len(items)
    if more > 0:
        named += f" and {more} more ({more_hint})"
    return f"{total} completed {since}: {named}."


def needs_date(items: Sequence[ActionView], *, total: int) -> str | None:
    """`2 open actions need a date: #4 Audit (monthly), #7 Review. …`; None when none do."""
    if total == 0:
        return None
    named = ", ".join(
        f"{item_ref(item)} {item.title}" + (f" ({item.cadence})" if item.cadence else "")
        for item in items
    )
    more = total - len(items)
    if more > 0:
        named += f" and {more} more"
    verb = "needs" if total == 1 else "need"
    return (
        f"{total} open action{'s' if total != 1 else ''} {verb} a date: {named}. "
        "A chair sets one with /action due <id> <date>; /status nodate lists them."
    )
