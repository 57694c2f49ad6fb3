"""The plan's vocabulary: statuses, RAG ratings, roles and the platforms people use."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    CHAIR = "chair"
    MEMBER = "member"


class Status(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def is_closed(self) -> bool:
        return self in (Status.DONE, Status.CANCELLED)

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


#: Statuses of actions still to be delivered; "overdue" and reminders only look at these.
OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS, Status.BLOCKED)


class Rag(enum.StrEnum):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"
    #: BRAG's fourth colour: complete (plans mark finished actions blue).
    BLUE = "blue"


class Platform(enum.StrEnum):
    SLACK = "slack"
    TEAMS = "teams"
    CONSOLE = "console"
