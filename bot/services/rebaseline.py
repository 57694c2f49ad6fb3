"""Re-baselining with approval: an owner asks for a new deadline with a reason; the chairs and
the secretary get one message with Approve and Decline; the owner and supporting owners are
told either way. An approved date moves the deadline, keeps the baseline and counts the move;
a chair or the secretary moving a date directly (`/action due`) is recorded the same way.

Reminders follow `due_date`, so they follow an approved date; a pending request changes no
date and stops no reminder.
"""

from __future__ import annotations

import datetime as dt

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from bot.boards.members import holders
from bot.domain import Change, Role, Status
from bot.domain.rebaseline import RequestState, slippage, slippage_words, times
from bot.domain.workdays import WorkingCalendar
from bot.errors import CommandError
from bot.grammar.commands import ApproveDate, DeclineDate, MoveDue, RequestDate
from bot.grammar.dates import format_date
from bot.grammar.usage import action_usage
from bot.outbox.queue import notify_people
from bot.people.resolve import chairs, owners_of
from bot.render import date_requests as words
from bot.render.from_storage import action_view
from bot.render.model import DateRequestCard, Message, Paragraph
from bot.render.replies import label
from bot.services.context import Caller, Core
from bot.services.request import Outcome, Request, request_on_board
from storage.db import transaction
from storage.models import (
    Action,
    DateRequest,
    HistoryEntry,
    OutboxMessage,
    OutboxStatus,
    Person,
)


def _calendar(request: Request) -> WorkingCalendar:
    """Working days as the settings say (bank holidays looked up once per process)."""
    return WorkingCalendar.from_settings(request.core.settings)


def deciders(request: Request) -> list[Person]:
    """Who decides on a new date: the chairs and the secretary (or secretaries)."""
    board = request.core.board
    people = list(chairs(request.session, board=board))
    people += request.session.scalars(holders(board.id, Role.SECRETARY)).all()
    seen: set[int] = set()
    found = []
    for person in people:
        if person.left_at is None and person.id not in seen:
            seen.add(person.id)
            found.append(person)
    return found


def may_decide(request: Request) -> bool:
    """Whether the caller decides on new dates (and moves dates directly): chair or secretary."""
    return request.actor_is_chair or request.actor_role == Role.SECRETARY


def _owns(request: Request, action: Action) -> bool:
    if action.owner_id == request.actor.id:
        return True
    return any(supporter.person_id == request.actor.id for supporter in action.supporters)


def pending_request(request: Request, action: Action) -> DateRequest | None:
    """The request for a new date of `action` that waits for a decision, if any."""
    return request.session.scalars(
        select(DateRequest).where(
            DateRequest.action_id == action.id, DateRequest.state == RequestState.PENDING
        )
    ).one_or_none()


def request_date(request: Request, command: RequestDate) -> Outcome:
    """An owner or supporting owner asks for a new date; one message goes to the deciders.

    A chair or the secretary asking about an action that is not theirs moves it at once, as
    `/action due` does: they are the ones who would approve it.
    """
    action = request.action(command.action_id)
    mine = _owns(request, action)
    if not mine and may_decide(request):
        # Imported here: actions' `/action due` records its moves through this module.
        from bot.services.actions import move_due

        return move_due(
            request,
            MoveDue(action_id=action.id, due=command.due, reason=command.reason),
        )
    if not mine or request.actor_role == Role.OBSERVER:
        owner = action.owner.display_name if action.owner else "nobody yet"
        raise CommandError(
            f"Only the owner of #{action.id} ({owner}) or a supporting owner can ask for a new "
            "date; a chair or the secretary moves it with /action due.",
            f"/action show {action.id}",
        )
    if action.status.is_closed or action.status == Status.DELIVERED:
        raise CommandError(
            f"#{action.id} is {action.status.label}; there is no deadline to move.",
            f"/action show {action.id}",
        )
    if command.due < request.today:
        raise CommandError(
            f"{format_date(command.due)} is in the past; give a date from today on.",
            action_usage("rebaseline"),
        )
    view = action_view(action, today=request.today)
    if action.due_date == command.due:
        raise CommandError(
            f"#{action.id} is already due {format_date(command.due, today=request.today)}.",
            action_usage("rebaseline"),
        )
    earlier = pending_request(request, action)
    if earlier is not None:
        if (earlier.new_due, earlier.reason) == (command.due, command.reason):
            text = (
                f"You asked for that already; it waits for the chairs "
                f"({format_date(command.due, today=request.today)})."
            )
            again = words.asked(view, new_due=command.due, today=request.today, superseded=False)
            return Outcome(again.model_copy(update={"text": text, "tone": "info"}))
        _supersede(request, action, earlier, new_due=command.due)
        # Written before the new row: one pending request per action (a unique index).
        request.session.flush()
    asked = DateRequest(
        action_id=action.id,
        requested_by=request.actor,
        requested_at=request.now,
        old_due=action.due_date,
        new_due=command.due,
        reason=command.reason,
        state=RequestState.PENDING,
    )
    request.session.add(asked)
    request.session.flush()
    request.record(
        action, Change.DATE_REQUESTED, old=action.due_date, new=command.due, note=command.reason
    )
    card = request_card(request, action, asked)
    ids = notify_people(
        request.session,
        board_id=request.board_id,
        kind="date_request",
        people=deciders(request),
        message=words.to_deciders(card),
        now=request.now,
        action=action,
        skip=request.actor,
    )
    if earlier is not None:
        ids += _take_buttons_back(
            request, earlier, f"{request.actor.display_name} asked for another date since."
        )
    reply = words.asked(
        view, new_due=command.due, today=request.today, superseded=earlier is not None
    )
    return Outcome(reply, ids)


