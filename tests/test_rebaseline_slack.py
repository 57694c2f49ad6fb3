"""Re-baselining on Slack, end to end over real HTTP: signed slash commands and button presses
to the real app, the fake Slack on loopback recording every message, and the database rows.
"""

# ruff: noqa: F811 - the fixtures imported from test_slack_http are parameters here

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from bot.boards.members import put_role
from bot.domain import Role
from bot.domain.rebaseline import RequestState
from bot.domain.workdays import WorkingCalendar
from bot.services.context import Core
from scheduler.jobs import run_reminders
from storage.db import transaction
from storage.models import DEFAULT_BOARD_ID, DateRequest, Person
from tests.support.fake_slack import Call, FakeSlack
from tests.support.slack_signing import block_actions_body, datepicker, text_input
from tests.test_slack_blocks import all_text
from tests.test_slack_http import (  # noqa: F401 - fixtures
    AMIRA,
    BEN,
    CHAIR,
    SlackUser,
    action_row,
    amira,
    base,
    ben,
    bot,
    buttons,
    chair,
    dm,
    history,
    responses,
    slack,
    slack_core,
    slack_process,
    wait_until,
)
from wiring.root import Process


def press(user: SlackUser, action_id: str, value: str, message: Call) -> None:
    """`user` presses a button of the DM `message` (the value as the bot drew it)."""
    assert message.response is not None
    body = block_actions_body(
        user.user_id,
        action_id,
        value,
        message=message.response["message"],
        channel_id=message.response["channel"],
        response_url=user.slack.response_url(f"press-{user.user_id}"),
    )
    assert user.post(body).status_code == 200


def request_buttons(message: Call) -> dict[str, str]:
    """action_id → value of the request's buttons."""
    assert message.blocks is not None
    return dict(buttons(message.blocks))


def states(core: Core) -> list[RequestState]:
    with transaction(core.sessions) as session:
        return list(session.scalars(select(DateRequest.state).order_by(DateRequest.id)))


def setup(chair: SlackUser, amira: SlackUser, slack: FakeSlack) -> int:
    amira.reply("list mine")
    answer = chair.reply(f"add Audit the front door <@{AMIRA}|amira> due 18/12/2026")
    assert answer["text"].startswith("Added action #1"), answer["text"]
    dm(slack, AMIRA)  # the assignment
    return 1


