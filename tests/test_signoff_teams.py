"""Delivered, then signed off, on Teams end to end: activities posted to the real
/api/messages, the fake Bot Connector on loopback (serving attachments at their contentUrl).
An owner's done is delivered and the card says how to add evidence; a file sent in the
personal chat is evidence of the action it answers (size and SHA-256, never the bytes); the
chair's card signs off or returns with the reason typed on it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain import Status
from storage.db import transaction
from storage.models import Action, Evidence, HistoryEntry
from tests.support.fake_connector import Post
from tests.support.teams_server import card_action, message
from tests.test_teams_e2e import CHAIR_EMAIL, Rig, seed
from tests.test_teams_e2e import rig as rig  # the fixture

pytestmark = pytest.mark.signoff

AMIRA, CHAIR = "29:amira", "29:chair"
DOCX = b"PK\x03\x04" + bytes(range(200)) * 50
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 500


def people(rig: Rig) -> None:
    rig.connector.members[AMIRA] = {"name": "Amira Khan", "email": "amira@council.example"}
    rig.connector.members[CHAIR] = {"name": "Sarah Chair", "email": CHAIR_EMAIL}
    # The chair has used the bot: the delivered notice can reach her personal chat.
    rig.post(message(rig.connector.url, CHAIR, "status", name="Sarah Chair"))


def status(rig: Rig, number: int) -> Status:
    with transaction(rig.core.sessions) as session:
        action = session.get(Action, number)
        assert action is not None
        return action.status


def kept(rig: Rig) -> list[tuple[Any, ...]]:
    with transaction(rig.core.sessions) as session:
        return [
            (e.action_id, e.kind, e.platform, e.file_ref, e.file_name, e.size, e.sha256, e.note)
            for e in session.scalars(select(Evidence).order_by(Evidence.id))
        ]


def inputs(card: dict[str, Any]) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Input."):
                found.append(str(node["id"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


def command_button(card: dict[str, Any], title: str) -> dict[str, Any]:
    text = json.dumps(card)
    assert title in text, title
    for node in _actions(card):
        if node.get("title") == title:
            return dict(node["data"])
    raise AssertionError(f"no button {title}")


def _actions(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node] if node.get("type") == "Action.Execute" else []
        for value in node.values():
            found += _actions(value)
        return found
    if isinstance(node, list):
        return [a for value in node for a in _actions(value)]
    return []


def notices_to(rig: Rig, user: str) -> list[Post]:
    return [p for p in rig.connector.proactive() if p.conversation_id == f"a:personal-{user}"]


def test_a_file_in_the_chat_is_evidence_and_the_chair_signs_off_on_the_card(rig: Rig) -> None:
    [number] = seed(rig.core, ("Audit case files", "amira@council.example", 5))
    people(rig)
    rig.post(message(rig.connector.url, AMIRA, f"action done {number}", name="Amira Khan"))
    reply = rig.connector.replies()[-1]
    assert "Marked #1 Audit case files as delivered" in reply.card_text
    assert "To add a file, send it here in this chat." in reply.card_text
    assert f"evidence_text_{number}" in inputs(reply.card)
    assert status(rig, number) == Status.DELIVERED
    [notice] = notices_to(rig, CHAIR)
    assert "Amira delivered #1 Audit case files" in notice.card_text
    assert f"return_reason_{number}" in inputs(notice.card)
    sign_off = command_button(notice.card, "Sign off")

    # A file sent in the personal chat (Teams' file download info) and an inline picture.
    download = rig.connector.add_file("minutes-docx", DOCX)
    picture = rig.connector.add_file("picture-png", PNG)
    sent = message(rig.connector.url, AMIRA, "<p>minutes of 12 Nov</p>", name="Amira Khan")
    sent["attachments"] = [
        {
            "contentType": "application/vnd.microsoft.teams.file.download.info",
            "contentUrl": "https://council.sharepoint.example/minutes.docx",
            "name": "minutes.docx",
            "content": {"downloadUrl": download, "uniqueId": "U-1234", "fileType": "docx"},
        },
        {"contentType": "image/png", "contentUrl": picture, "name": "photo.png"},
        {"contentType": "text/html", "content": "<p>minutes of 12 Nov</p>"},
    ]
    assert rig.post(sent).status_code == 200
    assert kept(rig) == [
        (
            number, "file", "teams", "U-1234", "minutes.docx", len(DOCX),
            hashlib.sha256(DOCX).hexdigest(), "minutes of 12 Nov",
        ),
        (
            number, "file", "teams", picture, "photo.png", len(PNG),
            hashlib.sha256(PNG).hexdigest(), None,
        ),
    ]  # fmt: skip
    assert "Added to the evidence of #1 Audit case files: file photo.png" in (
        rig.connector.replies()[-1].card_text
    )
    # A file the connector does not have: said, and nothing kept.
    gone = message(rig.connector.url, AMIRA, "#1", name="Amira Khan")
    lost = f"{rig.connector.url}/v3/attachments/nope/views/original"
    gone["attachments"] = [{"contentType": "image/png", "contentUrl": lost, "name": "lost.png"}]
    rig.post(gone)
    assert rig.connector.replies()[-1].card_text.startswith(
        "Not kept: lost.png: the file could not be read (HTTP 404)"
    )
    assert len(kept(rig)) == 2

    # Amira cannot sign her own action off; the chair can, on the card.
    pressed = rig.post(card_action(rig.connector.url, AMIRA, sign_off, reply_to="act-1"))
    assert "Only a chair or the secretary can sign actions off" in pressed.json()["value"]
    assert status(rig, number) == Status.DELIVERED
    pressed = rig.post(card_action(rig.connector.url, CHAIR, sign_off, reply_to="act-2"))
    assert pressed.status_code == 200
    assert status(rig, number) == Status.DONE
    assert "Signed off #1 Audit case files" in json.dumps(pressed.json())
    told = notices_to(rig, AMIRA)[-1]
    assert "Sarah Chair signed off #1 Audit case files; it is complete." in told.card_text
    with transaction(rig.core.sessions) as session:
        changes = session.scalars(
            select(HistoryEntry.change).where(HistoryEntry.action_id == number)
        ).all()
    assert changes[-4:] == ["status", "evidence", "evidence", "signed_off"]


def test_return_with_the_reason_typed_on_the_card(rig: Rig) -> None:
    [number] = seed(rig.core, ("Police data", "amira@council.example", 5))
    people(rig)
    rig.post(message(rig.connector.url, AMIRA, f"action done {number}", name="Amira Khan"))
    [notice] = notices_to(rig, CHAIR)
    data = command_button(notice.card, "Return")
    empty = rig.post(card_action(rig.connector.url, CHAIR, data, reply_to="act-1"))
    assert empty.json()["value"] == "Please give the reason it goes back."
    assert status(rig, number) == Status.DELIVERED
    reason = "the share is not signed yet"
    typed = {**data, f"return_reason_{number}": reason}
    pressed = rig.post(card_action(rig.connector.url, CHAIR, typed, reply_to="act-2"))
    assert pressed.status_code == 200
    assert status(rig, number) == Status.OPEN
    told = notices_to(rig, AMIRA)[-1]
    assert f"Sarah Chair returned #1 Police data: “{reason}”." in told.card_text
    # Evidence typed on the owner's card is kept like a typed command.
    rig.post(message(rig.connector.url, AMIRA, f"action done {number}", name="Amira Khan"))
    card = rig.connector.replies()[-1].card
    add = {**command_button(card, "Add evidence"), f"evidence_text_{number}": "https://x.example/a"}
    rig.post(card_action(rig.connector.url, AMIRA, add, reply_to="act-3"))
    assert kept(rig)[-1][:3] == (number, "link", "teams")