def request_card(request: Request, action: Action, asked: DateRequest) -> DateRequestCard:
    """The request as the deciders' message shows it."""
    baseline = action.baseline_due
    return DateRequestCard(
        request_id=asked.id,
        action=action_view(action, today=request.today),
        asked_by=asked.requested_by.display_name if asked.requested_by else "someone",
        old_due=asked.old_due,
        new_due=asked.new_due,
        reason=asked.reason,
        baseline=baseline,
        slippage=slippage(baseline, asked.new_due, _calendar(request)),
        rebaselines=action.rebaselines or 0,
        pending=asked.state == RequestState.PENDING,
    )


def _the_request(request: Request, action: Action, request_id: int | None) -> DateRequest:
    """The request a decision is about: the one a button names, else the pending one."""
    if request_id is None:
        found = pending_request(request, action)
        if found is None:
            raise CommandError(
                f"#{action.id} has no request for a new date waiting for a decision.",
                f"/action show {action.id}",
            )
        return found
    found = request.session.get(DateRequest, request_id)
    if found is None or found.action_id != action.id:
        raise CommandError("That request for a new date does not exist.", None)
    return found


def _already(request: Request, asked: DateRequest) -> Outcome | None:
    """The answer when the request was decided (or replaced) before: said, not an error."""
    if asked.state == RequestState.PENDING:
        return None
    action = asked.action
    view = action_view(action, today=request.today)
    who = asked.decided_by.display_name if asked.decided_by else "someone"
    decided_on = (
        asked.decided_at.astimezone(request.core.settings.tz).date() if asked.decided_at else None
    )
    when = format_date(decided_on, today=request.today) if decided_on else "before"
    asked_for = format_date(asked.new_due, today=request.today)
    if asked.state == RequestState.SUPERSEDED:
        text = f"The request for {asked_for} on #{action.id} was replaced by a newer one"
        later = pending_request(request, action)
        text += (
            f" (for {format_date(later.new_due, today=request.today)}), which waits for a decision."
            if later is not None
            else "; nothing waits for a decision now."
        )
    else:
        text = f"{who} already {asked.state.value} the request for {asked_for} on {when}."
    return Outcome(words.decided(text + " Nothing changed.", view, tone="info"))


