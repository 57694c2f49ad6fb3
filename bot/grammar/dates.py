"""Reading the dates people type into commands and write in plan files, and writing dates back
in replies.

Dates are UK style: day before month, never the US month-first order, so `1/12` is the first
of December. Everything is relative to `today`, which the caller works out from its injected,
timezone-aware clock in the bot's timezone; this module never asks the system for the time, so
tests and `--now` can move time freely.

Accepted forms (case-insensitive; surrounding spaces, commas and a trailing full stop are fine):

* ISO `2026-12-01` (also `2026/12/01`: year-first cannot be misread);
* day-first numbers `1/12/2026`, `01/12/26` (two-digit years are 20xx), `1/12`, `1.12.2026`,
  `1-12-2026`;
* day and month name `1 Dec`, `1st December 2026`, `1st of December`, `Dec 1`,
  `December 1st 2026`, `1 Dec 26`, `01-Dec-2026`, optionally after a weekday name that must
  agree with the date (`Fri 4 Dec 2026`, which is what `format_date` writes);
* relative words `today`, `tomorrow`, `friday`/`fri`, `this friday`, `next friday`,
  `next week`, `end of week`/`eow`, `end of month`/`eom`, `next month`, `in 10 days`,
  `in 2 weeks`, `in 3 months`, `in a week`, `10 days`.

A date without a year is its next occurrence on or after `today`.

A plan file's dates (parse_fixed_date) must read the same on every import: the absolute forms
with a year, spreadsheet date cells and Excel day numbers, nothing relative. parse_plan_date
reads a plan's date cell as officers write it: months, quarters, financial years, school terms,
seasons, several dates in one cell, and the words for "no deadline" (see its docstring).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "PLAN_DATE_FORMS",
    "DateParseError",
    "FixedDateError",
    "PlanDate",
    "format_date",
    "parse_date",
    "parse_fixed_date",
    "parse_plan_date",
]


class DateParseError(ValueError):
    """One-line, user-facing reason, e.g. "I can't read '32/1' as a date. Try 2026-12-01,
    1/12/2026, 1 Dec or friday."

    The message is shown to the user as it is, so it quotes their text and suggests forms
    that work; it never contains a line break.
    """


#: Shown after every reason, so a user who got it wrong sees what would have worked.
EXAMPLES = "Try 2026-12-01, 1/12/2026, 1 Dec or friday."

#: Quoted input is cut to this many characters so a pasted paragraph stays a one-line reply.
_QUOTE_LIMIT = 40

_MONTHS: dict[str, int] = {
    "jan": 1, "january": 1,
    "feb": 2, "february": 2,
    "mar": 3, "march": 3,
    "apr": 4, "april": 4,
    "may": 5,
    "jun": 6, "june": 6,
    "jul": 7, "july": 7,
    "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10,
    "nov": 11, "november": 11,
    "dec": 12, "december": 12,
}  # fmt: skip

_WEEKDAYS: dict[str, int] = {
    "mon": 0, "monday": 0,
    "tue": 1, "tues": 1, "tuesday": 1,
    "wed": 2, "weds": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3,
    "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5,
    "sun": 6, "sunday": 6,
}  # fmt: skip

# Written out rather than taken from strftime/calendar, whose names follow the process locale.
_DAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _alternatives(words: dict[str, int]) -> str:
    # Longest first so the regex engine tries "september" before "sep" (clearer, and faster).
    return "|".join(sorted(words, key=len, reverse=True))


_MONTH_RE = _alternatives(_MONTHS)
_WEEKDAY_RE = _alternatives(_WEEKDAYS)
# Input is normalised to single spaces before matching, so patterns use a literal " ", and
# [0-9] rather than \d so other scripts' digits are not silently read as numbers.
_LEADING_WEEKDAY = rf"(?:(?P<wd>{_WEEKDAY_RE})\.? )?"
_YEAR = r"(?P<y>[0-9]{4}|[0-9]{2})"
_ORDINAL = r"(?:st|nd|rd|th)?"


class _Reason(Exception):
    """Why a text that looked like a date is still not one; parse_date adds the quote."""


def parse_date(text: str, *, today: dt.date) -> dt.date:
    """Read `text` as a calendar date, relative to `today` (the bot's local date).

    Raises DateParseError, with a one-line reason that quotes `text`, for anything that is
    not a real date in one of the accepted forms. Never raises anything else.
    """
    words = _normalise(text)
    quoted = _quote(text)
    try:
        for pattern, resolve in _FORMS:
            match = pattern.fullmatch(words)
            if match is not None:
                return resolve(match, today)
    except _Reason as reason:
        raise DateParseError(f"'{quoted}' {reason}. {EXAMPLES}") from None
    except OverflowError:
        # Past year 9999 (or a count too big for timedelta): the date type cannot hold it.
        raise DateParseError(f"'{quoted}' is too far away. {EXAMPLES}") from None
    raise DateParseError(f"I can't read '{quoted}' as a date. {EXAMPLES}")


def format_date(d: dt.date, *, today: dt.date | None = None) -> str:
    """Write `d` UK style, e.g. "Fri 4 Dec 2026".

    With `today`, the year is left out when it is this year ("Fri 4 Dec"), as people say it.
    Without it the year is always written, and the result reads back with parse_date.
    """
    text = f"{_DAY_ABBR[d.weekday()]} {d.day} {_MONTH_ABBR[d.month - 1]}"
    if today is None or d.year != today.year:
        # Four digits even for tiny years, so "0026" is never read back as a two-digit 2026.
        text += f" {d.year:04d}"
    return text


def _normalise(text: str) -> str:
    # Commas are noise ("Fri, 4 Dec", "December 1st, 2026"); collapsing all whitespace means
    # tabs, newlines and double spaces from chat clients never matter.
    words = " ".join(text.replace(",", " ").split()).lower()
    if words.endswith("."):
        words = words[:-1].rstrip()
    return words


def _quote(text: str) -> str:
    # One line, and short: the reply repeats the user's words, not a pasted essay.
    flat = " ".join(text.split())
    if len(flat) > _QUOTE_LIMIT:
        flat = flat[: _QUOTE_LIMIT - 1] + "…"
    return flat


# Absolute dates ----------------------------------------------------------------------------


def _year(text: str) -> int:
    # A two-digit year is this century: nobody sets a deadline in 1926.
    return 2000 + int(text) if len(text) == 2 else int(text)


def _calendar_date(day: int, month: int, year: int | None, today: dt.date) -> dt.date:
    """The date, or its next occurrence on or after today when no year was given."""
    if not 1 <= month <= 12:
        raise _Reason(f"is not a real date: there is no month {month}")
    if day < 1:
        raise _Reason(f"is not a real date: there is no day {day}")
    if year is not None:
        if not dt.MINYEAR <= year <= dt.MAXYEAR:
            raise _Reason(f"is not a real date: there is no year {year}")
        length = calendar.monthrange(year, month)[1]
        if day > length:
            raise _Reason(f"is not a real date: {_MONTH_NAMES[month - 1]} {year} has {length} days")
        return dt.date(year, month, day)
    # 2000 is a leap year, so this is the longest the month can ever be (29 for February).
    longest = calendar.monthrange(2000, month)[1]
    if day > longest:
        # Only February's length depends on the year, and that is worth saying.
        most = "at most " if month == 2 else ""
        raise _Reason(f"is not a real date: {_MONTH_NAMES[month - 1]} has {most}{longest} days")
    # The next time the day comes round: this year's, or next year's once it has passed.
    passed = (month, day) < (today.month, today.day)
    year = today.year + 1 if passed else today.year
    if year > dt.MAXYEAR:
        raise OverflowError
    if day > calendar.monthrange(year, month)[1]:
        # Only 29 February: jumping years ahead to the next leap year would set a deadline
        # nobody meant, so the year must be said.
        leap = next(y for y in range(year + 1, year + 9) if calendar.isleap(y))
        raise _Reason(
            f"is not a real date: {year} has no 29 February; give the year"
            f" (29/2/{leap}) or another day (28/2)"
        )
    return dt.date(year, month, day)


def _absolute(
    day: int, month: int, year_text: str | None, match: re.Match[str], today: dt.date
) -> dt.date:
    year = _year(year_text) if year_text is not None else None
    date = _calendar_date(day, month, year, today)
    weekday = match.group("wd")
    # "Mon 4 Dec 2026" is contradictory; guessing which half was meant could set a wrong
    # deadline, so say so instead.
    if weekday is not None and _WEEKDAYS[weekday] != date.weekday():
        raise _Reason(f"does not add up: {format_date(date)} is a {_DAY_NAMES[date.weekday()]}")
    return date


def _numeric(match: re.Match[str], today: dt.date) -> dt.date:
    return _absolute(int(match["d"]), int(match["m"]), match["y"], match, today)


def _named(match: re.Match[str], today: dt.date) -> dt.date:
    return _absolute(int(match["d"]), _MONTHS[match["mon"]], match["y"], match, today)


# Relative dates ----------------------------------------------------------------------------


def _monday(today: dt.date) -> dt.date:
    """Monday of the calendar week (Monday to Sunday, as in the UK) that holds today."""
    return today - dt.timedelta(days=today.weekday())


def _add_months(today: dt.date, months: int) -> dt.date:
    """Calendar months later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    year, month0 = divmod(today.year * 12 + today.month - 1 + months, 12)
    if year > dt.MAXYEAR:
        raise OverflowError
    day = min(today.day, calendar.monthrange(year, month0 + 1)[1])
    return dt.date(year, month0 + 1, day)


def _today(match: re.Match[str], today: dt.date) -> dt.date:
    return today


def _tomorrow(match: re.Match[str], today: dt.date) -> dt.date:
    return today + dt.timedelta(days=1)


def _weekday(match: re.Match[str], today: dt.date) -> dt.date:
    weekday = _WEEKDAYS[match["wd"]]
    which = match["which"]
    if which is None:
        # Strictly after today: "friday" said on a Friday means the coming one, since a
        # deadline of today would be written "today".
        return today + dt.timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)
    if which == "next":
        # The weekday of next calendar week; unambiguous, unlike everyday usage.
        return _monday(today) + dt.timedelta(days=7 + weekday)
    date = _monday(today) + dt.timedelta(days=weekday)
    if date < today:
        raise _Reason(
            f"has passed: it was {format_date(date, today=today)};"
            f" say 'next {_DAY_NAMES[weekday].lower()}'"
        )
    return date


