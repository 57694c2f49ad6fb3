"""A person's home page (Slack's App Home tab): their open actions, and the board for chairs."""

from __future__ import annotations

from bot.domain import Status
from bot.errors import CommandError
from bot.grammar.commands import StatusDue, StatusPerson
from bot.grammar.paging import typed
from bot.render.from_storage import action_view
from bot.render.model import (
    ActionList,
    Block,
    Divider,
    Heading,
    Message,
    Pager,
    Paragraph,
    Usage,
)
from bot.render.replies import LIST_LIMIT, action_list
from bot.services import status
from bot.services.context import Caller, Core
from bot.services.request import Request, request_on_board
from storage import queries
from storage.db import transaction


def home_message(core: Core, caller: Caller) -> Message:
    """The caller's open actions by due date, with buttons; chairs also get the board overview,
    first when they own nothing (an empty list of their own would only push it down). Of the
    board their direct messages are about (the one they chose, or their only one)."""
    with transaction(core.sessions) as session:
        try:
            request = request_on_board(core, session, caller, action_id=None)
        except CommandError as refused:  # an outsider, or a workspace without a board
            return Message(text=refused.reason, blocks=[Paragraph(text=refused.reason)])
        actor, now = request.actor, request.now
        own: list[Block] = list(status.status_person(request, StatusPerson()).message.blocks)
        owns_nothing = (
            queries.count_open(session, board_id=request.board_id, owner_id=actor.id) == 0
        )
        blocks: list[Block] = []
        if not (request.actor_is_chair and owns_nothing):
            blocks += [*own, Divider()]
        if request.actor_is_chair:
            blocks += _board(request)
            if owns_nothing:
                blocks.append(Paragraph(text="You have no open actions of your own."))
            blocks.append(Divider())
    at = now.astimezone(request.core.settings.tz)
    blocks.append(Usage(lines=["/action help  ·  /status overdue  ·  /status due"]))
    blocks.append(Paragraph(text=f"Updated at {at:%H:%M}."))
    return Message(text="Your actions", blocks=without_pagers(blocks))


def _board(request: Request) -> list[Block]:
    """The board overview: the figures, then what is overdue, due this week and blocked."""
    blocks: list[Block] = [Heading(text="Board overview")]
    summary = status.status_summary(request).message.blocks
    blocks.extend(block for block in summary if not isinstance(block, Heading))
    for part in (
        status.status_overdue(request).message.blocks,
        status.status_due(request, StatusDue(days=7)).message.blocks,
        _blocked(request).blocks,
    ):
        blocks += [Divider(), *part]
    return blocks


def without_pagers(blocks: list[Block]) -> list[Block]:
    """The first page of each list, its pager replaced by "and N more" naming the command
    that shows the next page: the home tab is redrawn as a whole, so it does not page."""
    out: list[Block] = []
    for block in blocks:
        if isinstance(block, Pager) and out and isinstance(out[-1], ActionList):
            shown = out[-1]
            out[-1] = shown.model_copy(
                update={
                    "more": max(0, block.total - len(shown.items)),
                    "more_hint": typed(block.command, page=block.page + 1),
                }
            )
        elif isinstance(block, ActionList):
            # A press on the home tab redraws the whole tab: its buttons need not name a list.
            out.append(block.model_copy(update={"source": None}))
        elif not isinstance(block, Pager):
            out.append(block)
    return out


def _blocked(request: Request) -> Message:
    board_id = request.board_id
    items = queries.blocked_actions(request.session, board_id=board_id, limit=LIST_LIMIT)
    total = queries.count_by_status(request.session, board_id=board_id)[Status.BLOCKED]
    return action_list(
        "Blocked",
        [action_view(a, today=request.today) for a in items],
        total=total,
        empty="Nothing is blocked.",
        more_hint="/status blocked lists them all",
    )
