# ruff: noqa: F811 - pytest fixtures imported by name
"""Roles over Teams' real path (activities posted to /api/messages, the fake Bot Connector
answering as Teams does): guests and users of another tenant refused without being
registered, `board …` typed by a chair, an observer refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.domain import Role
from bot.people.resolve import OUTSIDER_REFUSAL
from storage.db import transaction
from storage.models import Person, RoleChange
from tests.support.teams_server import installed, message
from tests.test_teams_e2e import CHAIR_EMAIL, Rig, rig, seed  # noqa: F401 - fixture


@pytest.mark.parametrize(
    "profile",
    [{"userRole": "guest"}, {"tenantId": "another-organisation"}],
    ids=["guest", "another tenant"],
)
def test_a_guest_is_refused_and_not_registered(rig: Rig, profile: dict[str, str]) -> None:
    rig.connector.members["29:gail"] = {
        "name": "Gail Guest",
        "email": "gail@partner.example",
        **profile,
    }
    assert rig.post(installed(rig.connector.url, "29:gail", name="Gail Guest")).status_code == 200
    for text in ("status", "action list mine", "board roles"):
        assert rig.post(message(rig.connector.url, "29:gail", text, name="Gail")).status_code == 200
    replies = rig.connector.replies()
    assert len(replies) == 3
    assert all(OUTSIDER_REFUSAL in reply.card_text for reply in replies)
    with transaction(rig.core.sessions) as session:
        assert (
            session.scalars(select(Person).where(Person.email == "gail@partner.example")).all()
            == []
        )


def test_a_guest_who_owns_an_action_updates_it(rig: Rig) -> None:
    [number] = seed(rig.core, ("Share police data", "gail@partner.example", 5))
    rig.connector.members["29:gail"] = {
        "name": "Gail Guest",
        "email": "gail@partner.example",
        "userRole": "guest",
    }
    rig.post(message(rig.connector.url, "29:gail", f"update {number} figures sent", name="Gail"))
    rig.post(message(rig.connector.url, "29:gail", "status overdue", name="Gail"))
    noted, refused = rig.connector.replies()
    assert f"Added your update to #{number}" in noted.card_text
    assert OUTSIDER_REFUSAL in refused.card_text


def test_a_chair_gives_a_role_in_teams_and_an_observer_changes_nothing(rig: Rig) -> None:
    [number] = seed(rig.core, ("Audit case files", "amira@council.example", 5))
    rig.connector.members["29:chair"] = {"name": "Chair Person", "email": CHAIR_EMAIL}
    rig.connector.members["29:amira"] = {"name": "Amira Khan", "email": "amira@council.example"}
    rig.post(message(rig.connector.url, "29:amira", "status mine", name="Amira Khan"))
    url = rig.connector.url
    rig.post(message(url, "29:chair", "board role amira@council.example observer", name="Chair"))
    rig.post(message(url, "29:amira", f"done {number}", name="Amira Khan"))
    _, given, refused = rig.connector.replies()
    assert "Amira is now an observer (was without a role); they are told." in given.card_text
    assert "You are an observer: you see the plan but cannot mark it done." in refused.card_text
    [told] = [post for post in rig.connector.proactive() if post.conversation_id.endswith("amira")]
    assert "changed your role on the board: you are now an observer" in told.card_text
    with transaction(rig.core.sessions) as session:
        change = session.scalars(select(RoleChange)).one()
        assert (change.new_value, change.source) == (Role.OBSERVER.value, "teams")
