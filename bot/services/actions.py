"""Use cases that change actions. Each checks permission, changes the row, writes history and
queues notifications in the caller's transaction, and returns the reply."""

from __future__ import annotations

import datetime as dt

from bot.domain import Change, Status, rules
from bot.errors import CommandError
from bot.grammar.commands import (
    AddAction,
    AddUpdate,
    AssignAction,
    CancelAction,
    MarkBlocked,
    MarkDone,
    MoveDue,
    Reopen,
    SetRag,
    UserRef,
)
from bot.grammar.dates import format_date
from bot.grammar.usage import action_usage
from bot.outbox.queue import notify_people
from bot.people.names import learn_alias
from bot.people.resolve import chairs, owners_of, require_present
from bot.render import owner_notices, replies
from bot.render.from_storage import action_view
from bot.render.model import ActionView, Message
from bot.services import rebaseline, signoff
from bot.services.permissions import require_chair, require_owner_or_chair
from bot.services.request import Outcome, Request
from storage.models import Action, Person, Supporter


def add_action(request: Request, command: AddAction) -> Outcome:
    """Create an action; its owner is told."""
    require_chair(request, "add actions", action_usage("add"))
    if command.title is None:
        return Outcome(
            replies.error("Please give the action a title.", action_usage("add")), open_form="add"
        )
    owner = _new_owner(request, command.owner) if command.owner else None
    if command.due is not None:
        _refuse_past(request, command.due, "add")
    action = Action(
        board_id=request.board_id,
        title=command.title,
        owner=owner,
        due_date=command.due,
        workstream=command.workstream,
        status=Status.OPEN,
        created_at=request.now,
        updated_at=request.now,
    )
    request.session.add(action)
    request.session.flush()
    request.record(action, Change.CREATED, new=action.title)
    if owner is not None:
        request.record(action, Change.ASSIGNED, new=owner.display_name)
    supporters = _add_supporters(request, action, owner, command.supporters)
    if command.due is not None:
        request.record(action, Change.DUE, new=command.due)
    view = action_view(action, today=request.today)
    ids = _tell_owner(request, action, owner)
    ids += _tell_supporters(request, action, supporters)
    summary = f"Added action {replies.label(view)}."
    if supporters:
        summary += " Supporting: " + ", ".join(p.display_name for p in supporters) + "."
    return Outcome(replies.changed(summary, view), ids)


def _add_supporters(
    request: Request, action: Action, owner: Person | None, refs: tuple[UserRef, ...]
) -> list[Person]:
    """Make the people named after the owner supporting owners (each once, never the owner)."""
    people: list[Person] = []
    for ref in refs:
        person = _new_owner(request, ref)
        if person.id not in {p.id for p in people} and (owner is None or person.id != owner.id):
            people.append(person)
    for position, person in enumerate(people):
        action.supporters.append(Supporter(person=person, position=position))
    if people:
        request.record(action, Change.SUPPORTERS, new=", ".join(p.display_name for p in people))
    return people


def _tell_supporters(request: Request, action: Action, people: list[Person]) -> list[int]:
    if not people:
        return []
    view = action_view(action, today=request.today)
    message = replies.supporting_you(view, by=request.actor.display_name)
    return notify_people(
        request.session,
        board_id=request.board_id,
        kind="assigned",
        people=people,
        message=message,
        now=request.now,
        action=action,
        skip=request.actor,
    )


def assign_action(request: Request, command: AssignAction) -> Outcome:
    """Give an action to someone; the new and the previous owner are told."""
    require_chair(request, "assign actions", action_usage("assign"))
    action = request.action(command.action_id)
    owner = _new_owner(request, command.owner)
    view = action_view(action, today=request.today)
    if action.owner_id == owner.id:
        return _unchanged(f"#{action.id} is already owned by {owner.display_name}.", view)
    previous = action.owner
    action.owner = owner
    if action.owner_text:
        # The plan's words for this owner ("HoS Front Door") now name them: the next import of
        # the plan resolves the same cell without a chair's help.
        learn_alias(owner, action.owner_text)
        action.owner_text = None
    _touch(request, action)
    request.record(
        action,
        Change.ASSIGNED,
        old=previous.display_name if previous else None,
        new=owner.display_name,
    )
    view = action_view(action, today=request.today)
    ids = _tell_owner(request, action, owner)
    if previous is not None and previous.id != request.actor.id and previous.left_at is None:
        message = replies.reassigned_away(
            view, by=request.actor.display_name, new_owner=owner.display_name
        )
        ids += notify_people(
            request.session,
            board_id=request.board_id,
            kind="reassigned",
            people=[previous],
            message=message,
            now=request.now,
            action=action,
        )
    ids += _tell_owners(
        request,
        action,
        owner_notices.owner_changed(
            view,
            by=request.actor.display_name,
            old=previous.display_name if previous else None,
            new=owner.display_name,
        ),
        kind="owner_changed",
        supporters_only=True,
    )
    return Outcome(
        replies.changed(f"Assigned {replies.label(view)} to {owner.display_name}.", view), ids
    )


