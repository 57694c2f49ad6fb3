"""Messages the scheduler sends: reminders, overdue nudges, escalations, failures, the digest.

Like replies.py these are platform-neutral; every string a user typed stays data (titles,
reasons), so renderers escape it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.domain import Status
from bot.grammar.dates import format_date
from bot.render.inline import plain
from bot.render.model import (
    ActionDetail,
    ActionList,
    ActionNotice,
    ActionView,
    Block,
    Count,
    Counts,
    Heading,
    LatestNote,
    Message,
    NoticeList,
    Paragraph,
    Tone,
)
from bot.render.notice_parts import (
    CHAIR_BUTTONS,
    chair_buttons,
    named,
    owner_buttons,
    reminder_buttons,
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
    "nudge": "a chair's nudge",
}


def _label(action: ActionView) -> str:
    return f"#{action.id} {action.title}"


def _working_days(n: int) -> str:
    return "1 working day" if n == 1 else f"{n} working days"


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


def _headline_due(action: ActionView, *, today: dt.date) -> str:
    """`⚠️ Due today`, `⏰ Due tomorrow, Tue 24 Nov`, `📅 Due in 7 days, Mon 30 Nov`,
    `🔴 3 days late` (or `🔴 1 day late`)."""
    if action.due is None:
        return "📌 No deadline yet"
    left = (action.due - today).days
    if left < 0:
        return f"🔴 {_days(-left)} late"
    if left == 0:
        return "⚠️ Due today"
    when = format_date(action.due, today=today)
    if left == 1:
        return f"⏰ Due tomorrow, {when}"
    return f"📅 Due in {_days(left)}, {when}"


def _still_blocked(action: ActionView) -> str:
    reason = f": {action.blocked_reason}" if action.blocked_reason else ""
    return f"Still blocked{reason}. Anything changed?"


def owner_notice(
    action: ActionView, *, today: dt.date, latest: LatestNote | None = None
) -> ActionNotice:
    """An action as its owner's reminder or nudge shows it: how due or late it is, then its
    name; on a blocked action the question whether that has changed, with Unblocked."""
    blocked = action.status == Status.BLOCKED
    return ActionNotice(
        headline=_headline_due(action, today=today),
        action=action,
        prompt=_still_blocked(action) if blocked else None,
        latest=latest,
        buttons=reminder_buttons(action),
    )


def _one(notice: ActionNotice, *, tone: Tone) -> Message:
    text = f"{notice.headline}: {named(notice.action)}"
    if notice.prompt:
        text += f". {notice.prompt}"
    return Message(text=text, blocks=[notice], tone=tone, ephemeral=False)


def redrawn(notice: ActionNotice, view: ActionView) -> ActionNotice:
    """`notice` showing its action as it now stands: the buttons (and an owner's question)
    follow the new state, so a done action loses them and an unblocked one gets Mark done."""
    if not notice.buttons:
        return notice.model_copy(update={"action": view})
    if set(notice.buttons) <= set(CHAIR_BUTTONS):
        return notice.model_copy(update={"action": view, "buttons": chair_buttons(view)})
    prompt = _still_blocked(view) if view.status == Status.BLOCKED else None
    return notice.model_copy(
        update={
            "action": view,
            "buttons": (reminder_buttons if "new_date" in notice.buttons else owner_buttons)(view),
            "prompt": prompt,
        }
    )


def reminder(action: ActionView, *, today: dt.date, latest: LatestNote | None = None) -> Message:
    """DM to an owner before a deadline: `⚠️ Due today: CP-02 Re-audit CP plans`, its
    context, its latest update, its buttons."""
    assert action.due is not None
    notice = owner_notice(action, today=today, latest=latest)
    return _one(notice, tone="warning" if action.due <= today else "info")


def overdue_nudge(
    action: ActionView, *, today: dt.date, latest: LatestNote | None = None
) -> Message:
    """DM to an owner whose action is past its deadline: `🔴 3 days late: …`."""
    assert action.due is not None
    return _one(owner_notice(action, today=today, latest=latest), tone="warning")


def escalation_notice(
    action: ActionView,
    *,
    reason: EscalationReason,
    days: int,
    latest: LatestNote | None = None,
) -> ActionNotice:
    """An escalated action as a chair sees it, with the chair's buttons."""
    owner = action.owner.name if action.owner else "nobody yet"
    # The ladder counts working days (bot/domain/ladder.py); the words say so.
    if reason == "blocked":
        headline = f"⛔ Blocked for {_working_days(days)}"
        why = f" Blocked: {action.blocked_reason}." if action.blocked_reason else ""
    else:
        headline = f"🔴 {_working_days(days)} late"
        why = ""
    return ActionNotice(
        headline=headline,
        action=action,
        prompt=f"Owner: {owner}.{why}",
        latest=latest,
        buttons=chair_buttons(action),
    )


def escalation(
    action: ActionView,
    *,
    reason: EscalationReason,
    days: int,
    today: dt.date,
    latest: LatestNote | None = None,
) -> Message:
    """DM to a chair: an action long overdue, or blocked for a while, with Nudge owner, Move
    deadline and Reassign."""
    notice = escalation_notice(action, reason=reason, days=days, latest=latest)
    message = _one(notice, tone="warning")
    return message.model_copy(update={"text": f"Escalation: {message.text}"})


def nudge(
    action: ActionView, *, by: str, today: dt.date, latest: LatestNote | None = None
) -> Message:
    """DM to an owner a chair nudged: who asks, then the action as a reminder shows it."""
    notice = owner_notice(action, today=today, latest=latest)
    if action.due is None:
        notice = notice.model_copy(update={"headline": "👋 Checking in"})
    ask = f"{by} asked me to check in with you about this action."
    return Message(
        text=f"{by} is checking in: {named(action)}",
        blocks=[Paragraph(text=ask), notice],
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
    #: The action's latest update, shown under it.
    latest: LatestNote | None = None


#: Actions a bundle shows in full, and escalations; the rest are counted and named by a
#: command. Each renderer shows fewer when its limits ask (Slack's 50 blocks, a Teams card).
BUNDLE_OWN_SHOWN = 10
BUNDLE_ESCALATIONS_SHOWN = 10


def bundle(items: Sequence[BundleItem]) -> Message:
    """One person's message of a run: their reminders and nudges, most urgent first, then the
    actions escalated to them as a chair, each shaped as its own notice would be."""
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
        need = "needs" if len(escalated) == 1 else "need"
        parts.append(f"Escalation: {_actions(len(escalated))} {need} the chairs ({split}).")
    text = " ".join(parts)
    blocks.append(Paragraph(text=text))
    if own:
        shown = own[:BUNDLE_OWN_SHOWN]
        blocks.append(
            NoticeList(
                title=f"Your actions, most urgent first ({len(own)})",
                items=[owner_notice(i.action, today=i.today, latest=i.latest) for i in shown],
                more=len(own) - len(shown),
                more_hint="/action list mine lists them all",
            )
        )
    if escalated:
        listed = escalated[:BUNDLE_ESCALATIONS_SHOWN]
        blocks.append(
            NoticeList(
                title=f"Escalated: overdue or blocked for a while ({len(escalated)})",
                items=[
                    escalation_notice(
                        i.action, reason=i.reason or "overdue", days=i.days, latest=i.latest
                    )
                    for i in listed
                ],
                more=len(escalated) - len(listed),
                more_hint="/status overdue and /status blocked list them all",
            )
        )
    return Message(text=text, blocks=blocks, tone="warning", ephemeral=False)


def _actions(n: int) -> str:
    return f"{n} action{'s' if n != 1 else ''}"


def _single(item: BundleItem) -> Message:
    if item.notice == "reminder":
        return reminder(item.action, today=item.today, latest=item.latest)
    if item.notice == "overdue":
        return overdue_nudge(item.action, today=item.today, latest=item.latest)
    return escalation(
        item.action,
        reason=item.reason or "overdue",
        days=item.days,
        today=item.today,
        latest=item.latest,
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
