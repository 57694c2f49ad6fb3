"""What every use case is handed: settings, the unit-of-work factory, the clock, directories."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

from sqlalchemy.orm import Session, sessionmaker

from bot.boards.registry import Boards
from bot.boards.view import BoardView, default_board
from bot.clock import Clock
from bot.config import Settings
from bot.domain import Platform
from bot.domain.workdays import WorkingCalendar
from bot.people.directory import Directory


@dataclass(frozen=True)
class Caller:
    """Who typed a command or pressed a button, as their platform told us."""

    platform: Platform
    external_id: str
    display_name: str | None = None
    email: str | None = None
    #: Other names people type for them (a Slack handle); remembered on first sight.
    aliases: tuple[str, ...] = ()
    #: From outside the workspace (Slack Connect, a Teams guest), as its directory says.
    external: bool = False
    #: The workspace the request came from: Slack's team id, Teams' tenant id; None for the
    #: console and for a single-workspace deployment that does not say.
    workspace: str | None = None
    #: The channel the command was typed in (a board's channel names its board); None in a
    #: direct message or where the platform does not say.
    channel: str | None = None


@dataclass
class Core:
    """The collaborators of the services; built once per process by the composition root."""

    settings: Settings
    sessions: sessionmaker[Session]
    clock: Clock
    directories: Mapping[Platform, Directory] = field(default_factory=dict)
    #: The board this core works on (`on`); None: the default board.
    on_board: BoardView | None = None
    #: The deployment's boards, shared by every board's core of the process.
    registry: Boards | None = None

    @property
    def board(self) -> BoardView:
        """The board a command or job runs on (the default board outside one)."""
        if self.on_board is None:
            self.on_board = self.boards.default() if self.registry else default_board(self.settings)
        return self.on_board

    @property
    def boards(self) -> Boards:
        """The deployment's boards (read once per few seconds per process)."""
        if self.registry is None:
            self.registry = Boards(self.sessions, self.settings)
        return self.registry

    def on(self, board: BoardView) -> Core:
        """This core working on `board`: its settings, calendar and "today" are the board's."""
        return replace(self, settings=board.settings, on_board=board, registry=self.boards)

    @cached_property
    def calendar(self) -> WorkingCalendar:
        """Working days and hours, from the settings (bank holidays looked up once)."""
        return WorkingCalendar.from_settings(self.settings)

    def now(self) -> dt.datetime:
        """The current aware instant."""
        return self.clock.now()

    def today(self) -> dt.date:
        """Today's date in the bot's timezone: deadlines are calendar days there."""
        return self.clock.now().astimezone(self.settings.tz).date()
