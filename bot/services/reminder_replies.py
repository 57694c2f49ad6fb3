"""Replies to reminders: an owner answers a reminder in the DM, and the words are recorded.

The reply is read as `done [note]`, `blocked <reason>`, a RAG word (`amber`, or `amber: why`,
which also keeps the words as an update), or otherwise a progress note. It is about the
reminder's action, or, when the reminder listed several, the one whose number starts the
reply (`12 sorted`, `#12 done`); without one the bot asks which and records nothing. Each
change is the typed command a person could have typed, run through `dispatch.execute`, so
permissions and history are those of the commands; the answer says what was recorded and
offers an Undo (bot.services.undo) for the history entries it wrote.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, select

from bot.domain import Platform, Rag
from bot.grammar.commands import AddUpdate, Command, MarkBlocked, MarkDone, SetRag, UndoReply
from bot.outbox.bundles import BUNDLE
from bot.outbox.deferred import NOTICE_KINDS
from bot.people.resolve import find_account
from bot.render import replies
from bot.render.model import (
    ActionDetail,
    ActionView,
    Block,
    Button,
    Buttons,
    Message,
    Paragraph,
)
from bot.services.context import Caller, Core
from bot.services.dispatch import execute
from bot.services.request import Outcome
from bot.services.undo import UNDO_WINDOW
from storage.db import transaction
from storage.models import HistoryEntry, OutboxMessage, OutboxStatus

#: A message sent right after a reminder (not in its thread) answers it for this long.
REPLY_WINDOW = dt.timedelta(hours=24)
#: The outbox rows a reply can answer: the notices and the bundle that carried them.
REMINDER_KINDS = (*NOTICE_KINDS, BUNDLE)

_RAG = {"red": Rag.RED, "amber": Rag.AMBER, "green": Rag.GREEN}
# `12`, `#12`, `12.`, `#12,`, `12:` at the start, then a space or the end.
_LEAD_ID = re.compile(r"(#)?(\d{1,10})[.:,;)]*(?=\s|$)\s*")
# The first word, with the punctuation that may follow it (`done.`, `amber:`, `blocked -`).
_WORD = re.compile(r"([A-Za-z]+)([.,:;!\-–—]*)(?=\s|$)\s*")
_SEPARATORS = " \t\r\n-–—:,;."


@dataclass(frozen=True)
class RepliedTo:
    """Where a reply was written: the DM (`channel`) and the message it answers (`ref`, a
    Slack thread's ts or a Teams replyToId); without `ref`, the latest reminder there."""

    platform: Platform
    channel: str
    ref: str | None = None


@dataclass(frozen=True)
class Reading:
    """A reply as read: what to record, and on which action when it names one."""

    kind: Literal["done", "blocked", "rag", "note"]
    action_id: int | None
    text: str | None = None
    rag: Rag | None = None


def read_reply(text: str, actions: Sequence[int]) -> Reading | str:
    """What a reply asks for; a str is why it cannot be read (nothing is recorded).

    A bare leading number names an action only when the reminder is about it (`3 reports
    filed` is a note); `#12` always names one.
    """
    words = text.strip()
    action_id, words = _leading_id(words, actions)
    match = _WORD.match(words)
    verb = match.group(1).lower() if match else ""
    rest = words[match.end() :] if match else words
    if verb in ("done", "blocked", "block") and action_id is None:
        action_id, rest = _leading_id(rest.lstrip(_SEPARATORS), actions)
    if verb == "done":
        return Reading("done", action_id, rest.strip(_SEPARATORS) or None)
    if verb in ("blocked", "block"):
        reason = rest.strip(_SEPARATORS)
        if not reason:
            return "Say what blocks it: reply `blocked <reason>`. Nothing was recorded."
        return Reading("blocked", action_id, reason)
    if match and verb in _RAG and (not rest or match.group(2)):
        # `amber` or `amber: waiting on legal`; `green light from legal` is a note.
        return Reading("rag", action_id, rest.strip(_SEPARATORS) or None, _RAG[verb])
    if not words:
        return "Write a few words after the number. Nothing was recorded."
    return Reading("note", action_id, words)


def _leading_id(words: str, actions: Sequence[int]) -> tuple[int | None, str]:
    match = _LEAD_ID.match(words)
    if match is None:
        return None, words
    number = int(match.group(2))
    if match.group(1) or number in actions:
        return number, words[match.end() :]
    return None, words


def reminder_actions(core: Core, caller: Caller, where: RepliedTo) -> list[int] | None:
    """The actions of the reminder a reply answers; None when it answers no reminder of
    theirs (a thread of another message, or nothing sent to them there lately)."""
    with transaction(core.sessions) as session:
        person = find_account(session, platform=caller.platform, external_id=caller.external_id)
        if person is None:
            return None
        sent = select(OutboxMessage).where(
            OutboxMessage.platform == where.platform.value,
            OutboxMessage.platform_channel == where.channel,
            OutboxMessage.recipient_id == person.id,
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.kind.in_(REMINDER_KINDS),
        )
        ref = where.ref
        if ref is None:
            latest = session.scalars(
                sent.where(OutboxMessage.sent_at >= core.now() - REPLY_WINDOW)
                .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
                .limit(1)
            ).first()
            if latest is None or latest.platform_ref is None:
                return None
            ref = latest.platform_ref
        rows = session.scalars(sent.where(OutboxMessage.platform_ref == ref)).all()
        found = sorted({row.action_id for row in rows if row.action_id is not None})
        return found or None


def answer_reply(core: Core, caller: Caller, text: str, where: RepliedTo) -> Outcome | None:
    """Record a reply to a reminder and answer it; None when it answers no reminder."""
    actions = reminder_actions(core, caller, where)
    if actions is None:
        return None
    reading = read_reply(text, actions)
    if isinstance(reading, str):
        return Outcome(replies.error(reading, "done · blocked <reason> · red|amber|green · <note>"))
    action_id = reading.action_id
    if action_id is None and len(actions) == 1:
        action_id = actions[0]
    if action_id is None:
        return Outcome(_which(actions, text))
    commands = _commands(reading, action_id)
    for command in commands:
        if (too_long := command.too_long()) is not None:
            return Outcome(replies.error(too_long, None))
    before = _last_entry(core)
    outcomes: list[Outcome] = []
    for command in commands:
        outcomes.append(execute(core, caller, command))
        if outcomes[-1].message.tone == "error":
            break
    queued = [i for outcome in outcomes for i in outcome.outbox_ids]
    entries = _entries_since(core, caller, action_id, before)
    last = outcomes[-1].message
    if not entries:  # refused, or nothing changed ("already done"): said as the command says it
        return Outcome(last, queued)
    view = _view_of(outcomes)
    message = _recorded(reading, view, UndoReply(first=entries[0], last=entries[-1]))
    if last.tone == "error":  # the RAG was set, the note was refused: both are said
        message = message.model_copy(
            update={"blocks": [*message.blocks, *last.blocks], "tone": "warning"}
        )
    return Outcome(message, queued)


def _commands(reading: Reading, action_id: int) -> list[Command]:
    if reading.kind == "done":
        return [MarkDone(action_id=action_id, note=reading.text)]
    if reading.kind == "blocked":
        return [MarkBlocked(action_id=action_id, reason=reading.text or "")]
    if reading.kind == "rag" and reading.rag is not None:
        rag: list[Command] = [SetRag(action_id=action_id, rag=reading.rag)]
        return rag + ([AddUpdate(action_id=action_id, note=reading.text)] if reading.text else [])
    return [AddUpdate(action_id=action_id, note=reading.text or "")]


def _last_entry(core: Core) -> int:
    with transaction(core.sessions) as session:
        return int(session.scalar(select(func.max(HistoryEntry.id))) or 0)


def _entries_since(core: Core, caller: Caller, action_id: int, after: int) -> list[int]:
    """The history entries the reply's commands wrote (this person's, on this action)."""
    with transaction(core.sessions) as session:
        person = find_account(session, platform=caller.platform, external_id=caller.external_id)
        if person is None:
            return []
        return list(
            session.scalars(
                select(HistoryEntry.id)
                .where(
                    HistoryEntry.id > after,
                    HistoryEntry.action_id == action_id,
                    HistoryEntry.actor_id == person.id,
                )
                .order_by(HistoryEntry.id)
            )
        )


def _view_of(outcomes: Sequence[Outcome]) -> ActionView | None:
    """The action as the last successful command left it."""
    for outcome in reversed(outcomes):
        for block in outcome.message.blocks:
            if isinstance(block, ActionDetail) and outcome.message.tone != "error":
                return block.action
    return None


def _recorded(reading: Reading, view: ActionView | None, undo: UndoReply) -> Message:
    """`Recorded on #12 Audit: done — “signed off”.` with the action and an Undo button."""
    label = replies.label(view) if view is not None else f"#{undo.first}"
    said = f" — “{reading.text}”" if reading.text else ""
    what = {
        "done": f"marked done{said}",
        "blocked": f"blocked{said}; the chairs are told",
        "rag": f"RAG {reading.rag.value if reading.rag else ''}{said}",
        "note": f"update{said}",
    }[reading.kind]
    text = f"Recorded on {label}: {what}."
    minutes = int(UNDO_WINDOW.total_seconds() // 60)
    blocks: list[Block] = [Paragraph(text=text)]
    if view is not None:
        blocks.append(ActionDetail(action=view))
    blocks += [
        Paragraph(text=f"Not what you meant? Undo within {minutes} minutes."),
        Buttons(items=[Button(label="Undo", command=undo, style="danger")]),
    ]
    return Message(text=text, blocks=blocks, tone="success", ephemeral=False)


def _which(actions: Sequence[int], text: str) -> Message:
    """Asked when a reminder about several actions gets a reply that names none."""
    shown = ", ".join(f"#{n}" for n in actions)
    example = actions[0]
    quoted = text.strip() if len(text.strip()) <= 200 else text.strip()[:199] + "…"
    reply = (
        f"Which action is that about? This message is about {shown}. Reply again starting "
        f"with its number, e.g. `{example} {quoted}`. Nothing was recorded."
    )
    return Message(text=reply, blocks=[Paragraph(text=reply)], tone="info", ephemeral=False)
