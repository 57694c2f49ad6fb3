"""Delivered, then signed off: an owner's done waits for a chair or the secretary.

While the board signs off (`/board settings signoff on`, the default), `/action done` makes an
action *delivered*: no longer chased, its owner asked for evidence (a note, a link, a file),
the chairs and the secretary told once. One of them signs it off (complete: done, blue) or
returns it with a reason (open again, the owner told). With sign-off off, done is complete at
once. Every step is a history entry; files are kept as the platform's reference, name, size
and SHA-256, never their bytes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.boards.members import holders
from bot.config import Settings
from bot.domain import Change, Role, Status, rules
from bot.domain.workdays import WorkingCalendar
from bot.errors import CommandError
from bot.grammar import paging
from bot.grammar.commands import (
    AddEvidence,
    BoardSettings,
    ReturnAction,
    ShowAction,
    SignOff,
    StatusAwaiting,
)
from bot.grammar.dates import format_date
from bot.grammar.parser import evidence_of
from bot.grammar.usage import action_usage
from bot.outbox.queue import notify_people
from bot.people.resolve import chairs, owners_of
from bot.render import replies
from bot.render import signoff as words
from bot.render.from_storage import action_view
from bot.render.model import ActionDetail, ActionView, Block, Message, Paragraph, Usage
from bot.render.signoff import EvidenceLine, Waiting
from bot.services.context import Caller, Core
from bot.services.permissions import require_owner_or_chair
from bot.services.request import Outcome, Request
from storage.db import transaction
from storage.models import Action, BoardSetting, Evidence, Identity, Person, Supporter

#: The board setting that turns sign-off on or off (`on` when there is no row).
SIGNOFF = "signoff"


def signoff_on(session: Session, board_id: int) -> bool:
    """Whether an owner's done waits for sign-off on the board (on unless a chair turned it
    off)."""
    row = session.get(BoardSetting, (board_id, SIGNOFF))
    return row is None or row.value != "off"


def deliver(request: Request, action: Action, note: str | None) -> Outcome:
    """`/action done` while the board signs off: delivered, evidence asked for, the chairs
    and the secretary told once (through the outbox)."""
    if action.status == Status.DELIVERED:
        on = _local_day(request, action.delivered_at)
        view = action_view(action, today=request.today)
        message = words.already_delivered(
            view, on=on, evidence=evidence_lines(request, action), today=request.today
        )
        return Outcome(message)
    before = rules.move(action, Status.DELIVERED, now=request.now)
    action.updated_at = request.now
    request.record(
        action, Change.STATUS, old=before.status.value, new=Status.DELIVERED.value, note=note
    )
    if note:
        # A done note is the first evidence: "report to the board, https://…".
        _keep(request, action, evidence_of(action.id, note))
    view = action_view(action, today=request.today)
    lines = evidence_lines(request, action)
    ids = notify_people(
        request.session,
        board_id=request.board_id,
        kind="delivered",
        people=signers(request),
        message=words.to_sign_off(
            view, by=request.actor.display_name, note=note, evidence=lines, today=request.today
        ),
        now=request.now,
        action=action,
        skip=request.actor,
    )
    return Outcome(words.delivered(view, evidence=lines, today=request.today), ids)


def add_evidence(request: Request, command: AddEvidence) -> Outcome:
    """Keep a note, a link or a file as evidence of an action (its owner, a supporting owner,
    a chair or the secretary)."""
    action = request.action(command.action_id)
    if not _may_sign(request):
        _require_owner(request, action, "add evidence to it")
    if action.status == Status.CANCELLED:
        raise CommandError(f"#{action.id} is cancelled; it takes no evidence.", None)
    if command.file is None and not command.link and not (command.note or "").strip():
        raise CommandError(
            "Please give the evidence: a note, a link or a file.", action_usage("evidence")
        )
    said = _keep(request, action, command)
    view = action_view(action, today=request.today)
    message = words.evidence_added(
        view, words=said, evidence=evidence_lines(request, action), today=request.today
    )
    return Outcome(message)


def sign_off(request: Request, command: SignOff) -> Outcome:
    """A chair or the secretary accepts a delivered action: complete (done, blue); its owner
    and supporting owners are told."""
    action = request.action(command.action_id)
    _require_signer(request, "sign actions off or return them", action_usage("signoff"))
    view = action_view(action, today=request.today)
    if action.status == Status.DONE:
        when = _local_day(request, action.done_at)
        on = f" on {format_date(when, today=request.today)}" if when else ""
        text = f"#{action.id} is already complete{on}; nothing changed."
        return Outcome(replies.unchanged(text, view))
    if action.status != Status.DELIVERED:
        raise CommandError(
            f"#{action.id} is {action.status.label}, not delivered: its owner marks it done "
            "first, then it can be signed off.",
            f"/action show {action.id}",
        )
    rules.move(action, Status.DONE, now=request.now)
    action.updated_at = request.now
    request.record(
        action,
        Change.SIGNED_OFF,
        old=Status.DELIVERED.value,
        new=Status.DONE.value,
        note=command.note,
    )
    view = action_view(action, today=request.today)
    ids = notify_people(
        request.session,
        board_id=request.board_id,
        kind="signed_off",
        people=owners_of(action),
        message=words.signed_off_notice(view, by=request.actor.display_name, note=command.note),
        now=request.now,
        action=action,
        skip=request.actor,
    )
    return Outcome(words.signed_off(view, note=command.note), ids)


def return_action(request: Request, command: ReturnAction) -> Outcome:
    """A chair or the secretary sends a delivered action back with a reason: open again,
    chased again, its owner and supporting owners told why."""
    action = request.action(command.action_id)
    _require_signer(request, "sign actions off or return them", action_usage("return"))
    reason = (command.reason or "").strip()
    if not reason:
        raise CommandError("Please give the reason it goes back.", action_usage("return"))
    if action.status != Status.DELIVERED:
        view = action_view(action, today=request.today)
        if action.status == Status.DONE:
            raise CommandError(
                f"#{action.id} is already signed off (complete); reopen it to send it back.",
                action_usage("reopen"),
            )
        return Outcome(
            replies.unchanged(
                f"#{action.id} is {action.status.label}, not delivered; nothing changed.", view
            )
        )
    rules.move(action, Status.OPEN, now=request.now)
    action.updated_at = request.now
    request.record(
        action, Change.RETURNED, old=Status.DELIVERED.value, new=Status.OPEN.value, note=reason
    )
    view = action_view(action, today=request.today)
    ids = notify_people(
        request.session,
        board_id=request.board_id,
        kind="returned",
        people=owners_of(action),
        message=words.returned_notice(view, by=request.actor.display_name, reason=reason),
        now=request.now,
        action=action,
        skip=request.actor,
    )
    return Outcome(words.returned(view, reason=reason), ids)


def awaiting(request: Request, command: StatusAwaiting) -> Outcome:
    """`/status signoff`: delivered actions, the longest waiting first, with days waiting."""
    session, board_id = request.session, request.board_id
    where = (Action.status == Status.DELIVERED) & (Action.board_id == board_id)
    total = session.scalar(select(func.count()).select_from(Action).where(where)) or 0
    page = min(command.page, paging.pages(total))
    rows = session.scalars(
        select(Action)
        .where(where)
        .order_by(Action.delivered_at.is_(None), Action.delivered_at, Action.id)
        .offset(paging.offset(page))
        .limit(paging.PAGE_SIZE)
    ).all()
    items = waiting_items(request, rows)
    shown = command.model_copy(update={"page": page})
    message = words.awaiting_list(items, total=total, today=request.today, command=shown)
    return Outcome(message)


def waiting_items(request: Request, rows: Sequence[Action]) -> list[Waiting]:
    """Delivered actions with the day each was delivered, its wait and its evidence count."""
    counts = dict(
        request.session.execute(
            select(Evidence.action_id, func.count())
            .where(Evidence.action_id.in_([row.id for row in rows]))
            .group_by(Evidence.action_id)
        ).all()
    )
    # Built here, not taken from the core: one look-up of bank holidays per list.
    calendar = WorkingCalendar.from_settings(request.core.settings)
    items: list[Waiting] = []
    for row in rows:
        since = _local_day(request, row.delivered_at) or request.today
        items.append(
            Waiting(
                action=action_view(row, today=request.today),
                since=since,
                working_days=calendar.working_days_between(since, request.today),
                evidence=int(counts.get(row.id, 0)),
            )
        )
    return items


def board_settings(request: Request, command: BoardSettings) -> Outcome:
    """`/board settings signoff on|off` (a chair) changes whether done waits for sign-off;
    actions already done stay complete. Showing them and the others: bot/services/boards.py."""
    board_id = request.board_id
    row = request.session.get(BoardSetting, (board_id, SIGNOFF))
    if command.signoff is None:
        # Every setting of the board, or another one changed: the boards' use case.
        from bot.services.boards import board_settings as every_setting  # it imports this

        return every_setting(request, command)
    if not request.actor_is_chair:
        raise CommandError(
            "Only a chair can change the board's settings.", "/board settings signoff on|off"
        )
    value = "on" if command.signoff else "off"
    if signoff_on(request.session, board_id) == command.signoff:
        text = f"Sign-off is already {value}; nothing changed."
        message = words.settings_message(
            signoff=command.signoff, changed=_who(request, row), text=text
        )
        return Outcome(message.model_copy(update={"tone": "info"}))
    if row is None:
        row = BoardSetting(board_id=board_id, key=SIGNOFF, value=value, changed_at=request.now)
        request.session.add(row)
    row.value = value
    row.changed_by = request.actor
    row.changed_at = request.now
    request.session.flush()
    waiting = request.session.scalar(
        select(func.count())
        .select_from(Action)
        .where(Action.board_id == board_id, Action.status == Status.DELIVERED)
    )
    text = (
        "Sign-off is on: an owner's done now waits for a chair or the secretary to sign it off."
        if command.signoff
        else "Sign-off is off: an owner's done is complete at once."
    )
    if waiting and not command.signoff:
        text += f" {waiting} delivered action(s) still wait: /status signoff lists them."
    return Outcome(
        words.settings_message(signoff=command.signoff, changed=_who(request, row), text=text)
    )


def show_action(request: Request, command: ShowAction) -> Outcome:
    """`/action show`, with the action's evidence under it (and, while it waits for sign-off,
    how a chair or the secretary signs it off or returns it)."""
    from bot.services.status import show_action as shown  # status → rebaseline → actions

    outcome = shown(request, command)
    action = request.action(command.action_id)
    lines = evidence_lines(request, action)
    if not lines and action.status != Status.DELIVERED:
        return outcome
    extra: list[Block] = [words.evidence_block(lines, today=request.today)]
    if action.status == Status.DELIVERED and _may_sign(request):
        extra.append(
            Usage(
                lines=[
                    f"/action signoff {action.id} [note]",
                    f"/action return {action.id} <reason>",
                ]
            )
        )
    blocks = list(outcome.message.blocks)
    at = next((i + 1 for i, b in enumerate(blocks) if isinstance(b, ActionDetail)), len(blocks))
    blocks[at:at] = extra
    message = outcome.message.model_copy(update={"blocks": blocks})
    return Outcome(message, outcome.outbox_ids, outcome.open_form)


def awaiting_summary(request: Request, message: Message, *, limit: int = 5) -> Message:
    """`/status` with what waits for sign-off, the longest waiting first, and its wait."""
    rows = request.session.scalars(
        select(Action)
        .where(Action.board_id == request.board_id, Action.status == Status.DELIVERED)
        .order_by(Action.delivered_at.is_(None), Action.delivered_at, Action.id)
        .limit(limit + 1)
    ).all()
    if not rows:
        return message
    items = waiting_items(request, rows[:limit])
    lines = [f"{words.waiting_words(item, request.today)} — {item.action.title}" for item in items]
    if len(rows) > limit:
        lines.append("/status signoff lists them all.")
    block = Paragraph(text="Awaiting sign-off:\n" + "\n".join(lines))
    return message.model_copy(update={"blocks": [*message.blocks, block]})


@dataclass(frozen=True)
class DigestPart:
    """What the weekly digest says of sign-off: the longest waiting first, and their wait."""

    shown: bool
    items: list[ActionView]
    total: int
    waits: str | None


def digest_part(
    session: Session, *, settings: Settings, today: dt.date, limit: int, board_id: int
) -> DigestPart:
    """The digest's "Awaiting sign-off": shown while the board signs off or some still wait."""
    where = (Action.status == Status.DELIVERED) & (Action.board_id == board_id)
    total = session.scalar(select(func.count()).select_from(Action).where(where)) or 0
    rows = session.scalars(
        select(Action)
        .where(where)
        .order_by(Action.delivered_at.is_(None), Action.delivered_at, Action.id)
        .limit(limit)
    ).all()
    calendar = WorkingCalendar.from_settings(settings)
    waits = []
    for row in rows:
        since = row.delivered_at.astimezone(settings.tz).date() if row.delivered_at else today
        days = calendar.working_days_between(since, today)
        waits.append(f"#{row.id} {days} working day{'s' if days != 1 else ''}")
    return DigestPart(
        shown=bool(total) or signoff_on(session, board_id),
        items=[action_view(row, today=today) for row in rows],
        total=total,
        waits=("Waiting for sign-off: " + " · ".join(waits) + ".") if waits else None,
    )


