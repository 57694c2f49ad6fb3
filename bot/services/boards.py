"""The boards themselves: creating one (`/board create`), giving it a channel (`/board link`),
listing them (`/board list`), the board someone's direct messages are about (`/board use`),
and a board's own settings (`/board settings`), which a chair changes over the environment's.

The command line (wiring/boards.py) uses the same functions, with no actor: whoever runs it
administers the deployment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pydantic import ValidationError
from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from bot.boards.finder import choose_for
from bot.boards.members import role_on
from bot.boards.registry import BOARD_SETTINGS, Boards, fold
from bot.boards.view import BoardView
from bot.config import Settings
from bot.domain import Platform, Role
from bot.domain.workdays import CalendarError, WorkingCalendar
from bot.errors import CommandError
from bot.grammar.commands import BoardSettings, CreateBoard, LinkBoard, ListBoards, UseBoard
from bot.grammar.usage import board_usage
from bot.people.resolve import is_chair
from bot.render.boards import (
    BoardLine,
    SettingLine,
    board_chosen,
    board_created,
    board_linked,
    boards_list,
    setting_changed,
    setting_example,
    settings_overview,
)
from bot.services.context import Caller, Core
from bot.services.request import Outcome, Request
from bot.services.roles import change_role
from bot.services.signoff import SIGNOFF, signoff_on
from storage.models import Board, BoardSetting, Person

#: A setting's other names: its environment variable, with or without underscores.
_KEYS = {
    **{key: key for key in BOARD_SETTINGS},
    **{field: key for key, field in BOARD_SETTINGS.items()},
    "sign_off": SIGNOFF,
    SIGNOFF: SIGNOFF,
}
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Every setting `/board settings` shows, in its order: sign-off, then the registry's.
SETTING_KEYS = (SIGNOFF, *BOARD_SETTINGS)


def use_board(
    core: Core, session: Session, caller: Caller, actor: Person, command: UseBoard
) -> Outcome:
    """`/board use <name>`: remember the board the caller's direct messages are about."""
    board = choose_for(core.boards, caller, command.board)
    if board is None:
        raise CommandError(f"There is no board called {command.board!r}.", "/board use <name>")
    actor.current_board_id = board.id
    return Outcome(board_chosen(board))


def visible(boards: Boards, caller: Caller) -> list[BoardView]:
    """The boards a request from the caller's workspace may see (every one from the console)."""
    return [b for b in boards.all() if b.in_workspace(caller.workspace, caller.platform)]


def create_board(request: Request, command: CreateBoard) -> Outcome:
    """`/board create <name>` (see `_create`), whichever board it was typed on, if any (a
    workspace may have none yet)."""
    return _create(
        request.core, request.session, request.caller, request.actor, command, now=request.now
    )


def _create(
    core: Core,
    session: Session,
    caller: Caller,
    actor: Person,
    command: CreateBoard,
    *,
    now: dt.datetime,
) -> Outcome:
    """`/board create <name>`: a chair of any board of the workspace (anyone, while it has
    none) starts a board tied to it; they become its chair."""
    seen = visible(core.boards, caller)
    if seen and not any(is_chair(session, actor, b) for b in seen):
        raise CommandError(
            "Only a chair of one of this workspace's boards can create another.",
            board_usage("create"),
        )
    # The board their direct messages are about: the one they chose, or their only one.
    theirs = [b for b in seen if _role(session, actor, b) != Role.NONE]
    chosen = core.boards.get(actor.current_board_id) if actor.current_board_id else None
    stays = chosen or (theirs[0] if len(theirs) == 1 else None)
    taken = core.boards.by_name(command.name)
    if taken is not None and taken.id not in {b.id for b in seen}:
        # Names are unique across the deployment; whose board it is stays unsaid.
        raise CommandError(
            f"The name {command.name!r} is taken; choose another.", board_usage("create")
        )
    slack_team = caller.workspace if caller.platform == Platform.SLACK else None
    teams_tenant = caller.workspace if caller.platform == Platform.TEAMS else None
    board = add_board(
        session,
        core.boards,
        name=command.name,
        now=now,
        slack_team_id=slack_team,
        teams_tenant_id=teams_tenant,
    )
    change_role(
        session,
        person=actor,
        role=Role.CHAIR,
        actor=actor,
        source=caller.platform.value,
        now=now,
        board=board,
    )
    if stays is not None:
        # Now on several boards: their direct messages stay about the one they were on.
        actor.current_board_id = stays.id
    message = board_created(board, stays=stays, channel_hint=caller.platform != Platform.CONSOLE)
    return Outcome(message)


