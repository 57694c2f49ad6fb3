"""Every phrase people type, over real HTTP on Slack (signed slash commands to /slack/events)
and Teams (message activities to /api/messages): each is understood, on both alike.

The plan is seeded the same way on both: #12 "Audit case files" is Dee's and overdue, #2 is
blocked, #1 is red, #3 is done, #5 is due this week and #4 next week.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain import Platform, Rag, Status
from bot.services.context import Caller, Core
from bot.services.dispatch import run_command
from storage.db import transaction
from storage.models import Action, Identity, Person, Supporter
from tests.conftest import MONDAY
from tests.support.fake_slack import FakeSlack
from tests.support.teams_server import message
from tests.test_slack_blocks import all_text
from tests.test_slack_http import (  # noqa: F401  (fixtures)
    CHAIR,
    NAMES,
    SlackUser,
    base,
    bot,
    slack,
    slack_core,
    slack_process,
)
from tests.test_teams_e2e import CHAIR_EMAIL, Rig, rig  # noqa: F401  (fixture)

TODAY = MONDAY.date()
DEE_SLACK, DEE_TEAMS = "UDEE", "29:dee"
AMIRA_SLACK, AMIRA_TEAMS = "UAMIRA", "29:amira"
CHAIR_TEAMS = "29:chair"
PEOPLE = {
    "chair": ("Sarah Chair", CHAIR, CHAIR_TEAMS),
    "dee": ("Dee Patel", DEE_SLACK, DEE_TEAMS),
    "amira": ("Amira Khan", AMIRA_SLACK, AMIRA_TEAMS),
}


@dataclass
class Chat:
    """One platform, as the people of the plan use it: `say` returns what the reply shows."""

    platform: str
    core: Core
    say: Callable[[str, str, str], str]


def seed(core: Core, chair_email: str) -> None:
    """The same people and plan on either platform."""
    created = MONDAY - dt.timedelta(days=60)
    with transaction(core.sessions) as session:
        people: dict[str, Person] = {}
        for key, (name, slack_id, teams_id) in PEOPLE.items():
            email = chair_email if key == "chair" else f"{name.lower().replace(' ', '.')}@c.example"
            person = Person(display_name=name, email=email, created_at=created)
            person.identities += [
                Identity(platform=Platform.SLACK, external_id=slack_id),
                Identity(platform=Platform.TEAMS, external_id=teams_id),
            ]
            session.add(person)
            people[key] = person
        plan: list[tuple[str, str, int]] = [
            ("Refresh the threshold document", "amira", 10),
            ("Train team managers", "amira", 3),
            ("Publish the annual report", "amira", 20),
            ("Recruit social workers", "amira", 8),
            ("Weekly review", "amira", 2),
            *((f"Later work {n}", "amira", 40 + n) for n in range(6, 12)),
            ("Audit case files", "dee", -3),
        ]
        for title, owner, ahead in plan:
            session.add(
                Action(
                    title=title,
                    owner=people[owner],
                    due_date=TODAY + dt.timedelta(days=ahead),
                    status=Status.OPEN,
                    created_at=created,
                    updated_at=created,
                )
            )
        session.flush()
        first = session.get(Action, 1)
        blocked = session.get(Action, 2)
        done = session.get(Action, 3)
        assert first is not None and blocked is not None and done is not None
        first.rag = Rag.RED
        blocked.status, blocked.blocked_reason = Status.BLOCKED, "waiting for budget"
        done.status, done.done_at = Status.DONE, MONDAY - dt.timedelta(days=1)


@pytest.fixture(params=["slack", "teams"])
def chat(request: pytest.FixtureRequest) -> Iterator[Chat]:
    if request.param == "slack":
        fake: FakeSlack = request.getfixturevalue("slack")
        fake.add_user(DEE_SLACK, "dee.patel@c.example", "Dee Patel")
        monkeypatch = request.getfixturevalue("monkeypatch")
        monkeypatch.setitem(NAMES, DEE_SLACK, "Dee Patel")
        core: Core = request.getfixturevalue("slack_core")
        url: str = request.getfixturevalue("base")
        seed(core, "sarah.chair@board.example")
        yield Chat("slack", core, lambda who, command, text: _slack(url, fake, who, command, text))
        return
    teams: Rig = request.getfixturevalue("rig")
    for key, (name, _, teams_id) in PEOPLE.items():
        email = CHAIR_EMAIL if key == "chair" else f"{name.lower().replace(' ', '.')}@c.example"
        teams.connector.members[teams_id] = {"name": name, "email": email}
    seed(teams.core, CHAIR_EMAIL)
    yield Chat("teams", teams.core, lambda who, command, text: _teams(teams, who, command, text))


def _slack(url: str, fake: FakeSlack, who: str, command: str, text: str) -> str:
    user = SlackUser(url, fake, PEOPLE[who][1])
    typed = text.format(**{k: f"<@{v[1]}|{v[0].split()[0].lower()}>" for k, v in PEOPLE.items()})
    answer = user.reply(typed, command)
    return answer["text"] + "\n" + all_text(answer["blocks"])


def _teams(teams: Rig, who: str, command: str, text: str) -> str:
    entities: list[dict[str, Any]] = []
    shown: dict[str, str] = {}
    for key, (name, _, teams_id) in PEOPLE.items():
        if "{" + key + "}" in text:
            tag = f"<at>{name}</at>"
            shown[key] = tag
            entities.append(
                {"type": "mention", "text": tag, "mentioned": {"id": teams_id, "name": name}}
            )
    typed = text.format(**{k: shown.get(k, "") for k in PEOPLE})
    name, _, teams_id = PEOPLE[who]
    before = len(teams.connector.replies())
    activity = message(
        teams.connector.url,
        teams_id,
        f"{command.lstrip('/')} {typed}",
        name=name,
        entities=entities,
    )
    response = teams.post(activity)
    assert response.status_code == 200, response.text
    replies = teams.connector.replies()
    assert len(replies) == before + 1
    # Card text escapes markdown (`\[`, `\``); what a person reads has no backslashes.
    return replies[-1].card_text.replace("\\", "")


#: (who, command, typed, what the reply must show). `{dee}` is a mention picked from the menu.
PHRASES: list[tuple[str, str, str, list[str]]] = [
    ("chair", "/action", "done 12.", ["Marked #12 Audit case files as done."]),
    ("dee", "/action", "done #12, all sorted", ["Marked #12 Audit case files as done."]),
    ("dee", "/action", "12 done", ["Marked #12 Audit case files as done."]),
    ("dee", "/action", "mark 12 done", ["Marked #12 Audit case files as done."]),
    ("dee", "/action", "close 12", ["Marked #12 Audit case files as done."]),
    (
        "chair",
        "/action",
        "cancel 12 merged into #1",
        ["Cancelled #12 Audit case files: merged into #1"],
    ),
    ("amira", "/action", "list overdue", ["Overdue actions", "Audit case files"]),
    ("amira", "/action", "list blocked", ["Blocked actions", "Train team managers"]),
    ("amira", "/action", "list done", ["Done actions", "Publish the annual report"]),
    (
        "amira",
        "/action",
        "list due",
        ["Due in the next 7 days", "Weekly review", "Train team managers"],
    ),
    ("amira", "/status", "help", ["/status blocked", "/status overdue [@user|mine]"]),
    ("amira", "/status", "overdue @dee", ["Overdue actions of Dee Patel", "Audit case files"]),
    ("amira", "/status", "blocked", ["Blocked actions", "Train team managers"]),
    ("amira", "/status", "red", ["Open actions rated red", "Refresh the threshold document"]),
    ("amira", "/status", "due this week", ["Due this week", "Weekly review"]),
    ("amira", "/status", "due next week", ["Due next week", "Recruit social workers"]),
    (
        "amira",
        "/status",
        "due 2 weeks",
        ["Due in the next 2 weeks", "Refresh the threshold document"],
    ),
    ("chair", "/action", "assign 12 to @amira", ["Assigned #12 Audit case files to Amira Khan."]),
    ("chair", "/action", "assign 12 to {amira}", ["Assigned #12 Audit case files to Amira Khan."]),
    ("chair", "/action", "assign 12 me", ["Assigned #12 Audit case files to Sarah Chair."]),
    ("amira", "/action", "dne 12", ["Did you mean `/action done 12`?"]),
    # adding: `by`, `due:`, the owner before or after the date, several owners (bug 2)
    (
        "chair",
        "/action",
        "add Check referrals {dee} by 1 Dec",
        ["Added action #13 Check referrals.", "Dee Patel", "1 Dec"],
    ),
    (
        "chair",
        "/action",
        "add Check referrals due: 1 Dec",
        ["Added action #13 Check referrals.", "1 Dec"],
    ),
    (
        "chair",
        "/action",
        "add Check referrals for {dee}, {amira} due fri",
        ["Added action #13 Check referrals. Supporting: Amira Khan.", "Dee Patel", "27 Nov"],
    ),
    (
        "chair",
        "/action",
        "add Check referrals @dee by 1 Dec",
        ["Added action #13 Check referrals.", "Dee Patel"],
    ),
    (
        "chair",
        "/action",
        "add Meet {dee} about referrals",
        ["I read: title 'Meet @", " about referrals', no owner"],
    ),
    # a title that says "due" (bug 3)
    (
        "chair",
        "/action",
        "add Complete the due diligence checks",
        ["Added action #13 Complete the due diligence checks."],
    ),
    # 29 February of a year that has none (bug 11)
    ("chair", "/action", "due 12 29/2", ["2027 has no 29 February"]),
]


@pytest.mark.parametrize(("who", "command", "typed", "shows"), PHRASES, ids=[p[2] for p in PHRASES])
def test_each_phrase_is_understood(
    chat: Chat, who: str, command: str, typed: str, shows: list[str]
) -> None:
    shown = chat.say(who, command, typed)
    for words in shows:
        assert words in shown, f"{chat.platform}: {words!r} not in {shown!r}"


def test_an_add_for_several_people_stores_the_supporters(chat: Chat) -> None:
    chat.say("chair", "/action", "add Check referrals for {dee}, {amira} due fri")
    with transaction(chat.core.sessions) as session:
        row = session.get(Action, 13)
        assert row is not None and row.owner is not None
        assert row.owner.display_name == "Dee Patel"
        supporters = session.scalars(select(Supporter).where(Supporter.action_id == 13)).all()
        assert [s.person.display_name for s in supporters] == ["Amira Khan"]
        assert row.due_date == dt.date(2026, 11, 27)


def test_a_cancelled_action_leaves_the_lists(chat: Chat) -> None:
    chat.say("chair", "/action", "cancel 12 merged into #1")
    assert "Audit case files" not in chat.say("amira", "/status", "overdue")
    assert "Audit case files" not in chat.say("amira", "/action", "list")
    with transaction(chat.core.sessions) as session:
        row = session.get(Action, 12)
        assert row is not None and row.status == Status.CANCELLED


def test_a_note_of_several_lines_shows_each_line_under_its_entry(chat: Chat) -> None:
    # Typed on Slack (Teams sends a message's lines as one): shown on either, line by line.
    dee = Caller(Platform.SLACK, DEE_SLACK, display_name="Dee Patel")
    noted = run_command(
        chat.core, dee, "/action", "update 12 Met the police lead.\nAgreed the data share."
    )
    assert noted.message.tone == "success"
    shown = chat.say("dee", "/action", "show 12")
    assert "Met the police lead." in shown
    assert "\u2003\u2003Agreed the data share." in shown


def test_a_mention_teaches_the_handle_people_type_next(chat: Chat) -> None:
    if chat.platform == "teams":
        pytest.skip("Teams has no handles: a name is typed as the person's name (see README)")
    chat.say("chair", "/action", "assign 12 to {amira}")
    shown = chat.say("chair", "/status", "overdue @amira")
    assert "Overdue actions of Amira Khan" in shown
