"""End to end over real HTTP: people who left, form limits checked by the core, owners told
when someone else changes their action, and a digest the bot cannot post.

The real ASGI app, requests signed as Slack signs them, and the fake Slack on loopback (which
refuses DMs to deactivated and removed users as Slack does).
"""

# ruff: noqa: F811 - the fixtures imported from test_slack_http are parameters here

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from bot.clock import FixedClock
from bot.services.context import Core
from handlers.slack.directory import CACHE_SECONDS
from storage.db import transaction
from storage.models import Action, OutboxMessage, OutboxStatus, Person, Supporter
from tests.support.fake_slack import Call, FakeSlack
from tests.support.slack_signing import text_input
from tests.test_slack_blocks import all_text
from tests.test_slack_http import (  # noqa: F401 - fixtures
    AMIRA,
    BEN,
    BOARD,
    CHAIR,
    SlackUser,
    action_row,
    amira,
    base,
    ben,
    bot,
    chair,
    count,
    dm,
    history,
    slack,
    slack_core,
    slack_process,
    wait_until,
)


def add(chair: SlackUser, title: str) -> int:
    answer = chair.reply(f"add {title}")
    assert answer["text"].startswith("Added action #"), answer["text"]
    return int(answer["text"].split("#", 1)[1].split()[0])


def assign(chair: SlackUser, number: int, user: str) -> dict[str, object]:
    return chair.reply(f"assign {number} <@{user}|{user.lower()}>")


def texts(slack: FakeSlack, user: str) -> list[str]:
    return [call.text or "" for call in slack.messages_to(user)]


def supporting(core: Core, number: int, user: str) -> None:
    """Make the person with Slack id `user` a supporting owner of action `number`."""
    with transaction(core.sessions) as session:
        person = session.scalars(select(Person).where(Person.display_name.is_not(None))).all()
        who = next(p for p in person if any(i.external_id == user for i in p.identities))
        session.add(Supporter(action_id=number, person_id=who.id, position=1))


# --------------------------------------------------------------------------- people who left


def test_an_action_cannot_be_given_to_someone_deactivated(
    chair: SlackUser,
    ben: SlackUser,
    slack: FakeSlack,
    slack_core: Core,
    clock: FixedClock,
) -> None:
    ben.reply("list mine")  # the bot has met Ben
    number = add(chair, "Audit the front door")
    before = history(slack_core, number)
    slack.deactivate_user(BEN)
    clock.advance(dt.timedelta(seconds=CACHE_SECONDS + 1))  # past what users.info told before

    refused = assign(chair, number, BEN)
    assert refused["text"] == (
        "I can't give actions to Ben Okafor: their Slack account is deactivated. "
        "Choose someone else."
    )
    assert action_row(slack_core, number).owner_id is None
    assert history(slack_core, number) == before
    assert slack.messages_to(BEN) == []


def test_an_action_cannot_be_given_to_someone_slack_no_longer_knows(
    chair: SlackUser, ben: SlackUser, slack: FakeSlack, slack_core: Core, clock: FixedClock
) -> None:
    ben.reply("list mine")
    number = add(chair, "Audit the front door")
    slack.remove_user(BEN)
    clock.advance(dt.timedelta(seconds=CACHE_SECONDS + 1))
    refused = assign(chair, number, BEN)
    assert "Slack no longer knows their account" in refused["text"]
    assert action_row(slack_core, number).owner_id is None


