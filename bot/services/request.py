"""One command being served: who asked, when, and the open unit of work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.orm import Session

from bot.boards.finder import find_board
from bot.boards.members import role_on
from bot.boards.view import BoardView
from bot.domain import Role
from bot.domain.changes import Change
from bot.errors import CommandError
from bot.grammar.commands import UserRef
from bot.outbox.queue import notify_people
from bot.people.resolve import is_chair, resolve_caller, resolve_user
from bot.render.model import Message
from bot.services import history
from bot.services.context import Caller, Core
from storage.models import Action, Person
from storage.queries import get_action


@dataclass
class Request:
    """The context a use case runs in; built by the dispatcher inside one transaction."""

    core: Core
    session: Session
    caller: Caller
    actor: Person
    now: dt.datetime
    today: dt.date

    @property
    def source(self) -> str:
        """Where the change came from, as history records it."""
        return self.caller.platform.value

    @property
    def board_id(self) -> int:
        """The command's board: every row it reads is of this board, every row it writes names
        it."""
        return self.core.board.id

    # Read once per command: permissions, the use case and its words all ask, and a caller
    # cannot change their own role (`/board role` refuses it).
    @cached_property
    def actor_is_chair(self) -> bool:
        """Whether the caller may do a chair's job on the command's board."""
        return is_chair(self.session, self.actor, self.core.board, role=self.actor_role)

    @cached_property
    def actor_role(self) -> Role:
        """The caller's role on the command's board (NONE when they hold none)."""
        return role_on(self.session, self.core.board.id, self.actor.id)

    def action(self, action_id: int) -> Action:
        """The action with this number on the command's board; CommandError if there is none
        (there, or anywhere)."""
        return existing_action(self.session, action_id, board_id=self.board_id)

    def record(
        self,
        action: Action,
        change: Change,
        *,
        old: object = None,
        new: object = None,
        note: str | None = None,
    ) -> None:
        """Add a history entry by the caller, now, in this command's transaction."""
        history.record(
            self.session,
            action=action,
            actor=self.actor,
            source=self.source,
            at=self.now,
            change=change,
            old=old,
            new=new,
            note=note,
        )

    def notify(
        self, people: Iterable[Person], message: Message, *, kind: str, action: Action
    ) -> list[int]:
        """Queue `message` to each of `people` about `action`, never to the caller, who made
        the change; returns the outbox ids."""
        return notify_people(
            self.session,
            board_id=self.board_id,
            kind=kind,
            people=people,
            message=message,
            now=self.now,
            action=action,
            skip=self.actor,
        )

    def person(self, ref: UserRef) -> Person:
        """The person a command names, looked up on the caller's platform."""
        if ref.me:
            return self.actor
        directory = self.core.directories.get(self.caller.platform)
        return resolve_user(
            self.session, ref=ref, platform=self.caller.platform, directory=directory, now=self.now
        )


def request_on_board(
    core: Core, session: Session, caller: Caller, *, action_id: int | None
) -> Request:
    """The request of a button or form answered outside the dispatcher (before a form
    opens), on the board the dispatcher would run its command on: the channel's, the
    action's, or the caller's own. An action the caller's workspace cannot see is left to
    `Request.action` to refuse as unknown."""
    now = core.now()
    actor = resolve_caller(session, caller=caller, now=now, settings=core.settings)
    found = find_board(
        session, core.boards, caller=caller, named=None, person=actor, action_id=action_id
    )
    on = core.on(found) if isinstance(found, BoardView) else core
    return Request(on, session, caller, actor, now, on.today())


def existing_action(session: Session, action_id: int, *, board_id: int) -> Action:
    """The action with this number on the board; CommandError if there is none. One of
    another board is refused in the same words: whether it exists is none of this board's
    business."""
    action = get_action(session, action_id=action_id, board_id=board_id)
    if action is None:
        raise CommandError(f"There is no action #{action_id}.", "/action list")
    return action


@dataclass
class Outcome:
    """What a command produced: the reply, the notifications it queued, a form to open."""

    message: Message
    outbox_ids: list[int] = field(default_factory=list)
    open_form: str | None = None
