"""How the pack words and colours dates, ratings and statuses, alike in the PDF, xlsx and HTML."""

from __future__ import annotations

import datetime as dt

from bot.domain import Rag, Status
from bot.pack.collect import PackAction, PackData

#: BRAG colours, dark enough for white text and distinct from each other (RGB hex).
COLOURS = {
    Rag.RED: "#c0392b",
    Rag.AMBER: "#a35200",
    Rag.GREEN: "#1e8449",
    Rag.BLUE: "#1f5fa8",
}
#: A pattern per colour, so the bars differ without colour too.
HATCHES = {Rag.RED: "xx", Rag.AMBER: "//", Rag.GREEN: "..", Rag.BLUE: ""}
NAMES = {Rag.RED: "Red", Rag.AMBER: "Amber", Rag.GREEN: "Green", Rag.BLUE: "Blue"}


def day(value: dt.date | None) -> str:
    """`5 Jan 2027`, or an empty string."""
    if value is None:
        return ""
    return f"{value.day} {value:%b %Y}"


def meeting_words(data: PackData) -> str:
    """`Thursday 14 January 2027, 14:00`."""
    at = data.meeting_at
    return f"{at:%A} {at.day} {at:%B %Y, %H:%M}"


def rag_name(rag: Rag | None) -> str:
    """`Red`, or `Not rated`."""
    return NAMES[rag] if rag is not None else "Not rated"


def rag_words(action: PackAction) -> str:
    """`Green (computed Red)` where they differ, else the one rating."""
    shown = rag_name(action.rag)
    if action.computed is not None and action.computed is not action.rag:
        return f"{shown} (computed {rag_name(action.computed)})"
    return shown


def status_words(status: Status) -> str:
    """`in progress`, `delivered, awaiting sign-off`."""
    if status is Status.DELIVERED:
        return "delivered, awaiting sign-off"
    if status is Status.DONE:
        return "complete"
    return status.label