def mark_done(request: Request, command: MarkDone) -> Outcome:
    """Close an action; marking it done again changes nothing and is not an error."""
    action = request.action(command.action_id)
    require_owner_or_chair(request, action, "mark it done")
    view = action_view(action, today=request.today)
    if rules.already(action.status, Status.DONE):
        when = (
            action.done_at.astimezone(request.core.settings.tz).date() if action.done_at else None
        )
        on = f" on {format_date(when, today=request.today)}" if when else ""
        return _unchanged(f"#{action.id} was already marked done{on}; nothing changed.", view)
    if rules.must_reopen_first(action.status, Status.DONE):
        raise CommandError(
            f"#{action.id} is {action.status.label}; reopen it first.", action_usage("reopen")
        )
    if signoff.signoff_on(request.session, request.core.board.id):
        # The board signs off: done means delivered, waiting for a chair or the secretary.
        return signoff.deliver(request, action, command.note)
    _set_status(request, action, Status.DONE, note=command.note)
    view = action_view(action, today=request.today)
    return Outcome(replies.changed(f"Marked {replies.label(view)} as done.", view))


def add_update(request: Request, command: AddUpdate) -> Outcome:
    """Record a progress note (evidence); the first note on an open action starts it."""
    action = request.action(command.action_id)
    require_owner_or_chair(request, action, "add updates to it")
    if (started := rules.after_note(action.status)) is not None:
        _set_status(request, action, started)
    # A note touches only the history (the dispatcher retries the rare clash with the first
    # note's status change), so two people writing at once both land.
    request.record(action, Change.NOTE, note=command.note)
    view = action_view(action, today=request.today)
    return Outcome(replies.changed(f"Added your update to {replies.label(view)}.", view))


def mark_blocked(request: Request, command: MarkBlocked) -> Outcome:
    """Mark an action blocked with its reason; the chairs are told."""
    action = request.action(command.action_id)
    require_owner_or_chair(request, action, "mark it blocked")
    if rules.must_reopen_first(action.status, Status.BLOCKED):
        raise CommandError(
            f"#{action.id} is {action.status.label}; reopen it first.", action_usage("reopen")
        )
    if rules.already(action.status, Status.BLOCKED):
        # Still blocked, perhaps for a new reason: recorded even when it is the same one,
        # since the chairs are told again.
        before = rules.move(action, Status.BLOCKED, now=request.now, reason=command.reason)
        _touch(request, action)
        request.record(
            action,
            Change.BLOCKED_REASON,
            old=before.blocked_reason,
            new=command.reason,
        )
    else:
        # The reason is the status entry's note; it needs no entry of its own.
        _set_status(request, action, Status.BLOCKED, note=command.reason, reason=command.reason)
    view = action_view(action, today=request.today)
    alert = replies.blocked_alert(view, by=request.actor.display_name, reason=command.reason)
    ids = notify_people(
        request.session,
        board_id=request.board_id,
        kind="blocked",
        people=chairs(request.session, board=request.core.board),
        message=alert,
        now=request.now,
        action=action,
        skip=request.actor,
    )
    return Outcome(
        replies.changed(
            f"Marked {replies.label(view)} as blocked; the chairs are told.", view, tone="info"
        ),
        ids,
    )


def reopen_action(request: Request, command: Reopen) -> Outcome:
    """Put a done, cancelled or blocked action back to open."""
    action = request.action(command.action_id)
    require_owner_or_chair(request, action, "reopen it")
    view = action_view(action, today=request.today)
    if rules.already(action.status, Status.OPEN):
        return _unchanged(f"#{action.id} is already open; nothing changed.", view)
    _set_status(request, action, Status.OPEN)
    view = action_view(action, today=request.today)
    return Outcome(replies.changed(f"Reopened {replies.label(view)}.", view))