def _next_week(match: re.Match[str], today: dt.date) -> dt.date:
    return _monday(today) + dt.timedelta(days=7)


def _end_of_week(match: re.Match[str], today: dt.date) -> dt.date:
    # The working week ends on Friday; at the weekend this week's Friday has gone, so the
    # next one is meant.
    friday = _monday(today) + dt.timedelta(days=4)
    return friday if today <= friday else friday + dt.timedelta(days=7)


def _end_of_month(match: re.Match[str], today: dt.date) -> dt.date:
    return today.replace(day=calendar.monthrange(today.year, today.month)[1])


def _next_month(match: re.Match[str], today: dt.date) -> dt.date:
    return _add_months(today.replace(day=1), 1)


def _count(match: re.Match[str], today: dt.date) -> dt.date:
    amount = match["n"]
    if amount in ("a", "an"):
        if match["in"] is None:
            # "in a week" reads as a date, a bare "a week" does not.
            raise _Reason("is not a date: say 'in a week' or '7 days'")
        number = 1
    elif len(amount) > 9:
        # Far beyond year 9999 anyway; checking the length keeps int() and timedelta quiet.
        raise OverflowError
    else:
        number = int(amount)
    unit = match["unit"]
    if unit == "day":
        return today + dt.timedelta(days=number)
    if unit == "week":
        return today + dt.timedelta(weeks=number)
    return _add_months(today, number)