def approve_date(request: Request, command: ApproveDate) -> Outcome:
    """A chair or the secretary approves: the deadline moves, the baseline stays, the move is
    counted; the owner and supporting owners are told."""
    action = request.action(command.action_id)
    _require_decider(request, "approve a new date", "approve")
    asked = _the_request(request, action, command.request_id)
    if (done := _already(request, asked)) is not None:
        return done
    if action.status.is_closed or action.status == Status.DELIVERED:
        raise CommandError(
            f"#{action.id} is {action.status.label}; decline the request instead "
            "(there is no deadline to move).",
            action_usage("decline"),
        )
    if asked.new_due < request.today:
        raise CommandError(
            f"The date asked for, {format_date(asked.new_due)}, has passed; decline it and "
            "ask for another, or move the date with /action due.",
            action_usage("decline"),
        )
    old = action.due_date
    action.due_date = asked.new_due
    action.updated_at = request.now
    asked.state = RequestState.APPROVED
    asked.decided_by = request.actor
    asked.decided_at = request.now
    if old is None:
        # A first date for an "Ongoing" action sets its baseline: it is no re-baseline.
        request.record(action, Change.DUE, old=None, new=asked.new_due, note=asked.reason)
    else:
        action.rebaselines = (action.rebaselines or 0) + 1
        request.record(action, Change.REBASELINED, old=old, new=asked.new_due, note=asked.reason)
    view = action_view(action, today=request.today)
    told = words.approved_notice(
        view, by=request.actor.display_name, old=old, reason=asked.reason, today=request.today
    )
    ids = _tell_owners(request, action, told, kind="date_approved")
    when = format_date(asked.new_due, today=request.today)
    ids += _take_buttons_back(
        request, asked, f"{request.actor.display_name} approved it: now due {when}."
    )
    summary = f"Approved: {label(view)} is now due {when}{_standing(request, action)}."
    return Outcome(words.decided(summary, view), ids)


def decline_date(request: Request, command: DeclineDate) -> Outcome:
    """A chair or the secretary declines, with a reason; the deadline stays; the owner and
    supporting owners are told why."""
    action = request.action(command.action_id)
    _require_decider(request, "decline a new date", "decline")
    asked = _the_request(request, action, command.request_id)
    if (done := _already(request, asked)) is not None:
        return done
    asked.state = RequestState.DECLINED
    asked.decided_by = request.actor
    asked.decided_at = request.now
    asked.decline_reason = command.reason
    request.record(
        action, Change.DATE_DECLINED, old=action.due_date, new=asked.new_due, note=command.reason
    )
    view = action_view(action, today=request.today)
    told = words.declined_notice(
        view,
        by=request.actor.display_name,
        asked_for=asked.new_due,
        reason=command.reason,
        today=request.today,
    )
    ids = _tell_owners(request, action, told, kind="date_declined")
    ids += _take_buttons_back(
        request, asked, f"{request.actor.display_name} declined it: {command.reason}"
    )
    asked_for = format_date(asked.new_due, today=request.today)
    summary = f"Declined the new date ({asked_for}) for {label(view)}; its owner is told why."
    return Outcome(words.decided(summary, view), ids)


def _supersede(
    request: Request,
    action: Action,
    waiting: DateRequest,
    *,
    new_due: dt.date | None,
    note: str | None = None,
) -> None:
    """A request still waiting for the chairs is replaced (by a new request or a direct move)."""
    waiting.state = RequestState.SUPERSEDED
    waiting.decided_at = request.now
    waiting.decided_by = request.actor
    request.record(action, Change.DATE_SUPERSEDED, old=waiting.new_due, new=new_due, note=note)


def moved_directly(request: Request, action: Action, *, old: dt.date, reason: str | None) -> None:
    """A chair or the secretary moved a dated action's deadline (`/action due`): a re-baseline,
    counted and recorded with its reason; a request waiting for the chairs is replaced."""
    action.rebaselines = (action.rebaselines or 0) + 1
    waiting = pending_request(request, action)
    if waiting is not None:
        note = f"{request.actor.display_name} moved the deadline directly"
        _supersede(request, action, waiting, new_due=action.due_date, note=note)
    request.record(action, Change.REBASELINED, old=old, new=action.due_date, note=reason)


def _standing(request: Request, action: Action) -> str:
    """` (baseline Fri 18 Dec, +12 working days; moved twice)`."""
    if action.baseline_due is None or not action.rebaselines:
        return ""
    days = slippage(action.baseline_due, action.due_date, _calendar(request))
    return (
        f" (baseline {format_date(action.baseline_due, today=request.today)}, "
        f"{slippage_words(days)}; moved {times(action.rebaselines or 0)})"
    )


def _require_decider(request: Request, doing: str, verb: str) -> None:
    if not may_decide(request):
        raise CommandError(f"Only a chair or the secretary can {doing}.", action_usage(verb))


