"""Slack end to end: the real ASGI app on a real socket, requests signed as Slack signs them,
and a fake Slack Web API on loopback that records every call the bot makes.

Assertions are on the HTTP status, the reply's text and blocks (checked by slack_sdk's own
Block Kit models), the calls the bot made to Slack, and the database rows and history.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from slack_sdk.models.views import View
from sqlalchemy import func, select
from starlette.applications import Starlette

from bot.clock import FixedClock
from bot.config import Settings
from bot.domain import Status
from bot.render.replies import SORRY
from bot.services.context import Core
from handlers.slack import buttons as slack_actions
from handlers.slack import slash_commands as slack_commands
from handlers.slack.app import SlackBot
from handlers.slack.slash_commands import WORKING
from handlers.web import create_web_app
from storage.db import transaction
from storage.models import Action, HistoryEntry, Identity, OutboxMessage, OutboxStatus
from tests.support.fake_slack import Call, FakeSlack
from tests.support.slack_signing import (
    app_home_opened_event,
    block_actions_body,
    datepicker,
    event_body,
    signed_headers,
    slash_command_body,
    text_input,
    users_select,
    view_submission_body,
)
from tests.test_slack_blocks import all_text, validated
from wiring.root import Process, compose
from wiring.serve import build_slack_bot

SECRET = "test-signing-secret"
CHAIR, AMIRA, BEN = "UCHAIR", "UAMIRA", "UBEN"
NAMES = {CHAIR: "Sarah Chair", AMIRA: "Amira Khan", BEN: "Ben Okafor"}
BOARD = "C0BOARD"
DEADLINE = 10.0


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.add_user(CHAIR, "sarah.chair@board.example", NAMES[CHAIR])
        fake.add_user(AMIRA, "amira.khan@council.example", NAMES[AMIRA])
        fake.add_user(BEN, "ben.okafor@council.example", NAMES[BEN])
        yield fake


def slack_settings(database_url: str, slack: FakeSlack, **extra: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        slack_bot_token="xoxb-test",
        slack_signing_secret=SECRET,
        slack_api_url=slack.api_url,
        chair_user_ids=(CHAIR,),
        board_channel=BOARD,
        bot_timezone="Europe/London",
        **extra,
    )


@pytest.fixture
def slack_process(core: Core, slack: FakeSlack, clock: FixedClock) -> Iterator[Process]:
    """A process composed as `serve` does, on the `core` fixture's database and clock."""
    process = compose(slack_settings(core.settings.database_url, slack), clock=clock)
    yield process
    process.close()


@pytest.fixture
def slack_core(slack_process: Process) -> Core:
    """The core of a process with Slack configured and CHAIR as chair."""
    return slack_process.core


@pytest.fixture
def bot(slack_process: Process) -> Iterator[SlackBot]:
    slack_bot = build_slack_bot(slack_process)
    yield slack_bot
    slack_bot.close()  # waits for work still running after an ack


@contextmanager
def running(app: Starlette) -> Iterator[str]:
    """Serve `app` with uvicorn on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    wait_until(lambda: server.started, "uvicorn to start")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=DEADLINE)


@dataclass
class SlackUser:
    """Sends what Slack sends when one person uses the app, signed, over real HTTP."""

    base: str
    slack: FakeSlack
    user_id: str

    def post(
        self, body: bytes, *, secret: str = SECRET, timestamp: int | None = None
    ) -> httpx.Response:
        headers = signed_headers(body, secret, timestamp)
        return httpx.post(f"{self.base}/slack/events", content=body, headers=headers, timeout=10)

    def command(self, text: str, command: str = "/action") -> httpx.Response:
        body = slash_command_body(
            command=command,
            text=text,
            user_id=self.user_id,
            user_name=NAMES[self.user_id].split()[0].lower(),
            response_url=self.slack.response_url(f"cmd-{self.user_id}"),
        )
        return self.post(body)

    def reply(self, text: str, command: str = "/action") -> dict[str, Any]:
        """The ephemeral answer to a command, its blocks validated by slack_sdk."""
        response = self.command(text, command)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        assert answer["response_type"] == "ephemeral"
        validated(answer["blocks"])
        return answer

    def press(
        self,
        action_id: str,
        action: int,
        *,
        message: Call | None = None,
        view: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """A button press on a DM the bot sent (`message`), or on the Home tab (`view`)."""
        kwargs: dict[str, Any] = {}
        if view is not None:
            kwargs["view"] = view
        else:
            kwargs["response_url"] = self.slack.response_url(f"press-{self.user_id}")
            if message is not None:
                assert message.response is not None
                kwargs["channel_id"] = message.response["channel"]
                kwargs["message"] = message.response["message"]
        body = block_actions_body(self.user_id, action_id, str(action), **kwargs)
        return self.post(body)

    def submit(
        self, callback_id: str, values: dict[str, dict[str, dict[str, Any]]], metadata: str = ""
    ) -> httpx.Response:
        body = view_submission_body(self.user_id, callback_id, values, metadata)
        return self.post(body)


@pytest.fixture
def base(bot: SlackBot, slack_core: Core) -> Iterator[str]:
    with running(create_web_app(slack_core, slack=bot)) as url:
        yield url


@pytest.fixture
def chair(base: str, slack: FakeSlack) -> SlackUser:
    return SlackUser(base, slack, CHAIR)


@pytest.fixture
def amira(base: str, slack: FakeSlack) -> SlackUser:
    return SlackUser(base, slack, AMIRA)


@pytest.fixture
def ben(base: str, slack: FakeSlack) -> SlackUser:
    return SlackUser(base, slack, BEN)


# --------------------------------------------------------------------------- helpers


def wait_until(check: Callable[[], object], what: str, timeout: float = DEADLINE) -> None:
    """Poll `check` until it is true; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def action_row(core: Core, number: int) -> Action:
    with transaction(core.sessions) as session:
        action = session.get(Action, number)
        assert action is not None
        session.expunge(action)
        return action