_Resolver = Callable[[re.Match[str], dt.date], dt.date]

# Year first is only ever year-month-day, so any separator is safe.
_ISO_DATE = (
    rf"{_LEADING_WEEKDAY}(?P<y>[0-9]{{4}})(?P<sep>[-/.])(?P<m>[0-9]{{1,2}})"
    r"(?P=sep)(?P<d>[0-9]{1,2})"
)
#: Absolute dates: they name a day by its number and month, with or without a year.
_ABSOLUTE: tuple[tuple[str, _Resolver], ...] = (
    (_ISO_DATE, _numeric),
    # Day first, always: this bot is British, so 1/12 is 1 December, never 12 January.
    (
        rf"{_LEADING_WEEKDAY}(?P<d>[0-9]{{1,2}})(?P<sep>[-/.])(?P<m>[0-9]{{1,2}})"
        rf"(?:(?P=sep){_YEAR})?",
        _numeric,
    ),
    (
        rf"{_LEADING_WEEKDAY}(?P<d>[0-9]{{1,2}}){_ORDINAL}(?: of)?[ -]"
        rf"(?P<mon>{_MONTH_RE})\.?(?:[ -]{_YEAR})?",
        _named,
    ),
    (
        rf"{_LEADING_WEEKDAY}(?P<mon>{_MONTH_RE})\.? (?P<d>[0-9]{{1,2}}){_ORDINAL}"
        rf"(?: {_YEAR})?",
        _named,
    ),
)
_RELATIVE: tuple[tuple[str, _Resolver], ...] = (
    (r"today", _today),
    (r"tomorrow", _tomorrow),
    (rf"(?:(?P<which>this|next) )?(?P<wd>{_WEEKDAY_RE})", _weekday),
    (r"next week", _next_week),
    (r"end of (?:the )?week|eow", _end_of_week),
    (r"end of (?:the )?month|eom", _end_of_month),
    (r"next month", _next_month),
    (r"(?P<in>in )?(?P<n>[0-9]+|an?) (?P<unit>day|week|month)s?", _count),
)
# A spreadsheet's date-and-time cell saved as text: "2026-12-01 00:00:00", "2026-12-01T10:00".
_CLOCK_TIME = r"(?:[ t][0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)?"