def _tell_owners(request: Request, action: Action, message: Message, *, kind: str) -> list[int]:
    """The owner and supporting owners, whoever of them asked; not the one who decided."""
    return request.notify(owners_of(action), message, kind=kind, action=action)


def moves(request: Request, action: Action) -> list[HistoryEntry]:
    """The re-baselines of `action`, oldest first (each with who, when and why)."""
    return list(
        request.session.scalars(
            select(HistoryEntry)
            .where(
                HistoryEntry.action_id == action.id,
                HistoryEntry.change == Change.REBASELINED.value,
            )
            .order_by(HistoryEntry.id)
        )
    )


def deadline_lines(request: Request, action: Action) -> list[str]:
    """`/action show`'s lines on the deadline: baseline, slippage, each re-baseline with who
    and why, and a request waiting for a decision."""
    tz = request.core.settings.tz
    history = [
        words.Move(
            at=entry.at.astimezone(tz).date(),
            by=entry.actor.display_name if entry.actor else entry.source,
            old=dt.date.fromisoformat(entry.old_value) if entry.old_value else None,
            new=dt.date.fromisoformat(entry.new_value) if entry.new_value else None,
            reason=entry.note,
        )
        for entry in moves(request, action)
    ]
    waiting = pending_request(request, action)
    pending = None
    if waiting is not None:
        pending = words.Pending(
            asked_by=waiting.requested_by.display_name if waiting.requested_by else "someone",
            on=waiting.requested_at.astimezone(tz).date(),
            new_due=waiting.new_due,
            reason=waiting.reason,
        )
    return words.baseline_lines(
        action_view(action, today=request.today),
        baseline=action.baseline_due,
        slippage=slippage(action.baseline_due, action.due_date, _calendar(request)),
        moves=history,
        pending=pending,
        today=request.today,
    )


def request_to_decide(
    core: Core, caller: Caller, action_id: int, request_id: int | None
) -> DateRequestCard:
    """The request a Decline button is for, as it stands, if `caller` decides on new dates.

    Asked before the form for the reason opens, so someone who may not decide, or a request
    decided meanwhile, is told at once; CommandError with the reason otherwise.
    """
    try:
        with transaction(core.sessions) as session:
            request = request_on_board(core, session, caller, action_id=action_id)
            action = request.action(action_id)
            _require_decider(request, "decline a new date", "decline")
            asked = _the_request(request, action, request_id)
            if (done := _already(request, asked)) is not None:
                raise CommandError(done.message.text, f"/action show {action_id}")
            return request_card(request, action, asked)
    except DBAPIError as exc:
        # Imported here: the dispatcher imports this module for its commands.
        from bot.services.dispatch import TRY_AGAIN, database_unavailable

        if not database_unavailable(exc):
            raise
        raise CommandError(TRY_AGAIN, None) from None


def _take_buttons_back(request: Request, asked: DateRequest, said: str) -> list[int]:
    """The other copies of a request's message (each chair's and the secretary's) redrawn
    without Approve and Decline, saying what became of it, so nobody decides it twice.

    Queued as edits in the decision's transaction (bot/outbox/retract.py delivers them).
    """
    from bot.outbox.retract import EDIT, queue_edit  # edits are delivered in place

    rows = request.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.kind == "date_request",
            OutboxMessage.action_id == asked.action_id,
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.platform_ref.is_not(None),
        )
    ).all()
    ids: list[int] = []
    for row in rows:
        try:
            message = Message.model_validate(row.payload)
        except ValidationError:  # written by another version: left alone
            continue
        cards = [b for b in message.blocks if isinstance(b, DateRequestCard)]
        if not any(c.request_id == asked.id and c.pending for c in cards):
            continue
        blocks = [
            block.model_copy(update={"pending": False})
            if isinstance(block, DateRequestCard)
            else block
            for block in message.blocks
        ]
        redrawn = message.model_copy(
            update={"text": said, "blocks": [Paragraph(text=said), *blocks], "tone": "info"}
        )
        key = f"{EDIT}:{row.id}:date:{asked.id}:{asked.state.value}"
        outbox_id = queue_edit(
            request.session, row, redrawn, key=key, now=request.now, action=asked.action
        )
        if outbox_id is not None:
            ids.append(outbox_id)
    return ids
