"""The platform-neutral reply model: services build it, each platform renders it its own way.

Everything here is data, never markup: renderers escape every string, so text a user typed
can never become a mention or a link on any platform.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SerializeAsAny

from bot.domain import Rag, Status
from bot.grammar.commands import ButtonCommand, Paged

#: A list command kept in a reply (and in the outbox with it): read back as its own class.
ListCommand = Annotated[SerializeAsAny[Paged], BeforeValidator(Paged.from_data)]


class View(BaseModel):
    model_config = ConfigDict(frozen=True)


class PersonView(View):
    """A person as shown in a reply: a name, and their accounts for platforms that link them."""

    id: int
    name: str
    accounts: dict[str, str] = Field(default_factory=dict)


class ActionView(View):
    """An action as shown to people, with lateness worked out for the day it is shown."""

    id: int
    ref: str | None = None
    title: str
    owner: PersonView | None = None
    due: dt.date | None = None
    #: How often an action without a deadline is reported on ("monthly"), if the plan says.
    cadence: str | None = None
    status: Status
    rag: Rag | None = None
    workstream: str | None = None
    priority: str | None = None
    blocked_reason: str | None = None
    #: How the board will know the action worked, as the plan says.
    success_measure: str | None = None
    days_late: int = 0
    days_left: int | None = None
    #: Where the declared RAG is greener than the computed one and no chair accepted it:
    #: `declared green, computed red: overdue 12 working days` (bot/services/ratings.py).
    rag_flag: str | None = None
    #: When it was marked done (a done action's lists say that, not its old deadline).
    done_at: dt.datetime | None = None
    #: How its deadline moved, where it did and the list says so (the digest): `moved twice,
    #: +12 working days` (bot/domain/rebaseline.py).
    moved: str | None = None
    #: The people its title or blocked reason mention (bot/render/inline.py), for renderers.
    mentions: list[PersonView] = Field(default_factory=list)


class LatestNote(View):
    """An action's latest update (a note written in chat, or the plan's notes), with its day."""

    text: str
    on: dt.date
    by: str | None = None
    #: The people the note mentions, for renderers.
    mentions: list[PersonView] = Field(default_factory=list)


#: The buttons an action can carry (bot/render/notice_parts.py says what each runs): the
#: owner's (done, update, blocked; unblocked on a blocked action) and the chair's (nudge,
#: move_due, reassign).
ActionButton = Literal[
    "done", "update", "blocked", "unblocked", "nudge", "move_due", "reassign", "new_date"
]


class HistoryView(View):
    """One line of an action's history."""

    at: dt.datetime
    actor: str | None
    source: str
    change: str
    field: str | None = None
    old: str | None = None
    new: str | None = None
    note: str | None = None
    #: The people its values and note mention, for renderers.
    mentions: list[PersonView] = Field(default_factory=list)


class Heading(View):
    type: Literal["heading"] = "heading"
    text: str


class Paragraph(View):
    type: Literal["paragraph"] = "paragraph"
    text: str


class ActionList(View):
    """A list of actions; `more` counts those left out, `more_hint` tells how to see them."""

    type: Literal["action_list"] = "action_list"
    title: str | None = None
    items: list[ActionView]
    more: int = 0
    more_hint: str | None = None
    empty: str = "Nothing to show."
    buttons: bool = False
    #: The chair's buttons on each open item (Nudge owner, Move deadline, Reassign).
    chair: bool = False
    #: The command that showed this list (page included): a press inside the list shows that
    #: page again, with the pressed item as it now stands.
    source: ListCommand | None = None


class Pager(View):
    """Page `page` of `pages` of a list of `total` actions; `command` shows that page."""

    type: Literal["pager"] = "pager"
    command: ListCommand
    page: int
    pages: int
    total: int

    def at(self, page: int) -> Paged:
        """The same list command, for another page."""
        return self.command.model_copy(update={"page": page})


class Buttons(View):
    """A row of buttons, each running one typed command when pressed (a reply's Undo)."""

    type: Literal["buttons"] = "buttons"
    items: list[Button]


