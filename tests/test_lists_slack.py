"""Lists in Slack end to end: every item reachable page by page, a press inside a list redraws
the list, and buttons someone may no longer use are refused before a form opens and taken
off their old messages. Real HTTP, signed requests, the fake Slack Web API."""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.parse
from typing import Any

from bot.clock import FixedClock
from bot.services.context import Core
from tests import test_slack_http as http
from tests.support.fake_slack import FakeSlack
from tests.support.slack_signing import block_actions_body, text_input
from tests.test_slack_blocks import all_text, validated
from tests.test_slack_http import (
    AMIRA,
    BEN,
    SlackUser,
    add,
    buttons,
    dm,
    history,
    responses,
    wait_until,
)

# The fixtures of the Slack end-to-end tests: the app served on loopback, the fake Slack.
slack, slack_process, slack_core, bot, base = (
    http.slack,
    http.slack_process,
    http.slack_core,
    http.bot,
    http.base,
)
chair, amira, ben = http.chair, http.amira, http.ben

# An item leads with its state (`:red_circle: *3 days late*`), the plan's reference if any,
# then the number: `· #12  Title`.
_ID = re.compile(r"^:[a-z_]+: \*[^*\n]+\* · (?:`[^`\n]*` · )?#(\d+)  ")
SECTION_TEXT = 3000


def ids(blocks: list[dict[str, Any]]) -> list[int]:
    """The actions a list shows, in order."""
    return [
        int(m.group(1))
        for block in blocks
        if block["type"] == "section" and "text" in block
        for m in [_ID.match(block["text"]["text"])]
        if m
    ]


def within_limits(blocks: list[dict[str, Any]], limit: int = 50) -> None:
    validated(blocks)
    assert len(blocks) <= limit
    for block in blocks:
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= SECTION_TEXT


def press_in_reply(
    user: SlackUser, action_id: str, value: str, name: str, *, ephemeral: bool = True
) -> None:
    """A press on a button of the private reply to a command: Slack sends no message with it,
    only a response_url that can replace that reply."""
    body = block_actions_body(
        user.user_id, action_id, value, response_url=user.slack.response_url(name)
    )
    payload = json.loads(urllib.parse.parse_qs(body.decode())["payload"][0])
    if ephemeral:
        payload["container"]["is_ephemeral"] = True
        payload.pop("message", None)
    response = user.post(("payload=" + urllib.parse.quote(json.dumps(payload))).encode())
    assert response.status_code == 200


def value_for(blocks: list[dict[str, Any]], action_id: str, number: int) -> str:
    """The value of one owner's button of one action in a list."""
    [value] = [
        v for a, v in buttons(blocks) if a == action_id and json.loads(v)["action"] == number
    ]
    return value


def pager(blocks: list[dict[str, Any]]) -> dict[str, str]:
    """Label → value of the Previous / Next buttons."""
    return {
        element["text"]["text"].split()[0]: element["value"]
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"].startswith("list_page")
    }


def test_a_45_item_overdue_list_is_paged_to_the_end_and_back(
    chair: SlackUser, amira: SlackUser, slack: FakeSlack, clock: FixedClock
) -> None:
    start = dt.date(2026, 11, 24)
    numbers = [
        add(
            chair,
            f"Audit <case> & file {i} "
            + "x" * 250
            + f" <@{AMIRA}> due {start + dt.timedelta(days=i)}",
        )
        for i in range(45)
    ]
    clock.set(dt.datetime(2027, 2, 1, 10, tzinfo=dt.UTC))

    first = chair.reply("overdue", "/status")
    within_limits(first["blocks"])
    assert ids(first["blocks"]) == numbers[:20]  # most late first
    text = all_text(first["blocks"])
    assert "Page 1 of 3" in text and "actionbot export" not in text
    assert set(pager(first["blocks"])) == {"Next"}

    seen = list(ids(first["blocks"]))
    page = first["blocks"]
    for number in (2, 3):
        press_in_reply(chair, "list_page_next", pager(page)["Next"], f"page-{number}")
        wait_until(lambda n=number: responses(slack, f"page-{n}"), f"page {number}")  # type: ignore[misc]
        answer = responses(slack, f"page-{number}")[0].params
        assert answer["replace_original"] is True
        page = answer["blocks"]
        within_limits(page)
        assert f"Page {number} of 3" in all_text(page)
        seen += ids(page)
    assert seen == numbers  # every item, once, in order
    assert set(pager(page)) == {"Previous"}

    press_in_reply(chair, "list_page_prev", pager(page)["Previous"], "back")
    wait_until(lambda: responses(slack, "back"), "page 2 again")
    assert ids(responses(slack, "back")[0].params["blocks"]) == numbers[20:40]

    # Typed, too; and the owner's own list (two blocks an item: the buttons) fits as well.
    assert ids(chair.reply("overdue page 3", "/status")["blocks"]) == numbers[40:]
    mine = amira.reply("mine", "/status")
    within_limits(mine["blocks"])
    assert len(ids(mine["blocks"])) == 10 and "Page 1 of 5" in all_text(mine["blocks"])


