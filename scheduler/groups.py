"""The boards a tick serves, grouped by the settings the scheduler plans with.

Boards differ in their names and channels, but many share a timezone, working calendar,
reminder days, ladder and schedules. Planning a group of such boards is the same queries with
`board_id IN (...)`, so a tick's statements grow with the number of distinct settings, never
with the number of boards.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, true

from bot.boards.registry import BOARD_SETTINGS
from bot.boards.view import BoardView
from bot.config import Settings
from bot.domain.workdays import CalendarError, WorkingCalendar
from storage.models import DEFAULT_BOARD_ID, Action

log = logging.getLogger(__name__)

#: Groups (by their first board) whose calendar could not be read, said once per process.
_told_calendar: set[int] = set()

#: The settings fields a board may have of its own besides its name and channel: the ones
#: planning reads. Every other field is the environment's, the same for every board.
PLANNING_FIELDS: tuple[str, ...] = tuple(BOARD_SETTINGS.values())


def plan_key(settings: Settings) -> tuple[object, ...]:
    """What makes two boards plan alike: their values of PLANNING_FIELDS."""
    return tuple(getattr(settings, name) for name in PLANNING_FIELDS)


@dataclass(frozen=True)
class BoardGroup:
    """Boards that plan alike, with the settings and working calendar they share."""

    #: The first board's settings: its name and channel are its own, the rest the group's.
    settings: Settings
    calendar: WorkingCalendar
    boards: tuple[BoardView, ...]
    #: The group is every board of the deployment (they all plan alike).
    whole: bool = False

    @property
    def ids(self) -> list[int]:
        """The boards' ids, for `board_id IN (...)`."""
        return [board.id for board in self.boards]

    @property
    def scope(self) -> list[int] | None:
        """The ids planning filters on; None for every board (no list of a thousand ids to
        send and compile when the deployment's boards all plan alike)."""
        return None if self.whole else self.ids

    @property
    def has_default(self) -> bool:
        """Whether the default board (whose chairs CHAIR_USER_IDS also names) is in it."""
        return any(board.id == DEFAULT_BOARD_ID for board in self.boards)

    def today(self, now: dt.datetime) -> dt.date:
        """The group's local day at `now`."""
        return now.astimezone(self.settings.tz).date()


def group_boards(
    boards: Iterable[BoardView],
    *,
    env: Settings | None = None,
    calendar: WorkingCalendar | None = None,
    complete: bool = False,
) -> list[BoardGroup]:
    """`boards` grouped by plan_key, in the order of their first board.

    `calendar`, when given, is the working calendar of `env` (the process's settings): the
    group that plans as `env` does uses it, every other group its own. `complete`: `boards`
    are every board of the deployment.
    """
    found: dict[tuple[object, ...], list[BoardView]] = {}
    for board in boards:
        found.setdefault(plan_key(board.settings), []).append(board)
    env_key = plan_key(env) if env is not None else None
    groups: list[BoardGroup] = []
    for key, members in found.items():
        settings = members[0].settings
        own = calendar if calendar is not None and key == env_key else None
        try:
            own = own or WorkingCalendar.from_settings(settings)
        except CalendarError as exc:
            # One board's unreadable bank holidays never hold up the other boards' plans.
            if members[0].id not in _told_calendar:
                _told_calendar.add(members[0].id)
                log.error(
                    "boards %s: nothing planned: %s", ", ".join(str(b.id) for b in members), exc
                )
            continue
        groups.append(
            BoardGroup(
                settings=settings,
                calendar=own,
                boards=tuple(members),
                whole=complete and len(found) == 1,
            )
        )
    return groups


def on_boards(board_ids: Sequence[int] | None) -> ColumnElement[bool]:
    """Actions of `board_ids`; of every board for None."""
    return true() if board_ids is None else Action.board_id.in_(board_ids)


def in_working_time(groups: Sequence[BoardGroup], now: dt.datetime) -> list[BoardGroup]:
    """The groups for which `now` is working time (where reminders and rounds may go out)."""
    return [group for group in groups if group.calendar.in_working_time(now)]