def _compiled(
    forms: tuple[tuple[str, _Resolver], ...],
) -> tuple[tuple[re.Pattern[str], _Resolver], ...]:
    return tuple((re.compile(pattern), resolve) for pattern, resolve in forms)


#: Tried in order against the normalised text; each pattern must match the whole of it.
_FORMS = _compiled(_ABSOLUTE + _RELATIVE)
#: What parse_fixed_date reads: the absolute forms (a year is then required), with a time
#: allowed after an ISO date.
_FIXED_FORMS = _compiled(((_ISO_DATE + _CLOCK_TIME, _numeric), *_ABSOLUTE[1:]))


# Dates that stay put ------------------------------------------------------------------------

#: Excel stores a date as days since 1899-12-30; a date cell formatted as a number is one.
EXCEL_EPOCH = dt.date(1899, 12, 30)
# 1990-01-01 to 2099-12-31: a day of a plan, not a stray small number.
_EXCEL_SERIALS = range(32874, 73051)
# Resolvers want a today; with the year given they never use it.
_ANY_DAY = dt.date(2000, 1, 1)


class FixedDateError(ValueError):
    """Not a date naming one day for good; `well_formed` when it reads as a date that the
    calendar does not have (31/2/2026)."""

    def __init__(self, reason: str, *, well_formed: bool) -> None:
        super().__init__(reason)
        self.well_formed = well_formed


