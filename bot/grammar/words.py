"""The words people write for a status or a RAG rating, in commands and in plan files alike.

Commands take the short list (STATUS_WORDS, RAG_WORDS); a plan file may also say it the ways
boards do (read_plan_status, read_plan_rag): BRAG's Blue for complete, "On track", "On hold",
"Completed 12/10/2026", "A/G" for a rating between two.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot.domain import Rag, Status
from bot.grammar.dates import FixedDateError, parse_fixed_date

STATUS_WORDS: dict[str, Status] = {
    "open": Status.OPEN,
    "not started": Status.OPEN,
    "in progress": Status.IN_PROGRESS,
    "in-progress": Status.IN_PROGRESS,
    "in_progress": Status.IN_PROGRESS,
    "blocked": Status.BLOCKED,
    "done": Status.DONE,
    "complete": Status.DONE,
    "completed": Status.DONE,
    "cancelled": Status.CANCELLED,
    "canceled": Status.CANCELLED,
}
#: How a refusal lists the statuses.
STATUS_CHOICES = "open, in progress, blocked, done, cancelled"

RAG_WORDS: dict[str, Rag] = {
    "red": Rag.RED,
    "r": Rag.RED,
    "amber": Rag.AMBER,
    "a": Rag.AMBER,
    "green": Rag.GREEN,
    "g": Rag.GREEN,
}
#: How a refusal lists the ratings.
RAG_CHOICES = "red, amber, green (or r, a, g)"

#: A plan's status words beyond the commands' own: (status, blocked reason, preview note).
#: A None status ("Overdue") sets nothing: the bot works it out from the deadline.
PLAN_STATUS_WORDS: dict[str, tuple[Status | None, str | None, str | None]] = {
    "on track": (Status.IN_PROGRESS, None, None),
    "ongoing": (Status.IN_PROGRESS, None, None),
    "started": (Status.IN_PROGRESS, None, None),
    "off track": (Status.IN_PROGRESS, None, "'Off track' read as in progress"),
    "delayed": (Status.IN_PROGRESS, None, "'Delayed' read as in progress"),
    "carried forward": (Status.IN_PROGRESS, None, "'Carried forward' read as in progress"),
    "on hold": (Status.BLOCKED, "On hold", None),
    "paused": (Status.BLOCKED, "Paused", None),
    "closed": (Status.DONE, None, None),
    "achieved": (Status.DONE, None, None),
    "delivered": (Status.DONE, None, None),
    "withdrawn": (Status.CANCELLED, None, None),
    "overdue": (None, None, "'Overdue' is worked out from the deadline; status left as it is"),
}
#: How a plan's status refusal lists what works.
PLAN_STATUS_CHOICES = (
    "not started, in progress, on track, off track, on hold, blocked, carried forward, overdue, "
    "complete (optionally with its date), closed, cancelled"
)

#: BRAG: Blue means complete.
PLAN_RAG_WORDS: dict[str, Rag] = {
    **RAG_WORDS,
    "blue": Rag.BLUE,
    "b": Rag.BLUE,
    "complete": Rag.BLUE,
    "completed": Rag.BLUE,
    "closed": Rag.BLUE,
    "done": Rag.BLUE,
}
PLAN_RAG_CHOICES = "red, amber, green, blue (or r, a, g, b), or two such as A/G"
#: Worst first: a rating between two is read as the worse.
_SEVERITY = (Rag.RED, Rag.AMBER, Rag.GREEN, Rag.BLUE)

_DONE_WORDS = ("complete", "completed", "closed", "done", "achieved", "delivered")
# "Completed 12/10/2026", "Complete - Oct 2026", "Closed on 1 Dec 2026".
_DONE_WITH_DATE = re.compile(
    rf"(?P<word>{'|'.join(_DONE_WORDS)})(?: on| in)?(?: ?[-–:,] ?| )(?P<when>.*[0-9].*)"
)
_PAIR = re.compile(r"(?P<a>[a-z]+) ?(?:/|-|–|to|&|and) ?(?P<b>[a-z]+)")


@dataclass(frozen=True)
class StatusReading:
    """A plan's status cell: the status (None: leave it), the reason of a block, the day it was
    done when the cell gives one, and what the preview should say about how it was read."""

    status: Status | None
    blocked_reason: str | None = None
    done_on: dt.date | None = None
    note: str | None = None


@dataclass(frozen=True)
class RagReading:
    """A plan's RAG cell: the rating, whether it says the action is complete (blue), and a note
    for the preview when it was read with a rule (A/G → amber)."""

    rag: Rag
    done: bool = False
    note: str | None = None


def read_status(text: str) -> Status | None:
    """The status `text` names (any case and spacing), or None."""
    return STATUS_WORDS.get(_key(text))


def read_rag(text: str) -> Rag | None:
    """The RAG rating `text` names (any case and spacing), or None."""
    return RAG_WORDS.get(_key(text))


def read_plan_status(text: str) -> StatusReading | None:
    """A plan's status as boards write it, or None when it names no status."""
    key = _key(text).rstrip(".")
    if (status := STATUS_WORDS.get(key)) is not None:
        return StatusReading(status)
    if key in PLAN_STATUS_WORDS:
        status, reason, note = PLAN_STATUS_WORDS[key]
        return StatusReading(status, blocked_reason=reason, note=note)
    if match := _DONE_WITH_DATE.fullmatch(key):
        try:
            return StatusReading(Status.DONE, done_on=parse_fixed_date(match["when"]))
        except FixedDateError:
            # Done all the same; a month or a year is not a day to stamp it with.
            note = f"'{' '.join(text.split())}' read as done, on a day not known"
            return StatusReading(Status.DONE, note=note)
    return None


def read_plan_rag(text: str) -> RagReading | None:
    """A plan's RAG or BRAG rating, or None; `A/G` is the worse of the two, and says so."""
    key = _key(text).rstrip(".")
    if (rag := PLAN_RAG_WORDS.get(key)) is not None:
        return RagReading(rag, done=rag == Rag.BLUE)
    match = _PAIR.fullmatch(key)
    if match is None:
        return None
    first, second = PLAN_RAG_WORDS.get(match["a"]), PLAN_RAG_WORDS.get(match["b"])
    if first is None or second is None:
        return None
    worse = min(first, second, key=_SEVERITY.index)
    note = None
    if first != second:
        note = f"'{' '.join(text.split())}' read as {worse.value}, the worse of the two"
    return RagReading(worse, done=worse == Rag.BLUE, note=note)


def _key(text: str) -> str:
    return " ".join(text.lower().split())
