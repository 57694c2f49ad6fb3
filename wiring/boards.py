"""`actionbot board create|list|settings` and the `--board` of other commands: the boards of a
deployment from the command line, through the same use cases as `/board` in chat.

Whoever runs the command line administers the deployment: it sees every board of every
workspace, may create a board anywhere and name its chair, and changes settings with no actor
recorded ("the command line").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from sqlalchemy import func, select

from bot.boards.view import BoardView
from bot.domain import Platform, Role
from bot.errors import CommandError
from bot.outbox.delivery import deliver_queued
from bot.outbox.sender import Sender
from bot.services.boards import (
    SETTING_KEYS,
    add_board,
    change_setting,
    link_channel,
    setting_lines,
)
from bot.services.context import Core
from bot.services.roles import change_role
from storage.db import transaction
from storage.models import BoardMember
from storage.queries import find_by_email
from wiring.roles import CLI_SOURCE


def on_board(core: Core, name: str | None, *, err: TextIO) -> Core | None:
    """`core` working on the board called `name` (the default board without one); None, with
    the reason on `err`, when there is no such board."""
    if name is None:
        return core.on(core.boards.default())
    board = core.boards.by_name(name)
    if board is None:
        known = ", ".join(b.name for b in core.boards.all())
        err.write(f"There is no board called {name!r}. The boards: {known}.\n")
        return None
    return core.on(board)


def board_create(
    core: Core,
    name: str,
    *,
    slack_channel: str | None = None,
    teams_channel: str | None = None,
    slack_team: str | None = None,
    teams_tenant: str | None = None,
    chair: str | None = None,
    senders: Sequence[Sender] = (),
    out: TextIO,
    err: TextIO,
) -> int:
    """`board create NAME [--slack-channel C…] [--teams-channel …] [--slack-team T…]
    [--teams-tenant …] [--chair EMAIL]`; the exit code. The chair is told."""
    outbox_ids: list[int] = []
    try:
        with transaction(core.sessions) as session:
            person = None
            if chair is not None:
                person = find_by_email(session, email=chair.strip().lower())
                if person is None:
                    raise CommandError(
                        f"Nobody has the email {chair}. People are known once a plan or "
                        "`actionbot people import` names them, or they have used the bot; "
                        "nothing was created.",
                        None,
                    )
            board = add_board(
                session,
                core.boards,
                name=name,
                now=core.now(),
                slack_team_id=slack_team,
                teams_tenant_id=teams_tenant,
            )
            # Through the same check as `/board link`: a channel belongs to one board.
            for platform, channel in (
                (Platform.SLACK, slack_channel),
                (Platform.TEAMS, teams_channel),
            ):
                if channel is not None:
                    link_channel(session, core.boards, board, platform=platform, channel=channel)
            if person is not None:
                changed = change_role(
                    session,
                    person=person,
                    role=Role.CHAIR,
                    actor=None,
                    source=CLI_SOURCE,
                    now=core.now(),
                    board=board,
                )
                outbox_ids = changed.outbox_ids if changed is not None else []
    except CommandError as exc:
        err.write(exc.reason + "\n")
        return 1
    core.boards.invalidate()
    where = [f"Slack channel {slack_channel}"] if slack_channel else []
    where += [f"Teams channel {teams_channel}"] if teams_channel else []
    out.write(f"Board {board.name} created (board {board.id})")
    out.write(f", posting to {' and '.join(where)}" if where else ", no channel yet")
    out.write(f"; {chair} is its chair, and is told.\n" if person is not None else ".\n")
    if senders and outbox_ids:
        deliver_queued(core, senders, outbox_ids)
    return 0


def board_list(core: Core, *, out: TextIO) -> int:
    """`board list`: every board, its workspace and channels, and how many hold a role."""
    boards = core.boards.all()
    with core.sessions() as session:
        query = select(BoardMember.board_id, func.count()).group_by(BoardMember.board_id)
        counts = {board_id: int(count) for board_id, count in session.execute(query)}
    for board in boards:
        out.write(_line(board, counts.get(board.id, 0)) + "\n")
    return 0


def board_settings(
    core: Core, name: str, key: str | None, value: str | None, *, out: TextIO, err: TextIO
) -> int:
    """`board settings BOARD [KEY VALUE]`: every setting of the board, or one changed
    (`default` gives it back to the environment); the exit code."""
    found = on_board(core, name, err=err)
    if found is None:
        return 1
    board = found.board
    if key is not None:
        if value is None:
            err.write(f"Give the new value: actionbot board settings {name!r} {key} VALUE.\n")
            return 2
        reset = value.strip().lower() == "default"
        try:
            with transaction(core.sessions) as session:
                key, shown = change_setting(
                    session,
                    core.boards,
                    board,
                    key=key,
                    value=None if reset else value,
                    actor=None,
                    now=core.now(),
                )
        except CommandError as exc:
            # The accepted form, as typed here rather than in chat.
            here = f"actionbot board settings {_quoted(board.name)} "
            err.write(exc.reason.replace("/board settings ", here) + "\n")
            return 1
        core.boards.invalidate()
        what = "the default again" if reset else f"now {shown}"
        out.write(f"{board.name}: {key} is {what}.\n")
        return 0
    with core.sessions() as session:
        lines = setting_lines(session, board, tz=board.settings.tz)
    for line in lines:
        if line.changed_by is None:
            origin = "default"
        else:
            origin = f"changed by {line.changed_by} on {line.changed_on:%Y-%m-%d}"
        out.write(f"{line.key:<15} {line.value}  ({origin})\n")
    keys = ", ".join(SETTING_KEYS)
    out.write(f"Change one: actionbot board settings {_quoted(board.name)} KEY VALUE ({keys}).\n")
    return 0


def _line(board: BoardView, members: int) -> str:
    workspace = [f"Slack {board.slack_team_id}"] if board.slack_team_id else []
    workspace += [f"Teams {board.teams_tenant_id}"] if board.teams_tenant_id else []
    channels = [f"Slack {board.slack_channel}"] if board.slack_channel else []
    channels += [f"Teams {board.teams_channel}"] if board.teams_channel else []
    default = " (default: the environment's)" if board.is_default else ""
    place = ", ".join(workspace) or "the deployment's own"
    return (
        f"{board.id:>4}  {board.name}{default} — channel: {', '.join(channels) or 'none'}"
        f" — workspace: {place} — {members} with a role"
    )


def _quoted(name: str) -> str:
    return f"'{name}'" if " " in name else name
