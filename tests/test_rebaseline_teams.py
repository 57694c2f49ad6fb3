"""Re-baselining on Teams, end to end: activities posted to the real /api/messages, a fake Bot
Connector on loopback receiving the cards, Approve and Decline pressed as Teams sends them."""

# ruff: noqa: F811 - the fixture imported from test_teams_e2e is a parameter here

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.domain.rebaseline import RequestState
from bot.domain.workdays import WorkingCalendar
from scheduler.jobs import run_reminders
from storage.db import transaction
from storage.models import Action, DateRequest
from tests.support.fake_connector import Post
from tests.support.teams_server import card_action, installed, message
from tests.test_teams_e2e import (  # noqa: F401 - the fixture
    CHAIR_EMAIL,
    Rig,
    card_of,
    executes,
    post_id,
    rig,
    seed,
    text_of,
)


def meet(rig: Rig) -> int:
    """Amira owns an action due Fri 18 Dec; she and the chair have the bot installed."""
    [number] = seed(rig.core, ("Audit the front door", "amira@council.example", 25))
    rig.connector.members["29:amira"] = {"name": "Amira Khan", "email": "amira@council.example"}
    rig.connector.members["29:chair"] = {"name": "Sarah Chair", "email": CHAIR_EMAIL}
    for user, name in (("29:amira", "Amira Khan"), ("29:chair", "Sarah Chair")):
        rig.post(installed(rig.connector.url, user, name=name))
        rig.post(message(rig.connector.url, user, "action help", name=name))
    return number


def to(rig: Rig, user: str) -> list[Post]:
    return [p for p in rig.connector.proactive() if p.conversation_id.endswith(user)]


def due(rig: Rig, number: int) -> tuple[dt.date | None, dt.date | None, int]:
    with transaction(rig.core.sessions) as session:
        action = session.get(Action, number)
        assert action is not None
        return action.due_date, action.baseline_due, action.rebaselines


def test_request_then_approve_on_the_card(rig: Rig) -> None:
    number = meet(rig)
    rig.post(
        message(
            rig.connector.url,
            "29:amira",
            f"action rebaseline {number} 29 Jan 2027 waiting for the police data",
            name="Amira Khan",
        )
    )
    assert "the chairs will decide" in rig.connector.replies()[-1].card_text
    [request] = to(rig, "29:chair")
    assert "Amira asks to move #1 Audit the front door to Fri 29 Jan 2027" in request.card_text
    assert "Why: waiting for the police data" in request.card_text
    approve, decline = executes(request.card)
    assert approve == {"actionbot": "date_approve", "action": number, "request": 1}
    assert decline == {"actionbot": "date_decline", "action": number, "request": 1}

    # Amira may not approve her own request.
    refused = rig.post(
        card_action(rig.connector.url, "29:amira", approve, reply_to=post_id(rig, request))
    )
    assert refused.json()["value"].startswith("Only a chair or the secretary can")
    assert due(rig, number)[0] == dt.date(2026, 12, 18)

    pressed = card_action(rig.connector.url, "29:chair", approve, reply_to=post_id(rig, request))
    card = card_of(rig.post(pressed))
    assert text_of(card).startswith(
        "Approved: #1 Audit the front door is now due Fri 29 Jan 2027 (baseline Fri 18 Dec"
    )
    assert not [d for d in executes(card) if d.get("actionbot") == "date_approve"]
    assert due(rig, number) == (dt.date(2027, 1, 29), dt.date(2026, 12, 18), 1)
    [told] = [p for p in to(rig, "29:amira") if "approved" in p.card_text]
    assert "Sarah Chair approved the new date for action #1 Audit the front door" in (
        told.card_text
    )
    assert len(to(rig, "29:chair")) == 1  # one message to the one chair


def test_request_then_decline_with_the_reason_typed_in_the_card(rig: Rig) -> None:
    number = meet(rig)
    rig.post(
        message(
            rig.connector.url,
            "29:amira",
            f"action rebaseline {number} 31 Mar 2027 short-staffed",
            name="Amira Khan",
        )
    )
    [request] = to(rig, "29:chair")
    decline = executes(request.card)[1]
    empty = rig.post(
        card_action(rig.connector.url, "29:chair", decline, reply_to=post_id(rig, request))
    )
    assert empty.json()["value"] == "Please give the reason."
    with_reason = {**decline, "decline_1": "the inspection is in January"}
    card = card_of(
        rig.post(
            card_action(rig.connector.url, "29:chair", with_reason, reply_to=post_id(rig, request))
        )
    )
    assert text_of(card).startswith("Declined the new date (Wed 31 Mar 2027)")
    assert due(rig, number) == (dt.date(2026, 12, 18), dt.date(2026, 12, 18), 0)
    [told] = [p for p in to(rig, "29:amira") if "declined" in p.card_text]
    assert "Why: the inspection is in January" in told.card_text
    with transaction(rig.core.sessions) as session:
        row = session.scalars(select(DateRequest)).one()
        assert (row.state, row.decline_reason) == (
            RequestState.DECLINED,
            "the inspection is in January",
        )


def test_request_new_date_typed_in_the_reminder_card(rig: Rig) -> None:
    [number] = seed(rig.core, ("Audit the front door", "amira@council.example", 1))
    rig.connector.members["29:amira"] = {"name": "Amira Khan", "email": "amira@council.example"}
    rig.connector.members["29:chair"] = {"name": "Sarah Chair", "email": CHAIR_EMAIL}
    for user, name in (("29:amira", "Amira Khan"), ("29:chair", "Sarah Chair")):
        rig.post(installed(rig.connector.url, user, name=name))
        rig.post(message(rig.connector.url, user, "action help", name=name))
    run_reminders(rig.core, rig.senders, WorkingCalendar.from_settings(rig.core.settings))
    [reminder] = to(rig, "29:amira")
    asking = [d for d in executes(reminder.card) if d.get("actionbot") == "new_date"]
    assert asking == [{"actionbot": "new_date", "action": number}]
    assert "Request new date" in str(reminder.card)

    empty = rig.post(
        card_action(rig.connector.url, "29:amira", asking[0], reply_to=post_id(rig, reminder))
    )
    assert empty.json()["value"] == "Pick the new date."
    typed = {
        **asking[0],
        f"new_date_{number}": "2026-12-04",
        f"new_date_reason_{number}": "the audit team is off sick",
    }
    card = card_of(
        rig.post(card_action(rig.connector.url, "29:amira", typed, reply_to=post_id(rig, reminder)))
    )
    assert "the chairs will decide" in text_of(card)
    [request] = to(rig, "29:chair")
    assert "Why: the audit team is off sick" in request.card_text
    assert due(rig, number)[0] == dt.date(2026, 11, 24)
