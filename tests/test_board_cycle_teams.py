"""The update round on Teams end to end: the meeting added by a chair's message to the real
/api/messages, the round's one card to an owner through a fake Bot Connector on loopback
with every action, its buttons and note boxes, and a note typed into the card counting as
the update."""

# ruff: noqa: F811 - the fixture imported from test_teams_e2e is a parameter here

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.clock import FixedClock
from bot.outbox.delivery import deliver
from scheduler.board_cycle import run_board_cycle
from storage.db import transaction
from storage.models import HistoryEntry
from tests.support.teams_server import card_action, installed, message
from tests.test_teams_e2e import (  # noqa: F401 - the fixture
    CHAIR_EMAIL,
    Rig,
    executes,
    post_id,
    rig,
    seed,
)

LONDON = ZoneInfo("Europe/London")


def test_the_round_card_on_teams(rig: Rig) -> None:
    first, second, _third = seed(
        rig.core,
        ("Audit case files", "amira@council.example", 200),
        ("Train managers", "amira@council.example", 200),
        ("Review the front door", "amira@council.example", 200),
    )
    rig.connector.members["29:amira"] = {"name": "Amira Khan", "email": "amira@council.example"}
    rig.connector.members["29:chair"] = {"name": "Sarah Chair", "email": CHAIR_EMAIL}
    for user, name in (("29:amira", "Amira Khan"), ("29:chair", "Sarah Chair")):
        rig.post(installed(rig.connector.url, user, name=name))
        rig.post(message(rig.connector.url, user, "action help", name=name))
    rig.post(
        message(
            rig.connector.url,
            "29:chair",
            "board meeting add 14 Jan 2027 14:00 Improvement Board",
            name="Sarah Chair",
        )
    )
    added = rig.connector.replies()[-1].card_text
    assert "Meeting added: 1 · Improvement Board on Thu 14 Jan 2027 at 14:00" in added

    clock = rig.core.clock
    assert isinstance(clock, FixedClock)
    clock.set(dt.datetime(2026, 12, 30, 10, 0, tzinfo=LONDON))
    assert run_board_cycle(rig.core)["round"] == 1
    deliver(rig.core, rig.senders)
    [card] = [p for p in rig.connector.proactive() if p.conversation_id.endswith("29:amira")]
    text = card.card_text
    assert "Update round for Improvement Board on Thu 14 Jan 2027 at 14:00" in text
    assert "Please update your 3 actions by Thu 7 Jan" in text
    assert "Audit case files" in text and "Train managers" in text
    pressed = executes(card.card)
    assert {"actionbot": "done", "action": first} in pressed
    assert any(p.get("actionbot") == "update" and p.get("action") == second for p in pressed)
    assert f"note_{second}_update" in str(card.card)  # the note box of Add update

    # The round's Update: a RAG and a note typed into the card's boxes, sent with the press.
    [update] = [p for p in pressed if p.get("command", {}).get("verb") == "round_update"][:1]
    assert update["command"]["action_id"] == first
    assert f"round_rag_{first}" in str(card.card) and f"round_note_{first}" in str(card.card)
    typed = {
        **update,
        f"round_rag_{first}": "amber",
        f"round_note_{first}": "Twenty files audited",
        f"round_link_{first}": "",
    }
    answer = rig.post(
        card_action(rig.connector.url, "29:amira", typed, reply_to=post_id(rig, card))
    )
    assert answer.status_code == 200
    with transaction(rig.core.sessions) as session:
        entries = session.scalars(
            select(HistoryEntry).where(HistoryEntry.action_id == first).order_by(HistoryEntry.id)
        ).all()
        assert [(e.change, e.new_value, e.note) for e in entries[-3:]] == [
            ("rag", "amber", None),
            ("status", "in_progress", None),  # a first note starts an open action
            ("note", None, "Twenty files audited"),
        ]

    # A note typed into Add update's box is an update too.
    note = {"actionbot": "update", "action": second, f"note_{second}_update": "Sessions booked"}
    assert rig.post(message(rig.connector.url, "29:amira", value=note)).status_code == 200
    clock.set(dt.datetime(2027, 1, 5, 10, 0, tzinfo=LONDON))
    assert run_board_cycle(rig.core)["round nudge"] == 1
    deliver(rig.core, rig.senders)
    nudges = [
        p
        for p in rig.connector.proactive()
        if p.conversation_id.endswith("29:amira") and "Reminder: the board" in p.card_text
    ]
    assert len(nudges) == 1
    assert "Review the front door" in nudges[0].card_text
    assert "Audit case files" not in nudges[0].card_text
    assert "Train managers" not in nudges[0].card_text