def history(core: Core, number: int) -> list[tuple[str, str | None, str | None, str | None]]:
    """(change, new value, note, actor) of an action's history, oldest first."""
    with transaction(core.sessions) as session:
        entries = session.scalars(
            select(HistoryEntry).where(HistoryEntry.action_id == number).order_by(HistoryEntry.id)
        ).all()
        return [
            (e.change, e.new_value, e.note, e.actor.display_name if e.actor else None)
            for e in entries
        ]


def count(core: Core, model: type[Any]) -> int:
    with transaction(core.sessions) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def buttons(blocks: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (element["action_id"], element["value"])
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def dm(slack: FakeSlack, user: str, count: int = 1) -> Call:
    """The `count`-th DM the bot sent to `user` (waiting for it: DMs go out after the ack)."""
    wait_until(lambda: len(slack.messages_to(user)) >= count, f"DM {count} to {user}")
    call = slack.messages_to(user)[count - 1]
    assert call.blocks is not None
    validated(call.blocks)
    return call


def responses(slack: FakeSlack, name: str) -> list[Call]:
    return [c for c in slack.calls("response_url") if c.path.endswith(f"/{name}")]


def add(chair: SlackUser, text: str) -> int:
    """Add an action as the chair; returns its number."""
    answer = chair.reply(f"add {text}")
    assert answer["text"].startswith("Added action #"), answer["text"]
    return int(answer["text"].split("#", 1)[1].split()[0])


# --------------------------------------------------------------------------- serving


def test_healthz_checks_the_database(base: str, slack_core: Core, tmp_path: Any) -> None:
    assert httpx.get(f"{base}/healthz").json() == {"ok": True}
    broken = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path}/no/such/dir/db")  # type: ignore[call-arg]
    from wiring.root import compose

    with running(create_web_app(compose(broken).core)) as url:
        response = httpx.get(f"{url}/healthz")
    assert response.status_code == 503 and response.json()["ok"] is False


