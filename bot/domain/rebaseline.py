"""Re-baselining: the deadline first set (the baseline) is kept when the deadline moves, and
how far and how often it moved is said in working days.

An owner asks for a new date with a reason; a chair or the secretary approves or declines it.
A chair moving a date directly counts the same way. The first date given to an action that
had none (the plan said "Ongoing") sets its baseline and is no re-baseline.
"""

from __future__ import annotations

import datetime as dt
import enum

from bot.domain.workdays import WorkingCalendar


class RequestState(enum.StrEnum):
    """Where a request for a new date stands."""

    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    #: A newer request for the same action (or a chair moving the date) took its place.
    SUPERSEDED = "superseded"


def slippage(baseline: dt.date | None, due: dt.date | None, calendar: WorkingCalendar) -> int:
    """Working days from the baseline to the current deadline: positive when it moved later,
    negative when earlier, 0 without either date. Weekends and bank holidays do not count."""
    if baseline is None or due is None:
        return 0
    if due >= baseline:
        return calendar.working_days_between(baseline, due)
    return -calendar.working_days_between(due, baseline)


def slippage_words(days: int) -> str:
    """`+12 working days`, `-3 working days`, `on baseline`."""
    if days == 0:
        return "on baseline"
    unit = "working day" if abs(days) == 1 else "working days"
    return f"{days:+d} {unit}"


def times(count: int) -> str:
    """`once`, `twice`, `3 times`."""
    return "once" if count == 1 else "twice" if count == 2 else f"{count} times"


def moved_words(count: int, days: int) -> str | None:
    """`moved twice, +12 working days`: how an action's deadline moved, for lists and the
    digest; None when it never moved."""
    if count <= 0:
        return None
    return f"moved {times(count)}, {slippage_words(days)}"
