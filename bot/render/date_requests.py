"""Requests for a new deadline in words: the message to the chairs and the secretary, the
answers to the owner, and the baseline lines of `/action show`. Platform-neutral like
replies.py: what people typed (titles, reasons) stays data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.rebaseline import slippage_words, times
from bot.grammar.dates import format_date
from bot.render.model import (
    ActionDetail,
    ActionView,
    Block,
    DateRequestCard,
    Message,
    Paragraph,
    Tone,
)


def _label(action: ActionView) -> str:
    return f"#{action.id} {action.title}"


def approve_command(action_id: int) -> str:
    """The typed command an Approve button runs."""
    return f"/action approve {action_id}"


def decline_command(action_id: int) -> str:
    """The typed command a Decline button runs (the reason is the person's to write)."""
    return f"/action decline {action_id} <reason>"


def request_command(action_id: int) -> str:
    """The typed command a "Request new date" button stands for."""
    return f"/action rebaseline {action_id} <date> <reason>"


def card_lines(card: DateRequestCard, today: dt.date | None = None) -> list[str]:
    """The request in plain words, one fact a line: who asks for what, why, and the baseline."""
    a = card.action
    now = f" (now due {format_date(card.old_due, today=today)})" if card.old_due else ""
    lines = [
        f"{card.asked_by} asks to move {_label(a)} to "
        f"{format_date(card.new_due, today=today)}{now}.",
        f"Why: {card.reason}",
    ]
    if card.baseline is not None:
        moved = f"; moved {times(card.rebaselines)} before" if card.rebaselines else ""
        lines.append(
            f"Baseline {format_date(card.baseline, today=today)}: the new date would be "
            f"{slippage_words(card.slippage)} from it{moved}."
        )
    return lines


def to_deciders(card: DateRequestCard) -> Message:
    """The one message each chair and the secretary gets for a request, with its buttons."""
    text = f"{card.asked_by} asks for a new date for action {_label(card.action)}"
    return Message(text=text, blocks=[card], tone="warning", ephemeral=False)


def asked(action: ActionView, *, new_due: dt.date, today: dt.date, superseded: bool) -> Message:
    """The answer to the owner who asked."""
    when = format_date(new_due, today=today)
    text = (
        f"Asked for {_label(action)} to move to {when}; the chairs will decide, and you will "
        "be told either way. Reminders follow the current deadline until then."
    )
    blocks: list[Block] = [Paragraph(text=text)]
    if superseded:
        blocks.append(Paragraph(text="This replaces the request you made before."))
    blocks.append(ActionDetail(action=action))
    return Message(text=text, blocks=blocks, tone="success")


def approved_notice(
    action: ActionView, *, by: str, old: dt.date | None, reason: str, today: dt.date
) -> Message:
    """DM to the owner and supporting owners: the new date was approved."""
    assert action.due is not None
    was = f" (was {format_date(old, today=today)})" if old else ""
    text = (
        f"{by} approved the new date for action {_label(action)}: now due "
        f"{format_date(action.due, today=today)}{was}."
    )
    return _decision_notice(text, f"Why it moved: {reason}", action, tone="success")


def declined_notice(
    action: ActionView, *, by: str, asked_for: dt.date, reason: str, today: dt.date
) -> Message:
    """DM to the owner and supporting owners: the new date was declined, with the reason."""
    stays = (
        f"; it stays due {format_date(action.due, today=today)}" if action.due is not None else ""
    )
    text = (
        f"{by} declined the new date ({format_date(asked_for, today=today)}) asked for action "
        f"{_label(action)}{stays}."
    )
    return _decision_notice(text, f"Why: {reason}", action, tone="warning")


def _decision_notice(text: str, why: str, action: ActionView, *, tone: Tone) -> Message:
    """The owners' message about a decision: what was decided, why, and the action with its
    buttons."""
    return Message(
        text=text,
        blocks=[
            Paragraph(text=text),
            Paragraph(text=why),
            ActionDetail(action=action, buttons=True),
        ],
        tone=tone,
        ephemeral=False,
    )


def decided(summary: str, action: ActionView, *, tone: Tone = "success") -> Message:
    """The answer to the chair or secretary who approved or declined."""
    return Message(
        text=summary, blocks=[Paragraph(text=summary), ActionDetail(action=action)], tone=tone
    )


@dataclass(frozen=True)
class Move:
    """One re-baseline as `/action show` lists it."""

    at: dt.date
    by: str | None
    old: dt.date | None
    new: dt.date | None
    reason: str | None


@dataclass(frozen=True)
class Pending:
    """The request waiting for a decision, if any."""

    asked_by: str
    on: dt.date
    new_due: dt.date
    reason: str


def baseline_lines(
    action: ActionView,
    *,
    baseline: dt.date | None,
    slippage: int,
    moves: Sequence[Move],
    pending: Pending | None,
    today: dt.date,
) -> list[str]:
    """`/action show`'s lines on the deadline: baseline, slippage, each move and its reason,
    and a request waiting for the chairs. Empty for an action that never had a date."""
    lines: list[str] = []
    if baseline is not None and action.due is not None and (moves or baseline != action.due):
        count = f" · re-baselined {times(len(moves))}" if moves else ""
        lines.append(
            f"Baseline {format_date(baseline, today=today)} · now due "
            f"{format_date(action.due, today=today)} · slippage {slippage_words(slippage)}{count}"
        )
    for move in moves:
        old = format_date(move.old, today=today) if move.old else "—"
        new = format_date(move.new, today=today) if move.new else "—"
        who = f" by {move.by}" if move.by else ""
        why = move.reason or "no reason was given"
        lines.append(f"• {format_date(move.at, today=today)}{who}: {old} → {new}: {why}")
    if pending is not None:
        lines.append(
            f"Waiting for the chairs: {pending.asked_by} asked on "
            f"{format_date(pending.on, today=today)} for "
            f"{format_date(pending.new_due, today=today)}: {pending.reason} "
            f"({approve_command(action.id)} · {decline_command(action.id)})"
        )
    return lines


def card_text(card: DateRequestCard, prefix: str, today: dt.date | None) -> list[str]:
    """The request as plain text (the console): its lines, then the commands its buttons run."""
    lines = card_lines(card, today)
    lines[0] = prefix + lines[0]
    if card.pending:
        lines.append(
            f"Approve: {approve_command(card.action.id)}  ·  "
            f"Decline: {decline_command(card.action.id)}"
        )
    return lines


#: How the history names each step of a re-baseline, before its old → new dates.
HISTORY_WORDS = {
    "date_requested": "asked for a new date",
    "date_superseded": "request for a new date replaced",
    "date_declined": "new date declined",
    "rebaselined": "deadline re-baselined",
}
