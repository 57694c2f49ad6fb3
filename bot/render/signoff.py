"""The words of delivery and sign-off: the owner's reply, the chairs' notice, the owner told
of a sign-off or a return, the evidence and the list of actions awaiting sign-off."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bot.grammar.commands import AddEvidence, Paged, ReturnAction, SignOff
from bot.grammar.dates import format_date
from bot.render import replies
from bot.render.model import (
    ActionDetail,
    ActionView,
    Block,
    Button,
    Buttons,
    Message,
    Paragraph,
    Usage,
)


@dataclass(frozen=True)
class EvidenceLine:
    """One piece of evidence as shown: what it is, who added it and when."""

    kind: str
    words: str
    by: str | None
    on: dt.date


def evidence_words(
    *,
    kind: str,
    note: str | None = None,
    url: str | None = None,
    name: str | None = None,
    size: int | None = None,
    sha256: str | None = None,
) -> str:
    """`file report.pdf (12,345 bytes, SHA-256 3a7b…)`, `link https://…`, `note …`: also the
    history entry's note, so the trail names each piece of evidence in full."""
    if kind == "file":
        text = f"file {name} ({size:,} bytes, SHA-256 {sha256})"
        return f"{text}: {note}" if note else text
    if kind == "link":
        return f"link {url}: {note}" if note else f"link {url}"
    return f"note: {note}"


def evidence_block(lines: Sequence[EvidenceLine], *, today: dt.date) -> Paragraph:
    """The evidence so far, one line each (or that there is none yet)."""
    if not lines:
        return Paragraph(text="Evidence: none yet.")
    shown = [
        f"• {line.words} — {line.by or 'someone'}, {format_date(line.on, today=today)}"
        for line in lines
    ]
    return Paragraph(text="Evidence:\n" + "\n".join(shown))


def _evidence_buttons(action_id: int) -> Buttons:
    return Buttons(
        items=[
            Button(
                label="Add evidence",
                command=AddEvidence(action_id=action_id),
                style="primary",
                form="evidence",
            )
        ]
    )


def _awaiting_evidence(
    text: str, action: ActionView, evidence: Sequence[EvidenceLine], today: dt.date
) -> list[Block]:
    """A delivered action as its owner sees it: what happened, the action, the evidence so far
    and the Add evidence button."""
    return [
        Paragraph(text=text),
        ActionDetail(action=action),
        evidence_block(evidence, today=today),
        _evidence_buttons(action.id),
    ]


def delivered(action: ActionView, *, evidence: Sequence[EvidenceLine], today: dt.date) -> Message:
    """The reply to `/action done` while the board signs off: delivered, and the evidence
    asked for (the Add evidence button; typed, `/action evidence`)."""
    text = (
        f"Marked {replies.label(action)} as delivered: a chair or the secretary signs it off "
        "next, and it is no longer chased. Please add your evidence: a note, a link or a file."
    )
    return Message(
        text=text, blocks=_awaiting_evidence(text, action, evidence, today), tone="success"
    )


def already_delivered(
    action: ActionView, *, on: dt.date | None, evidence: Sequence[EvidenceLine], today: dt.date
) -> Message:
    """`/action done` again on a delivered action: nothing changes; evidence still welcome."""
    when = f" on {format_date(on, today=today)}" if on else ""
    text = f"#{action.id} was already delivered{when} and waits for sign-off; nothing changed."
    return Message(text=text, blocks=_awaiting_evidence(text, action, evidence, today))


def evidence_added(
    action: ActionView, *, words: str, evidence: Sequence[EvidenceLine], today: dt.date
) -> Message:
    """The reply to evidence added: what was kept (for a file, its name, size and hash)."""
    text = f"Added to the evidence of {replies.label(action)}: {words}."
    blocks: list[Block] = [
        Paragraph(text=text),
        evidence_block(evidence, today=today),
        _evidence_buttons(action.id),
    ]
    return Message(text=text, blocks=blocks, tone="success")