def add_board(
    session: Session,
    boards: Boards,
    *,
    name: str,
    now: dt.datetime,
    slack_team_id: str | None = None,
    slack_channel: str | None = None,
    teams_tenant_id: str | None = None,
    teams_channel: str | None = None,
) -> BoardView:
    """A new board row; CommandError when the name or a channel is another board's."""
    name = " ".join(name.split())
    if not name:
        raise CommandError("Give the new board a name.", board_usage("create"))
    if boards.by_name(name) is not None or _named(session, name):
        raise CommandError(f"There is already a board called {name!r}.", board_usage("create"))
    for channel in (slack_channel, teams_channel):
        if channel is not None:
            _channel_free(boards, channel, board_id=None)
    row = Board(
        name=name,
        slack_team_id=slack_team_id,
        slack_channel=slack_channel,
        teams_tenant_id=teams_tenant_id,
        teams_channel=teams_channel,
        created_at=now,
    )
    session.add(row)
    # A name or channel another process took a moment ago fails here; the command is tried
    # again, and the checks above then refuse it.
    session.flush()
    changed(session, boards)
    return BoardView(
        id=row.id,
        name=name,
        settings=boards.environment,
        slack_team_id=slack_team_id,
        slack_channel=slack_channel,
        teams_tenant_id=teams_tenant_id,
        teams_channel=teams_channel,
    )


def changed(session: Session, boards: Boards) -> None:
    """The boards changed in `session`: this process reads them again once it commits (other
    processes within the registry's few seconds). Reading them before the commit would keep
    the old ones."""
    boards.invalidate()
    event.listen(session, "after_commit", lambda _: boards.invalidate(), once=True)


def link_board(request: Request, command: LinkBoard) -> Outcome:
    """`/board link [board]`, typed in a channel: it becomes the board's channel (Slack's or
    Teams', by where it is typed); refused when it is another board's."""
    core, caller = request.core, request.caller
    board = core.board
    if command.board is not None:
        named = choose_for(core.boards, caller, command.board)
        if named is None:
            raise CommandError(f"There is no board called {command.board!r}.", "/board list")
        board = named
    if not is_chair(request.session, request.actor, board):
        raise CommandError(
            f"Only a chair of {board.name} can link a channel to it.", board_usage("link")
        )
    if caller.channel is None or caller.platform not in (Platform.SLACK, Platform.TEAMS):
        raise CommandError(
            "Type /board link in the channel that is to be the board's channel.",
            board_usage("link"),
        )
    link_channel(
        request.session, core.boards, board, platform=caller.platform, channel=caller.channel
    )
    return Outcome(board_linked(board))


def link_channel(
    session: Session, boards: Boards, board: BoardView, *, platform: Platform, channel: str
) -> None:
    """Make `channel` the board's Slack or Teams channel; CommandError when it is another
    board's."""
    if channel in (board.slack_channel, board.teams_channel):
        raise CommandError(f"This channel is already {board.name}'s channel.", "/board list")
    _channel_free(boards, channel, board_id=board.id)
    row = session.get(Board, board.id)
    if row is None:  # pragma: no cover - boards are never deleted
        raise CommandError(f"There is no board called {board.name!r}.", "/board list")
    if platform == Platform.TEAMS:
        row.teams_channel = channel
    else:
        row.slack_channel = channel
    session.flush()
    changed(session, boards)


def list_boards(request: Request, command: ListBoards) -> Outcome:
    """`/board list`, on a board or none (see `_list`)."""
    return _list(request.core, request.session, request.caller, request.actor)


def _list(core: Core, session: Session, caller: Caller, actor: Person) -> Outcome:
    """`/board list`: the boards the caller can see, their channels and the caller's role.
    Someone from outside the workspace sees only the boards they hold a role on."""
    boards = visible(core.boards, caller)
    roles = {board.id: _role(session, actor, board) for board in boards}
    if caller.external:
        boards = [board for board in boards if roles[board.id] != Role.NONE]
    current = actor.current_board_id
    lines = [
        BoardLine(board=board, role=roles[board.id].value, current=board.id == current)
        for board in boards
    ]
    return Outcome(boards_list(lines))


def board_settings(request: Request, command: BoardSettings) -> Outcome:
    """`/board settings`: every setting of the command's board; `/board settings <key>
    <value>|default` (a chair) changes one, checked as its environment variable is."""
    core = request.core
    if command.key is None:
        lines = setting_lines(request.session, core.board, tz=core.settings.tz)
        return Outcome(settings_overview(core.board, lines, today=request.today))
    if not request.actor_is_chair:
        raise CommandError("Only a chair can change the board's settings.", board_usage("settings"))
    key, value = change_setting(
        request.session,
        core.boards,
        core.board,
        key=command.key,
        value=command.value,
        actor=request.actor,
        now=request.now,
    )
    return Outcome(setting_changed(core.board, key, None if command.value is None else value))


def setting_key(typed: str) -> str:
    """The setting a chair names (`digest`, `DIGEST_SCHEDULE`, `reminder-days`); CommandError
    for none."""
    key = _KEYS.get(typed.strip().lower().replace("-", "_"))
    if key is None:
        known = ", ".join(SETTING_KEYS)
        raise CommandError(
            f"There is no board setting {typed!r}: the settings are {known}.",
            board_usage("settings"),
        )
    return key


