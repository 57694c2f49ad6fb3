"""Reading and writing dates: every accepted form, the calendar's edges, and the errors."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.grammar.dates import (
    EXAMPLES,
    DateParseError,
    FixedDateError,
    PlanDate,
    format_date,
    parse_date,
    parse_fixed_date,
    parse_plan_date,
)

D = dt.date
MON = D(2026, 11, 23)  # the week Mon 23 – Sun 29 November 2026
TUE = D(2026, 11, 24)
FRI = D(2026, 11, 27)
SAT = D(2026, 11, 28)
SUN = D(2026, 11, 29)


VALID: list[tuple[str, dt.date, dt.date]] = [
    # ISO, and year-first with other separators
    ("2026-12-01", MON, D(2026, 12, 1)),
    ("2026-1-5", MON, D(2026, 1, 5)),  # in the past is fine here; services decide
    ("2026/12/01", MON, D(2026, 12, 1)),
    ("2026.12.01", MON, D(2026, 12, 1)),
    ("  2026-12-01.  ", MON, D(2026, 12, 1)),
    ("0005-01-01", MON, D(5, 1, 1)),
    # UK day-first numbers, never US month-first
    ("1/12/2026", MON, D(2026, 12, 1)),
    ("01/12/26", MON, D(2026, 12, 1)),
    ("1/12/99", MON, D(2099, 12, 1)),
    ("1/12", MON, D(2026, 12, 1)),
    ("1.12.2026", MON, D(2026, 12, 1)),
    ("1.12", MON, D(2026, 12, 1)),
    ("1-12-2026", MON, D(2026, 12, 1)),
    ("1-12-26", MON, D(2026, 12, 1)),
    ("12/1/2027", MON, D(2027, 1, 12)),
    ("13/1/2027", MON, D(2027, 1, 13)),
    ("1/12/2026.", MON, D(2026, 12, 1)),
    # day and month name, either order, with or without ordinals and years
    ("1 Dec", MON, D(2026, 12, 1)),
    ("1 December", MON, D(2026, 12, 1)),
    ("1st December 2026", MON, D(2026, 12, 1)),
    ("1st of December", MON, D(2026, 12, 1)),
    ("Dec 1", MON, D(2026, 12, 1)),
    ("December 1st 2026", MON, D(2026, 12, 1)),
    ("December 1st, 2026", MON, D(2026, 12, 1)),
    ("1 Dec 26", MON, D(2026, 12, 1)),
    ("1 DEC 2026", MON, D(2026, 12, 1)),
    ("1 Dec. 2026", MON, D(2026, 12, 1)),
    ("Dec. 1", MON, D(2026, 12, 1)),
    ("01-Dec-2026", MON, D(2026, 12, 1)),
    ("1-dec", MON, D(2026, 12, 1)),
    ("3 Sept", MON, D(2027, 9, 3)),
    ("Sept 3 2027", MON, D(2027, 9, 3)),
    ("3 sep", MON, D(2027, 9, 3)),
    ("3 September", MON, D(2027, 9, 3)),
    ("2nd Jan", MON, D(2027, 1, 2)),
    ("22nd March 2027", MON, D(2027, 3, 22)),
    ("23rd may", MON, D(2027, 5, 23)),
    ("31 jul", MON, D(2027, 7, 31)),
    ("14 Dec", MON, D(2026, 12, 14)),
    # a leading weekday that agrees with the date (what format_date writes)
    ("Fri 4 Dec 2026", MON, D(2026, 12, 4)),
    ("Fri 4 Dec", MON, D(2026, 12, 4)),
    ("Friday, 4 December", MON, D(2026, 12, 4)),
    ("fri. 4 dec", MON, D(2026, 12, 4)),
    ("fri 4/12/2026", MON, D(2026, 12, 4)),
    ("Fri 2026-12-04", MON, D(2026, 12, 4)),
    ("Fri Dec 4th", MON, D(2026, 12, 4)),
    # without a year: the next occurrence on or after today, across the new year
    ("1/1", D(2026, 12, 20), D(2027, 1, 1)),
    ("20 Dec", D(2026, 12, 20), D(2026, 12, 20)),
    ("19 Dec", D(2026, 12, 20), D(2027, 12, 19)),
    ("Dec 21", D(2026, 12, 20), D(2026, 12, 21)),
    ("23/11", MON, MON),
    ("22/11", MON, D(2027, 11, 22)),
    # leap years
    ("29/2/2028", MON, D(2028, 2, 29)),
    ("2000-02-29", MON, D(2000, 2, 29)),
    ("29 Feb", D(2028, 2, 29), D(2028, 2, 29)),
    ("29 Feb", D(2027, 3, 1), D(2028, 2, 29)),
    # today and tomorrow
    ("today", MON, MON),
    ("TODAY.", MON, MON),
    ("tomorrow", MON, TUE),
    ("Tomorrow", D(2026, 12, 31), D(2027, 1, 1)),
    ("tomorrow", D(2028, 2, 28), D(2028, 2, 29)),
    # a bare weekday is strictly after today
    ("monday", MON, D(2026, 11, 30)),
    ("mon", MON, D(2026, 11, 30)),
    ("tuesday", MON, TUE),
    ("tue", MON, TUE),
    ("tues", MON, TUE),
    ("wed", MON, D(2026, 11, 25)),
    ("thurs", MON, D(2026, 11, 26)),
    ("friday", MON, FRI),
    ("fri", MON, FRI),
    ("Friday.", MON, FRI),
    ("sun", MON, SUN),
    ("friday", FRI, D(2026, 12, 4)),
    ("saturday", FRI, SAT),
    ("friday", SAT, D(2026, 12, 4)),
    ("sunday", SAT, SUN),
    ("sunday", SUN, D(2026, 12, 6)),
    ("monday", SUN, D(2026, 11, 30)),
    ("friday", D(2026, 12, 30), D(2027, 1, 1)),
    # "this" = in the current Monday–Sunday week, today included
    ("this friday", MON, FRI),
    ("this monday", MON, MON),
    ("this friday", FRI, FRI),
    ("this sunday", FRI, SUN),
    ("this sunday", SAT, SUN),
    ("this sun", SUN, SUN),
    # "next" = in the following Monday–Sunday week
    ("next friday", MON, D(2026, 12, 4)),
    ("next monday", MON, D(2026, 11, 30)),
    ("next friday", FRI, D(2026, 12, 4)),
    ("next monday", FRI, D(2026, 11, 30)),
    ("next friday", SAT, D(2026, 12, 4)),
    ("next sunday", SAT, D(2026, 12, 6)),
    ("next monday", SUN, D(2026, 11, 30)),
    ("next sunday", SUN, D(2026, 12, 6)),
    ("next fri", D(2026, 12, 31), D(2027, 1, 8)),
    # next week, end of week
    ("next week", MON, D(2026, 11, 30)),
    ("next week", FRI, D(2026, 11, 30)),
    ("next week", SUN, D(2026, 11, 30)),
    ("next week", D(2026, 12, 31), D(2027, 1, 4)),
    ("end of week", MON, FRI),
    ("end of the week", TUE, FRI),
    ("eow", FRI, FRI),
    ("EOW", SAT, D(2026, 12, 4)),
    ("end of week", SUN, D(2026, 12, 4)),
    # end of month, next month
    ("end of month", MON, D(2026, 11, 30)),
    ("end of the month", D(2026, 11, 30), D(2026, 11, 30)),
    ("eom", D(2026, 12, 31), D(2026, 12, 31)),
    ("eom", D(2028, 2, 10), D(2028, 2, 29)),
    ("eom", D(2027, 2, 10), D(2027, 2, 28)),
    ("next month", MON, D(2026, 12, 1)),
    ("next month", D(2026, 12, 20), D(2027, 1, 1)),
    ("next month", D(2027, 1, 31), D(2027, 2, 1)),
    # counts of days, weeks and months, with or without "in"
    ("in 10 days", MON, D(2026, 12, 3)),
    ("in 1 day", MON, TUE),
    ("in 0 days", MON, MON),
    ("10 days", MON, D(2026, 12, 3)),
    ("1 day", MON, TUE),
    ("in 2 weeks", MON, D(2026, 12, 7)),
    ("2 weeks", MON, D(2026, 12, 7)),
    ("in 1 week", MON, D(2026, 11, 30)),
    ("in a week", MON, D(2026, 11, 30)),
    ("in 2 weeks", D(2026, 12, 20), D(2027, 1, 3)),
    ("in 3 months", MON, D(2027, 2, 23)),
    ("3 months", MON, D(2027, 2, 23)),
    ("in a month", MON, D(2026, 12, 23)),
    ("IN  10   DAYS", MON, D(2026, 12, 3)),
    ("in 1 day", D(2028, 2, 28), D(2028, 2, 29)),
    # calendar months clamp to the end of a shorter month
    ("in 1 month", D(2027, 1, 31), D(2027, 2, 28)),
    ("in 1 month", D(2028, 1, 31), D(2028, 2, 29)),
    ("in 1 month", D(2026, 3, 31), D(2026, 4, 30)),
    ("in 3 months", D(2026, 11, 30), D(2027, 2, 28)),
    ("in 2 months", D(2026, 12, 31), D(2027, 2, 28)),
    ("in 12 months", D(2028, 2, 29), D(2029, 2, 28)),
    ("in 48 months", D(2028, 2, 29), D(2032, 2, 29)),
    ("in 1 month", D(2026, 12, 15), D(2027, 1, 15)),
]


@pytest.mark.parametrize(("text", "today", "expected"), VALID)
def test_parses(text: str, today: dt.date, expected: dt.date) -> None:
    assert parse_date(text, today=today) == expected


INVALID: list[tuple[str, dt.date, str]] = [
    # impossible calendar dates, with the reason why
    ("31/2/2027", MON, "February 2027 has 28 days"),
    ("29/2/2027", MON, "February 2027 has 28 days"),
    ("2026-02-30", MON, "February 2026 has 28 days"),
    ("2100-02-29", MON, "February 2100 has 28 days"),
    ("2026-13-01", MON, "no month 13"),
    ("31/4", MON, "April has 30 days"),
    ("30 Feb", MON, "February has at most 29 days"),
    ("32/1", MON, "January has 31 days"),
    ("32 Jan", MON, "January has 31 days"),
    # 29 February without a year when the next one is not in a leap year: never years ahead
    ("29/2", MON, "2027 has no 29 February; give the year (29/2/2028)"),
    ("29 Feb", D(2028, 3, 1), "2029 has no 29 February; give the year (29/2/2032)"),
    ("29/2", D(2099, 3, 1), "2100 has no 29 February; give the year (29/2/2104)"),
    ("0/1/2027", MON, "no day 0"),
    ("1/0", MON, "no month 0"),
    ("0000-01-01", MON, "no year 0"),
    ("12/25/2026", MON, "no month 25"),  # US order is never guessed
    # a weekday that disagrees with the date
    ("Mon 4 Dec 2026", MON, "Fri 4 Dec 2026 is a Friday"),
    ("sat 2026-12-04", MON, "is a Friday"),
    # "this <weekday>" already gone this week
    ("this monday", TUE, "has passed"),
    ("this friday", SAT, "say 'next friday'"),
    # past the end of the calendar
    ("in 99999999999 days", MON, "too far away"),
    ("in 999999999 days", MON, "too far away"),
    ("in 999999999 weeks", MON, "too far away"),
    ("in 100000 months", MON, "too far away"),
    ("tomorrow", D(9999, 12, 31), "too far away"),
    ("next month", D(9999, 12, 5), "too far away"),
    ("1/1", D(9999, 12, 5), "too far away"),
    ("next week", D(9999, 12, 31), "too far away"),
    # not dates at all
    ("someday", MON, "I can't read"),
    ("", MON, "I can't read"),
    ("   ", MON, "I can't read"),
    ("next", MON, "I can't read"),
    ("this", MON, "I can't read"),
    ("this week", MON, "I can't read"),
    ("friday week", MON, "I can't read"),
    ("in days", MON, "I can't read"),
    ("a week", MON, "is not a date"),
    ("in -3 days", MON, "I can't read"),
    ("in 3 years", MON, "I can't read"),
    ("14", MON, "I can't read"),
    ("Dec 2026", MON, "I can't read"),
    ("December", MON, "I can't read"),
    ("1 Smarch", MON, "I can't read"),
    ("1/12.2026", MON, "I can't read"),
    ("1/12/202", MON, "I can't read"),
    ("1/12/2026/1", MON, "I can't read"),
    ("2026-12-01T10:00", MON, "I can't read"),
    ("1 Dec 2026 police data late", MON, "I can't read"),
    ("friday..", MON, "I can't read"),
    ("١/١٢", MON, "I can't read"),  # Arabic-Indic digits are not read as numbers
]


@pytest.mark.parametrize(("text", "today", "reason"), INVALID)
def test_rejects_with_quoted_reason(text: str, today: dt.date, reason: str) -> None:
    with pytest.raises(DateParseError) as caught:
        parse_date(text, today=today)
    message = str(caught.value)
    assert f"'{text.strip()}'" in message
    assert reason in message
    assert message.endswith(EXAMPLES)
    assert "\n" not in message


def test_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="I can't read 'soon' as a date"):
        parse_date("soon", today=MON)


def test_long_input_is_truncated_in_the_message() -> None:
    text = "the week after the inspection, unless the board meets earlier"
    with pytest.raises(DateParseError) as caught:
        parse_date(text, today=MON)
    message = str(caught.value)
    assert f"'{text[:39]}…'" in message
    assert text not in message


def test_message_stays_on_one_line() -> None:
    with pytest.raises(DateParseError) as caught:
        parse_date("some\nthing\r\nelse\u2028here", today=MON)
    assert "'some thing else here'" in str(caught.value)
    assert len(str(caught.value).splitlines()) == 1


def test_whitespace_inside_is_collapsed() -> None:
    assert parse_date("next\n\tweek", today=MON) == D(2026, 11, 30)


FORMATTED: list[tuple[dt.date, dt.date | None, str]] = [
    (D(2026, 12, 4), None, "Fri 4 Dec 2026"),
    (D(2026, 12, 4), MON, "Fri 4 Dec"),
    (D(2027, 1, 1), MON, "Fri 1 Jan 2027"),
    (D(2025, 12, 31), MON, "Wed 31 Dec 2025"),
    (D(2027, 9, 13), None, "Mon 13 Sep 2027"),
    (D(2028, 2, 29), None, "Tue 29 Feb 2028"),
    (D(5, 1, 1), None, "Sat 1 Jan 0005"),
]


@pytest.mark.parametrize(("date", "today", "expected"), FORMATTED)
def test_format_date(date: dt.date, today: dt.date | None, expected: str) -> None:
    assert format_date(date, today=today) == expected


# Properties -------------------------------------------------------------------------------

_VOCABULARY = [
    "0", "1", "2", "9", "12", "13", "29", "30", "31", "32", "99", "2026", "0000", "9999",
    "99999999999", "-", "/", ".", ",", "st", "nd", "rd", "th", "of", "in", "a", "an", "the",
    "today", "tomorrow", "this", "next", "end", "week", "month", "eow", "eom",
    "day", "days", "weeks", "months", "mon", "friday", "sun", "sept", "december", "feb", "may",
]  # fmt: skip


@given(st.dates(), st.dates())
def test_iso_reads_back(date: dt.date, today: dt.date) -> None:
    assert parse_date(date.isoformat(), today=today) == date


@given(st.dates(), st.dates())
def test_formatted_date_reads_back(date: dt.date, today: dt.date) -> None:
    assert parse_date(format_date(date), today=today) == date


@given(st.dates(), st.dates())
def test_uk_numeric_reads_back(date: dt.date, today: dt.date) -> None:
    assert parse_date(f"{date.day}/{date.month}/{date.year:04d}", today=today) == date


@given(st.dates(max_value=D(9998, 1, 1)), st.integers(min_value=0, max_value=364))
def test_reply_without_year_reads_back(today: dt.date, ahead: int) -> None:
    # A reply that drops the year still means the same day, as long as it is this year.
    date = today + dt.timedelta(days=ahead)
    if date.year == today.year:
        assert parse_date(format_date(date, today=today), today=today) == date


@given(st.dates(max_value=D(9999, 12, 1)), st.sampled_from(["mon", "wednesday", "sun"]))
def test_bare_weekday_is_within_the_next_seven_days(today: dt.date, name: str) -> None:
    date = parse_date(name, today=today)
    assert 1 <= (date - today).days <= 7
    assert format_date(date).lower().startswith(name[:3])


@given(st.dates(max_value=D(9999, 1, 1)))
def test_months_clamp_to_month_end(today: dt.date) -> None:
    date = parse_date("in 1 month", today=today)
    assert (date.year * 12 + date.month) - (today.year * 12 + today.month) == 1
    assert date.day == today.day or (date.day < today.day and (date + dt.timedelta(1)).day == 1)


def _check_only_date_errors(text: str, today: dt.date) -> None:
    try:
        result = parse_date(text, today=today)
    except DateParseError as exc:
        message = str(exc)
        assert len(message.splitlines()) == 1
        assert message.endswith(EXAMPLES)
    else:
        assert isinstance(result, dt.date)


@given(st.text(), st.dates())
def test_any_text_raises_only_date_errors(text: str, today: dt.date) -> None:
    _check_only_date_errors(text, today)


@given(st.lists(st.sampled_from(_VOCABULARY), max_size=5).map(" ".join), st.dates())
def test_date_like_text_raises_only_date_errors(text: str, today: dt.date) -> None:
    # Random text rarely gets past the first character; date words reach the deep paths.
    _check_only_date_errors(text, today)


@given(
    st.lists(st.sampled_from(_VOCABULARY), max_size=5).map("".join),
    st.sampled_from([D(1, 1, 1), D(9999, 12, 31), D(9999, 12, 27), MON]),
)
def test_glued_date_words_at_calendar_edges_raise_only_date_errors(
    text: str, today: dt.date
) -> None:
    _check_only_date_errors(text, today)


# --- fixed dates (plan files) --------------------------------------------------------------

DEC1 = D(2026, 12, 1)


@pytest.mark.parametrize(
    "value",
    [
        "2026-12-01",
        "2026-12-01 00:00:00",  # a date-and-time cell saved as CSV
        "2026-12-01T17:30",
        "2026/12/01",
        "1/12/2026",
        "01/12/26",
        "1.12.2026",
        "1 Dec 2026",
        "1st December 2026",
        "01-Dec-26",  # Excel's d-mmm-yy
        "December 1st, 2026",
        "Tue 1 Dec 2026",  # what format_date writes
        dt.datetime(2026, 12, 1, 17, 0),
        DEC1,
        46357,  # Excel's day number
        46357.0,
    ],
)
def test_fixed_dates(value: str | int | float | dt.date) -> None:
    assert parse_fixed_date(value) == DEC1


@pytest.mark.parametrize(
    ("value", "well_formed"),
    [
        # Read again later, these would name another day.
        ("1 Dec", False),
        ("1/12", False),
        ("friday", False),
        ("tomorrow", False),
        ("in 3 days", False),
        # Not dates at all.
        ("someday", False),
        ("1 Smarch 2026", False),
        ("1/12/2026 10:00", False),  # a time only after an ISO date, as spreadsheets write it
        (12, False),  # a stray number, not a day of a plan
        (46357.5, False),
        (float("nan"), False),
        (True, False),
        # Shaped like dates, but not on the calendar.
        ("31/2/2026", True),
        ("12/31/2026", True),
        ("2026-02-30", True),
        ("Mon 1 Dec 2026", True),
    ],
)
def test_not_fixed_dates(value: str | int | float, well_formed: bool) -> None:
    with pytest.raises(FixedDateError) as caught:
        parse_fixed_date(value)
    assert caught.value.well_formed is well_formed


@given(st.one_of(st.text(), st.lists(st.sampled_from(_VOCABULARY), max_size=5).map(" ".join)))
def test_fixed_dates_raise_only_their_error(text: str) -> None:
    with contextlib.suppress(FixedDateError):
        assert isinstance(parse_fixed_date(text), dt.date)


# --- plan dates as officers write them ----------------------------------------------------------

PLAN_DATES: list[tuple[str | int | float | dt.date, PlanDate]] = [
    # Days, as parse_fixed_date reads them: no words to show.
    ("31/12/2026", PlanDate(D(2026, 12, 31))),
    ("31.12.26", PlanDate(D(2026, 12, 31))),
    ("31/12/26", PlanDate(D(2026, 12, 31))),
    ("By 31/12/2026", PlanDate(D(2026, 12, 31))),
    ("Due 1 Dec 2026", PlanDate(D(2026, 12, 1))),
    (46357, PlanDate(D(2026, 12, 1))),
    (dt.datetime(2026, 12, 1, 17, 0), PlanDate(D(2026, 12, 1))),
    # A month: its last day.
    ("March 2027", PlanDate(D(2027, 3, 31), words="March 2027", rule="end of month")),
    ("Feb 2027", PlanDate(D(2027, 2, 28), words="Feb 2027", rule="end of month")),
    ("Feb 2028", PlanDate(D(2028, 2, 29), words="Feb 2028", rule="end of month")),
    ("Sept 2027", PlanDate(D(2027, 9, 30), words="Sept 2027", rule="end of month")),
    ("Mar-27", PlanDate(D(2027, 3, 31), words="Mar-27", rule="end of month")),
    ("03/2027", PlanDate(D(2027, 3, 31), words="03/2027", rule="end of month")),
    (
        "End of January 2027",
        PlanDate(D(2027, 1, 31), words="End of January 2027", rule="end of month"),
    ),
    (
        "By end of March 2027",
        PlanDate(D(2027, 3, 31), words="By end of March 2027", rule="end of month"),
    ),
    # Quarters: with a financial year (April to March) or, with one year, the calendar's.
    ("Q4 2026/27", PlanDate(D(2027, 3, 31), words="Q4 2026/27", rule="financial quarter")),
    ("Q1 2027/28", PlanDate(D(2027, 6, 30), words="Q1 2027/28", rule="financial quarter")),
    ("Q2 2027-28", PlanDate(D(2027, 9, 30), words="Q2 2027-28", rule="financial quarter")),
    ("Q3 FY26/27", PlanDate(D(2026, 12, 31), words="Q3 FY26/27", rule="financial quarter")),
    ("2026/27 Q4", PlanDate(D(2027, 3, 31), words="2026/27 Q4", rule="financial quarter")),
    ("Q3 2026", PlanDate(D(2026, 9, 30), words="Q3 2026", rule="calendar quarter")),
    ("Q1 2027", PlanDate(D(2027, 3, 31), words="Q1 2027", rule="calendar quarter")),
    ("H1 2027/28", PlanDate(D(2027, 9, 30), words="H1 2027/28", rule="financial half-year")),
    ("H2 2027/28", PlanDate(D(2028, 3, 31), words="H2 2027/28", rule="financial half-year")),
    ("FY 2026/27", PlanDate(D(2027, 3, 31), words="FY 2026/27", rule="financial year")),
    ("End of 2026/27", PlanDate(D(2027, 3, 31), words="End of 2026/27", rule="financial year")),
    ("End of 2027", PlanDate(D(2027, 12, 31), words="End of 2027", rule="end of year")),
    (2027, PlanDate(D(2027, 12, 31), words="2027", rule="end of year")),
    # School terms (autumn 20 Dec, spring 31 Mar, summer 22 Jul) and seasons.
    ("Autumn term 2026", PlanDate(D(2026, 12, 20), words="Autumn term 2026", rule="school term")),
    ("Spring term 2027", PlanDate(D(2027, 3, 31), words="Spring term 2027", rule="school term")),
    ("Summer term 2027", PlanDate(D(2027, 7, 22), words="Summer term 2027", rule="school term")),
    (
        "End of summer term 2026/27",
        PlanDate(D(2027, 7, 22), words="End of summer term 2026/27", rule="school term"),
    ),
    (
        "Autumn term 2026/27",
        PlanDate(D(2026, 12, 20), words="Autumn term 2026/27", rule="school term"),
    ),
    ("Spring 2027", PlanDate(D(2027, 5, 31), words="Spring 2027", rule="season")),
    ("Summer 2027", PlanDate(D(2027, 8, 31), words="Summer 2027", rule="season")),
    ("Autumn 2026", PlanDate(D(2026, 11, 30), words="Autumn 2026", rule="season")),
    ("Winter 2026", PlanDate(D(2027, 2, 28), words="Winter 2026", rule="season")),
    ("Winter 2027/28", PlanDate(D(2028, 2, 29), words="Winter 2027/28", rule="season")),
    # Several dates: the last is the deadline, the others milestones.
    (
        "By 31/12/2026\nBy 31/03/2027",
        PlanDate(
            D(2027, 3, 31),
            milestones=(D(2026, 12, 31),),
            words="By 31/12/2026 / By 31/03/2027",
            rule="last of several dates",
        ),
    ),
    (
        "Draft by 30/09/2026\nConsultation: Q3 2026/27\nFinal report - March 2027",
        PlanDate(
            D(2027, 3, 31),
            milestones=(D(2026, 9, 30), D(2026, 12, 31)),
            words="Draft by 30/09/2026 / Consultation: Q3 2026/27 / Final report - March 2027",
            rule="last of several dates",
        ),
    ),
    ("1/4/2027; 1/1/2027", PlanDate(D(2027, 4, 1), milestones=(D(2027, 1, 1),),
                                    words="1/4/2027 / 1/1/2027", rule="last of several dates")),
    # No deadline, with the cadence where one is given.
    ("Ongoing", PlanDate(None, words="Ongoing", rule="no deadline")),
    ("TBC", PlanDate(None, words="TBC", rule="no deadline")),
    ("N/A", PlanDate(None, words="N/A", rule="no deadline")),
    ("-", PlanDate(None, words="-", rule="no deadline")),
    ("Monthly", PlanDate(None, cadence="monthly", words="Monthly", rule="no deadline")),
    ("Quarterly", PlanDate(None, cadence="quarterly", words="Quarterly", rule="no deadline")),
    ("Weekly", PlanDate(None, cadence="weekly", words="Weekly", rule="no deadline")),
    ("Termly", PlanDate(None, cadence="termly", words="Termly", rule="no deadline")),
    ("Every Board", PlanDate(None, cadence="every board", words="Every Board",
                             rule="no deadline")),
    ("Six-monthly", PlanDate(None, cadence="six-monthly", words="Six-monthly",
                             rule="no deadline")),
    ("Annually", PlanDate(None, cadence="annually", words="Annually", rule="no deadline")),
    (
        "Ongoing (monthly review)",
        PlanDate(None, cadence="monthly", words="Ongoing (monthly review)", rule="no deadline"),
    ),
    (
        "Reported to every board meeting",
        PlanDate(None, cadence="every board", words="Reported to every board meeting",
                 rule="no deadline"),
    ),
    (
        "Monthly\nBy 31/03/2027",
        PlanDate(D(2027, 3, 31), cadence="monthly", words="Monthly / By 31/03/2027"),
    ),
]  # fmt: skip


@pytest.mark.parametrize(("value", "expected"), PLAN_DATES)
def test_plan_dates_as_written(value: str | int | float | dt.date, expected: PlanDate) -> None:
    assert parse_plan_date(value) == expected


def test_a_date_cell_shown_as_a_month_is_the_months_end() -> None:
    # Excel stores "Mar-27" (format mmm-yy) as 1 March 2027.
    assert parse_plan_date(dt.datetime(2027, 3, 1), month_only=True) == PlanDate(
        D(2027, 3, 31), words="Mar 2027", rule="month-only cell"
    )
    assert parse_plan_date(D(2028, 2, 1), month_only=True).due == D(2028, 2, 29)
    # The flag is about how a date cell was shown; text says what it says.
    assert parse_plan_date("1/3/2027", month_only=True) == PlanDate(D(2027, 3, 1))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("31/2/2026", "is not a real date: February 2026 has 28 days"),
        ("By 31/02/2027", "is not a real date: February 2027 has 28 days"),
        ("By 31/12/2026\nBy 31/02/2027", "is not a real date: February 2027 has 28 days"),
        ("13/2027", "is not a real date: there is no month 13"),
        ("Q4 2026/28", "is not one year to the next: 2026/28"),
        ("Mar 27", "could be a day or a month: write 27/03/2027 or March 2027"),
        ("0000", "is not in a year a plan runs to"),
        ("Winter 9999", "is not in a year a plan runs to"),
    ],
)
def test_impossible_plan_dates(value: str, reason: str) -> None:
    with pytest.raises(FixedDateError) as caught:
        parse_plan_date(value)
    assert str(caught.value) == reason
    assert caught.value.well_formed


@pytest.mark.parametrize(
    "value",
    ["soon", "ASAP", "Smarch 2027", "Q5 2026", "1 Dec", "friday", "next month", "", "\n", 12],
)
def test_garbled_plan_dates(value: str | int) -> None:
    # Relative words and year-less dates would name another day on the next import.
    with pytest.raises(FixedDateError) as caught:
        parse_plan_date(value)
    assert not caught.value.well_formed


_PLAN_VOCABULARY = [
    *_VOCABULARY, "q1", "q4", "h2", "fy", "2026/27", "9999/00", "26/27", "term", "autumn",
    "winter", "summer", "by", "ongoing", "monthly", "every", "board", "\n", ";", ":", "(", ")",
]  # fmt: skip


@given(
    st.one_of(
        st.text(),
        st.lists(st.sampled_from(_PLAN_VOCABULARY), max_size=6).map(" ".join),
    )
)
def test_plan_dates_raise_only_their_error(text: str) -> None:
    with contextlib.suppress(FixedDateError):
        read = parse_plan_date(text)
        assert read.due is None or isinstance(read.due, dt.date)