def parse_fixed_date(value: str | int | float | dt.date) -> dt.date:
    """A date that means the same day whenever it is read, as plan files hold them.

    A date or datetime (a spreadsheet's date cell), an Excel serial day number, or text in an
    absolute form above with its year (an ISO date may carry a time). Relative words and
    year-less dates are refused: read again next month, they would name another day.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        whole = value.is_integer() if isinstance(value, float) else True
        if whole and int(value) in _EXCEL_SERIALS:
            return EXCEL_EPOCH + dt.timedelta(days=int(value))
        raise FixedDateError("is not the day number of a date", well_formed=False)
    words = _normalise(str(value))
    for pattern, resolve in _FIXED_FORMS:
        match = pattern.fullmatch(words)
        if match is None:
            continue
        if match["y"] is None:
            break
        try:
            return resolve(match, _ANY_DAY)
        except _Reason as reason:
            raise FixedDateError(str(reason), well_formed=True) from None
    raise FixedDateError("is not a date with its year", well_formed=False)


# Plan dates as written ------------------------------------------------------------------------

#: What a plan's date cell may say, for a row error's hint.
PLAN_DATE_FORMS = (
    "write a date (31/03/2027), a month (March 2027), a quarter (Q4 2026/27), a term "
    "(Autumn term 2026), a season (Summer 2027), or Ongoing, TBC, Monthly, Every Board"
)

#: The day a school term ends: (month, day) in the calendar year the term falls in.
#: English schools' usual term ends: autumn before Christmas, spring before Easter, summer in
#: late July.
TERM_ENDS: dict[str, tuple[int, int]] = {"autumn": (12, 20), "spring": (3, 31), "summer": (7, 22)}
#: The last month of each season; winter YYYY runs into February of YYYY + 1.
SEASON_ENDS: dict[str, int] = {"spring": 5, "summer": 8, "autumn": 11, "winter": 2}

#: Words that mean "no deadline": kept as the reason, with no cadence.
_NO_DEADLINE = frozenset(
    {
        "ongoing", "on-going", "on going", "continuous", "continual", "tbc", "tba", "tbd",
        "to be confirmed", "to be agreed", "n/a", "na", "not applicable", "none",
        "-", "–", "—", "as required", "as needed",
    }
)  # fmt: skip
#: How plans say how often an action without a deadline is reported on, and its one name.
CADENCES: dict[str, str] = {
    "weekly": "weekly", "every week": "weekly", "each week": "weekly",
    "fortnightly": "fortnightly", "every two weeks": "fortnightly",
    "monthly": "monthly", "every month": "monthly", "each month": "monthly",
    "quarterly": "quarterly", "every quarter": "quarterly", "each quarter": "quarterly",
    "termly": "termly", "every term": "termly", "each term": "termly",
    "every board": "every board", "each board": "every board",
    "every board meeting": "every board", "each board meeting": "every board",
    "every improvement board": "every board", "each improvement board": "every board",
    "six-monthly": "six-monthly", "six monthly": "six-monthly", "6-monthly": "six-monthly",
    "6 monthly": "six-monthly", "bi-annually": "six-monthly", "biannually": "six-monthly",
    "half-yearly": "six-monthly", "half yearly": "six-monthly",
    "every six months": "six-monthly", "every 6 months": "six-monthly",
    "annually": "annually", "annual": "annually", "yearly": "annually",
    "every year": "annually", "each year": "annually",
}  # fmt: skip
_CADENCE_RE = re.compile(
    r"(?:(?:ongoing|on-going|continuous)(?: [:;/–-])? )?"
    r"(?:(?:(?:reviewed|reported|updated|reporting|review|updates?)(?: to| at)?|to|at) )?"
    rf"(?P<c>{_alternatives(dict.fromkeys(CADENCES, 0))})"
    r"(?: (?:review|reviews|reporting|report|reports|updates?|monitoring|meetings?|thereafter))?"
    r"(?: [:;/–-])?(?: (?:ongoing|on-going|continuous))?"
)
# "by", "due by", "deadline", "target date", "to be completed by" before the date itself.
_LEAD_IN = re.compile(
    r"(?:(?:to be )?(?:completed |delivered |achieved |in place )?by(?: the)? |due(?: by)? "
    r"|deadline:? |target(?: date)?:? |no later than )"
)
_END_OF = re.compile(r"(?:(?:the )?(?:end|close) (?:of )?(?:the )?|eo )")
_Y4 = r"[0-9]{4}"
_FY = r"(?:fy ?)?(?P<y1>[0-9]{4}|[0-9]{2})[/-](?P<y2>[0-9]{4}|[0-9]{2})"
_MONTH_YEAR = re.compile(
    rf"(?P<mon>{_MONTH_RE})\.?(?:[ -](?P<y4>{_Y4})|(?:-|-?'| ')(?P<y2>[0-9]{{2}}))"
)
_NUMERIC_MONTH = re.compile(rf"(?P<m>[0-9]{{1,2}})[/.-](?P<y>{_Y4})")
_QUARTER_WORD = r"(?:q|qtr |quarter )(?P<q>[1-4])"
_QUARTER = re.compile(rf"{_QUARTER_WORD}(?: of)?[ -](?:{_FY}|(?P<y>{_Y4}))")
# "2026/27 Q4": the same, year first.
_QUARTER_AFTER = re.compile(rf"(?:{_FY}|(?P<y>{_Y4}))[ -]{_QUARTER_WORD}")
_HALF = re.compile(rf"(?:h|half )(?P<h>[12])(?: of)?[ -]{_FY}")
_FINANCIAL_YEAR = re.compile(
    rf"(?:(?:financial year|fy) ?)?(?P<y1>{_Y4})[/-](?P<y2>[0-9]{{4}}|[0-9]{{2}})"
)
# A calendar year, or an academic year `2026/27`.
_YEAR_OR_SPAN = rf"(?:(?P<y1>{_Y4})[/-](?P<y2>[0-9]{{4}}|[0-9]{{2}})|(?P<y>{_Y4}))"
_TERM = re.compile(rf"(?P<term>autumn|spring|summer) term(?: of)? {_YEAR_OR_SPAN}")
_SEASON = re.compile(rf"(?P<season>spring|summer|autumn|winter)(?: of)? {_YEAR_OR_SPAN}")
_YEAR_ONLY = re.compile(rf"(?:year |calendar year )?(?P<y>{_Y4})")
# "Mar 27": 27 March or March 2027? Neither guess is safe for a deadline.
_MONTH_NUMBER = re.compile(rf"(?P<mon>{_MONTH_RE})\.? (?P<n>[0-9]{{2}})")
_PARTS = re.compile(r"[\n\r;]+")
_YEARS = range(2000, 2100)


@dataclass(frozen=True)
class PlanDate:
    """A plan's date cell as read: its deadline (None for "Ongoing", "Monthly" …), how often it
    is reported on, earlier milestones, and, when it was read from words, the text and the rule
    that turned it into a day (for the preview)."""

    due: dt.date | None
    cadence: str | None = None
    milestones: tuple[dt.date, ...] = ()
    words: str | None = None
    rule: str | None = None


def parse_plan_date(value: str | int | float | dt.date, *, month_only: bool = False) -> PlanDate:
    """A plan's date cell read as its officer meant it; FixedDateError when it cannot be.

    Besides parse_fixed_date's forms: `31.12.26`; a month (`March 2027`, `Mar-27`, `03/2027`,
    `End of January 2027`) → its last day; a quarter (`Q4 2026/27`: UK financial year, April to
    March; `Q3 2026`: calendar quarter, Q1 = January to March) → its last day; `H1 2027/28` →
    30 Sep 2027; a financial year (`2026/27`, `FY 2026/27`) → 31 March; a year (`2027`, `End of
    2027`) → 31 December; a school term (TERM_ENDS: autumn 20 Dec, spring 31 Mar, summer
    22 Jul; `Autumn term 2026/27` is autumn 2026, spring and summer 2027); a season
    (SEASON_ENDS: spring 31 May, summer 31 Aug, autumn 30 Nov, winter the end of February of
    the next year); a date cell shown as a month (`month_only`) → the month's last day; several
    dates on separate lines or after `;` → the latest is the deadline, the others milestones.
    `Ongoing`, `TBC`, `N/A`, `-` mean no deadline; `Weekly`, `Fortnightly`, `Monthly`,
    `Quarterly`, `Termly`, `Every Board`, `Six-monthly`, `Annually` mean no deadline with that
    cadence. "By", "due", "deadline", "target date" before any of these are ignored.
    """
    if isinstance(value, dt.date):
        day = value.date() if isinstance(value, dt.datetime) else value
        if not month_only:
            return PlanDate(day)
        words = f"{_MONTH_ABBR[day.month - 1]} {day.year}"
        return PlanDate(_month_end(day.year, day.month), words=words, rule="month-only cell")
    if isinstance(value, int) and not isinstance(value, bool) and value in _YEARS:
        return PlanDate(dt.date(value, 12, 31), words=str(value), rule="end of year")
    if isinstance(value, int | float):
        return PlanDate(parse_fixed_date(value))
    text = str(value)
    parts = [part for part in (p.strip() for p in _PARTS.split(text)) if part]
    if not parts:
        raise FixedDateError("is empty", well_formed=False)
    read = [_plan_part(part) for part in parts]
    original = " / ".join(parts)
    dated = [r for r in read if r.due is not None]
    cadence = next((r.cadence for r in read if r.cadence is not None), None)
    if not dated:
        return PlanDate(None, cadence=cadence, words=original, rule="no deadline")
    if len(read) == 1:
        (only,) = read
        return PlanDate(only.due, words=original if only.rule else None, rule=only.rule)
    days = sorted({r.due for r in dated if r.due is not None})
    rule = "last of several dates" if len(days) > 1 else dated[0].rule
    return PlanDate(days[-1], cadence, tuple(days[:-1]), words=original, rule=rule)


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _plan_part(text: str) -> PlanDate:
    """One line of a date cell: a day, a period's last day, or no deadline."""
    words = _normalise(text.replace("(", " ").replace(")", " "))
    if words in _NO_DEADLINE:
        return PlanDate(None, rule="no deadline")
    if match := _CADENCE_RE.fullmatch(words):
        return PlanDate(None, cadence=CADENCES[match["c"]], rule="no deadline")
    found = _dated(words)
    if found is None:
        # "Draft by 31/12/2026", "Final report: March 2027", "Review - Q4 2026/27": a label
        # before the date.
        cut = max(words.rfind(" by "), words.rfind(": "), words.rfind(" - "), words.rfind(" – "))
        if cut > 0:
            found = _dated(words[cut:].lstrip(" :-–"))
    if found is None:
        raise FixedDateError("is not a date", well_formed=False)
    return found


