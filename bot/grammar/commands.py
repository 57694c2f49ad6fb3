"""Parsed commands: what a user asked for, as typed values, before anything is looked up."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bot.domain import Rag


class UserRef(BaseModel):
    """Someone named in a command: a platform id (`<@U123>`), a plain `@name`, or an email."""

    model_config = ConfigDict(frozen=True)

    platform_id: str | None = None
    name: str | None = None
    email: str | None = None

    def describe(self) -> str:
        """How to quote this reference back to the user."""
        return self.email or (f"@{self.name}" if self.name else f"<{self.platform_id}>")


class Command(BaseModel):
    model_config = ConfigDict(frozen=True)


class AddAction(Command):
    verb: Literal["add"] = "add"
    title: str | None  # None: no text was given, so platforms with forms open one
    owner: UserRef | None = None
    due: dt.date | None = None
    workstream: str | None = None  # forms ask for it; the one-line grammar does not


class AssignAction(Command):
    verb: Literal["assign"] = "assign"
    action_id: int
    owner: UserRef


class MarkDone(Command):
    verb: Literal["done"] = "done"
    action_id: int
    note: str | None = None


class AddUpdate(Command):
    verb: Literal["update"] = "update"
    action_id: int
    note: str


class MarkBlocked(Command):
    verb: Literal["blocked"] = "blocked"
    action_id: int
    reason: str


class Reopen(Command):
    verb: Literal["reopen"] = "reopen"
    action_id: int


class MoveDue(Command):
    verb: Literal["due"] = "due"
    action_id: int
    due: dt.date
    reason: str | None = None


class SetRag(Command):
    verb: Literal["rag"] = "rag"
    action_id: int
    rag: Rag


class ShowAction(Command):
    verb: Literal["show"] = "show"
    action_id: int


class ListActions(Command):
    verb: Literal["list"] = "list"
    scope: Literal["mine", "all", "user"] = "all"
    user: UserRef | None = None


class Help(Command):
    verb: Literal["help"] = "help"
    topic: str | None = None


class StatusSummary(Command):
    verb: Literal["status"] = "status"


class StatusOverdue(Command):
    verb: Literal["overdue"] = "overdue"


class StatusPerson(Command):
    verb: Literal["person"] = "person"
    user: UserRef | None = None  # None: the caller ("mine")


class StatusDue(Command):
    verb: Literal["due_soon"] = "due_soon"
    days: int = 7


class StatusUnassigned(Command):
    verb: Literal["unassigned"] = "unassigned"


class StatusNoDate(Command):
    """`/status nodate`: open actions without a deadline."""

    verb: Literal["nodate"] = "nodate"


class StatusDigest(Command):
    verb: Literal["digest"] = "digest"
    post: bool = False


#: Commands that change an action; they are the ones permissions and locking apply to.
ActionChange = AssignAction | MarkDone | AddUpdate | MarkBlocked | Reopen | MoveDue | SetRag