class Button(View):
    """One button: its label and the command a press runs (`command.typed()` where there
    are no buttons, as in the console)."""

    label: str
    command: ButtonCommand
    style: Literal["default", "primary", "danger"] = "default"
    #: What a press asks for before its command runs: a reason (Return) or the evidence (a
    #: note, a link, a file); Slack opens a form, a Teams card shows the fields.
    form: Literal["reason", "evidence"] | None = None


class ActionDetail(View):
    """One action in full, optionally with its history and the owner's buttons."""

    type: Literal["action_detail"] = "action_detail"
    action: ActionView
    history: list[HistoryView] = Field(default_factory=list)
    history_more: int = 0
    buttons: bool = False
    #: The chair's buttons (Nudge owner, Move deadline, Reassign), for a chair looking at it.
    chair: bool = False
    #: The latest update, shown above the history.
    latest: LatestNote | None = None


class ActionNotice(View):
    """One action as a reminder, nudge or escalation shows it: `headline` ("⚠️ Due today")
    before its reference and title, `prompt` (a question for its owner), one line of context,
    the latest update, then `buttons` in their order."""

    type: Literal["action_notice"] = "action_notice"
    headline: str
    action: ActionView
    prompt: str | None = None
    latest: LatestNote | None = None
    buttons: list[ActionButton] = Field(default_factory=list)


class NoticeList(View):
    """Several notices in one message (a person's bundle); `more` counts those left out."""

    type: Literal["notice_list"] = "notice_list"
    title: str | None = None
    items: list[ActionNotice]
    more: int = 0
    more_hint: str | None = None


#: The colour a figure is drawn in (Adaptive Card colour names; Slack shows a coloured mark).
CountTone = Literal["attention", "warning", "good", "accent"]


class Count(View):
    label: str
    value: int
    delta: int | None = None
    #: Its colour: a RAG count in its RAG colour, overdue in red.
    tone: CountTone | None = None
    #: A few words after it, such as `3 red` after `5 overdue`.
    note: str | None = None


class Counts(View):
    """A row of figures, e.g. open / overdue / blocked, with changes against last time."""

    type: Literal["counts"] = "counts"
    title: str | None = None
    items: list[Count]
    #: Drawn as one line of words ("5 overdue · 2 blocked"), number first, not as a grid.
    line: bool = False


class Divider(View):
    """A line between parts of a long view (the App Home)."""

    type: Literal["divider"] = "divider"


class DateRequestCard(View):
    """A request for a new deadline as the chairs and the secretary get it: who asked, the
    dates, why, and Approve / Decline while it is pending (each also a typed command:
    `/action approve <id>`, `/action decline <id> <reason>`)."""

    type: Literal["date_request"] = "date_request"
    request_id: int
    action: ActionView
    asked_by: str
    old_due: dt.date | None = None
    new_due: dt.date
    reason: str
    baseline: dt.date | None = None
    #: Working days the new date puts the action from its baseline.
    slippage: int = 0
    #: How often the deadline moved before this request.
    rebaselines: int = 0
    #: The buttons are drawn only while the request waits for a decision.
    pending: bool = True


class Usage(View):
    type: Literal["usage"] = "usage"
    lines: list[str]


class Image(View):
    """A picture at a public URL, with its text alternative (the digest's BRAG trend chart:
    the figures in words, for screen readers and for the console, which shows no pictures)."""

    type: Literal["image"] = "image"
    url: str
    alt: str
    title: str | None = None


Block = Annotated[
    Heading
    | Paragraph
    | ActionList
    | ActionDetail
    | Counts
    | Usage
    | Pager
    | Buttons
    | ActionNotice
    | NoticeList
    | Divider
    | DateRequestCard
    | Image,
    Field(discriminator="type"),
]

Tone = Literal["info", "success", "warning", "error"]


class PackFiles(View):
    """A board pack's files to go with a channel post: uploaded on Slack; on other
    platforms the message's own link to the pack stands for them."""

    pack_id: int
    names: list[str]
    #: The pack's link, kept with the post (the token is stored nowhere else): the digest
    #: shows the trend chart served under it while it is valid.
    url: str | None = None


class Message(View):
    """A whole reply or notification. `text` is the one-line summary used as the fallback."""

    text: str
    blocks: list[Block] = Field(default_factory=list)
    tone: Tone = "info"
    ephemeral: bool = True
    files: PackFiles | None = None
