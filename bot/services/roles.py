"""The board's roles: a chair gives someone a role (`/board role`, `actionbot people role`),
the change is recorded with who, when, old and new, and the person is told."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.boards.members import holders, put_role, role_on
from bot.boards.view import BoardView
from bot.domain import Change, Role
from bot.errors import CommandError
from bot.grammar.board import ListRoles, SetRole
from bot.grammar.usage import board_usage
from bot.outbox.queue import notify_people
from bot.people.resolve import chairs, is_chair, named_chair
from bot.render.model import Heading, Message, Paragraph, Usage
from bot.services.permissions import Permission, require
from bot.services.request import Outcome, Request
from storage.models import Person, RoleChange

#: What each role means, as the person given it is told.
MEANING = {
    Role.CHAIR: "a chair: you run the plan and manage the board's roles",
    Role.SECRETARY: (
        "the board's secretary: beside the chairs you add, assign, move and cancel actions, "
        "update any action and post the digest (the chairs still manage roles)"
    ),
    Role.MEMBER: "a board member: you see the whole plan and update the actions you own",
    Role.OBSERVER: "an observer: you see the plan and change nothing",
    Role.NONE: "no role on the board: you see the plan and update the actions you own",
}

#: How `/board roles` heads each role, in order.
_HEADINGS = (
    (Role.SECRETARY, "Secretary"),
    (Role.MEMBER, "Members"),
    (Role.OBSERVER, "Observers"),
)


@dataclass(frozen=True)
class RoleChanged:
    """What a change of role did: the entry recorded and the outbox rows of the message."""

    old: Role
    new: Role
    outbox_ids: list[int]


def change_role(
    session: Session,
    *,
    person: Person,
    role: Role,
    actor: Person | None,
    source: str,
    now: dt.datetime,
    board: BoardView,
) -> RoleChanged | None:
    """Give `person` `role`, record it and queue the message telling them; None when they
    hold it already. CommandError for a chair named in CHAIR_USER_IDS (configuration, not a
    command, makes them chair)."""
    if role != Role.CHAIR and board.is_default and named_chair(person, board.settings):
        raise CommandError(
            f"{person.display_name} is a chair through CHAIR_USER_IDS, so no command can change "
            "their role; take them out of CHAIR_USER_IDS and restart the bot first.",
            None,
        )
    old = role_on(session, board.id, person.id)
    if old == role:
        return None
    put_role(session, board.id, person.id, role)
    session.add(
        RoleChange(
            board_id=board.id,
            person=person,
            at=now,
            actor=actor,
            source=source,
            change=Change.ROLE.value,
            old_value=old.value,
            new_value=role.value,
        )
    )
    by = actor.display_name if actor is not None else "The board's administrator"
    text = f"{by} changed your role on {board.called}: you are now {MEANING[role]}."
    told = Message(
        text=text,
        blocks=[Paragraph(text=text), Usage(lines=["/action help  ·  /board roles"])],
    )
    ids = notify_people(
        session,
        board_id=board.id,
        kind="role",
        people=[person],
        message=told,
        now=now,
        skip=actor,
    )
    return RoleChanged(old=old, new=role, outbox_ids=ids)


def set_role(request: Request, command: SetRole) -> Outcome:
    """`/board role @user <role>`: a chair changes someone's role; they are told."""
    require(request, Permission.SET_ROLE, usage=board_usage("role"))
    if command.role == Role.CHAIR:
        raise CommandError(
            "Chairs are named in CHAIR_USER_IDS (or with `actionbot people role EMAIL chair`); "
            "/board role gives secretary, member, observer or none.",
            board_usage("role"),
        )
    person = request.person(command.user)
    if person.id == request.actor.id:
        raise CommandError("You cannot change your own role; ask another chair.", None)
    changed = change_role(
        request.session,
        person=person,
        role=command.role,
        actor=request.actor,
        source=request.source,
        now=request.now,
        board=request.core.board,
    )
    if changed is None:
        text = f"{person.display_name} is already {_named(command.role)}; nothing changed."
        return Outcome(Message(text=text, blocks=[Paragraph(text=text)]))
    text = (
        f"{person.display_name} is now {_named(changed.new)} (was {_named(changed.old)}); "
        "they are told."
    )
    return Outcome(
        Message(text=text, blocks=[Paragraph(text=text)], tone="success"), changed.outbox_ids
    )


def list_roles(request: Request, command: ListRoles) -> Outcome:
    """`/board roles`: the chairs, the secretary, members and observers, by name."""
    require(request, Permission.LIST_ROLES, usage=board_usage("roles"))
    board, session = request.core.board, request.session
    blocks: list[Heading | Paragraph | Usage] = [Heading(text="The board's roles")]
    chair_names = [_name(p, board) for p in chairs(session, board=board)]
    blocks.append(Paragraph(text="Chairs: " + (", ".join(chair_names) or "none yet")))
    for role, heading in _HEADINGS:
        held = sorted(session.scalars(holders(board.id, role)).all(), key=lambda p: p.display_name)
        names = ", ".join(p.display_name for p in held if not is_chair(session, p, board))
        blocks.append(Paragraph(text=f"{heading}: {names or 'none'}"))
    blocks.append(
        Paragraph(
            text="Everyone else in the workspace sees the plan and updates the actions they "
            "own; people from outside it only the actions they own."
        )
    )
    blocks.append(Usage(lines=[board_usage("role")]))
    return Outcome(Message(text="The board's roles", blocks=list(blocks)))


def _named(role: Role) -> str:
    return {
        Role.CHAIR: "a chair",
        Role.SECRETARY: "the secretary",
        Role.MEMBER: "a member",
        Role.OBSERVER: "an observer",
        Role.NONE: "without a role",
    }[role]


def _name(person: Person, board: BoardView) -> str:
    named = board.is_default and named_chair(person, board.settings)
    return person.display_name + (" (CHAIR_USER_IDS)" if named else "")