def test_an_owner_whose_dm_is_refused_is_flagged_to_the_chairs_once(
    chair: SlackUser, ben: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    first, second = add(chair, "Audit the front door"), add(chair, "Refresh the thresholds")
    assign(chair, first, BEN)
    assign(chair, second, BEN)
    dm(slack, BEN, 2)
    slack.deactivate_user(BEN)  # Slack refuses DMs to him from now on: account_inactive

    chair.reply(f"due {first} 18/12/2026 waiting for the audit tool")
    wait_until(lambda: left_notices(slack) != [], "the chairs' notice")
    [notice] = left_notices(slack)
    assert notice.text == (
        "I could not deliver the message saying a deadline moved about #1 Audit the front door "
        "to Ben Okafor (Slack refused the message: account_inactive)."
    )
    shown = all_text(notice.blocks or [])
    assert (
        "Ben Okafor has left (their account is deactivated): "
        "their 2 open actions now show as unowned."
    ) in shown
    assert "Audit the front door" in shown and "Refresh the thresholds" in shown
    assert "/action assign" in shown
    assert [c.outcome for c in slack.calls("chat.postMessage", ok=False)] == ["account_inactive"]

    # More changes to his actions: nothing more is queued for him, and the chairs hear nothing.
    chair.reply(f"due {second} 18/12/2026 after the audit")
    chair.reply(f"rag {first} red")
    assert outbox_to(slack_core, BEN) == [
        ("assigned", OutboxStatus.SENT),
        ("assigned", OutboxStatus.SENT),
        ("deadline_moved", OutboxStatus.FAILED),
    ]
    assert len(slack.calls("chat.postMessage", ok=False)) == 1
    assert len(left_notices(slack)) == 1

    shown = all_text(chair.reply(f"show {first}")["blocks"])
    assert "owner left: Ben Okafor" in shown
    listed = all_text(chair.reply("list all")["blocks"])
    assert "owner left: Ben Okafor" in listed

    third = add(chair, "Publish the practice standards")
    refused = assign(chair, third, BEN)
    assert refused["text"].startswith("Ben Okafor has left (their account is deactivated)")
    assert action_row(slack_core, third).owner_id is None

    # Back again: once he uses the bot, he is no longer shown as gone.
    slack.add_user(BEN, "ben.okafor@council.example", "Ben Okafor")
    ben.reply("list mine")
    assert "owner left" not in all_text(chair.reply(f"show {first}")["blocks"])


def left_notices(slack: FakeSlack) -> list[Call]:
    """The chairs' notices that an owner has left."""
    return [c for c in slack.messages_to(CHAIR) if "has left" in all_text(c.blocks or [])]


def outbox_to(core: Core, user: str) -> list[tuple[str, OutboxStatus]]:
    """(kind, status) of every outbox row to the person with Slack id `user`, oldest first."""
    with transaction(core.sessions) as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        return [
            (row.kind, row.status)
            for row in rows
            if row.recipient is not None
            and any(i.external_id == user for i in row.recipient.identities)
        ]


# --------------------------------------------------------------------------- form limits


def test_a_hand_made_submission_over_the_limits_is_refused_and_nothing_stored(
    chair: SlackUser, ben: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    number = add(chair, "Audit the front door")
    assign(chair, number, BEN)
    before = history(slack_core, number)

    refused = ben.submit(
        "action_update_form",
        {"note": {"note": text_input("x" * 5000)}},
        json.dumps({"action": number}),
    )
    assert refused.status_code == 200
    assert refused.json() == {
        "response_action": "errors",
        "errors": {
            "note": "The note is 5,000 characters long; the most is 2,000. Nothing was changed."
        },
    }
    blocked = ben.submit(
        "action_blocked_form",
        {"note": {"note": text_input("y" * 2001)}},
        json.dumps({"action": number}),
    )
    assert "The reason is 2,001 characters long" in blocked.json()["errors"]["note"]
    assert history(slack_core, number) == before

    for title, workstream, said in [
        ("t" * 3500, None, "The title is 3,500 characters long; the most is 300."),
        ("Audit", "w" * 500, "The workstream is 500 characters long; the most is 200."),
    ]:
        fields = {"title": {"title": text_input(title)}}
        if workstream is not None:
            fields["workstream"] = {"workstream": text_input(workstream)}
        answer = chair.submit("action_add_form", fields).json()
        assert answer["response_action"] == "errors"
        assert said in answer["errors"]["title"]
    assert count(slack_core, Action) == 1

    # The same limits for typed text.
    typed = chair.reply(f"update {number} {'z' * 2001}")
    assert typed["text"] == (
        "The note is 2,001 characters long; the most is 2,000. Nothing was changed."
    )
    assert history(slack_core, number) == before


# --------------------------------------------------------------------------- owners told


def test_owners_are_told_when_a_chair_changes_their_action(
    chair: SlackUser, ben: SlackUser, amira: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    amira.reply("list mine")  # known, so she can be a supporting owner
    number = add(chair, "Audit the front door")
    assign(chair, number, BEN)
    dm(slack, BEN)
    supporting(slack_core, number, AMIRA)

    chair.reply(f"due {number} 18/12/2026 the audit tool arrives late")
    moved = dm(slack, BEN, 2)
    assert moved.text == (
        "Sarah Chair moved the deadline of action #1 Audit the front door to Fri 18 Dec."
    )
    shown = all_text(moved.blocks or [])
    assert "Why: the audit tool arrives late" in shown
    assert dm(slack, AMIRA).text == moved.text

    chair.reply(f"rag {number} red")
    assert (
        dm(slack, BEN, 3).text
        == "Sarah Chair set the RAG of action #1 Audit the front door to red."
    )
    assert dm(slack, AMIRA, 2).text == dm(slack, BEN, 3).text

    # The owner's own change tells nobody.
    ben.reply(f"rag {number} amber")
    reassigned = chair.reply(f"assign {number} <@{CHAIR}|sarah>")
    assert reassigned["text"].startswith("Assigned"), reassigned["text"]
    changed = dm(slack, AMIRA, 3)
    assert changed.text == (
        "Sarah Chair made Sarah Chair the owner of action #1 Audit the front door "
        "(was Ben Okafor); you are still a supporting owner."
    )
    assert len(slack.messages_to(AMIRA)) == 3
    assert [t for t in texts(slack, BEN) if "RAG" in t] == [dm(slack, BEN, 3).text]


# --------------------------------------------------------------------------- the digest


def test_a_digest_the_bot_cannot_post_tells_the_chairs_how_to_fix_it(
    chair: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    add(chair, "Audit the front door")
    slack.fail_when("chat.postMessage", lambda p: p.get("channel") == BOARD, error="not_in_channel")
    chair.reply("digest post", "/status")
    wait_until(lambda: any("could not post" in t for t in texts(slack, CHAIR)), "the notice")
    [notice] = [c for c in slack.messages_to(CHAIR) if "could not post" in (c.text or "")]
    shown = all_text(notice.blocks or [])
    assert f"The bot is not a member of {BOARD}: invite it there" in shown
    assert "then run /status digest post" in shown

    slack.clear_faults()  # the bot was invited
    again = chair.reply("digest post", "/status")
    assert "trying again now" in again["text"]
    wait_until(lambda: len(slack.messages_to(BOARD)) == 1, "the digest in the board channel")
