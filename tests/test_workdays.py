"""Reminder planning as pure date arithmetic: lead days, weekends, bank holidays, BST/GMT."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import Settings, parse_weekdays, parse_working_hours
from bot.domain.workdays import CalendarError, WorkingCalendar
from scheduler.reminders import overdue_period, reminder_lead, reminder_window

LONDON = ZoneInfo("Europe/London")
LEADS = (7, 1, 0)


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar(
        tz=LONDON,
        start=dt.time(9, 0),
        end=dt.time(17, 30),
        weekdays=frozenset(range(5)),
        country="GB",
        subdivision="ENG",
    )


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def send_day(due: dt.date, lead: int, cal: WorkingCalendar) -> dt.date:
    """The first day the planner sends the reminder `lead` days before `due` (that lead alone)."""
    day = due - dt.timedelta(days=lead + 14)
    while reminder_lead(due=due, today=day, leads=(lead,), calendar=cal) != lead:
        assert day < due, f"no {lead}-day reminder for {due}"
        day += dt.timedelta(days=1)
    return day


def test_bank_holidays_of_england_come_from_the_library(cal: WorkingCalendar) -> None:
    assert cal.holiday_name(d("2026-12-25")) == "Christmas Day"
    assert cal.holiday_name(d("2026-12-28")) is not None  # Boxing Day, observed on the Monday
    assert cal.holiday_name(d("2026-08-31")) is not None  # summer bank holiday (England)
    assert not cal.is_working_day(d("2026-12-28"))
    assert not cal.is_working_day(d("2026-11-28"))  # a Saturday
    assert cal.is_working_day(d("2026-11-27"))
    # Scotland keeps 2 January, England does not: the subdivision matters.
    scotland = WorkingCalendar(LONDON, dt.time(9), dt.time(17), frozenset(range(5)), "GB", "SCT")
    assert not scotland.is_working_day(d("2026-01-02")) and cal.is_working_day(d("2026-01-02"))


def test_none_turns_bank_holidays_off_or_to_the_whole_country(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An empty variable counts as unset, so the word is how a deployment says it.
    monkeypatch.setenv("HOLIDAY_COUNTRY", "none")
    off = WorkingCalendar.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    assert off.is_working_day(d("2026-12-25")) and off.holiday_name(d("2026-12-25")) is None
    monkeypatch.setenv("HOLIDAY_COUNTRY", "GB")
    monkeypatch.setenv("HOLIDAY_SUBDIVISION", "none")
    whole = WorkingCalendar.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    assert not whole.is_working_day(d("2026-12-25"))


def test_unknown_country_is_refused() -> None:
    settings = Settings(_env_file=None, holiday_country="ZZ")
    with pytest.raises(CalendarError, match="ZZ"):
        WorkingCalendar.from_settings(settings)


def test_settings_read_working_hours_and_days() -> None:
    assert parse_working_hours("08:30-16:00") == (dt.time(8, 30), dt.time(16))
    assert parse_weekdays("mon-thu") == (0, 1, 2, 3)
    assert parse_weekdays("mon,wed,fri") == (0, 2, 4)
    for bad in ("9-5", "17:00-09:00", "25:00-26:00"):
        with pytest.raises(ValueError):
            parse_working_hours(bad)
    with pytest.raises(ValueError):
        parse_weekdays("fri-mon")
    settings = Settings(
        _env_file=None, working_days="tue-sat", working_hours="10:00-16:00", holiday_subdivision=""
    )
    assert settings.working_days == (1, 2, 3, 4, 5)
    assert settings.working_window == (dt.time(10), dt.time(16))
    assert settings.holiday_subdivision is None


@pytest.mark.parametrize(
    ("today", "due", "lead"),
    [
        ("2026-11-23", "2026-11-23", 0),  # due today
        ("2026-11-23", "2026-11-24", 1),  # due tomorrow
        ("2026-11-23", "2026-11-30", 7),  # due in a week
        ("2026-11-23", "2026-11-25", None),  # 2 days: the 7-day day was before it existed
        ("2026-11-23", "2026-12-13", None),  # 20 days: nothing yet
        ("2026-11-23", "2026-11-20", None),  # past: overdue nudges take over
    ],
)
def test_lead_days(cal: WorkingCalendar, today: str, due: str, lead: int | None) -> None:
    created = d("2026-11-20")
    got = reminder_lead(due=d(due), today=d(today), leads=LEADS, calendar=cal, created=created)
    assert got == lead


def test_weekend_deadline_is_reminded_on_the_friday_before(cal: WorkingCalendar) -> None:
    # Due Saturday 28 Nov: the 1-day and 0-day reminders both fall on Friday 27; the most
    # urgent one (0) is sent, once.
    assert send_day(d("2026-11-28"), 0, cal) == d("2026-11-27")
    assert send_day(d("2026-11-28"), 1, cal) == d("2026-11-27")
    assert reminder_lead(due=d("2026-11-28"), today=d("2026-11-27"), leads=LEADS, calendar=cal) == 0
    # Due Monday 30 Nov: the 1-day reminder (Sunday) moves to Friday.
    assert reminder_lead(due=d("2026-11-30"), today=d("2026-11-27"), leads=LEADS, calendar=cal) == 1
    assert reminder_lead(due=d("2026-11-30"), today=d("2026-11-30"), leads=LEADS, calendar=cal) == 0


def test_christmas_deadline_is_reminded_before_the_holidays(cal: WorkingCalendar) -> None:
    # Due Monday 28 Dec 2026 (a bank holiday): 25, 26, 27 and 28 are all days off, so both
    # the 0-day and 1-day reminders go out on Thursday 24 Dec, before the deadline.
    assert send_day(d("2026-12-28"), 0, cal) == d("2026-12-24")
    assert send_day(d("2026-12-28"), 1, cal) == d("2026-12-24")
    assert send_day(d("2026-12-28"), 7, cal) == d("2026-12-21")
    lead = {
        day: reminder_lead(due=d("2026-12-28"), today=d(day), leads=LEADS, calendar=cal)
        for day in ("2026-12-18", "2026-12-21", "2026-12-23", "2026-12-24", "2026-12-28")
    }
    assert lead == {
        "2026-12-18": None,
        "2026-12-21": 7,
        "2026-12-23": 7,
        "2026-12-24": 0,
        "2026-12-28": 0,
    }


def test_catch_up_skips_reminders_from_before_the_action_existed(cal: WorkingCalendar) -> None:
    # Created today, due in 3 days: the 7-day reminder day has gone; wait for the 1-day one.
    args = {"due": d("2026-11-26"), "leads": LEADS, "calendar": cal, "created": d("2026-11-23")}
    assert reminder_lead(today=d("2026-11-23"), **args) is None  # type: ignore[arg-type]
    assert reminder_lead(today=d("2026-11-25"), **args) == 1  # type: ignore[arg-type]
    # Created long ago, worker down on the 7-day day: caught up late, once.
    assert reminder_lead(due=d("2026-11-26"), today=d("2026-11-23"), leads=LEADS, calendar=cal) == 7


def test_window_covers_the_longest_lead_past_a_weekend(cal: WorkingCalendar) -> None:
    # Friday: Saturday and Sunday deadlines' reminders come forward to today.
    assert reminder_window(d("2026-11-27"), LEADS, cal) == d("2026-12-06")
    assert reminder_window(d("2026-11-24"), LEADS, cal) == d("2026-12-01")


@given(
    today=st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2028, 12, 31)),
    ahead=st.integers(min_value=0, max_value=40),
)
def test_window_is_exact(today: dt.date, ahead: int) -> None:
    cal = WorkingCalendar(LONDON, dt.time(9), dt.time(17), frozenset(range(5)), "GB", "ENG")
    due = today + dt.timedelta(days=ahead)
    has_reminder = reminder_lead(due=due, today=today, leads=LEADS, calendar=cal) is not None
    assert has_reminder <= (due <= reminder_window(today, LEADS, cal))


@given(start=st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2028, 12, 1)))
def test_the_zero_day_reminder_never_comes_after_the_deadline(start: dt.date) -> None:
    cal = WorkingCalendar(LONDON, dt.time(9), dt.time(17), frozenset(range(5)), "GB", "ENG")
    assert send_day(start, 0, cal) <= start
    assert cal.is_working_day(send_day(start, 0, cal))


def test_overdue_daily_for_a_week_then_weekly() -> None:
    due = d("2026-11-20")

    def period(day: str) -> dt.date | None:
        return overdue_period(due=due, today=d(day), daily_days=7, repeat_days=7)

    assert period("2026-11-20") is None
    assert period("2026-11-21") == d("2026-11-21")
    assert period("2026-11-27") == d("2026-11-27")  # 7 days late: still daily
    assert period("2026-11-28") == d("2026-11-28")  # 8 days late: first weekly period
    assert period("2026-11-30") == d("2026-11-28")  # same period: same key, no second nudge
    assert period("2026-12-04") == d("2026-11-28")
    assert period("2026-12-05") == d("2026-12-05")


def test_working_time_follows_bst_and_gmt(cal: WorkingCalendar) -> None:
    # Clocks go forward on Sunday 29 March 2026 and back on Sunday 25 October 2026.
    utc = dt.UTC
    assert not cal.in_working_time(dt.datetime(2026, 3, 27, 8, 30, tzinfo=utc))  # 08:30 GMT
    assert cal.in_working_time(dt.datetime(2026, 3, 30, 8, 30, tzinfo=utc))  # 09:30 BST
    assert cal.in_working_time(dt.datetime(2026, 10, 23, 16, 0, tzinfo=utc))  # 17:00 BST
    assert not cal.in_working_time(dt.datetime(2026, 10, 23, 16, 45, tzinfo=utc))  # 17:45 BST
    assert cal.in_working_time(dt.datetime(2026, 10, 26, 16, 45, tzinfo=utc))  # 16:45 GMT
    assert not cal.in_working_time(dt.datetime(2026, 10, 26, 8, 30, tzinfo=utc))  # 08:30 GMT
    assert not cal.in_working_time(dt.datetime(2026, 11, 28, 12, 0, tzinfo=utc))  # Saturday
    # 23:30 UTC on Monday 30 March is already Tuesday in London.
    assert cal.local(dt.datetime(2026, 3, 30, 23, 30, tzinfo=utc)).date() == d("2026-03-31")


def test_one_calendar_per_settings_counted_once_whatever_the_threads() -> None:
    import threading

    settings = Settings(_env_file=None, database_url="sqlite://")  # type: ignore[call-arg]
    calendar = WorkingCalendar.from_settings(settings)
    assert WorkingCalendar.from_settings(settings) is calendar
    fresh = WorkingCalendar(
        tz=calendar.tz, start=calendar.start, end=calendar.end, weekdays=calendar.weekdays
    )
    later = dt.date(2030, 12, 31)
    expected = sum(
        calendar.is_working_day(dt.date(2026, 1, 1) + dt.timedelta(days=n))
        for n in range(1, (later - dt.date(2026, 1, 1)).days + 1)
    )
    answers: list[int] = []
    threads = [
        threading.Thread(
            target=lambda: answers.append(fresh.working_days_between(dt.date(2026, 1, 1), later))
        )
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [expected] * 8