def cancel_action(request: Request, command: CancelAction) -> Outcome:
    """Withdraw an action (a chair's decision, with its reason): it keeps its history and
    leaves every list and reminder; the owner and supporting owners are told."""
    require_chair(request, "cancel actions", action_usage("cancel"))
    action = request.action(command.action_id)
    view = action_view(action, today=request.today)
    if rules.already(action.status, Status.CANCELLED):
        return _unchanged(f"#{action.id} is already cancelled; nothing changed.", view)
    if rules.must_reopen_first(action.status, Status.CANCELLED):
        raise CommandError(
            f"#{action.id} is {action.status.label}; reopen it first.", action_usage("reopen")
        )
    _set_status(request, action, Status.CANCELLED, note=command.reason)
    view = action_view(action, today=request.today)
    owners = [action.owner] if action.owner is not None else []
    owners += [s.person for s in action.supporters]
    ids = notify_people(
        request.session,
        board_id=request.board_id,
        kind="cancelled",
        people=owners,
        message=replies.cancelled_notice(
            view, by=request.actor.display_name, reason=command.reason
        ),
        now=request.now,
        action=action,
        skip=request.actor,
    )
    return Outcome(replies.changed(f"Cancelled {replies.label(view)}: {command.reason}", view), ids)


def move_due(request: Request, command: MoveDue) -> Outcome:
    """Move a deadline, keeping the reason in the history."""
    require_chair(request, "move deadlines", action_usage("due"))
    action = request.action(command.action_id)
    _refuse_past(request, command.due, "due")
    view = action_view(action, today=request.today)
    if action.due_date == command.due:
        return _unchanged(f"#{action.id} is already due {format_date(command.due)}.", view)
    old = action.due_date
    action.due_date = command.due
    _touch(request, action)
    if old is None:
        # A first date (the plan said "Ongoing") sets the baseline: it is no re-baseline.
        request.record(action, Change.DUE, old=old, new=command.due, note=command.reason)
    else:
        rebaseline.moved_directly(request, action, old=old, reason=command.reason)
    view = action_view(action, today=request.today)
    when = format_date(command.due, today=request.today)
    told = owner_notices.deadline_moved(
        view,
        by=request.actor.display_name,
        old=old,
        new=command.due,
        reason=command.reason,
        today=request.today,
    )
    ids = _tell_owners(request, action, told, kind="deadline_moved")
    return Outcome(replies.changed(f"Moved {replies.label(view)} to {when}.", view), ids)


def set_rag(request: Request, command: SetRag) -> Outcome:
    """Set the red/amber/green rating."""
    action = request.action(command.action_id)
    require_owner_or_chair(request, action, "set its RAG")
    view = action_view(action, today=request.today)
    if action.rag == command.rag:
        return _unchanged(f"#{action.id} is already {command.rag.value}.", view)
    old = action.rag
    action.rag = command.rag
    _touch(request, action)
    request.record(action, Change.RAG, old=old.value if old else None, new=command.rag.value)
    view = action_view(action, today=request.today)
    told = owner_notices.rag_set(
        view, by=request.actor.display_name, old=old.value if old else None, new=command.rag.value
    )
    ids = _tell_owners(request, action, told, kind="rag_set")
    return Outcome(replies.changed(f"Set {replies.label(view)} to {command.rag.value}.", view), ids)


def _refuse_past(request: Request, due: dt.date, verb: str) -> None:
    if due < request.today:
        raise CommandError(
            f"{format_date(due)} is in the past; give a date from today on.", action_usage(verb)
        )


def _unchanged(text: str, view: ActionView) -> Outcome:
    return Outcome(replies.unchanged(text, view))


def _touch(request: Request, action: Action) -> None:
    action.updated_at = request.now


def _set_status(
    request: Request,
    action: Action,
    status: Status,
    *,
    note: str | None = None,
    reason: str | None = None,
) -> None:
    before = rules.move(action, status, now=request.now, reason=reason)
    _touch(request, action)
    request.record(action, Change.STATUS, old=before.status.value, new=status.value, note=note)




def _new_owner(request: Request, ref: UserRef) -> Person:
    """The person a chair is giving an action to; refused, with the reason, if they left."""
    person = request.person(ref)
    platform = request.caller.platform
    require_present(person, platform=platform, directory=request.core.directories.get(platform))
    return person


def _tell_owners(
    request: Request,
    action: Action,
    message: Message,
    *,
    kind: str,
    supporters_only: bool = False,
) -> list[int]:
    """Tell the owner and supporting owners of a change someone else made to their action.

    Nobody is told what they did themselves, and nothing is sent when the owner made the
    change: it is their own action.
    """
    owner = action.owner
    if owner is not None and owner.id == request.actor.id and not supporters_only:
        return []
    people = owners_of(action, supporters_only=supporters_only)
    return request.notify(people, message, kind=kind, action=action)


def _tell_owner(request: Request, action: Action, owner: Person | None) -> list[int]:
    if owner is None:
        return []
    view = action_view(action, today=request.today)
    message = replies.assigned_to_you(view, by=request.actor.display_name)
    return notify_people(
        request.session,
        board_id=request.board_id,
        kind="assigned",
        people=[owner],
        message=message,
        now=request.now,
        action=action,
        skip=request.actor,
    )
