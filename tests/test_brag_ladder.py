"""The computed BRAG rating and the escalation ladder: rules in working days, read from settings."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.config import Settings
from bot.domain import Rag, Status
from bot.domain.brag import ActionFacts, BragRules, compute, greener, mismatch_words
from bot.domain.ladder import Audience, LadderError, Trigger, parse_ladder
from bot.domain.workdays import WorkingCalendar

CALENDAR = WorkingCalendar(
    tz=ZoneInfo("Europe/London"),
    start=dt.time(9),
    end=dt.time(17, 30),
    weekdays=frozenset(range(5)),
)
RULES = BragRules()
MONDAY = dt.date(2026, 11, 30)


def rated(facts: ActionFacts, today: dt.date = MONDAY) -> tuple[Rag, str]:
    computed = compute(facts, today=today, calendar=CALENDAR, rules=RULES)
    assert computed is not None
    return computed.rag, computed.reason


def test_working_days_skip_weekends_and_bank_holidays() -> None:
    assert CALENDAR.working_days_between(dt.date(2026, 11, 27), MONDAY) == 1
    # Christmas Day, Boxing Day (moved to Monday 28th) and New Year's Day do not count.
    assert CALENDAR.working_days_between(dt.date(2026, 12, 23), dt.date(2027, 1, 4)) == 5
    assert CALENDAR.working_days_between(MONDAY, dt.date(2026, 11, 27)) == 0


def test_overdue_more_than_five_working_days_is_red_with_its_reason() -> None:
    due = dt.date(2026, 11, 20)  # a Friday: 6 working days before the Monday after next
    assert rated(ActionFacts(Status.OPEN, due), dt.date(2026, 11, 30)) == (
        Rag.RED,
        "overdue 6 working days",
    )
    # Five working days late is not yet red, but late is never green.
    assert rated(ActionFacts(Status.OPEN, due), dt.date(2026, 11, 27)) == (
        Rag.AMBER,
        "overdue 5 working days",
    )


def test_blocked_longer_than_five_working_days_is_red() -> None:
    facts = ActionFacts(Status.BLOCKED, None, blocked_since=dt.date(2026, 11, 20))
    assert rated(facts) == (Rag.RED, "blocked 6 working days")
    recent = ActionFacts(Status.BLOCKED, None, blocked_since=dt.date(2026, 11, 26))
    assert rated(recent) == (Rag.AMBER, "blocked")


def test_due_soon_without_a_recent_update_is_amber() -> None:
    due = dt.date(2026, 12, 11)  # 9 working days ahead
    stale = ActionFacts(Status.OPEN, due, last_update=dt.date(2026, 10, 1))
    assert rated(stale) == (Rag.AMBER, "due soon, no update in 42 working days")
    fresh = ActionFacts(Status.OPEN, due, last_update=dt.date(2026, 11, 20))
    assert rated(fresh) == (Rag.GREEN, "on track")
    never = ActionFacts(Status.OPEN, due)
    assert rated(never) == (Rag.AMBER, "due soon, no update ever")
    far = ActionFacts(Status.OPEN, dt.date(2027, 3, 1), last_update=dt.date(2026, 1, 5))
    assert rated(far) == (Rag.GREEN, "on track")


def test_moved_more_than_once_is_amber_and_complete_is_blue() -> None:
    moved = ActionFacts(Status.OPEN, dt.date(2027, 3, 1), rebaselines=2)
    assert rated(moved) == (Rag.AMBER, "deadline moved twice")
    assert rated(ActionFacts(Status.OPEN, dt.date(2027, 3, 1), rebaselines=1))[0] is Rag.GREEN
    assert rated(ActionFacts(Status.DONE, dt.date(2026, 1, 1))) == (Rag.BLUE, "complete")
    assert rated(ActionFacts(Status.DELIVERED, dt.date(2026, 1, 1)))[0] is Rag.GREEN
    assert compute(
        ActionFacts(Status.CANCELLED, None), today=MONDAY, calendar=CALENDAR, rules=RULES
    ) is None


def test_declared_greener_than_computed_is_flagged_in_words() -> None:
    computed = compute(
        ActionFacts(Status.OPEN, dt.date(2026, 11, 12)),
        today=MONDAY,
        calendar=CALENDAR,
        rules=RULES,
    )
    assert computed is not None
    assert greener(Rag.GREEN, computed.rag)
    assert not greener(Rag.RED, computed.rag)
    assert not greener(None, computed.rag)
    assert mismatch_words(Rag.GREEN, computed) == (
        "declared green, computed red: overdue 12 working days"
    )


def test_rules_come_from_settings_and_read_as_words() -> None:
    settings = Settings(brag_red_overdue_days=10, database_url="sqlite://")
    assert settings.brag_rules.red_overdue_days == 10
    lines = settings.brag_rules.lines()
    assert any("overdue by more than 10 working days" in line for line in lines)


def test_default_ladder_reads_as_the_readme_says() -> None:
    steps = Settings(database_url="sqlite://").ladder
    assert [s.words() for s in steps] == [
        "blocked 3 working days: secretary",
        "blocked 5 working days: chairs",
        "overdue 1 working day: owner",
        "overdue 5 working days: owner, supporters",
        "overdue 10 working days: secretary",
        "overdue 15 working days: chairs",
    ]
    assert steps[3].audience == {Audience.OWNER, Audience.SUPPORTERS}
    assert steps[0].trigger is Trigger.BLOCKED and steps[0].key == "blocked3"
    assert parse_ladder("none") == ()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("late 3: chairs", "starts with `overdue` or `blocked`"),
        ("overdue three: chairs", "whole number"),
        ("overdue 3: board", "'board' is not one of"),
        ("overdue 3 chairs", "write it as"),
        ("overdue 3: chairs; overdue 3: owner", "given twice"),
    ],
)
def test_a_bad_ladder_stops_the_start_naming_the_step(text: str, problem: str) -> None:
    with pytest.raises(LadderError, match=problem):
        parse_ladder(text)
    with pytest.raises(ValidationError, match="ESCALATION_LADDER"):
        Settings(escalation_ladder=text, database_url="sqlite://")