def test_request_then_approve_from_the_button(
    chair: SlackUser, amira: SlackUser, ben: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    number = setup(chair, amira, slack)
    asked = amira.reply(f"rebaseline {number} 29 Jan 2027 waiting for the police data")
    assert asked["text"].startswith(
        "Asked for #1 Audit the front door to move to Fri 29 Jan 2027; the chairs will decide"
    )
    request = dm(slack, CHAIR)
    assert request.text == "Amira Khan asks for a new date for action #1 Audit the front door"
    shown = all_text(request.blocks or [])
    assert "Why: waiting for the police data" in shown
    assert "the new date would be +27 working days from it" in shown
    values = request_buttons(request)
    assert set(values) == {"date_approve", "date_decline"}
    assert json.loads(values["date_approve"]) == {"action": number, "request": 1}

    # Someone who does not decide is refused beside the message; nothing changes.
    ben.reply("list mine")
    press(ben, "date_approve", values["date_approve"], request)
    wait_until(lambda: responses(slack, f"press-{BEN}"), "the refusal")
    assert (
        responses(slack, f"press-{BEN}")[0]
        .params["text"]
        .startswith("Only a chair or the secretary can ")
    )
    assert action_row(slack_core, number).due_date == dt.date(2026, 12, 18)

    press(chair, "date_approve", values["date_approve"], request)
    [update] = slack.wait_for("chat.update")
    assert update.params["ts"] == request.response["ts"]  # type: ignore[index]
    assert update.params["text"].startswith(
        "Approved: #1 Audit the front door is now due Fri 29 Jan 2027 (baseline Fri 18 Dec"
    )
    assert "date_approve" not in dict(buttons(update.params["blocks"]))
    told = dm(slack, AMIRA, 2)
    assert told.text == (
        "Sarah Chair approved the new date for action #1 Audit the front door: now due "
        "Fri 29 Jan 2027 (was Fri 18 Dec)."
    )
    assert "Why it moved: waiting for the police data" in all_text(told.blocks or [])
    row = action_row(slack_core, number)
    assert (row.due_date, row.baseline_due, row.rebaselines) == (
        dt.date(2027, 1, 29),
        dt.date(2026, 12, 18),
        1,
    )
    assert history(slack_core, number)[-2:] == [
        ("date_requested", "2027-01-29", "waiting for the police data", "Amira Khan"),
        ("rebaselined", "2027-01-29", "waiting for the police data", "Sarah Chair"),
    ]
    # One message to the one chair, none to anyone else about the request.
    assert len(slack.messages_to(CHAIR)) == 1
    assert [c.text for c in slack.messages_to(BEN)] == []

    # The button pressed again: said, not done twice.
    press(chair, "date_approve", values["date_approve"], request)
    wait_until(lambda: len(slack.calls("chat.update")) >= 2, "the second answer")
    assert (
        "Sarah Chair already approved the request" in slack.calls("chat.update")[-1].params["text"]
    )
    assert action_row(slack_core, number).rebaselines == 1


def test_request_then_decline_with_the_form(
    chair: SlackUser, amira: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    number = setup(chair, amira, slack)
    amira.reply(f"rebaseline {number} 31 Mar 2027 the team is short-staffed")
    request = dm(slack, CHAIR)
    values = request_buttons(request)
    press(chair, "date_decline", values["date_decline"], request)
    [opened] = slack.wait_for("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == "date_decline_form"
    assert "the team is short-staffed" in all_text(view["blocks"])

    empty = chair.submit(
        view["callback_id"], {"reason": {"reason": text_input(" ")}}, view["private_metadata"]
    )
    assert empty.json() == {
        "response_action": "errors",
        "errors": {"reason": "Please give the reason."},
    }
    done = chair.submit(
        view["callback_id"],
        {"reason": {"reason": text_input("the inspection is in January")}},
        view["private_metadata"],
    )
    assert done.status_code == 200 and done.text == ""
    told = dm(slack, AMIRA, 2)
    assert told.text == (
        "Sarah Chair declined the new date (Wed 31 Mar 2027) asked for action #1 Audit the "
        "front door; it stays due Fri 18 Dec."
    )
    assert "Why: the inspection is in January" in all_text(told.blocks or [])
    assert action_row(slack_core, number).due_date == dt.date(2026, 12, 18)
    assert states(slack_core) == [RequestState.DECLINED]
    assert history(slack_core, number)[-1] == (
        "date_declined",
        "2027-03-31",
        "the inspection is in January",
        "Sarah Chair",
    )
    [update] = slack.wait_for("chat.update")
    assert update.params["text"].startswith("Declined the new date (Wed 31 Mar 2027)")

    # The Decline button pressed again opens no form: the request was decided.
    press(chair, "date_decline", values["date_decline"], request)
    wait_until(lambda: responses(slack, f"press-{CHAIR}"), "the answer")
    assert "already declined the request" in responses(slack, f"press-{CHAIR}")[-1].params["text"]
    assert len(slack.calls("views.open")) == 1


def test_a_newer_request_supersedes_and_the_old_button_says_so(
    chair: SlackUser, amira: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    number = setup(chair, amira, slack)
    amira.reply(f"rebaseline {number} 15 Jan 2027 first thoughts")
    amira.reply(f"rebaseline {number} 29 Jan 2027 the data comes later")
    first, second = dm(slack, CHAIR), dm(slack, CHAIR, 2)
    assert states(slack_core) == [RequestState.SUPERSEDED, RequestState.PENDING]
    # The first message was redrawn without its buttons when the second request came.
    [replaced] = slack.wait_for("chat.update")
    assert replaced.params["ts"] == first.response["ts"]  # type: ignore[index]
    assert replaced.params["text"] == "Amira Khan asked for another date since."
    assert buttons(replaced.params["blocks"]) == []
    # A copy still showing the old button (a client not yet redrawn) says what happened.
    press(chair, "date_approve", request_buttons(first)["date_approve"], first)
    wait_until(lambda: len(slack.calls("chat.update")) >= 2, "the answer")
    assert slack.calls("chat.update")[1].params["text"] == (
        "The request for Fri 15 Jan 2027 on #1 was replaced by a newer one (for Fri 29 Jan "
        "2027), which waits for a decision. Nothing changed."
    )
    assert action_row(slack_core, number).due_date == dt.date(2026, 12, 18)
    press(chair, "date_approve", request_buttons(second)["date_approve"], second)
    wait_until(lambda: len(slack.calls("chat.update")) >= 3, "the approval")
    assert action_row(slack_core, number).due_date == dt.date(2027, 1, 29)


def test_request_new_date_from_a_reminder(
    chair: SlackUser,
    amira: SlackUser,
    slack: FakeSlack,
    slack_core: Core,
    slack_process: Process,
) -> None:
    amira.reply("list mine")
    chair.reply(f"add Audit the front door <@{AMIRA}|amira> due 24/11/2026")
    dm(slack, AMIRA)
    report = run_reminders(
        slack_core, slack_process.senders, WorkingCalendar.from_settings(slack_core.settings)
    )
    assert report.delivery.sent, report.summary()
    reminder = dm(slack, AMIRA, 2)
    kinds = [action_id for action_id, _ in buttons(reminder.blocks or [])]
    assert kinds == ["action_done", "action_update", "action_new_date", "action_blocked"]
    press(
        amira, "action_new_date", dict(buttons(reminder.blocks or []))["action_new_date"], reminder
    )
    [opened] = slack.wait_for("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == "date_request_form"
    assert "Audit the front door" in all_text(view["blocks"])

    missing = amira.submit(view["callback_id"], {}, view["private_metadata"])
    assert missing.json() == {
        "response_action": "errors",
        "errors": {"due": "Pick the new date.", "reason": "Please give the reason."},
    }
    asked = amira.submit(
        view["callback_id"],
        {
            "due": {"due": datepicker("2026-12-04")},
            "reason": {"reason": text_input("the audit team is off sick")},
        },
        view["private_metadata"],
    )
    assert asked.json()["response_action"] == "update"
    assert "the chairs will decide" in all_text(asked.json()["view"]["blocks"])
    request = dm(slack, CHAIR)
    assert request.text == "Amira Khan asks for a new date for action #1 Audit the front door"
    assert states(slack_core) == [RequestState.PENDING]
    # Nothing moved yet: the reminders still follow tomorrow's deadline.
    assert action_row(slack_core, 1).due_date == dt.date(2026, 11, 24)


def test_the_other_deciders_copies_lose_their_buttons_once_decided(
    chair: SlackUser, amira: SlackUser, ben: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    ben.reply("list mine")
    with transaction(slack_core.sessions) as session:
        secretary = session.scalars(select(Person).where(Person.display_name == "Ben Okafor")).one()
        put_role(session, DEFAULT_BOARD_ID, secretary.id, Role.SECRETARY)
    number = setup(chair, amira, slack)
    amira.reply(f"rebaseline {number} 29 Jan 2027 waiting for the police data")
    mine, theirs = dm(slack, CHAIR), dm(slack, BEN)
    assert request_buttons(theirs)  # the secretary decides too
    press(chair, "date_approve", request_buttons(mine)["date_approve"], mine)
    wait_until(
        lambda: any(
            c.params["channel"] == theirs.response["channel"]  # type: ignore[index]
            for c in slack.calls("chat.update")
        ),
        "the secretary's copy redrawn",
    )
    [edited] = [
        c
        for c in slack.calls("chat.update")
        if c.params["channel"] == theirs.response["channel"]  # type: ignore[index]
    ]
    assert edited.params["ts"] == theirs.response["ts"]  # type: ignore[index]
    assert edited.params["text"] == "Sarah Chair approved it: now due Fri 29 Jan 2027."
    assert "date_approve" not in dict(buttons(edited.params["blocks"]))
