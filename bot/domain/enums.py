"""The plan's vocabulary: statuses, RAG ratings, roles and the platforms people use."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """A person's part on the board; what each may do is bot/services/permissions.py's table."""

    CHAIR = "chair"
    #: The board support officer: runs the plan with the chairs, but manages no roles and is
    #: not escalated to as a chair.
    SECRETARY = "secretary"
    MEMBER = "member"
    #: Sees the plan, changes nothing (an adviser from the DfE).
    OBSERVER = "observer"
    #: No role given: someone in the workspace sees the plan and updates what they own.
    NONE = "none"


class Status(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    #: Done by its owner, waiting for a chair or the secretary to sign its evidence off:
    #: no longer chased, not yet complete.
    DELIVERED = "delivered"
    #: Complete (signed off where the board signs off).
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
