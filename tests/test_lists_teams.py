"""Lists in Teams end to end: every item reachable page by page within the card size, a press
inside a list redraws the list, and a former owner's press is refused with the reason."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.domain import Status
from handlers.teams.cards import MAX_CARD_BYTES
from storage.db import transaction
from storage.models import Action
from tests import test_teams_e2e as e2e
from tests.support.teams_server import card_action, message
from tests.test_teams_e2e import CHAIR_EMAIL, Rig, card_of, executes, post_id, seed, text_of

rig = e2e.rig  # the app served on loopback with the fake Bot Connector

# An item's first line: its state (`🔴 **3 days late**`), the plan's reference if any, `#12`.
_ID = re.compile(r"^\S+ \*\*[^*]+\*\* · (?:\S+\u00a0·\u00a0)?#(\d+)$")


def ids(card: dict[str, Any]) -> list[int]:
    """The actions a card lists, in order (each row's first line ends with `#12`)."""
    return [
        int(m.group(1))
        for container in card["body"]
        if container.get("type") == "Container"
        for block in container["items"][:1]
        for m in [_ID.match(block["text"])]
        if m
    ]


def pager(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Previous / Next → the data of that button."""
    return {
        action["title"].split()[0]: action["data"]
        for block in card["body"]
        if block.get("type") == "ActionSet"
        for action in block["actions"]
        if action["data"].get("actionbot") == "page"
    }


def fits(card: dict[str, Any]) -> None:
    assert len(json.dumps(card).encode()) <= MAX_CARD_BYTES


def test_a_45_item_overdue_list_is_paged_to_the_end_in_teams(rig: Rig) -> None:
    numbers = seed(
        rig.core,
        *[
            (f"Audit <case> file {i} " + "x" * 250, "amira@council.example", -60 + i)
            for i in range(45)
        ],
    )
    rig.connector.members["29:chair"] = {"name": "Chair", "email": CHAIR_EMAIL}
    rig.post(message(rig.connector.url, "29:chair", "status overdue"))
    [reply] = rig.connector.replies()
    card = reply.card
    fits(card)
    assert ids(card) == numbers[:20]
    assert "Page 1 of 3" in reply.card_text and "actionbot export" not in reply.card_text
    seen = ids(card)
    for number in (2, 3):
        press = card_action(rig.connector.url, "29:chair", pager(card)["Next"], reply_to="x")
        card = card_of(rig.post(press))
        fits(card)
        assert f"Page {number} of 3" in text_of(card)
        seen += ids(card)
    assert seen == numbers
    assert set(pager(card)) == {"Previous"}
    back = card_of(
        rig.post(card_action(rig.connector.url, "29:chair", pager(card)["Previous"], reply_to="x"))
    )
    assert ids(back) == numbers[20:40]

    # The owner's list has the buttons (the biggest rows); a page still fits whole.
    rig.connector.members["29:amira"] = {"name": "Amira", "email": "amira@council.example"}
    rig.post(message(rig.connector.url, "29:amira", "status mine"))
    mine = rig.connector.replies()[-1].card
    fits(mine)
    assert ids(mine) == numbers[:10] and "Page 1 of 5" in text_of(mine)


def test_a_press_inside_a_list_redraws_the_list_in_teams(rig: Rig) -> None:
    numbers = seed(
        rig.core,
        *[(f"Action {i}", "amira@council.example", 3 + i) for i in range(3)],
    )
    rig.connector.members["29:amira"] = {"name": "Amira", "email": "amira@council.example"}
    rig.post(message(rig.connector.url, "29:amira", "action list mine"))
    [listing] = rig.connector.replies()
    [done] = [
        d for d in executes(listing.card) if d["actionbot"] == "done" and d["action"] == numbers[1]
    ]
    assert done["list"]["verb"] == "list"  # the list's own command, not its words
    card = card_of(
        rig.post(card_action(rig.connector.url, "29:amira", done, reply_to=post_id(rig, listing)))
    )
    assert ids(card) == [numbers[0], numbers[2]]
    assert f"Marked #{numbers[1]} Action 1 as done." in text_of(card)
    with transaction(rig.core.sessions) as session:
        assert session.get(Action, numbers[1]).status == Status.DONE  # type: ignore[union-attr]


def test_a_former_owners_press_is_refused_with_the_reason_in_teams(rig: Rig) -> None:
    [number] = seed(rig.core, ("Audit case files", "amira@council.example", 3))
    rig.connector.members["29:amira"] = {"name": "Amira", "email": "amira@council.example"}
    rig.connector.members["29:chair"] = {"name": "Chair", "email": CHAIR_EMAIL}
    rig.connector.members["29:ben"] = {"name": "Ben", "email": "ben@council.example"}
    rig.post(message(rig.connector.url, "29:ben", "action help"))
    rig.post(message(rig.connector.url, "29:amira", "action list mine"))
    listing = rig.connector.replies()[-1]
    rig.post(
        message(
            rig.connector.url,
            "29:chair",
            f"action assign {number} <at>Ben</at>",
            entities=[
                {
                    "type": "mention",
                    "text": "<at>Ben</at>",
                    "mentioned": {"id": "29:ben", "name": "Ben"},
                }
            ],
        )
    )
    with transaction(rig.core.sessions) as session:
        action = session.get(Action, number)
        assert action is not None and action.owner is not None
        assert action.owner.email == "ben@council.example"
    [update] = [d for d in executes(listing.card) if d["actionbot"] == "update"]
    answer = rig.post(
        card_action(
            rig.connector.url,
            "29:amira",
            {**update, f"note_{number}_update": "Visited"},
            reply_to=post_id(rig, listing),
        )
    )
    body = answer.json()
    shown = body["value"] if isinstance(body["value"], str) else text_of(body["value"])
    assert f"Only the owner of #{number} (Ben) or a chair can add updates to it." in shown
    with transaction(rig.core.sessions) as session:
        assert session.get(Action, number).status == Status.OPEN  # type: ignore[union-attr]