@pytest.mark.parametrize(
    "how",
    ["bad secret", "no signature", "old timestamp", "future timestamp", "garbage timestamp"],
)
def test_bad_signatures_get_401_before_anything_runs(
    how: str, chair: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    slack.clear()
    body = slash_command_body(text="add Should never exist", user_id=CHAIR)
    now = int(time.time())
    headers = {
        "bad secret": signed_headers(body, "not-the-secret"),
        "no signature": {"Content-Type": "application/x-www-form-urlencoded"},
        "old timestamp": signed_headers(body, SECRET, now - 301),
        "future timestamp": signed_headers(body, SECRET, now + 360),
        "garbage timestamp": {**signed_headers(body, SECRET), "X-Slack-Request-Timestamp": "x"},
    }[how]
    response = httpx.post(f"{chair.base}/slack/events", content=body, headers=headers)
    assert response.status_code == 401
    assert count(slack_core, Action) == 0 and count(slack_core, HistoryEntry) == 0
    assert slack.calls() == []  # no listener ran: not even users.info for the caller


def test_a_tampered_body_is_refused(chair: SlackUser, slack_core: Core) -> None:
    body = slash_command_body(text="status", user_id=CHAIR)
    headers = signed_headers(body, SECRET)
    tampered = body.replace(b"status", b"add Evil")
    response = httpx.post(f"{chair.base}/slack/events", content=tampered, headers=headers)
    assert response.status_code == 401
    assert count(slack_core, Action) == 0


FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"command": "/action", "text": "add Evil"}', FORM),  # JSON where a form goes
        (b"payload=%7Bbad", FORM),  # a payload that is not JSON
        (b"payload=%5B1%2C2%5D", FORM),  # a payload that is JSON but not an object
        (b'["event_callback"]', "application/json"),  # an event that is not an object
        (b"not json at all", "application/json"),
        ("command=/action&text=add caf\u00e9".encode("latin-1"), FORM),  # not UTF-8
    ],
    ids=["json-as-form", "bad-payload", "payload-list", "event-list", "event-text", "latin-1"],
)
def test_a_signed_but_malformed_request_gets_400_and_changes_nothing(
    body: bytes,
    content_type: str,
    chair: SlackUser,
    slack: FakeSlack,
    slack_core: Core,
    caplog: pytest.LogCaptureFixture,
) -> None:
    slack.clear()
    headers = signed_headers(body, SECRET, content_type=content_type)
    with caplog.at_level(logging.WARNING):
        response = httpx.post(f"{chair.base}/slack/events", content=body, headers=headers)
    assert response.status_code == 400
    assert response.json() == {"error": "malformed request"}
    # One line, no traceback; and "malformed", not "bad signature": the signature was good.
    refusals = [r for r in caplog.records if "malformed" in r.getMessage()]
    assert len(refusals) == 1 and refusals[0].exc_info is None
    assert not any("signature" in r.getMessage() for r in caplog.records)
    assert count(slack_core, Action) == 0 and count(slack_core, HistoryEntry) == 0
    assert slack.calls() == []