def _dated(words: str) -> PlanDate | None:
    """A day or a period in `words`; None when it is neither. Impossible dates raise."""
    lead = _LEAD_IN.match(words)
    if lead is not None:
        words = words[lead.end() :]
    end = _END_OF.match(words)
    if end is not None:
        words = words[end.end() :]
    else:
        try:
            return PlanDate(parse_fixed_date(words))
        except FixedDateError as exc:
            if exc.well_formed:  # 31/2/2026 is no other form either
                raise
        if _MONTH_NUMBER.fullmatch(words):
            raise FixedDateError(
                "could be a day or a month: write 27/03/2027 or March 2027", well_formed=True
            )
    for pattern, resolve in _PERIODS:
        match = pattern.fullmatch(words)
        if match is not None:
            years = (match[name] for name in ("y", "y1", "y2", "y4") if name in match.re.groupindex)
            if any(year is not None and _year(year) not in _YEARS for year in years):
                # "Summer 0000", "Winter 9999": no plan runs then, and the calendar may not.
                raise FixedDateError("is not in a year a plan runs to", well_formed=True)
            return resolve(match)
    return None


def _fy_start(match: re.Match[str]) -> int:
    """The first year of a financial or academic year written `2026/27`; it must span two."""
    first, second = _year(match["y1"]), _year(match["y2"])
    if second != first + 1:
        raise FixedDateError(
            f"is not one year to the next: {match['y1']}/{match['y2']}", well_formed=True
        )
    return first


