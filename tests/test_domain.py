"""The status rules and the history vocabulary, on plain values (no database)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from bot.domain import Change, Status, rules
from bot.domain.rules import StatusState, moved

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
EARLIER = NOW - dt.timedelta(days=3)


S = StatusState
OPEN, BLOCKED, DONE = Status.OPEN, Status.BLOCKED, Status.DONE


@pytest.mark.parametrize(
    ("before", "to", "reason", "after"),
    [
        # Done is stamped when reached, and a block's reason goes.
        (S(OPEN), DONE, None, S(DONE, NOW)),
        (S(BLOCKED, None, "rota"), DONE, None, S(DONE, NOW)),
        # Done again keeps the first stamp.
        (S(DONE, EARLIER), DONE, None, S(DONE, EARLIER)),
        # Leaving done forgets when it was done.
        (S(DONE, EARLIER), OPEN, None, S(OPEN)),
        (S(DONE, EARLIER), Status.CANCELLED, None, S(Status.CANCELLED)),
        # A reason belongs to blocked only; without a new one the old stays.
        (S(OPEN), BLOCKED, "rota", S(BLOCKED, None, "rota")),
        (S(OPEN), BLOCKED, None, S(BLOCKED)),
        (S(BLOCKED, None, "rota"), BLOCKED, "data", S(BLOCKED, None, "data")),
        (S(BLOCKED, None, "rota"), BLOCKED, None, S(BLOCKED, None, "rota")),
        (S(BLOCKED, None, "rota"), Status.IN_PROGRESS, "ignored", S(Status.IN_PROGRESS)),
        (S(DONE, EARLIER), BLOCKED, "rota", S(BLOCKED, None, "rota")),
    ],
)
def test_moved(before: StatusState, to: Status, reason: str | None, after: StatusState) -> None:
    assert rules.moved(before, to, now=NOW, reason=reason) == after


@dataclass
class Row:
    status: Status
    done_at: dt.datetime | None = None
    blocked_reason: str | None = None
    delivered_at: dt.datetime | None = None


def test_move_changes_the_row_and_returns_what_it_was() -> None:
    row = Row(Status.BLOCKED, blocked_reason="rota")
    before = rules.move(row, Status.DONE, now=NOW)
    assert before == StatusState(Status.BLOCKED, None, "rota")
    assert row == Row(Status.DONE, NOW, None)


@pytest.mark.parametrize(
    ("current", "to", "already", "reopen_first"),
    [
        (Status.OPEN, Status.OPEN, True, False),
        (Status.IN_PROGRESS, Status.OPEN, True, False),  # in progress is open
        (Status.BLOCKED, Status.OPEN, False, False),
        (Status.DONE, Status.OPEN, False, False),
        (Status.CANCELLED, Status.OPEN, False, False),
        (Status.DONE, Status.DONE, True, False),  # done twice is no error
        (Status.CANCELLED, Status.DONE, False, True),
        (Status.OPEN, Status.DONE, False, False),
        (Status.BLOCKED, Status.DONE, False, False),
        (Status.BLOCKED, Status.BLOCKED, True, False),
        (Status.DONE, Status.BLOCKED, False, True),
        (Status.CANCELLED, Status.BLOCKED, False, True),
        (Status.IN_PROGRESS, Status.BLOCKED, False, False),
    ],
)
def test_which_moves_commands_may_make(
    current: Status, to: Status, already: bool, reopen_first: bool
) -> None:
    assert rules.already(current, to) is already
    assert rules.must_reopen_first(current, to) is reopen_first


def test_the_first_note_starts_an_open_action() -> None:
    assert rules.after_note(Status.OPEN) == Status.IN_PROGRESS
    for status in (Status.IN_PROGRESS, Status.BLOCKED, Status.DONE, Status.CANCELLED):
        assert rules.after_note(status) is None


def test_history_names_and_their_fields() -> None:
    # Stored in action_history (String(20)): a rename needs a migration of the rows.
    assert {change.value: change.field for change in Change} == {
        "created": None,
        "note": None,
        "assigned": "owner",
        "due": "due",
        "status": "status",
        "blocked_reason": "blocked_reason",
        "rag": "rag",
        "title": "title",
        "workstream": "workstream",
        "priority": "priority",
        "notes": "notes",
        "success_measure": "success_measure",
        "cadence": "cadence",
        "supporters": "supporters",
        "owner_text": "owner_text",
        "evidence": None,
        "signed_off": "status",
        "returned": "status",
        "date_requested": None,
        "date_superseded": None,
        "date_declined": None,
        "rebaselined": "due",
        "rag_accepted": "rag_accepted",
        "nudged": None,
        "role": "role",
    }
    assert all(len(change.value) <= 20 for change in Change)


def test_delivered_is_stamped_when_reached_kept_when_signed_off_and_forgotten_when_left() -> None:
    monday = dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)
    tuesday = monday + dt.timedelta(days=1)
    delivered = moved(StatusState(Status.IN_PROGRESS), Status.DELIVERED, now=monday)
    assert delivered.delivered_at == monday
    # Said twice, the first day stands.
    assert moved(delivered, Status.DELIVERED, now=tuesday).delivered_at == monday
    signed = moved(delivered, Status.DONE, now=tuesday)
    assert (signed.done_at, signed.delivered_at) == (tuesday, monday)
    # Returned, or reopened after sign-off: no longer delivered, nothing left to show a wait.
    assert moved(delivered, Status.OPEN, now=tuesday).delivered_at is None
    assert moved(signed, Status.OPEN, now=tuesday).delivered_at is None
    # Done at once (sign-off off): never delivered.
    assert moved(StatusState(Status.OPEN), Status.DONE, now=monday).delivered_at is None
