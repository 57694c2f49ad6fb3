"""The one entry point every platform calls: text in, a reply (and queued messages) out."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bot.boards.finder import Choose, find_board, split_board
from bot.boards.view import BoardView
from bot.errors import CommandError
from bot.grammar import board
from bot.grammar import commands as c
from bot.grammar import meetings as m
from bot.grammar.pack import BuildPack, PostPack
from bot.grammar.parser import NUL_REFUSED, parse
from bot.outbox.retract import queue_edits
from bot.pack.command import build_pack_command, post_pack_command
from bot.people.mentions import neutral_command
from bot.people.resolve import resolve_caller
from bot.render import replies
from bot.render.boards import choose_board
from bot.services import (
    actions,
    boards,
    meetings,
    nudge,
    permissions,
    ratings,
    rebaseline,
    roles,
    rounds,
    status,
    undo,
    views,
)
from bot.services.boards import use_board
from bot.services.context import Caller, Core
from bot.services.request import Outcome, Request
from bot.services.signoff import (
    add_evidence,
    awaiting,
    board_settings,
    return_action,
    show_action,
    sign_off,
)
from storage.db import transaction
from storage.models import HistoryEntry

log = logging.getLogger(__name__)

TRY_AGAIN = "The database is not answering just now; nothing was changed. Please try again."


def run_command(core: Core, caller: Caller, command: str, text: str) -> Outcome:
    """Parse and carry out `/command text` for `caller`; errors become a one-line reply.

    `… in <board>` at the end names the board; otherwise it is found from where and by whom
    the command was typed (bot/boards/finder.py)."""
    text, named = split_board(text, core.boards)
    try:
        parsed = parse(command, text, today=core.today())
    except CommandError as exc:
        return Outcome(replies.error(exc.reason, exc.usage))
    return execute(core, caller, parsed, board=named)


def execute(core: Core, caller: Caller, command: c.Command, *, board: str | None = None) -> Outcome:
    """Carry out a typed command (parsed, or built by a button or form) in one transaction,
    on the board `board` names or the one it is found on (bot/boards/finder.py)."""
    if isinstance(command, c.Help):
        return Outcome(replies.help_message(command.topic))
    if _has_nul(command.model_dump()):
        # PostgreSQL cannot store NUL in text; the grammar refuses it in typed words, this in
        # what buttons and forms send.
        return Outcome(replies.error(NUL_REFUSED, None))
    if (too_long := command.too_long()) is not None:
        return Outcome(replies.error(too_long, None))
    handler = _HANDLERS.get(type(command))
    # `/board use` is about the caller, on no board; every other command has a handler.
    if handler is None and not isinstance(command, c.UseBoard):  # pragma: no cover
        raise TypeError(f"no handler for {type(command).__name__}")
    for attempt in (1, 2):
        try:
            with transaction(core.sessions) as session:
                now = core.now()
                actor = resolve_caller(session, caller=caller, now=now, settings=core.settings)
                if isinstance(command, c.UseBoard):
                    return use_board(core, session, caller, actor, command)
                try:
                    found = find_board(
                        session,
                        core.boards,
                        caller=caller,
                        named=board,
                        person=actor,
                        action_id=_action_named(session, command),
                    )
                except CommandError:
                    # A workspace with no board yet may still start one, or list none.
                    if not isinstance(command, _OFF_BOARD):
                        raise
                    found = None
                if isinstance(found, Choose) and not isinstance(command, _OFF_BOARD):
                    return Outcome(choose_board(found.boards))
                on_board = core.on(found) if isinstance(found, BoardView) else core
                request = Request(on_board, session, caller, actor, now, on_board.today())
                assert handler is not None
                permissions.check(request, command)
                # Mentions become references to people (fresh on a retry, from the words sent).
                outcome = handler(request, neutral_command(request, command))
                if isinstance(command, c.ActionChange) and outcome.message.tone != "error":
                    # Buttons shown to someone who may no longer use them are taken back.
                    changed = request.action(command.action_id)
                    outcome.outbox_ids.extend(queue_edits(session, changed, now=now))
                return outcome
        except CommandError as exc:
            return Outcome(replies.error(exc.reason, exc.usage))
        except StaleDataError:
            # A note changes no field, so it is simply written again on the fresh row.
            if isinstance(command, c.AddUpdate) and attempt == 1:
                continue
            action_id = getattr(command, "action_id", None)
            what = f"#{action_id}" if action_id else "This action"
            return Outcome(
                replies.error(
                    f"{what} was changed by someone else at the same moment; nothing was saved. "
                    "Please look again and retry.",
                    f"/action show {action_id}" if action_id else None,
                )
            )
        except IntegrityError:
            # Two first sightings of the same person raced; the second try finds the row.
            if attempt == 2:
                raise
        except DBAPIError as exc:
            if not database_unavailable(exc):
                raise
            log.warning("database unavailable during %s: %s", type(command).__name__, exc.orig)
            return Outcome(replies.error(TRY_AGAIN, None))
    raise AssertionError("unreachable")


def _action_named(session: Session, command: c.Command) -> int | None:
    """The action a command is about, which says its board in a direct message (an Undo
    names history entries of one action)."""
    if isinstance(command, c.UndoReply):
        entry = select(HistoryEntry.action_id).where(HistoryEntry.id == command.first)
        return session.scalar(entry)
    action_id = getattr(command, "action_id", None)
    return action_id if isinstance(action_id, int) else None


#: Commands about boards themselves: they run without a board found (none yet, or several
#: and no choice made), on the default board's core, and find the boards they need.
_OFF_BOARD = (c.CreateBoard, c.ListBoards)


def database_unavailable(exc: DBAPIError) -> bool:
    """Whether a database error means "not answering just now", worth trying again."""
    return bool(exc.connection_invalidated) or isinstance(exc, OperationalError)


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    return False


def _digest(request: Request, command: c.StatusDigest) -> Outcome:
    from bot.services.digest import digest_command

    return digest_command(request, command)


_HANDLERS: dict[type[c.Command], Callable[[Request, Any], Outcome]] = {
    c.AddAction: actions.add_action,
    c.AssignAction: actions.assign_action,
    c.MarkDone: actions.mark_done,
    c.AddUpdate: actions.add_update,
    c.MarkBlocked: actions.mark_blocked,
    c.Reopen: actions.reopen_action,
    c.MoveDue: actions.move_due,
    c.SetRag: actions.set_rag,
    c.ShowAction: show_action,
    c.ListActions: status.list_actions,
    c.StatusSummary: lambda request, _: status.status_summary(request),
    c.StatusOverdue: status.status_overdue,
    c.StatusPerson: status.status_person,
    c.StatusDue: status.status_due,
    c.StatusNoDate: status.status_nodate,
    c.StatusUnassigned: status.status_unassigned,
    c.StatusDigest: _digest,
    c.StatusRules: lambda request, _: Outcome(ratings.rules_message(request.core)),
    c.AcceptRag: ratings.accept_rag,
    c.CancelAction: actions.cancel_action,
    c.StatusBlocked: views.status_blocked,
    c.StatusRag: views.status_rag,
    c.StatusDone: views.status_done,
    c.UndoReply: undo.undo_reply,
    c.NudgeOwner: nudge.nudge_owner,
    c.SignOff: sign_off,
    c.ReturnAction: return_action,
    c.AddEvidence: add_evidence,
    c.StatusAwaiting: awaiting,
    c.BoardSettings: board_settings,
    board.SetRole: roles.set_role,
    board.ListRoles: roles.list_roles,
    m.AddMeeting: meetings.add_meeting_command,
    m.ListMeetings: meetings.list_meetings_command,
    m.CancelMeeting: meetings.cancel_meeting_command,
    c.UpdateRound: rounds.update_round,
    c.RequestDate: rebaseline.request_date,
    c.ApproveDate: rebaseline.approve_date,
    c.DeclineDate: rebaseline.decline_date,
    BuildPack: build_pack_command,
    PostPack: post_pack_command,
    c.CreateBoard: boards.create_board,
    c.LinkBoard: boards.link_board,
    c.ListBoards: boards.list_boards,
}
