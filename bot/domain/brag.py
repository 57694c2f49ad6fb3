"""BRAG computed from facts, beside the RAG an owner declares.

A board must be seen to be honest: the bot works out a rating from what it knows (lateness,
how long blocked, how long since an update, how often the deadline moved) by rules a chair can
read (`/status rules`), and flags an action whose declared rating is greener than that.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.domain.enums import Rag, Status
from bot.domain.workdays import WorkingCalendar

#: From the least to the most reassuring: "greener" means later in this order.
GREENNESS = (Rag.RED, Rag.AMBER, Rag.GREEN, Rag.BLUE)


@dataclass(frozen=True)
class BragRules:
    """The thresholds, in working days, of the computed rating (settings `BRAG_*`)."""

    red_overdue_days: int = 5
    red_blocked_days: int = 5
    amber_due_days: int = 10
    amber_stale_days: int = 20
    amber_rebaselines: int = 1

    def lines(self) -> list[str]:
        """The rules in words, as `/status rules` prints them."""
        return [
            "🔵 Blue: complete, and its evidence signed off.",
            f"🔴 Red: overdue by more than {_wd(self.red_overdue_days)}, or blocked for more"
            f" than {_wd(self.red_blocked_days)}.",
            f"🟠 Amber: overdue or blocked at all; due within {_wd(self.amber_due_days)} with"
            f" no update in the last {_wd(self.amber_stale_days)}; or its deadline moved more"
            f" than {_times(self.amber_rebaselines)}.",
            "🟢 Green: otherwise (delivered and waiting for sign-off counts as green).",
            "Days are working days: weekends and bank holidays do not count.",
        ]


@dataclass(frozen=True)
class ActionFacts:
    """What the rules look at for one action."""

    status: Status
    due: dt.date | None
    blocked_since: dt.date | None = None
    last_update: dt.date | None = None
    created: dt.date | None = None
    rebaselines: int = 0


@dataclass(frozen=True)
class Computed:
    """A computed rating and the fact that decided it ("overdue 12 working days")."""

    rag: Rag
    reason: str


def compute(
    facts: ActionFacts, *, today: dt.date, calendar: WorkingCalendar, rules: BragRules
) -> Computed | None:
    """The rating the rules give `facts` on `today`; None for a cancelled action."""
    if facts.status is Status.CANCELLED:
        return None
    if facts.status is Status.DONE:
        return Computed(Rag.BLUE, "complete")
    if facts.status is Status.DELIVERED:
        return Computed(Rag.GREEN, "delivered, waiting for sign-off")
    late = calendar.working_days_between(facts.due, today) if facts.due is not None else 0
    blocked = (
        calendar.working_days_between(facts.blocked_since, today)
        if facts.status is Status.BLOCKED and facts.blocked_since is not None
        else 0
    )
    if late > rules.red_overdue_days:
        return Computed(Rag.RED, f"overdue {_wd(late)}")
    if blocked > rules.red_blocked_days:
        return Computed(Rag.RED, f"blocked {_wd(blocked)}")
    if late > 0:
        return Computed(Rag.AMBER, f"overdue {_wd(late)}")
    if facts.status is Status.BLOCKED:
        return Computed(Rag.AMBER, "blocked")
    if facts.rebaselines > rules.amber_rebaselines:
        return Computed(Rag.AMBER, f"deadline moved {_times(facts.rebaselines)}")
    if facts.due is not None and _due_within(facts.due, today, calendar, rules.amber_due_days):
        last = facts.last_update or facts.created
        quiet = calendar.working_days_between(last, today) if last is not None else None
        if quiet is None or quiet > rules.amber_stale_days:
            since = "ever" if quiet is None else f"in {_wd(quiet)}"
            return Computed(Rag.AMBER, f"due soon, no update {since}")
    return Computed(Rag.GREEN, "on track")


def greener(declared: Rag | None, computed: Rag | None) -> bool:
    """Whether the owner's declared rating is more reassuring than the computed one."""
    if declared is None or computed is None:
        return False
    return GREENNESS.index(declared) > GREENNESS.index(computed)


def mismatch_words(declared: Rag, computed: Computed) -> str:
    """`declared green, computed red: overdue 12 working days`."""
    return f"declared {declared.value}, computed {computed.rag.value}: {computed.reason}"


def _due_within(due: dt.date, today: dt.date, calendar: WorkingCalendar, days: int) -> bool:
    return due >= today and calendar.working_days_between(today, due) <= days


def _wd(n: int) -> str:
    return f"{n} working day" if n == 1 else f"{n} working days"


def _times(n: int) -> str:
    return "once" if n == 1 else "twice" if n == 2 else f"{n} times"
