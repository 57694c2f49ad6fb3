"""A person's home page (Slack's App Home tab): their open actions, and the board for chairs."""

from __future__ import annotations

from bot.domain import Status
from bot.grammar.commands import StatusDue, StatusPerson
from bot.render.from_storage import action_view
from bot.render.model import Block, Heading, Message, Usage
from bot.render.replies import LIST_LIMIT, action_list
from bot.services import status
from bot.services.context import Caller, Core
from bot.services.people import resolve_caller
from bot.services.request import Request
from storage import queries
from storage.db import transaction


def home_message(core: Core, caller: Caller) -> Message:
    """The caller's open actions by due date, with buttons; chairs also get the board overview."""
    with transaction(core.sessions) as session:
        now = core.now()
        actor = resolve_caller(session, caller=caller, now=now)
        request = Request(core, session, caller, actor, now, core.today())
        blocks: list[Block] = list(status.status_person(request, StatusPerson()).message.blocks)
        if request.actor_is_chair:
            blocks.append(Heading(text="Board overview"))
            summary = status.status_summary(request).message.blocks
            blocks.extend(block for block in summary if not isinstance(block, Heading))
            blocks.extend(status.status_overdue(request).message.blocks)
            blocks.extend(status.status_due(request, StatusDue(days=7)).message.blocks)
            blocks.extend(_blocked(request).blocks)
    blocks.append(Usage(lines=["/action help  ·  /status overdue  ·  /status due"]))
    return Message(text="Your actions", blocks=blocks)


def _blocked(request: Request) -> Message:
    items = queries.blocked_actions(request.session, limit=LIST_LIMIT)
    total = queries.count_by_status(request.session)[Status.BLOCKED]
    return action_list(
        "Blocked",
        [action_view(a, today=request.today) for a in items],
        total=total,
        empty="Nothing is blocked.",
    )