def to_sign_off(
    action: ActionView,
    *,
    by: str,
    note: str | None,
    evidence: Sequence[EvidenceLine],
    today: dt.date,
) -> Message:
    """The one message to the chairs and the secretary: delivered, waiting for them."""
    said = f" “{note}”" if note else ""
    text = f"{by} delivered {replies.label(action)}{said}: it waits for your sign-off."
    blocks: list[Block] = [
        Paragraph(text=text),
        ActionDetail(action=action),
        evidence_block(evidence, today=today),
        Paragraph(text=f"Evidence added later shows in /action show {action.id}."),
        Buttons(
            items=[
                Button(label="Sign off", command=SignOff(action_id=action.id), style="primary"),
                Button(label="Return", command=ReturnAction(action_id=action.id), form="reason"),
            ]
        ),
    ]
    return Message(text=text, blocks=blocks, ephemeral=False)


def signed_off(action: ActionView, *, note: str | None) -> Message:
    """The reply to a sign-off."""
    said = f" “{note}”" if note else ""
    text = f"Signed off {replies.label(action)}{said}: complete (blue)."
    return replies.changed(text, action)


def signed_off_notice(action: ActionView, *, by: str, note: str | None) -> Message:
    """The owner and supporting owners told of the sign-off."""
    said = f": “{note}”" if note else "."
    text = f"🔵 {by} signed off {replies.label(action)}; it is complete{said}"
    return Message(
        text=text, blocks=[Paragraph(text=text), ActionDetail(action=action)], ephemeral=False
    )


def returned(action: ActionView, *, reason: str) -> Message:
    """The reply to a return."""
    text = f"Returned {replies.label(action)} to its owner, open again: {reason}"
    return replies.changed(text, action, tone="info")


def returned_notice(action: ActionView, *, by: str, reason: str) -> Message:
    """The owner and supporting owners told why their delivered action came back."""
    text = (
        f"↩️ {by} returned {replies.label(action)}: “{reason}”. It is open again; mark it done "
        "when it is ready for sign-off."
    )
    blocks: list[Block] = [
        Paragraph(text=text),
        ActionDetail(action=action),
        Usage(lines=[f"/action done {action.id} [note]", f"/action update {action.id} <note>"]),
    ]
    return Message(text=text, blocks=blocks, tone="warning", ephemeral=False)


@dataclass(frozen=True)
class Waiting:
    """An action awaiting sign-off, with how long it has waited."""

    action: ActionView
    since: dt.date
    working_days: int
    evidence: int


def waiting_words(item: Waiting, today: dt.date) -> str:
    """`#12 delivered Mon 23 Nov, waiting 4 working days, 2 pieces of evidence`."""
    days = item.working_days
    wait = f"{days} working day" if days == 1 else f"{days} working days"
    proof = (
        "no evidence yet"
        if item.evidence == 0
        else "1 piece of evidence"
        if item.evidence == 1
        else f"{item.evidence} pieces of evidence"
    )
    return (
        f"#{item.action.id} delivered {format_date(item.since, today=today)}, waiting {wait}, "
        f"{proof}"
    )


def awaiting_list(
    items: Sequence[Waiting], *, total: int, today: dt.date, command: Paged | None = None
) -> Message:
    """`/status signoff`: delivered actions, the longest waiting first, with their wait."""
    message = replies.action_list(
        f"Awaiting sign-off ({total})",
        [item.action for item in items],
        total=total,
        empty="Nothing is waiting for sign-off.",
        more_hint="/status signoff page 2",
        command=command,
    )
    if not items:
        return message
    lines = [waiting_words(item, today) for item in items]
    hint = Usage(lines=["/action signoff <id> [note]", "/action return <id> <reason>"])
    return message.model_copy(
        update={"blocks": [*message.blocks, Paragraph(text="\n".join(lines)), hint]}
    )


def settings_message(*, signoff: bool, changed: str | None, text: str | None = None) -> Message:
    """`/board settings`: the board's settings, and who last changed one."""
    state = "on" if signoff else "off"
    what = (
        "an owner's done is delivered, and a chair or the secretary signs it off (complete)"
        if signoff
        else "an owner's done is complete at once"
    )
    lines = [f"Sign-off: {state} — {what}."]
    if changed:
        lines.append(changed)
    summary = text or f"Sign-off is {state}."
    blocks: list[Block] = [Paragraph(text=summary)] if text else []
    blocks += [Paragraph(text="\n".join(lines)), Usage(lines=["/board settings signoff on|off"])]
    return Message(text=summary, blocks=blocks, tone="success" if text else "info")
