"""Working days and hours in the bot's timezone: when reminders go out, how late an action is.

Bank holidays come from the `holidays` library (England and Wales by default:
`holidays.country_holidays("GB", subdiv="ENG")`), never from a hand-kept list.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from bot.config import Settings

#: No run of non-working days is longer than this (Christmas plus a weekend is five).
MAX_BREAK = 31
#: Working days are counted from here (a Saturday): the count on this day is 0.
COUNT_ORIGIN = dt.date(2000, 1, 1)


class CalendarError(ValueError):
    """The configured holiday country or subdivision is unknown to the holidays library."""


# Sized for a deployment of many boards: each distinct calendar (timezone, hours, days,
# country) is built once and keeps the days it has counted; a smaller cache would rebuild
# them at every tick once boards outnumber it.
@lru_cache(maxsize=256)
def _holidays(country: str, subdivision: str | None) -> Any:
    import holidays

    try:
        return holidays.country_holidays(country, subdiv=subdivision)
    except NotImplementedError as exc:
        raise CalendarError(f"HOLIDAY_COUNTRY/HOLIDAY_SUBDIVISION: {exc}") from exc


@dataclass(frozen=True)
class WorkingCalendar:
    """Which local days are working days, and which local hours are working hours."""

    tz: ZoneInfo
    start: dt.time
    end: dt.time
    weekdays: frozenset[int]
    country: str | None = "GB"
    subdivision: str | None = "ENG"
    _days: dict[dt.date, bool] = field(default_factory=dict, compare=False, repr=False)
    _counts: list[int] = field(default_factory=list, compare=False, repr=False)
    _extending: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkingCalendar:
        """The calendar the settings describe, one per process for the same settings (its
        working days are counted once); CalendarError for an unknown country."""
        start, end = settings.working_window
        return _calendar(
            settings.bot_timezone,
            start,
            end,
            frozenset(settings.working_days),
            settings.holiday_country or None,
            settings.holiday_subdivision,
        )

    def holiday_name(self, day: dt.date) -> str | None:
        """The bank holiday on `day`, or None."""
        if not self.country:
            return None
        name = _holidays(self.country, self.subdivision).get(day)
        return str(name) if name else None

    def is_working_day(self, day: dt.date) -> bool:
        """A configured weekday that is not a bank holiday."""
        known = self._days.get(day)
        if known is None:
            known = day.weekday() in self.weekdays and self.holiday_name(day) is None
            self._days[day] = known
        return known

    def previous_working_day(self, day: dt.date) -> dt.date:
        """`day` itself when it is a working day, else the working day before it."""
        for back in range(MAX_BREAK + 1):
            candidate = day - dt.timedelta(days=back)
            if self.is_working_day(candidate):
                return candidate
        return day  # no working day in a month: a degenerate calendar; do not skip the send

    def next_working_day_after(self, day: dt.date) -> dt.date:
        """The first working day strictly after `day`."""
        for ahead in range(1, MAX_BREAK + 2):
            candidate = day + dt.timedelta(days=ahead)
            if self.is_working_day(candidate):
                return candidate
        return day + dt.timedelta(days=1)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (0 when `end` is not later).

        Due Friday, on Monday it is 1 working day late; across Christmas the bank holidays
        do not count.
        """
        if end <= start:
            return 0
        return self._working_days_to(end) - self._working_days_to(start)

    def _working_days_to(self, day: dt.date) -> int:
        # Counting day by day for each of 100,000 actions would be slow: keep a running count
        # per day from a fixed origin, extended on demand, and subtract.
        offset = (day - COUNT_ORIGIN).days
        if offset < 0:
            return -sum(
                self.is_working_day(day + dt.timedelta(days=n)) for n in range(1, -offset + 1)
            )
        counts = self._counts
        if len(counts) <= offset:
            # One calendar serves every thread of a process: two extending it at once would
            # count a day twice.
            with self._extending:
                if not counts:
                    counts.append(0)
                while len(counts) <= offset:
                    next_day = COUNT_ORIGIN + dt.timedelta(days=len(counts))
                    counts.append(counts[-1] + self.is_working_day(next_day))
        return counts[offset]

    def local(self, instant: dt.datetime) -> dt.datetime:
        """`instant` in the bot's timezone."""
        return instant.astimezone(self.tz)

    def in_working_time(self, instant: dt.datetime) -> bool:
        """Whether `instant` falls in working hours of a working day, in the bot's timezone."""
        local = self.local(instant)
        return self.is_working_day(local.date()) and self.start <= local.time() < self.end


@lru_cache(maxsize=1024)
def _calendar(
    timezone: str,
    start: dt.time,
    end: dt.time,
    weekdays: frozenset[int],
    country: str | None,
    subdivision: str | None,
) -> WorkingCalendar:
    calendar = WorkingCalendar(
        tz=ZoneInfo(timezone),
        start=start,
        end=end,
        weekdays=weekdays,
        country=country,
        subdivision=subdivision,
    )
    calendar.holiday_name(dt.date(2000, 1, 1))  # fail now on a bad country, not at 09:00
    return calendar
