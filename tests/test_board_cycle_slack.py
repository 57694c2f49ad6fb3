"""The update round on Slack end to end: the real app on a real socket, requests signed as
Slack signs them, the fake Slack Web API on loopback. A meeting added by /board, the round's
one message to an owner with every action and its buttons, Add update's form on it recording
a note that counts as the update (no nudge follows), and the evidence form per action."""

# ruff: noqa: F811 - the fixtures imported from test_slack_http are parameters here

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from slack_sdk.models.views import View
from sqlalchemy import select

from bot.clock import FixedClock
from bot.outbox.delivery import deliver
from bot.services.context import Core
from scheduler.board_cycle import run_board_cycle
from storage.db import transaction
from storage.models import Meeting
from tests.support.fake_slack import FakeSlack
from tests.support.slack_signing import block_actions_body, text_input
from tests.test_slack_blocks import all_text
from tests.test_slack_http import (  # noqa: F401 - fixtures
    AMIRA,
    BEN,
    CHAIR,
    SlackUser,
    amira,
    base,
    ben,
    bot,
    chair,
    dm,
    history,
    slack,
    slack_core,
    slack_process,
    wait_until,
)
from wiring.root import Process

LONDON = ZoneInfo("Europe/London")


def add(chair: SlackUser, text: str) -> int:
    answer = chair.reply(f"add {text}")
    assert answer["text"].startswith("Added action #"), answer["text"]
    return int(answer["text"].split("#", 1)[1].split()[0])


def labels(blocks: list[dict[str, object]]) -> list[str]:
    found: list[str] = []
    for block in blocks:
        if block["type"] == "actions":
            for item in block["elements"]:  # type: ignore[attr-defined]
                found.append(item["text"]["text"])
    return found