def _month_period(match: re.Match[str]) -> PlanDate:
    year = int(match["y4"]) if match["y4"] else _year(match["y2"])
    return PlanDate(_month_end(year, _MONTHS[match["mon"]]), rule="end of month")


def _numeric_month(match: re.Match[str]) -> PlanDate:
    month = int(match["m"])
    if not 1 <= month <= 12:
        raise FixedDateError(f"is not a real date: there is no month {month}", well_formed=True)
    return PlanDate(_month_end(int(match["y"]), month), rule="end of month")


def _quarter(match: re.Match[str]) -> PlanDate:
    quarter = int(match["q"])
    if match["y1"] is not None:
        # UK financial year: Q1 is April to June, Q4 January to March of the second year.
        start = _fy_start(match)
        month = 3 * quarter + 3
        year = start if month <= 12 else start + 1
        return PlanDate(_month_end(year, (month - 1) % 12 + 1), rule="financial quarter")
    year = int(match["y"])
    return PlanDate(_month_end(year, 3 * quarter), rule="calendar quarter")


def _half(match: re.Match[str]) -> PlanDate:
    start = _fy_start(match)
    day = dt.date(start, 9, 30) if match["h"] == "1" else dt.date(start + 1, 3, 31)
    return PlanDate(day, rule="financial half-year")