def evidence_lines(request: Request, action: Action) -> list[EvidenceLine]:
    """The evidence of `action`, oldest first, as replies show it."""
    rows = request.session.scalars(
        select(Evidence).where(Evidence.action_id == action.id).order_by(Evidence.id)
    ).all()
    return [
        EvidenceLine(
            kind=row.kind,
            words=words.evidence_words(
                kind=row.kind,
                note=row.note,
                url=row.url,
                name=row.file_name,
                size=row.size,
                sha256=row.sha256,
            ),
            by=row.added_by.display_name if row.added_by else None,
            on=_local_day(request, row.added_at) or request.today,
        )
        for row in rows
    ]


def evidence_target(core: Core, caller: Caller, words: str) -> int | None:
    """The action a file sent in chat is evidence of: the number its words give (`#12`, or
    a message that is only `12`), else the latest of the sender's actions waiting for
    sign-off (their done asked for it): of the board whose channel it was sent in, or in a
    direct message of any of their boards (the command then runs on that action's board)."""
    if match := _NUMBER.search(words):
        return int(match.group(1) or match.group(2))
    board = core.boards.by_channel(caller.channel) if caller.channel else None
    with transaction(core.sessions) as session:
        person = session.scalar(
            select(Identity.person_id).where(
                Identity.platform == caller.platform, Identity.external_id == caller.external_id
            )
        )
        if person is None:
            return None
        supported = select(Supporter.action_id).where(Supporter.person_id == person)
        return session.scalar(
            select(Action.id)
            .where(
                Action.status == Status.DELIVERED,
                or_(Action.owner_id == person, Action.id.in_(supported)),
                *([Action.board_id == board.id] if board is not None else []),
            )
            .order_by(Action.delivered_at.desc(), Action.id.desc())
            .limit(1)
        )