def test_the_round_message_and_its_forms_on_slack(
    chair: SlackUser,
    amira: SlackUser,
    ben: SlackUser,
    slack: FakeSlack,
    slack_core: Core,
    slack_process: Process,
    clock: FixedClock,
) -> None:
    first = add(chair, f"Audit the front door <@{AMIRA}> due 2027-06-30")
    second = add(chair, f"Recruit two social workers <@{AMIRA}> due 2027-06-30")
    third = add(chair, f"Publish the local offer <@{BEN}> due 2027-06-30")
    ben.reply(f"rag {third} amber")
    ben.reply(f"update {third} Draft with the parent carers' forum")
    answer = chair.reply("meeting add 14 Jan 2027 14:00 Improvement Board", command="/board")
    assert "Meeting added: 1 · Improvement Board on Thu 14 Jan 2027 at 14:00" in answer["text"]
    assert "cut-off Thu 7 Jan 2027" in all_text(answer["blocks"])
    assert "a chair or the secretary" in amira.reply("meeting cancel 1", command="/board")["text"]

    # The round opens Wed 30 Dec: Amira's one message holds both her actions.
    clock.set(dt.datetime(2026, 12, 30, 10, 0, tzinfo=LONDON))
    assert run_board_cycle(slack_core)["round"] == 2
    deliver(slack_core, slack_process.senders)
    message = dm(slack, AMIRA, 3)  # after her two assignments
    assert message.text == "Update round for Improvement Board on Thu 14 Jan 2027 at 14:00"
    text = all_text(message.blocks or [])
    assert "Please update your 2 actions by Thu 7 Jan" in text
    assert f"#{first} Audit the front door · RAG no RAG set · no update yet" in text
    assert "Recruit two social workers" in text
    assert labels(message.blocks or []).count("Add update") == 2
    assert f"Evidence for #{first}" in labels(message.blocks or [])
    assert f"Evidence for #{second}" in labels(message.blocks or [])
    assert len(slack.messages_to(AMIRA)) == 3  # one message, not one per action
    bens = [c for c in slack.messages_to(BEN) if c.text == message.text]
    assert len(bens) == 1
    # His line carries his latest update, as his reminders and /action show give it.
    assert (
        f"#{third} Publish the local offer · RAG amber · last update Mon 23 Nov: "
        "Draft with the parent carers' forum"
    ) in all_text(bens[0].blocks or [])

    # Add update on the round message opens the form for that action; its note is the update.
    amira.press("action_update", first, message=message)
    [opened] = slack.wait_for("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == "action_update_form"
    assert "Audit the front door" in all_text(view["blocks"])
    response = amira.submit(
        view["callback_id"],
        {"note": {"note": text_input("Half the files audited")}},
        view["private_metadata"],
    )
    assert response.status_code == 200
    wait_until(lambda: history(slack_core, first)[-1][0] == "note", "the note")

    # The evidence button opens the evidence form for its action.
    evidence = next(
        item
        for block in message.blocks or []
        if block["type"] == "actions"
        for item in block["elements"]
        if item["text"]["text"] == f"Evidence for #{second}"
    )
    assert json.loads(evidence["value"]) == {
        "verb": "evidence",
        "action_id": second,
        "note": None,
        "link": None,
        "file": None,
    }

    # Ben's Update opens the round's form with his RAG and last update; what it sends is
    # recorded as /action rag, update and evidence record it.
    update = next(
        item
        for block in bens[0].blocks or []
        if block["type"] == "actions"
        for item in block["elements"]
        if item["text"]["text"] == f"Update #{third}"
    )
    assert bens[0].response is not None
    pressed = block_actions_body(
        BEN,
        update["action_id"],
        update["value"],
        response_url=slack.response_url(f"press-{BEN}"),
        channel_id=bens[0].response["channel"],
        message=bens[0].response["message"],
    )
    assert ben.post(pressed).status_code == 200
    wait_until(lambda: len(slack.calls("views.open")) >= 2, "the round's form")
    form = slack.calls("views.open")[-1].params["view"]
    assert form["callback_id"] == "round_update_form"
    assert View(**form).to_dict() == form
    fields = {b["block_id"]: b["element"] for b in form["blocks"] if b["type"] == "input"}
    assert fields["rag"]["initial_option"]["value"] == "amber"
    assert fields["note"]["initial_value"] == "Draft with the parent carers' forum"
    assert fields["link"]["type"] == "url_text_input"
    values = {
        "rag": {"rag": {"type": "static_select", "selected_option": {"value": "red"}}},
        "note": {"note": text_input("Forum asked for changes; new draft in two weeks")},
        "link": {"link": {"type": "url_text_input", "value": "https://intranet.example/offer"}},
    }
    assert ben.submit("round_update_form", values, form["private_metadata"]).status_code == 200
    wait_until(lambda: history(slack_core, third)[-1][0] == "evidence", "the evidence")
    changes = [h[:3] for h in history(slack_core, third)[-3:]]
    assert changes[0] == ("rag", "red", None)
    assert changes[1] == ("note", None, "Forum asked for changes; new draft in two weeks")
    assert changes[2][0] == "evidence"
    assert "https://intranet.example/offer" in str(changes[2])

    # The nudge, Tue 5 Jan: Amira is asked only about the action she has not updated.
    clock.set(dt.datetime(2027, 1, 5, 10, 0, tzinfo=LONDON))
    assert run_board_cycle(slack_core)["round nudge"] == 1  # Ben answered
    deliver(slack_core, slack_process.senders)
    nudge = dm(slack, AMIRA, 4)
    assert nudge.text.startswith("Reminder: the board still needs an update on your action")
    nudged = all_text(nudge.blocks or [])
    assert "Recruit two social workers" in nudged
    assert "Audit the front door" not in nudged

    # The cut-off, Thu 7 Jan: the chair hears who has not updated which action.
    clock.set(dt.datetime(2027, 1, 7, 10, 0, tzinfo=LONDON))
    run_board_cycle(slack_core)
    deliver(slack_core, slack_process.senders)
    wait_until(
        lambda: any((c.text or "").startswith("Cut-off for") for c in slack.messages_to(CHAIR)),
        "the cut-off list",
    )
    [cut] = [c for c in slack.messages_to(CHAIR) if (c.text or "").startswith("Cut-off for")]
    listed = all_text(cut.blocks or [])
    assert f"#{second} Recruit two social workers" in listed
    assert "Publish the local offer" not in listed
    assert "Audit the front door" not in listed
    with transaction(slack_core.sessions) as session:
        meeting = session.scalars(select(Meeting)).one()
        assert meeting.cut_off_at is not None