def test_url_verification_challenge(chair: SlackUser) -> None:
    body = json.dumps(
        {
            "token": "x",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    ).encode()
    response = chair.post(body)
    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


# --------------------------------------------------------------------------- commands


def test_every_command_form_answers_privately(
    chair: SlackUser,
    amira: SlackUser,
    ben: SlackUser,
    slack: FakeSlack,
    slack_core: Core,
    clock: FixedClock,
) -> None:
    amira.reply("help")  # Amira and Ben are known to the bot from their first command
    ben.reply("help")
    first = add(chair, f"Audit the front door <@{AMIRA}|amira> due 2026-11-30")
    second = add(chair, "Refresh the threshold document due friday")
    third = add(
        chair,
        # An email typed in a command arrives wrapped as a mailto link
        "Train the MASH team <mailto:ben.okafor@council.example|ben.okafor@council.example>"
        " due 1/12/2026",
    )
    expectations: list[tuple[SlackUser, str, str, str]] = [
        (chair, "/action", f"assign {second} <@{BEN}|ben>", f"Assigned #{second}"),
        (amira, "/action", f"update {first} visited two teams", "Added your update"),
        (amira, "/action", f"blocked {first} waiting for data", "as blocked"),
        (amira, "/action", f"reopen {first}", f"Reopened #{first}"),
        (amira, "/action", f"rag {first} amber", "to amber"),
        (chair, "/action", f"due {first} 2026-12-14 inspection moved", "Moved #"),
        (ben, "/action", f"show {first}", "Audit the front door"),
        (ben, "/action", "list", "Open actions"),
        (ben, "/action", "list mine", "Your open actions"),
        (ben, "/action", f"list <@{AMIRA}|amira>", "Open actions of Amira Khan"),
        (ben, "/action", "help", "Commands"),
        (ben, "/status", "", "Improvement plan"),
        (ben, "/status", "overdue", "Nothing is overdue"),
        (ben, "/status", "mine", "Your open actions"),
        (ben, "/status", f"<@{AMIRA}|amira>", "Open actions of Amira Khan"),
        (ben, "/status", "due 30 days", "Due in the next 30 days"),
        (chair, "/status", "digest", "Preview, only you can see it"),
        (ben, "/status", "digest post", "Only a chair or the secretary can post the digest"),
        (chair, "/status", "digest post", f"Posting this week's digest to {BOARD} now."),
        (ben, "/action", f"done {third} trained 12 people", f"Marked #{third}"),
        (ben, "/action", "frobnicate", "I don't know"),
        (ben, "/action", f"done {first}", "Only the owner"),
    ]
    for user, command, text, expected in expectations:
        answer = user.reply(text, command)
        shown = answer["text"] + all_text(answer["blocks"])
        assert expected in shown, (command, text, shown)
    assert action_row(slack_core, third).status == Status.DONE
    digest = dm(slack, BOARD)  # posted to the board channel after the ack
    assert len(digest.blocks or []) <= 50
    assert action_row(slack_core, first).rag is not None
    assert action_row(slack_core, first).due_date == dt.date(2026, 12, 14)
    assert action_row(slack_core, second).owner is not None
    changes = [entry[0] for entry in history(slack_core, first)]
    assert changes[:3] == ["created", "assigned", "due"]
    assert {"note", "status", "rag"} <= set(changes)


def test_chair_status_overdue_lists_overdue_actions_with_owners(
    chair: SlackUser, amira: SlackUser, ben: SlackUser, clock: FixedClock
) -> None:
    amira.reply("help")
    ben.reply("help")
    add(chair, f"Audit the front door <@{AMIRA}> due 2026-11-25")
    add(chair, f"Refresh the threshold document <@{BEN}> due 2026-11-27")
    add(chair, f"Not late yet <@{BEN}> due 2026-12-20")
    clock.advance(dt.timedelta(days=7))  # Monday 30 November
    answer = chair.reply("overdue", "/status")
    text = all_text(answer["blocks"])
    assert answer["text"] == "Overdue actions: 2"
    # most late first, each with its owner and how late it is
    assert text.index("Audit the front door") < text.index("Refresh the threshold document")
    # Each owner is mentioned (Slack draws the name), after the item's state and title.
    assert f"<@{AMIRA}> · due " in text and f"<@{BEN}> · due " in text
    assert "5 days late" in text and "3 days late" in text
    assert "Not late yet" not in text


def test_owner_done_by_command_closes_with_history(
    chair: SlackUser, amira: SlackUser, slack_core: Core
) -> None:
    amira.reply("help")
    number = add(chair, f"Audit the front door <@{AMIRA}> due 2026-12-01")
    answer = amira.reply(f"done {number} audit signed off")
    assert answer["text"] == f"Marked #{number} Audit the front door as done."
    assert action_row(slack_core, number).status == Status.DONE
    assert history(slack_core, number)[-1] == ("status", "done", "audit signed off", "Amira Khan")
    again = amira.reply(f"done {number}")  # idempotent: said plainly, nothing changes
    assert "already marked done" in again["text"]
    assert len(history(slack_core, number)) == 4


def test_someone_else_cannot_close_an_action(
    chair: SlackUser, amira: SlackUser, ben: SlackUser, slack_core: Core
) -> None:
    amira.reply("help")
    number = add(chair, f"Audit the front door <@{AMIRA}>")
    answer = ben.reply(f"done {number}")
    assert (
        answer["text"] == f"Only the owner of #{number} (Amira Khan) or a chair can mark it done."
    )
    assert answer["blocks"][0]["text"]["text"].startswith(":x: ")
    assert action_row(slack_core, number).status == Status.OPEN
    assert [h[0] for h in history(slack_core, number)] == ["created", "assigned"]


def test_a_title_with_mentions_is_shown_as_text(
    chair: SlackUser, amira: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    amira.reply("help")
    # What Slack sends when someone types "@channel", a <tag> and "@Ben" in a quoted title:
    title = f'"Tell <!channel> about &lt;b&gt; &amp; <@{BEN}|ben> now"'
    number = add(chair, f"{title} <@{AMIRA}|amira>")
    stored = action_row(slack_core, number).title
    with transaction(slack_core.sessions) as session:
        ben = select(Identity.person_id).where(Identity.external_id == BEN)
        ben_id = session.scalars(ben).one()
    # Stored neutral: the words "@channel", and Ben as a reference to the person.
    assert stored == f"Tell @channel about <b> & <@person:{ben_id}|Ben Okafor> now"
    for call in [dm(slack, AMIRA)]:
        shown = (call.text or "") + all_text(call.blocks or [])
        assert "Tell @channel about &lt;b&gt; &amp; @Ben Okafor now" in shown  # the summary
        assert f"Tell @channel about &lt;b&gt; &amp; <@{BEN}> now" in shown  # the action
        assert "<!" not in shown and f"<@{BEN}|" not in shown
    answer = chair.reply(f"show {number}")
    shown = answer["text"] + all_text(answer["blocks"])
    assert "@channel about &lt;b&gt; &amp;" in shown and "<!" not in shown


def test_add_resolves_owners_by_mention_and_dms_them_with_buttons(
    chair: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    # Amira never used the bot: her mention is looked up with users.info.
    number = add(chair, f"Audit the front door <@{AMIRA}|amira> due 2026-12-01")
    call = dm(slack, AMIRA)
    assert call.params["channel"] == AMIRA
    assert call.text == f"Sarah Chair assigned you action #{number} Audit the front door"
    assert buttons(call.blocks or []) == [
        ("action_done", str(number)),
        ("action_update", str(number)),
        ("action_blocked", str(number)),
    ]
    owner = action_row(slack_core, number).owner
    assert owner is not None and owner.display_name == "Amira Khan"
    assert owner.email == "amira.khan@council.example"

    # The fake records the post before our worker thread commits "sent": wait for the commit.
    def sent() -> tuple[OutboxStatus, str | None]:
        with transaction(slack_core.sessions) as session:
            row = session.scalars(select(OutboxMessage)).one()
            return row.status, row.platform_channel

    wait_until(lambda: sent()[0] == OutboxStatus.SENT, "the DM marked sent")
    assert sent() == (OutboxStatus.SENT, f"D{AMIRA}")
    # An unknown user id is refused with a reason and nothing is created
    answer = chair.reply("add Ghost work <@UNOBODY|nobody>")
    assert "can't find the user" in answer["text"]
    assert count(slack_core, Action) == 1


def test_reassigning_tells_the_new_and_the_old_owner(chair: SlackUser, slack: FakeSlack) -> None:
    number = add(chair, f"Audit the front door <@{AMIRA}>")
    dm(slack, AMIRA)
    chair.reply(f"assign {number} <@{BEN}|ben>")
    to_ben = dm(slack, BEN)
    assert buttons(to_ben.blocks or [])[0] == ("action_done", str(number))
    to_amira = dm(slack, AMIRA, count=2)
    assert "reassigned action" in (to_amira.text or "") and "Ben Okafor" in (to_amira.text or "")
    assert buttons(to_amira.blocks or []) == []


# --------------------------------------------------------------------------- buttons


def test_mark_done_button_closes_updates_in_place_and_twice_changes_nothing(
    chair: SlackUser, amira: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    number = add(chair, f"Audit the front door <@{AMIRA}> due 2026-12-01")
    assignment = dm(slack, AMIRA)
    assert amira.press("action_done", number, message=assignment).status_code == 200

    [update] = slack.wait_for("chat.update")
    assert update.params["channel"] == f"D{AMIRA}"
    assert update.params["ts"] == assignment.response["ts"]  # type: ignore[index]
    assert buttons(validated(update.params["blocks"])) == []  # the stale buttons are gone
    assert "nothing more to do" in all_text(update.params["blocks"])
    assert action_row(slack_core, number).status == Status.DONE
    assert history(slack_core, number)[-1] == ("status", "done", None, "Amira Khan")
    wait_until(lambda: responses(slack, f"press-{AMIRA}"), "the confirmation")
    assert "as done" in responses(slack, f"press-{AMIRA}")[0].params["text"]
    slack.wait_for("views.publish")  # her Home tab is redrawn too

    # The same (stale) button again: answered kindly, nothing changes.
    entries = len(history(slack_core, number))
    amira.press("action_done", number, message=assignment)
    wait_until(lambda: len(responses(slack, f"press-{AMIRA}")) >= 2, "the second answer")
    second = responses(slack, f"press-{AMIRA}")[1].params
    assert "already marked done" in second["text"] and second["replace_original"] is False
    assert len(history(slack_core, number)) == entries


def test_someone_elses_button_press_is_refused_kindly(
    chair: SlackUser, ben: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    number = add(chair, f"Audit the front door <@{AMIRA}>")
    assignment = dm(slack, AMIRA)
    ben.press("action_done", number, message=assignment)
    wait_until(lambda: responses(slack, f"press-{BEN}"), "the refusal")
    refusal = responses(slack, f"press-{BEN}")[0].params
    assert (
        refusal["text"] == f"Only the owner of #{number} (Amira Khan) or a chair can mark it done."
    )
    assert refusal["response_type"] == "ephemeral" and refusal["replace_original"] is False
    assert slack.calls("chat.update") == []
    assert action_row(slack_core, number).status == Status.OPEN


def test_add_update_button_opens_a_form_and_its_note_is_recorded(
    chair: SlackUser, amira: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    number = add(chair, f"Audit the front door <@{AMIRA}>")
    assignment = dm(slack, AMIRA)
    amira.press("action_update", number, message=assignment)
    [opened] = slack.wait_for("views.open")
    view = opened.params["view"]
    assert View(**view).to_dict() == view
    assert view["callback_id"] == "action_update_form"
    assert "Audit the front door" in all_text(view["blocks"])
    assert view["blocks"][-1]["element"]["multiline"] is True

    empty = amira.submit(
        view["callback_id"], {"note": {"note": text_input("  ")}}, view["private_metadata"]
    )
    assert empty.json()["response_action"] == "errors"
    response = amira.submit(
        view["callback_id"],
        {"note": {"note": text_input("Visited both <!here> teams\nreport due")}},
        view["private_metadata"],
    )
    assert response.status_code == 200 and response.text == ""  # the form closes
    wait_until(lambda: history(slack_core, number)[-1][0] == "note", "the note")
    # Stored as the words it showed: stored text never notifies a channel.
    assert history(slack_core, number)[-1][2] == "Visited both @here teams\nreport due"
    assert action_row(slack_core, number).status == Status.IN_PROGRESS
    [update] = slack.wait_for("chat.update")
    assert update.params["ts"] == assignment.response["ts"]  # type: ignore[index]
    assert "in progress" in all_text(update.params["blocks"])
    assert len(buttons(update.params["blocks"])) == 3  # still open: the buttons stay


def test_blocked_button_records_the_reason_and_tells_the_chairs(
    chair: SlackUser, amira: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    number = add(chair, f"Audit the front door <@{AMIRA}>")
    assignment = dm(slack, AMIRA)
    amira.press("action_blocked", number, message=assignment)
    [opened] = slack.wait_for("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == "action_blocked_form"
    amira.submit(
        view["callback_id"],
        {"note": {"note": text_input("No data from health")}},
        view["private_metadata"],
    )
    alert = dm(slack, CHAIR)
    assert "marked action" in (alert.text or "") and "No data from health" in (alert.text or "")
    row = action_row(slack_core, number)
    assert (row.status, row.blocked_reason) == (Status.BLOCKED, "No data from health")


def test_buttons_on_a_closed_action_answer_kindly_without_a_form(
    chair: SlackUser, amira: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    number = add(chair, f"Audit the front door <@{AMIRA}>")
    assignment = dm(slack, AMIRA)
    amira.reply(f"done {number}")
    entries = len(history(slack_core, number))
    for action_id in ("action_blocked", "action_update"):
        amira.press(action_id, number, message=assignment)
    wait_until(lambda: len(responses(slack, f"press-{AMIRA}")) >= 2, "two answers")
    for call in responses(slack, f"press-{AMIRA}"):
        assert call.params["text"] == f"#{number} is already done; nothing changed."
    assert slack.calls("views.open") == []
    assert len(history(slack_core, number)) == entries
    update = slack.wait_for("chat.update")[-1]
    assert buttons(update.params["blocks"]) == []


def evidence(core: Core, number: int) -> list[tuple[Any, ...]]:
    """An action's history as an inspector reads it: what changed, when, by whom, from where."""
    with transaction(core.sessions) as session:
        entries = session.scalars(
            select(HistoryEntry).where(HistoryEntry.action_id == number).order_by(HistoryEntry.id)
        ).all()
        return [
            (e.at, e.actor_id, e.source, e.change, e.field, e.old_value, e.new_value, e.note)
            for e in entries
        ]


def test_mark_done_button_records_what_the_done_command_records(
    chair: SlackUser, amira: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    pressed = add(chair, f"Audit the front door <@{AMIRA}> due 2026-12-01")
    assignment = dm(slack, AMIRA)
    typed = add(chair, f"Audit the front door <@{AMIRA}> due 2026-12-01")
    amira.press("action_done", pressed, message=assignment)
    wait_until(lambda: responses(slack, f"press-{AMIRA}"), "the confirmation")
    answer = amira.reply(f"done {typed}")
    confirmation = responses(slack, f"press-{AMIRA}")[0].params["text"]
    assert confirmation == answer["text"].replace(f"#{typed}", f"#{pressed}")
    assert evidence(slack_core, pressed) == evidence(slack_core, typed)
    done = ("slack", "status", "status", "open", "done", None)
    assert evidence(slack_core, pressed)[-1][2:] == done


def test_the_note_form_shows_the_action_as_it_stands_now(
    chair: SlackUser, amira: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    number = add(chair, f"Audit the front door <@{AMIRA}>")
    assignment = dm(slack, AMIRA)
    with transaction(slack_core.sessions) as session:  # renamed since, as a re-import can
        action = session.get(Action, number)
        assert action is not None
        action.title = "Audit the front door and the MASH"
    amira.press("action_blocked", number, message=assignment)
    [opened] = slack.wait_for("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == "action_blocked_form"
    assert f"*#{number}* Audit the front door and the MASH" in all_text(view["blocks"])
    assert json.loads(view["private_metadata"])["action"] == number
    assert len(history(slack_core, number)) == 2  # opening a form changes nothing


def test_buttons_for_an_action_that_does_not_exist_say_so(
    amira: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    for action_id in ("action_update", "action_done"):
        amira.press(action_id, 999)
    wait_until(lambda: len(responses(slack, f"press-{AMIRA}")) >= 2, "two answers")
    assert {call.params["text"] for call in responses(slack, f"press-{AMIRA}")} == {
        "There is no action #999."
    }
    assert slack.calls("views.open") == [] and count(slack_core, Action) == 0


def test_a_note_that_cannot_be_stored_is_refused_under_the_field(
    chair: SlackUser, amira: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    number = add(chair, f"Audit the front door <@{AMIRA}>")
    amira.press("action_update", number, message=dm(slack, AMIRA))
    [opened] = slack.wait_for("views.open")
    view = opened.params["view"]
    refused = amira.submit(
        view["callback_id"],
        {"note": {"note": text_input("before\x00after")}},
        view["private_metadata"],
    )
    assert refused.json() == {
        "response_action": "errors",
        "errors": {"note": "The text contains a NUL character, which I cannot store."},
    }
    assert len(history(slack_core, number)) == 2


def test_buttons_and_forms_never_go_through_the_grammar() -> None:
    from handlers.slack import forms, interact, submissions

    for module in (slack_actions, forms, interact, submissions):
        source = inspect.getsource(module)
        assert "run_command" not in source and "bot.grammar.parser" not in source, module


def test_a_non_chair_gets_no_form_for_add(ben: SlackUser, slack: FakeSlack) -> None:
    answer = ben.reply("add")
    assert answer["text"] == "Only a chair or the secretary can add actions."
    assert slack.calls("views.open") == []


def test_add_without_text_opens_a_form_whose_submission_creates_the_action(
    chair: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    response = chair.command("add")
    assert response.status_code == 200 and response.text == ""  # no message: a form instead
    [opened] = slack.wait_for("views.open")
    view = opened.params["view"]
    assert View(**view).to_dict() == view
    assert view["callback_id"] == "action_add_form"
    elements = {b["block_id"]: b["element"]["type"] for b in view["blocks"]}
    assert elements == {
        "title": "plain_text_input",
        "owner": "users_select",
        "due": "datepicker",
        "workstream": "plain_text_input",
    }

    past = chair.submit(
        "action_add_form",
        {
            "title": {"title": text_input("Audit the front door")},
            "due": {"due": datepicker("2026-11-01")},
        },
    )
    assert past.json() == {
        "response_action": "errors",
        "errors": {"due": "That date is in the past; pick today or a later day."},
    }
    assert count(slack_core, Action) == 0

    response = chair.submit(
        "action_add_form",
        {
            "title": {"title": text_input("Audit the <front> door")},
            "owner": {"owner": users_select(AMIRA)},
            "due": {"due": datepicker("2026-12-04")},
            "workstream": {"workstream": text_input("Priority 1: front door")},
        },
    )
    answer = response.json()
    assert answer["response_action"] == "update"
    assert View(**answer["view"]).to_dict() == answer["view"]
    assert "Added action #1 Audit the &lt;front&gt; door" in all_text(answer["view"]["blocks"])
    row = action_row(slack_core, 1)
    assert (row.title, row.due_date, row.workstream) == (
        "Audit the <front> door",
        dt.date(2026, 12, 4),
        "Priority 1: front door",
    )
    assert row.owner is not None and row.owner.display_name == "Amira Khan"
    dm(slack, AMIRA)


# --------------------------------------------------------------------------- App Home


def test_home_tab_shows_the_viewers_open_actions_and_chairs_the_board(
    chair: SlackUser, amira: SlackUser, slack: FakeSlack, slack_core: Core, clock: FixedClock
) -> None:
    later = add(chair, f"Later work <@{AMIRA}> due 2026-12-20")
    sooner = add(chair, f"Sooner work <@{AMIRA}> due 2026-11-26")
    add(chair, "Chair's own work due 2026-11-24")
    clock.advance(dt.timedelta(days=2))  # "Chair's own work" is now overdue

    assert amira.post(app_home_opened_event(AMIRA)).status_code == 200
    wait_until(lambda: slack.published_home(AMIRA), "Amira's home tab")
    home = slack.published_home(AMIRA)
    assert home is not None and home["type"] == "home"
    validated(home["blocks"])
    text = all_text(home["blocks"])
    assert text.index("Sooner work") < text.index("Later work")  # by due date
    assert buttons(home["blocks"])[0] == ("action_done", str(sooner))
    assert "Board overview" not in text

    chair.post(app_home_opened_event(CHAIR))
    wait_until(lambda: slack.published_home(CHAIR), "the chair's home tab")
    board = slack.published_home(CHAIR)
    assert board is not None
    board_text = all_text(board["blocks"])
    assert "Board overview" in board_text and "Overdue actions" in board_text
    assert "Chair's own work" in board_text and "RAG of open actions" in board_text
    assert "overdue\n*1*" in board_text  # the figure in bold under its label

    # A press on the Home tab closes the action and redraws the tab without it.
    slack.clear()
    amira.press("action_done", later, view=home)
    wait_until(lambda: slack.calls("views.publish"), "the redrawn home")
    assert action_row(slack_core, later).status == Status.DONE
    redrawn = slack.published_home(AMIRA)
    assert redrawn is not None and "Later work" not in all_text(redrawn["blocks"])


def test_messages_tab_opening_draws_nothing(amira: SlackUser, slack: FakeSlack) -> None:
    slack.clear()
    amira.post(app_home_opened_event(AMIRA, tab="messages"))
    # A home event after it proves the first was handled (events run in order per user here).
    amira.post(
        event_body(
            {
                "type": "app_home_opened",
                "user": AMIRA,
                "tab": "home",
                "channel": f"D{AMIRA}",
                "event_ts": "1.0",
            }
        )
    )
    slack.wait_for("views.publish")
    assert len(slack.calls("views.publish")) == 1


# --------------------------------------------------------------------------- Slack failing


def test_a_429_on_the_dm_is_retried_after_retry_after(
    chair: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    add(chair, f"Audit the front door <@{AMIRA}>")
    attempts = slack.wait_for("chat.postMessage", count=2)
    assert [c.outcome for c in attempts] == ["ratelimited", "ok"]
    assert attempts[1].at - attempts[0].at >= 1.0  # waited as Slack asked

    def status() -> OutboxStatus:
        with transaction(slack_core.sessions) as session:
            return session.scalars(select(OutboxMessage.status)).one()

    wait_until(lambda: status() == OutboxStatus.SENT, "the row marked sent")


def test_user_not_found_when_dming_marks_the_outbox_row_failed(
    chair: SlackUser, amira: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    amira.reply("help")  # known to the bot, then she leaves the workspace
    slack.fail_when("chat.postMessage", lambda p: p.get("channel") == AMIRA, error="user_not_found")
    number = add(chair, f"Audit the front door <@{AMIRA}>")

    def failed() -> OutboxMessage | None:
        with transaction(slack_core.sessions) as session:
            return session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.action_id == number, OutboxMessage.kind == "assigned"
                )
            ).first()

    wait_until(
        lambda: (row := failed()) is not None and row.status == OutboxStatus.FAILED,
        "the failed row",
    )
    row = failed()
    assert row is not None and "user_not_found" in (row.last_error or "")
    assert len(slack.calls("chat.postMessage", ok=False)) == 1  # permanent: not retried


def test_an_unexpected_error_is_answered_kindly(
    chair: SlackUser, monkeypatch: pytest.MonkeyPatch, slack_core: Core
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(slack_commands, "run_command", broken)
    response = chair.command("status")
    assert response.status_code == 200
    assert response.json()["text"] == SORRY and response.json()["response_type"] == "ephemeral"


def test_an_unexpected_error_after_a_button_is_answered_kindly(
    chair: SlackUser, amira: SlackUser, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = add(chair, f"Audit the front door <@{AMIRA}>")
    assignment = dm(slack, AMIRA)

    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(slack_actions, "execute", broken)
    assert amira.press("action_done", number, message=assignment).status_code == 200
    wait_until(lambda: responses(slack, f"press-{AMIRA}"), "the apology")
    assert responses(slack, f"press-{AMIRA}")[0].params["text"] == SORRY


def test_a_slow_answer_is_acked_then_sent_to_the_response_url(
    chair: SlackUser, bot: SlackBot, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    real = slack_commands.run_command

    def slow(*args: Any) -> Any:
        release.wait(DEADLINE)
        return real(*args)

    monkeypatch.setattr(slack_commands, "run_command", slow)
    bot.deps.ack_deadline = 0.1
    response = chair.command("help")
    assert response.json()["text"] == WORKING  # acknowledged within Slack's 3 s
    release.set()
    wait_until(lambda: responses(slack, f"cmd-{CHAIR}"), "the late answer")
    late = responses(slack, f"cmd-{CHAIR}")[0].params
    assert (
        late["replace_original"] is True and late["text"] == "Commands of the action follow-up bot"
    )