def _financial_year(match: re.Match[str]) -> PlanDate:
    return PlanDate(dt.date(_fy_start(match) + 1, 3, 31), rule="financial year")


def _term(match: re.Match[str]) -> PlanDate:
    term = match["term"]
    if match["y"] is not None:
        year = int(match["y"])
    else:  # an academic year: autumn in its first calendar year, spring and summer in its second
        start = _fy_start(match)
        year = start if term == "autumn" else start + 1
    month, day = TERM_ENDS[term]
    return PlanDate(dt.date(year, month, day), rule="school term")


def _season(match: re.Match[str]) -> PlanDate:
    season = match["season"]
    if match["y"] is not None:
        year = int(match["y"])
        # Winter 2026 is December 2026 to February 2027.
        end_year = year + 1 if season == "winter" else year
    else:
        start = _fy_start(match)
        end_year = start + 1 if season in ("winter", "spring", "summer") else start
    return PlanDate(_month_end(end_year, SEASON_ENDS[season]), rule="season")


def _year_end(match: re.Match[str]) -> PlanDate:
    return PlanDate(dt.date(int(match["y"]), 12, 31), rule="end of year")


_PERIODS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], PlanDate]], ...] = (
    (_MONTH_YEAR, _month_period),
    (_NUMERIC_MONTH, _numeric_month),
    (_QUARTER, _quarter),
    (_QUARTER_AFTER, _quarter),
    (_HALF, _half),
    (_TERM, _term),
    (_SEASON, _season),
    (_FINANCIAL_YEAR, _financial_year),
    (_YEAR_ONLY, _year_end),
)
