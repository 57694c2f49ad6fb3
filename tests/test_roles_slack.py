# ruff: noqa: F811 - pytest fixtures imported by name
"""Roles over Slack's real HTTP path (signed requests to the app, the fake Slack answering):
`/board role` end to end, the key rows of the permission table, and people from outside the
workspace refused without being registered."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from bot.boards.members import role_on
from bot.domain import Role
from bot.people.resolve import OUTSIDER_REFUSAL
from bot.services.context import Core
from storage.db import transaction
from storage.models import DEFAULT_BOARD_ID, Identity, Person, RoleChange
from tests.support.fake_slack import FakeSlack
from tests.support.slack_signing import signed_headers, slash_command_body
from tests.test_slack_blocks import validated
from tests.test_slack_http import (  # noqa: F401 - fixtures
    AMIRA,
    BEN,
    CHAIR,
    SECRET,
    SlackUser,
    add,
    amira,
    base,
    ben,
    bot,
    chair,
    dm,
    slack,
    slack_core,
    slack_process,
)

PARTNER = "UPARTNER"


def typed(base: str, user_id: str, command: str, text: str, name: str = "pat") -> dict[str, str]:
    """What Slack sends for a slash command typed by `user_id`, signed; the ephemeral answer."""
    body = slash_command_body(command=command, text=text, user_id=user_id, user_name=name)
    response = httpx.post(
        f"{base}/slack/events", content=body, headers=signed_headers(body, SECRET), timeout=10
    )
    assert response.status_code == 200, response.text
    answer: dict[str, str] = response.json()
    return answer


def role_of(core: Core, user_id: str) -> Role | None:
    with transaction(core.sessions) as session:
        person = session.scalars(
            select(Person).join(Identity).where(Identity.external_id == user_id)
        ).first()
        return role_on(session, DEFAULT_BOARD_ID, person.id) if person else None


def test_a_chair_gives_a_role_over_slack_and_the_person_is_told(
    chair: SlackUser, amira: SlackUser, ben: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    amira.reply("help")
    answer = chair.reply(f"role <@{AMIRA}|amira> secretary", "/board")
    assert answer["text"] == "Amira Khan is now the secretary (was without a role); they are told."
    told = dm(slack, AMIRA)
    assert str(told.text).startswith(
        "Sarah Chair changed your role on the board: you are now the board's secretary"
    )
    with transaction(slack_core.sessions) as session:
        change = session.scalars(select(RoleChange)).one()
        assert change.actor is not None and change.actor.display_name == "Sarah Chair"
        assert (change.old_value, change.new_value, change.source) == ("none", "secretary", "slack")
    assert role_of(slack_core, AMIRA) == Role.SECRETARY
    # The secretary runs the plan: she adds and assigns; the roles list names her.
    number = add(amira, f"Audit the front door <@{BEN}> due 2026-12-18")
    assert amira.reply(f"due {number} 2026-12-20 partner asked")["text"].startswith("Moved")
    listed = ben.reply("roles", "/board")
    shown = " ".join(str(b.get("text", {}).get("text", "")) for b in listed["blocks"])
    assert "Chairs: Sarah Chair (CHAIR_USER_IDS)" in shown and "Secretary: Amira Khan" in shown
    # She gives no roles.
    refused = amira.reply(f"role <@{BEN}|ben> member", "/board")
    assert refused["text"] == "Only a chair can change roles."


#: (role given to Ben first, what he types, allowed)
KEY_ROWS = [
    (None, "/action add Another action", False),
    ("secretary", "/action add Another action", True),
    ("member", "/action add Another action", False),
    ("member", "/status overdue", True),
    ("observer", "/status overdue", True),
    ("observer", "/action done {n}", False),
    (None, "/action done {n}", True),
    ("member", "/board role <@UAMIRA|amira> observer", False),
    ("observer", "/board roles", True),
]


@pytest.mark.parametrize(("role", "line", "allowed"), KEY_ROWS)
def test_key_rows_of_the_table_over_slack(
    chair: SlackUser,
    ben: SlackUser,
    slack_core: Core,
    role: str | None,
    line: str,
    allowed: bool,
) -> None:
    ben.reply("help")
    number = add(chair, f"Share the data <@{BEN}> due 2026-12-18")
    if role:
        chair.reply(f"role <@{BEN}|ben> {role}", "/board")
    command, _, text = line.format(n=number).partition(" ")
    answer = ben.reply(text, command)
    assert answer["blocks"][0]["text"]["text"].startswith(":x: ") is not allowed, answer["text"]
    if role == "observer" and not allowed:
        assert answer["text"].startswith("You are an observer")


@pytest.mark.parametrize(
    "kind", ["slack connect", "stranger", "guest"], ids=["connect", "stranger", "guest"]
)
def test_someone_from_outside_the_workspace_is_refused_and_not_registered(
    base: str, slack: FakeSlack, slack_core: Core, kind: str
) -> None:
    slack.add_external_user(
        PARTNER,
        "pat@partner.example",
        "Pat Partner",
        stranger=kind == "stranger",
        guest=kind == "guest",
    )
    for command, text in (("/status", ""), ("/action", "list mine"), ("/board", "roles")):
        answer = typed(base, PARTNER, command, text)
        assert answer["text"] == OUTSIDER_REFUSAL
        validated(answer["blocks"])  # type: ignore[arg-type]
    with transaction(slack_core.sessions) as session:
        assert not session.scalars(select(Identity).where(Identity.external_id == PARTNER)).all()
        assert (
            session.scalars(select(Person).where(Person.email == "pat@partner.example")).all() == []
        )


def test_an_outside_owner_works_on_their_action_and_a_role_opens_the_rest(
    base: str, chair: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    slack.add_external_user(PARTNER, "pat@partner.example", "Pat Partner")
    number = add(chair, f"Share police data <@{PARTNER}> due 2026-12-18")
    noted = typed(base, PARTNER, "/action", f"update {number} figures sent")
    assert noted["text"].startswith(f"Added your update to #{number}"), noted["text"]
    assert typed(base, PARTNER, "/status", "mine")["text"] != OUTSIDER_REFUSAL
    assert typed(base, PARTNER, "/status", "overdue")["text"] == OUTSIDER_REFUSAL
    chair.reply(f"role <@{PARTNER}|pat> member", "/board")
    assert typed(base, PARTNER, "/status", "overdue")["text"] != OUTSIDER_REFUSAL
    assert role_of(slack_core, PARTNER) == Role.MEMBER
    assert role_of(slack_core, CHAIR) == Role.NONE  # CHAIR_USER_IDS makes the chair
