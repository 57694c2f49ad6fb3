"""The deployment's boards, read from the database and kept a few seconds per process.

Every command and every job asks which board it is on; reading the boards and their
settings each time would cost statements on the hot path. A process keeps them for `TTL`
seconds and drops them at once when it changes a board itself, so another process sees a
new board or setting within `TTL` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.boards.view import BoardView, default_board
from bot.config import Settings
from storage.models import DEFAULT_BOARD_ID, Board, BoardSetting

#: Seconds a process keeps the boards it read.
TTL = 5.0

#: The settings a chair may change per board (`/board settings KEY VALUE`), by the name
#: they are stored under, with the environment variable (a Settings field) each overrides.
BOARD_SETTINGS: Mapping[str, str] = {
    "timezone": "bot_timezone",
    "reminder_days": "reminder_days",
    "digest": "digest_schedule",
    "working_hours": "working_hours",
    "working_days": "working_days",
    "holidays": "holiday_country",
    "holiday_region": "holiday_subdivision",
    "round_days": "update_round_days",
    "cutoff_days": "update_cutoff_days",
    "escalation": "escalation_ladder",
}


@dataclass(frozen=True)
class _Snapshot:
    """The boards as read once, indexed the ways commands look them up."""

    at: float
    by_id: dict[int, BoardView]
    by_channel: dict[str, BoardView]
    by_name: dict[str, BoardView]

    @classmethod
    def of(cls, at: float, boards: dict[int, BoardView]) -> _Snapshot:
        channels = {
            channel: board
            for board in boards.values()
            for channel in (board.slack_channel, board.teams_channel)
            if channel
        }
        names = {fold(board.name): board for board in boards.values()}
        return cls(at, boards, channels, names)


class Boards:
    """The boards of one deployment, cached per process (see the module's docstring)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._monotonic = monotonic
        # Held by the one thread reading the boards again; the others go on with what was
        # read before (a second or two old at most) rather than wait for it.
        self._reading = threading.Lock()
        self._snapshot: _Snapshot | None = None
        # Counts invalidations: a read begun before one is not kept after it.
        self._generation = 0

    @property
    def environment(self) -> Settings:
        """The environment's settings, which each board's own are laid over."""
        return self._settings

    def invalidate(self) -> None:
        """Forget what was read: the next question reads the boards again."""
        self._generation += 1
        self._snapshot = None

    def all(self) -> list[BoardView]:
        """Every board, the default first."""
        return sorted(self._current().by_id.values(), key=lambda board: board.id)

    def get(self, board_id: int) -> BoardView | None:
        """The board with this id, or None."""
        return self._current().by_id.get(board_id)

    def default(self) -> BoardView:
        """The default board (created by migration 0015, so always there once migrated)."""
        return self._current().by_id.get(DEFAULT_BOARD_ID) or default_board(self._settings)

    def by_channel(self, channel: str) -> BoardView | None:
        """The board whose Slack or Teams channel this is, or None."""
        return self._current().by_channel.get(channel)

    def by_name(self, name: str) -> BoardView | None:
        """The board of this name (case and spacing ignored), or None."""
        return self._current().by_name.get(fold(name))

    def _current(self) -> _Snapshot:
        snapshot = self._snapshot
        if snapshot is not None and self._monotonic() - snapshot.at <= TTL:
            return snapshot
        if snapshot is not None and not self._reading.acquire(blocking=False):
            return snapshot  # another thread is reading them again
        if snapshot is None:
            self._reading.acquire()  # nothing to go on with: wait for the read
        try:
            fresh = self._snapshot
            if fresh is not None and fresh is not snapshot:
                return fresh  # read by another thread while this one waited
            while True:
                generation = self._generation
                fresh = _Snapshot.of(self._monotonic(), self._read())
                if generation == self._generation:
                    self._snapshot = fresh
                    return fresh
                # A board changed while reading: what was read may miss it.
        finally:
            self._reading.release()

    def _read(self) -> dict[int, BoardView]:
        with self._sessions() as session:
            rows = session.scalars(select(Board).order_by(Board.id)).all()
            overrides: dict[int, dict[str, str]] = {}
            for setting in session.scalars(
                select(BoardSetting).where(BoardSetting.key.in_(tuple(BOARD_SETTINGS)))
            ):
                field = BOARD_SETTINGS[setting.key]
                overrides.setdefault(setting.board_id, {})[field] = setting.value
        return {row.id: self._view(row, overrides.get(row.id, {})) for row in rows}

    def _view(self, row: Board, overrides: dict[str, str]) -> BoardView:
        env = self._settings
        name = row.name or env.board_name
        channel = row.slack_channel or row.teams_channel
        if row.id == DEFAULT_BOARD_ID:
            channel = channel or env.board_channel
        layered = dict(overrides, board_name=name, board_channel=channel)
        return BoardView(
            id=row.id,
            name=name,
            settings=effective_settings(env, tuple(sorted(layered.items(), key=str))),
            slack_team_id=row.slack_team_id,
            slack_channel=row.slack_channel or (channel if row.id == DEFAULT_BOARD_ID else None),
            teams_tenant_id=row.teams_tenant_id,
            teams_channel=row.teams_channel,
        )


@lru_cache(maxsize=4096)
def effective_settings(env: Settings, layered: tuple[tuple[str, str | None], ...]) -> Settings:
    """The environment's settings with a board's laid over them, validated as the environment
    is; boards with the same layers share one object (and so one working calendar)."""
    values = dict(layered)
    changed = {key for key, value in values.items() if getattr(env, key) != value}
    if not changed:
        return env
    if changed <= {"board_name", "board_channel"}:
        # A name and a channel need no validating, and no derived setting reads them: a
        # copy, where building settings anew cost ~20 ms a board (1,000 boards: 20 s).
        return env.model_copy(update=values)
    # The validator alone: the environment and the .env file, which building settings reads
    # again each time, are already in `env`.
    board: Settings = type(env).__pydantic_validator__.validate_python(
        {**env.model_dump(), **values}
    )
    return board


def tie_untied_boards(
    sessions: sessionmaker[Session], boards: Boards, *, slack_team_id: str
) -> list[int]:
    """Tie the boards of no Slack workspace to `slack_team_id` (the workspace a deployment
    served before the Slack app was distributed); their ids. Run at start: idempotent."""
    with sessions.begin() as session:
        tied = list(
            session.scalars(
                update(Board)
                .where(Board.slack_team_id.is_(None))
                .values(slack_team_id=slack_team_id)
                .returning(Board.id)
            )
        )
    boards.invalidate()
    return tied


def fold(name: str | None) -> str:
    """A board's name as it is matched: case and spacing ignored."""
    return " ".join((name or "").casefold().split())