#: `#12` anywhere, or a message that is only a number: "minutes of 12 Nov" names no action.
_NUMBER = re.compile(r"(?:(?<![\w/&])#(\d{1,9})(?![\w/])|^\s*(\d{1,9})\s*$)")


def signers(request: Request) -> list[Person]:
    """The chairs and the secretary (or secretaries), who sign delivered actions off."""
    board = request.core.board
    people = list(chairs(request.session, board=board))
    people += request.session.scalars(holders(board.id, Role.SECRETARY)).all()
    return [person for person in people if person.left_at is None]


def _keep(request: Request, action: Action, command: AddEvidence) -> str:
    """Store one piece of evidence and its history entry; returns how it is described."""
    file = command.file
    kind = "file" if file is not None else "link" if command.link else "note"
    note = (command.note or "").strip() or None
    url = file.url if file is not None else command.link
    row = Evidence(
        action_id=action.id,
        added_by=request.actor,
        added_at=request.now,
        kind=kind,
        platform=request.caller.platform.value,
        file_ref=file.ref if file is not None else None,
        file_name=file.name if file is not None else None,
        size=file.size if file is not None else None,
        sha256=file.sha256 if file is not None else None,
        url=url,
        note=note,
    )
    request.session.add(row)
    said = words.evidence_words(
        kind=kind,
        note=note,
        url=url,
        name=row.file_name,
        size=row.size,
        sha256=row.sha256,
    )
    request.record(action, Change.EVIDENCE, note=said)
    return said


def _may_sign(request: Request) -> bool:
    return request.actor_is_chair or request.actor_role == Role.SECRETARY


def _require_signer(request: Request, doing: str, usage: str) -> None:
    """Chairs and the secretary sign off and return; nobody else, not even the owner."""
    if not _may_sign(request):
        raise CommandError(f"Only a chair or the secretary can {doing}.", usage)


def _require_owner(request: Request, action: Action, doing: str) -> None:
    require_owner_or_chair(request, action, doing)


def _local_day(request: Request, at: dt.datetime | None) -> dt.date | None:
    return at.astimezone(request.core.settings.tz).date() if at is not None else None


def _who(request: Request, row: BoardSetting | None) -> str | None:
    if row is None:
        return None
    by = row.changed_by.display_name if row.changed_by else "the command line"
    day = format_date(_local_day(request, row.changed_at) or request.today, today=request.today)
    return f"Last changed by {by}, {day}."
