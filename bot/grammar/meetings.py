"""The meeting commands of `/board`: `meeting add <date> <time> [title]`, `meetings`,
`meeting cancel <id>`."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from bot.errors import CommandError
from bot.grammar.commands import Command, Title
from bot.grammar.dates import DateParseError, parse_date
from bot.grammar.usage import board_usage

#: `14:00`, `9:30`, `14.00`, `2pm`, `2:30pm`.
_TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?$", re.IGNORECASE)


class AddMeeting(Command):
    """`/board meeting add 15 Jan 2027 14:00 Improvement Board`: a chair or the secretary
    adds a meeting (the day and time in the bot's timezone)."""

    verb: Literal["board_meeting_add"] = "board_meeting_add"
    day: dt.date
    time: dt.time
    title: Title | None = None


class ListMeetings(Command):
    """`/board meetings`: the meetings to come, with their round's dates."""

    verb: Literal["board_meetings"] = "board_meetings"


class CancelMeeting(Command):
    """`/board meeting cancel 3`: no round, nudge or cut-off for it any more."""

    verb: Literal["board_meeting_cancel"] = "board_meeting_cancel"
    meeting_id: int


def parse_time(word: str) -> dt.time | None:
    """`14:00`, `2pm`, `2:30pm` as a time of day; None when the word is not a time."""
    match = _TIME.match(word.strip())
    if match is None:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if match.group(2) is None and half is None:
        return None  # a bare number is a day of the month, not a time
    if half is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half.lower() == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def parse_meeting(rest: str, *, today: dt.date) -> Command:
    """The text after `/board meeting`."""
    verb, _, words = rest.strip().partition(" ")
    verb, words = verb.lower(), words.strip()
    if verb in ("add", "new"):
        return _parse_add(words, today)
    if verb in ("cancel", "remove", "delete"):
        number = words.lstrip("#")
        if not number.isdigit() or int(number) > 2**31 - 1:
            raise CommandError("Give the meeting's number, e.g. 3.", board_usage("meeting cancel"))
        return CancelMeeting(meeting_id=int(number))
    if verb in ("", "list"):
        return ListMeetings()
    raise CommandError(f"I don't know `/board meeting {verb[:40]}`.", board_usage("meeting"))


def _parse_add(words: str, today: dt.date) -> AddMeeting:
    tokens = words.split()
    at = next((i for i, token in enumerate(tokens) if parse_time(token) is not None), None)
    if at is None:
        raise CommandError(
            "Give the meeting's date and time, e.g. `15 Jan 2027 14:00`.",
            board_usage("meeting add"),
        )
    if at == 0:
        raise CommandError(
            "Give the meeting's date before its time, e.g. `15 Jan 2027 14:00`.",
            board_usage("meeting add"),
        )
    time = parse_time(tokens[at])
    assert time is not None
    try:
        day = parse_date(" ".join(tokens[:at]), today=today)
    except DateParseError as exc:
        raise CommandError(str(exc), board_usage("meeting add")) from exc
    title = " ".join(tokens[at + 1 :]).strip() or None
    return AddMeeting(day=day, time=time, title=title)
