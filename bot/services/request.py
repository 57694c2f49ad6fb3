"""One command being served: who asked, when, and the open unit of work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bot.boards.members import role_on
from bot.domain import Role
from bot.domain.changes import Change
from bot.errors import CommandError
from bot.grammar.commands import UserRef
from bot.outbox.queue import notify_people
from bot.people.resolve import is_chair, resolve_user
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
    def actor_is_chair(self) -> bool:
        """Whether the caller may do a chair's job on the command's board."""
        return is_chair(self.session, self.actor, self.core.board)

    @property
    def actor_role(self) -> Role:
        """The caller's role on the command's board (NONE when they hold none)."""
        return role_on(self.session, self.core.board.id, self.actor.id)

    def action(self, action_id: int) -> Action:
        """The action with this number; CommandError if there is none."""
        return existing_action(self.session, action_id)

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


def existing_action(session: Session, action_id: int) -> Action:
    """The action with this number; CommandError if there is none."""
    action = get_action(session, action_id=action_id)
    if action is None:
        raise CommandError(f"There is no action #{action_id}.", "/action list")
    return action


@dataclass
class Outcome:
    """What a command produced: the reply, the notifications it queued, a form to open."""

    message: Message
    outbox_ids: list[int] = field(default_factory=list)
    open_form: str | None = None