def test_a_press_inside_a_list_redraws_the_list(
    chair: SlackUser, amira: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    numbers = [add(chair, f"Action {i} <@{AMIRA}> due 2026-12-0{i + 1}") for i in range(3)]
    reply = amira.reply("list mine")
    assert ids(reply["blocks"]) == numbers
    done_value = value_for(reply["blocks"], "action_done", numbers[1])

    press_in_reply(amira, "action_done", done_value, "in-list")
    wait_until(lambda: responses(slack, "in-list"), "the list redrawn")
    answer = responses(slack, "in-list")[0].params
    assert answer["replace_original"] is True
    validated(answer["blocks"])
    assert answer["text"] == f"Marked #{numbers[1]} Action 1 as done."
    assert ids(answer["blocks"]) == [numbers[0], numbers[2]]  # the list, as it now stands
    assert "Your open actions" in all_text(answer["blocks"])

    # Add update from the list: the form's submission redraws the list, the item updated.
    update_value = value_for(answer["blocks"], "action_update", numbers[0])
    press_in_reply(amira, "action_update", update_value, "in-list-2")
    [opened] = slack.wait_for("views.open")
    view = opened.params["view"]
    amira.submit(
        view["callback_id"], {"note": {"note": text_input("Started")}}, view["private_metadata"]
    )
    wait_until(lambda: responses(slack, "in-list-2"), "the list redrawn after the form")
    again = responses(slack, "in-list-2")[-1].params
    assert again["replace_original"] is True
    assert ids(again["blocks"]) == [numbers[0], numbers[2]]
    assert "in progress" in all_text(again["blocks"])


def test_a_former_owners_stale_add_update_is_refused_before_any_form(
    chair: SlackUser, amira: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    number = add(chair, f"Audit the front door <@{AMIRA}>")
    assignment = dm(slack, AMIRA)
    chair.reply(f"assign {number} <@{BEN}>")
    entries = len(history(slack_core, number))

    amira.press("action_update", number, message=assignment)
    wait_until(lambda: responses(slack, f"press-{AMIRA}"), "the refusal")
    refusal = responses(slack, f"press-{AMIRA}")[0].params
    assert refusal["text"] == (
        f"Only the owner of #{number} (Ben Okafor) or a chair can add updates to it."
    )
    assert slack.calls("views.open") == []
    assert len(history(slack_core, number)) == entries


def test_reassigning_takes_the_buttons_off_the_old_owners_messages(
    chair: SlackUser, slack: FakeSlack
) -> None:
    number = add(chair, f"Audit the front door <@{AMIRA}>")
    assignment = dm(slack, AMIRA)
    assert len(buttons(assignment.blocks or [])) == 3

    chair.reply(f"assign {number} <@{BEN}>")
    [update] = slack.wait_for("chat.update")
    assert update.params["channel"] == assignment.response["channel"]  # type: ignore[index]
    assert update.params["ts"] == assignment.response["ts"]  # type: ignore[index]
    blocks = validated(update.params["blocks"])
    assert buttons(blocks) == []
    assert "Ben Okafor" in all_text(blocks)  # the action as it now stands
    # The new owner's message keeps its buttons.
    assert len(buttons(dm(slack, BEN).blocks or [])) == 3


def test_closing_an_action_takes_its_buttons_off_every_message(
    chair: SlackUser, amira: SlackUser, slack: FakeSlack
) -> None:
    number = add(chair, f"Audit the front door <@{AMIRA}>")
    assignment = dm(slack, AMIRA)
    amira.reply(f"done {number}")
    [update] = slack.wait_for("chat.update")
    assert update.params["ts"] == assignment.response["ts"]  # type: ignore[index]
    assert buttons(update.params["blocks"]) == []
    assert "nothing more to do" in all_text(update.params["blocks"])


def test_a_message_redrawn_where_it_was_pressed_is_not_edited_again(
    chair: SlackUser, amira: SlackUser, slack: FakeSlack
) -> None:
    number = add(chair, f"Audit the front door <@{AMIRA}>")
    assignment = dm(slack, AMIRA)
    amira.press("action_done", number, message=assignment)
    slack.wait_for("views.publish")  # published after the queued messages were delivered
    [update] = slack.calls("chat.update")
    assert buttons(update.params["blocks"]) == []
