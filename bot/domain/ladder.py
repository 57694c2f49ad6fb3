"""The escalation ladder: who hears about a late or blocked action after how many working days.

Written as the setting `ESCALATION_LADDER`, one step per `;`:
`overdue 1: owner; overdue 5: owner, supporters; overdue 10: secretary; overdue 15: chairs;
blocked 3: secretary; blocked 5: chairs`. Each step fires once per action per deadline (per
blocking, for `blocked`), when the action has been overdue (or blocked) that many working days.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class Trigger(enum.StrEnum):
    OVERDUE = "overdue"
    BLOCKED = "blocked"


class Audience(enum.StrEnum):
    OWNER = "owner"
    SUPPORTERS = "supporters"
    SECRETARY = "secretary"
    CHAIRS = "chairs"


DEFAULT_LADDER = (
    "overdue 1: owner; overdue 5: owner, supporters; overdue 10: secretary; overdue 15: chairs;"
    " blocked 3: secretary; blocked 5: chairs"
)

_STEP = re.compile(r"^\s*(?P<trigger>[a-z]+)\s+(?P<days>\S+)\s*:\s*(?P<who>.*?)\s*$")
_AUDIENCE_WORDS = {
    "owner": Audience.OWNER,
    "owners": Audience.OWNER,
    "supporters": Audience.SUPPORTERS,
    "supporter": Audience.SUPPORTERS,
    "supporting owners": Audience.SUPPORTERS,
    "secretary": Audience.SECRETARY,
    "secretaries": Audience.SECRETARY,
    "chairs": Audience.CHAIRS,
    "chair": Audience.CHAIRS,
}


class LadderError(ValueError):
    """The ladder setting cannot be read; the message names the step and the fix."""


@dataclass(frozen=True)
class Step:
    """One rung: after `days` working days overdue (or blocked), tell `audience`."""

    trigger: Trigger
    days: int
    audience: frozenset[Audience]

    @property
    def key(self) -> str:
        """A short stable name for the outbox key: `overdue5`."""
        return f"{self.trigger.value}{self.days}"

    def words(self) -> str:
        """`overdue 5 working days: owner, supporters`."""
        who = ", ".join(a.value for a in Audience if a in self.audience)
        days = "1 working day" if self.days == 1 else f"{self.days} working days"
        return f"{self.trigger.value} {days}: {who}"


def parse_ladder(text: str) -> tuple[Step, ...]:
    """The steps `text` describes (`none`: no escalation), sorted; LadderError when unreadable."""
    if text.strip().lower() in ("none", "off"):
        return ()
    steps: list[Step] = []
    for part in text.lower().split(";"):
        if not part.strip():
            continue
        match = _STEP.match(part)
        if match is None:
            raise LadderError(_problem(part, "write it as `overdue 5: owner, supporters`"))
        try:
            trigger = Trigger(match["trigger"])
        except ValueError:
            raise LadderError(_problem(part, "it starts with `overdue` or `blocked`")) from None
        if not match["days"].isdigit() or not 1 <= int(match["days"]) <= 250:
            raise LadderError(_problem(part, "the days are a whole number from 1 to 250"))
        audience: set[Audience] = set()
        for word in (w.strip() for w in match["who"].split(",")):
            if word not in _AUDIENCE_WORDS:
                known = "owner, supporters, secretary, chairs"
                raise LadderError(_problem(part, f"{word!r} is not one of {known}"))
            audience.add(_AUDIENCE_WORDS[word])
        step = Step(trigger, int(match["days"]), frozenset(audience))
        if any(s.trigger is step.trigger and s.days == step.days for s in steps):
            raise LadderError(_problem(part, "that step is given twice"))
        steps.append(step)
    return tuple(sorted(steps, key=lambda s: (s.trigger.value, s.days)))


def _problem(part: str, fix: str) -> str:
    return f"ESCALATION_LADDER: cannot read {part.strip()!r}: {fix}"
