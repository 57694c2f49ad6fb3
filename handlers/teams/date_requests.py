"""Requests for a new date on Teams: the commands behind a request card's Approve and Decline
(the reason typed in the card) and an owner's "Request new date" (the date and the reason
typed in the card). Each is the typed command's twin: `/action approve <id>`, `/action
decline <id> <reason>`, `/action rebaseline <id> <date> <reason>`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.grammar.commands import ApproveDate, Command, DeclineDate, RequestDate
from handlers.teams.cards import (
    DATE_APPROVE,
    DATE_DECLINE,
    NEW_DATE,
    decline_input_id,
    new_date_input_id,
    new_date_reason_id,
)

#: Every `data.actionbot` this module reads.
DATE_KINDS = (DATE_APPROVE, DATE_DECLINE, NEW_DATE)
#: Teams' own words when a card's value is not one of ours.
NOT_MINE = "That button is not one of mine."


def _number(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31:
        return value
    return None


def date_command(data: dict[str, Any]) -> Command | str:
    """The command a pressed request button (or Request new date) runs; the words to say
    when the card's data or inputs cannot make one."""
    kind = data.get("actionbot")
    number = _number(data.get("action"))
    if number is None:
        return NOT_MINE
    if kind == NEW_DATE:
        picked = str(data.get(new_date_input_id(number)) or "").strip()
        reason = " ".join(str(data.get(new_date_reason_id(number)) or "").split())
        try:
            due = dt.date.fromisoformat(picked)
        except ValueError:
            return "Pick the new date."
        if not reason:
            return "Please give the reason the deadline should move."
        return RequestDate(action_id=number, due=due, reason=reason)
    request_id = _number(data.get("request"))
    if request_id is None:
        return NOT_MINE
    if kind == DATE_APPROVE:
        return ApproveDate(action_id=number, request_id=request_id)
    reason = " ".join(str(data.get(decline_input_id(request_id)) or "").split())
    if not reason:
        # The card requires it; a client that does not check gets the reason here.
        return "Please give the reason."
    return DeclineDate(action_id=number, request_id=request_id, reason=reason)
