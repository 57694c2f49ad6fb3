"""Parsed commands: what a user asked for, as typed values, before anything is looked up."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field
from pydantic.fields import FieldInfo

from bot.domain import Rag


@dataclass(frozen=True)
class MaxChars:
    """The most characters a text field of a command may hold.

    Checked by `Command.too_long` in dispatch.execute, so typed text, buttons and forms (even
    a hand-made submission) meet the same limits; never at construction, so a command that
    is too long is refused with a reply instead of failing where it was built.
    """

    chars: int
    what: str


#: Titles stay readable in lists; notes and reasons are evidence, not essays; a workstream
#: fits its column.
TITLE_CHARS = 300
NOTE_CHARS = 2000
WORKSTREAM_CHARS = 200
NAME_CHARS = 200
EMAIL_CHARS = 320

Title = Annotated[str, MaxChars(TITLE_CHARS, "title")]
Note = Annotated[str, MaxChars(NOTE_CHARS, "note")]
Reason = Annotated[str, MaxChars(NOTE_CHARS, "reason")]
Workstream = Annotated[str, MaxChars(WORKSTREAM_CHARS, "workstream")]
Name = Annotated[str, MaxChars(NAME_CHARS, "name")]
Email = Annotated[str, MaxChars(EMAIL_CHARS, "email address")]


def _limits(info: FieldInfo) -> list[MaxChars]:
    # `Title` keeps its limit in the field's metadata; `Title | None` inside the union.
    found = [m for m in info.metadata if isinstance(m, MaxChars)]
    for arg in get_args(info.annotation):
        found += [m for m in getattr(arg, "__metadata__", ()) if isinstance(m, MaxChars)]
    return found


def _too_long(model: BaseModel) -> str | None:
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        for limit in _limits(info):
            if isinstance(value, str) and len(value) > limit.chars:
                return (
                    f"The {limit.what} is {len(value):,} characters long; the most is "
                    f"{limit.chars:,}. Nothing was changed."
                )
        for item in value if isinstance(value, tuple | list) else (value,):
            if isinstance(item, BaseModel) and (problem := _too_long(item)) is not None:
                return problem
    return None


class UserRef(BaseModel):
    """Someone named in a command: a platform id (`<@U123>`), a plain `@name`, or an email."""

    model_config = ConfigDict(frozen=True)

    platform_id: Name | None = None
    name: Name | None = None
    email: Email | None = None
    #: `me`: whoever typed the command.
    me: bool = False

    def describe(self) -> str:
        """How to quote this reference back to the user."""
        if self.me:
            return "you"
        return self.email or (f"@{self.name}" if self.name else f"<{self.platform_id}>")


class Command(BaseModel):
    model_config = ConfigDict(frozen=True)

    def too_long(self) -> str | None:
        """The one-line refusal when a text field is over its limit (MaxChars), else None."""
        return _too_long(self)


class Paged(Command):
    """A command that shows a list, one page at a time (`/status overdue page 2`).

    Buttons (Next, Previous) build the same command with another page, so a list is never
    parsed again from text; `verb` names the command when it is kept in a button or a message.
    """

    verb: str
    page: int = Field(default=1, ge=1, le=10_000)

    @classmethod
    def from_data(cls, data: object) -> Paged:
        """The command a button or a stored message holds (its `verb` picks the class)."""
        if isinstance(data, Paged):
            return data
        if not isinstance(data, dict):
            raise ValueError("a list command is an object")
        for kind in _paged_kinds(cls):
            if kind.model_fields["verb"].default == data.get("verb"):
                return kind.model_validate(data)
        raise ValueError(f"no list command {data.get('verb')!r}")


def _paged_kinds(base: type[Paged]) -> list[type[Paged]]:
    kinds: list[type[Paged]] = []
    for kind in base.__subclasses__():
        kinds += [kind, *_paged_kinds(kind)]
    return kinds


class AddAction(Command):
    verb: Literal["add"] = "add"
    title: Title | None  # None: no text was given, so platforms with forms open one
    owner: UserRef | None = None
    #: Supporting owners: named after the accountable owner (`for @dee, @amira`).
    supporters: tuple[UserRef, ...] = ()
    due: dt.date | None = None
    workstream: Workstream | None = None  # forms ask for it; the one-line grammar does not


class AssignAction(Command):
    verb: Literal["assign"] = "assign"
    action_id: int
    owner: UserRef


class MarkDone(Command):
    verb: Literal["done"] = "done"
    action_id: int
    note: Note | None = None


class AddUpdate(Command):
    verb: Literal["update"] = "update"
    action_id: int
    note: Note


class MarkBlocked(Command):
    verb: Literal["blocked"] = "blocked"
    action_id: int
    reason: Reason


class Reopen(Command):
    verb: Literal["reopen"] = "reopen"
    action_id: int


class CancelAction(Command):
    """`cancel <id> <reason>`: a chair withdraws an action; its history stays."""

    verb: Literal["cancel"] = "cancel"
    action_id: int
    reason: Reason


class MoveDue(Command):
    verb: Literal["due"] = "due"
    action_id: int
    due: dt.date
    reason: Reason | None = None


class NudgeOwner(Command):
    """`nudge <id>`: a chair sends the owner one message about the action now."""

    verb: Literal["nudge"] = "nudge"
    action_id: int


class RequestDate(Command):
    """`rebaseline <id> <date> <reason>`: an owner asks the chairs for a new deadline."""

    verb: Literal["rebaseline"] = "rebaseline"
    action_id: int
    due: dt.date
    reason: Reason


class ApproveDate(Command):
    """`approve <id>`: a chair or the secretary approves the request for a new date."""

    verb: Literal["approve"] = "approve"
    action_id: int
    #: The request a button was drawn for, so an old button never approves a newer request;
    #: None (typed): the pending one.
    request_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class DeclineDate(Command):
    """`decline <id> <reason>`: a chair or the secretary declines it; the owner hears why."""

    verb: Literal["decline"] = "decline"
    action_id: int
    reason: Reason
    request_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class SignOff(Command):
    """`signoff <id> [note]`: a chair or the secretary accepts a delivered action: complete."""

    verb: Literal["signoff"] = "signoff"
    action_id: int
    note: Note | None = None

    def typed(self) -> str:
        """The command as typed where there are no buttons."""
        return f"/action signoff {self.action_id} [note]"


class ReturnAction(Command):
    """`return <id> <reason>`: a chair or the secretary sends a delivered action back, open.

    The reason is None only in a button's command, which asks for it before it runs.
    """

    verb: Literal["return"] = "return"
    action_id: int
    reason: Reason | None = None

    def typed(self) -> str:
        """The command as typed where there are no buttons."""
        return f"/action return {self.action_id} <reason>"


class EvidenceFile(BaseModel):
    """A file given as evidence, as its platform holds it: never its bytes.

    Built by the platform adapter from what it read of the platform (Slack's files.info and
    the file's download, Teams' attachment); the grammar never makes one from typed words.
    """

    model_config = ConfigDict(frozen=True)

    ref: Annotated[str, MaxChars(500, "file reference")]
    name: Annotated[str, MaxChars(300, "file name")]
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    url: Annotated[str, MaxChars(NOTE_CHARS, "link")] | None = None


class AddEvidence(Command):
    """`evidence <id> <note or link>`, or the evidence form: what shows an action was done."""

    verb: Literal["evidence"] = "evidence"
    action_id: int
    note: Note | None = None
    link: Annotated[str, MaxChars(NOTE_CHARS, "link")] | None = None
    file: EvidenceFile | None = None

    def typed(self) -> str:
        """The command as typed where there are no buttons."""
        return f"/action evidence {self.action_id} <note or link>"


class SetRag(Command):
    verb: Literal["rag"] = "rag"
    action_id: int
    rag: Rag


class UndoReply(Command):
    """`undo 345-346`: take back what a reply to a reminder recorded (history entries `first`
    to `last` of one action), within minutes, by whoever replied or a chair."""

    verb: Literal["undo"] = "undo"
    first: int = Field(ge=1, le=2**31 - 1)
    last: int = Field(ge=1, le=2**31 - 1)

    def typed(self) -> str:
        """The command as typed where there are no buttons."""
        span = str(self.first) if self.first == self.last else f"{self.first}-{self.last}"
        return f"/action undo {span}"


class ShowAction(Command):
    verb: Literal["show"] = "show"
    action_id: int


class ListActions(Paged):
    verb: Literal["list"] = "list"
    scope: Literal["mine", "all", "user"] = "all"
    user: UserRef | None = None


class Help(Command):
    verb: Literal["help"] = "help"
    topic: str | None = None


class StatusSummary(Command):
    verb: Literal["status"] = "status"


class StatusOverdue(Paged):
    verb: Literal["overdue"] = "overdue"
    user: UserRef | None = None  # None: everyone's


class StatusPerson(Paged):
    verb: Literal["person"] = "person"
    user: UserRef | None = None  # None: the caller ("mine")


class StatusDue(Paged):
    """Open actions due in a window: from `offset` days after today, `days` days long."""

    verb: Literal["due_soon"] = "due_soon"
    days: int = 7
    offset: int = 0
    #: How the window was asked for ("this week"); None: "in the next N days".
    span: str | None = None


class StatusBlocked(Paged):
    """`/status blocked`: blocked actions with their reasons."""

    verb: Literal["blocked_list"] = "blocked_list"


class StatusRag(Paged):
    """`/status red` (amber, green): open actions of one RAG rating."""

    verb: Literal["rag_list"] = "rag_list"
    rag: Rag


class StatusDone(Paged):
    """`/action list done`: finished actions, the latest first."""

    verb: Literal["done_list"] = "done_list"


class StatusAwaiting(Paged):
    """`/status signoff` (or `delivered`): delivered actions waiting for sign-off, the
    longest waiting first."""

    verb: Literal["signoff_list"] = "signoff_list"


class StatusUnassigned(Paged):
    verb: Literal["unassigned"] = "unassigned"


class StatusNoDate(Paged):
    """`/status nodate`: open actions without a deadline."""

    verb: Literal["nodate"] = "nodate"


class StatusRules(Command):
    """`/status rules`: how the bot computes a BRAG rating."""

    verb: Literal["rules"] = "rules"


class AcceptRag(Command):
    """`accept <id> <reason>`: a chair keeps the declared rating against the computed one."""

    verb: Literal["accept"] = "accept"
    action_id: int
    reason: Reason


class StatusDigest(Command):
    verb: Literal["digest"] = "digest"
    post: bool = False


class BoardSettings(Command):
    """`/board settings [signoff on|off | <key> <value>|default]`: show the board's settings,
    or (a chair) change one.

    `signoff` and `key` None show them; `value` None with a `key` resets it to the
    environment's.
    """

    verb: Literal["board_settings"] = "board_settings"
    signoff: bool | None = None
    #: A per-board setting (bot/boards/registry.py's BOARD_SETTINGS) and its new value.
    key: Annotated[str, MaxChars(40, "setting's name")] | None = None
    value: Annotated[str, MaxChars(200, "setting's value")] | None = None

    @property
    def changes(self) -> bool:
        """Whether it changes a setting (a chair's job) rather than showing them."""
        return self.signoff is not None or self.key is not None


class CreateBoard(Command):
    """`/board create <name>`: a new board in the caller's workspace, the caller its chair."""

    verb: Literal["board_create"] = "board_create"
    name: Annotated[str, MaxChars(80, "board name")]


class LinkBoard(Command):
    """`/board link [board]`: the channel it is typed in becomes the board's channel."""

    verb: Literal["board_link"] = "board_link"
    #: The board to link; None: the board the command is on.
    board: Annotated[str, MaxChars(80, "board name")] | None = None


class ListBoards(Command):
    """`/board list`: the boards the caller can see, with their channels and the caller's role."""

    verb: Literal["board_list"] = "board_list"


class UseBoard(Command):
    """`/board use <name>`: the board your direct messages are about, when you are on several."""

    verb: Literal["board_use"] = "board_use"
    board: Annotated[str, MaxChars(80, "board name")]

    def typed(self) -> str:
        """The command that does the same where there are no buttons."""
        return f"/board use {self.board}"


#: Commands a button may hold and run as it is (a reply's Undo, Sign off, Return, Add
#: evidence); a button whose command lacks words asks for them first (a form).
class UpdateRound(Command):
    """The update round's Update button: a RAG, a note and a link for one action at once.

    The button holds the action's current RAG and last note: the form opens with them, and
    what it sends replaces them. Typed, it is `/action rag`, `update` and `evidence`.
    """

    verb: Literal["round_update"] = "round_update"
    action_id: int
    rag: Rag | None = None
    note: Note | None = None
    link: Annotated[str, MaxChars(NOTE_CHARS, "link")] | None = None

    def typed(self) -> str:
        """The commands that do the same where there are no buttons."""
        n = self.action_id
        return f"/action rag {n} red|amber|green · /action update {n} <note>"


ButtonCommand = Annotated[
    UndoReply | SignOff | ReturnAction | AddEvidence | UpdateRound | UseBoard,
    Field(discriminator="verb"),
]

#: Commands that change an action; they are the ones permissions and locking apply to.
ActionChange = (
    AssignAction
    | MarkDone
    | AddUpdate
    | MarkBlocked
    | Reopen
    | MoveDue
    | SetRag
    | CancelAction
    | SignOff
    | ReturnAction
)