def change_setting(
    session: Session,
    boards: Boards,
    board: BoardView,
    *,
    key: str,
    value: str | None,
    actor: Person | None,
    now: dt.datetime,
) -> tuple[str, str]:
    """Set the board's `key` to `value` (None: back to the environment's), validated as the
    environment variable is; CommandError, in one line with the accepted form, when it is not
    accepted. Returns the setting's name and its value now, as a chair would type it."""
    key = setting_key(key)
    if key == SIGNOFF:
        switch = {"on": "on", "off": "off", "yes": "on", "no": "off"}.get((value or "on").lower())
        if switch is None:
            raise CommandError(
                f"signoff {value!r} is not accepted: say on or off.", setting_example(key)
            )
        _store(session, board.id, key, switch, actor=actor, now=now)
        return key, switch
    field = BOARD_SETTINGS[key]
    layered = {f: getattr(board.settings, f) for f in BOARD_SETTINGS.values()}
    if value is None:
        layered[field] = getattr(boards.environment, field)
    else:
        layered[field] = value.strip()
    checked = _check(board.settings, key, layered, typed=value)
    if value is None:
        session.execute(
            delete(BoardSetting).where(BoardSetting.board_id == board.id, BoardSetting.key == key)
        )
    else:
        _store(session, board.id, key, value.strip(), actor=actor, now=now)
    session.flush()
    changed(session, boards)
    return key, setting_value(checked, key)


def setting_lines(session: Session, board: BoardView, *, tz: dt.tzinfo) -> list[SettingLine]:
    """Every setting of the board (sign-off first), with who changed it when."""
    rows = {
        row.key: row
        for row in session.scalars(select(BoardSetting).where(BoardSetting.board_id == board.id))
    }
    lines = []
    for key in SETTING_KEYS:
        if key == SIGNOFF:
            value = "on" if signoff_on(session, board.id) else "off"
        else:
            value = setting_value(board.settings, key)
        row = rows.get(key)
        if row is None:
            lines.append(SettingLine(key=key, value=value))
            continue
        by = row.changed_by.display_name if row.changed_by else "the command line"
        lines.append(
            SettingLine(
                key=key,
                value=value,
                changed_by=by,
                changed_on=row.changed_at.astimezone(tz).date(),
            )
        )
    return lines


def setting_value(settings: Settings, key: str) -> str:
    """A setting's value as a chair would type it (`mon-fri`, `7,1,0`, `none`)."""
    value = getattr(settings, BOARD_SETTINGS[key])
    if key == "working_days":
        return _weekdays(value)
    if isinstance(value, tuple):
        return ",".join(str(part) for part in value)
    if value is None or value == "":
        return "none"
    return str(value)


def _check(
    current: Settings, key: str, layered: dict[str, object], *, typed: str | None
) -> Settings:
    """The board's settings with the change, validated as the environment's are."""
    try:
        checked = type(current).model_validate({**current.model_dump(), **layered})
        # An unknown holiday country is only found when the calendar reads its holidays.
        WorkingCalendar.from_settings(checked).holiday_name(dt.date(2026, 1, 1))
        return checked
    except ValidationError as exc:
        reason = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise CommandError(_refusal(key, typed, reason), setting_example(key)) from None
    except CalendarError as exc:
        reason = str(exc).removeprefix("HOLIDAY_COUNTRY/HOLIDAY_SUBDIVISION: ")
        raise CommandError(_refusal(key, typed, reason), setting_example(key)) from None


def _refusal(key: str, typed: str | None, reason: str) -> str:
    what = f"{key} {typed!r}" if typed is not None else f"The default {key}"
    for name, field in BOARD_SETTINGS.items():
        # The environment's names in its reasons are the board's settings' names here.
        reason = reason.replace(field.upper(), name)
    line = " ".join(reason.split())[:200]
    return f"{what} is not accepted ({line}); say it like `{setting_example(key)}`."


def _store(
    session: Session, board_id: int, key: str, value: str, *, actor: Person | None, now: dt.datetime
) -> None:
    row = session.get(BoardSetting, (board_id, key))
    if row is None:
        row = BoardSetting(board_id=board_id, key=key, value=value, changed_at=now)
        session.add(row)
    row.value = value
    row.changed_by = actor
    row.changed_at = now
    session.flush()


def _channel_free(boards: Boards, channel: str, *, board_id: int | None) -> None:
    owner = boards.by_channel(channel)
    if owner is not None and owner.id != board_id:
        raise CommandError(
            f"This channel is already {owner.name}'s channel; a channel belongs to one board.",
            "/board list",
        )


def _role(session: Session, person: Person, board: BoardView) -> Role:
    if is_chair(session, person, board):
        return Role.CHAIR  # CHAIR_USER_IDS on the default board, whatever the stored role
    return role_on(session, board.id, person.id)


def _named(session: Session, name: str) -> bool:
    # The registry may be a few seconds old: a board another process just made is in the table.
    key = fold(name)
    return any(fold(existing) == key for existing in session.scalars(select(Board.name)))


def _weekdays(days: Sequence[int]) -> str:
    ordered = sorted(days)
    if ordered and ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 2:
        return f"{_WEEKDAYS[ordered[0]]}-{_WEEKDAYS[ordered[-1]]}"
    return ",".join(_WEEKDAYS[day] for day in ordered)
