"""Replies to reminders: an owner answers a reminder in the DM (Slack: in its thread or just
after it; Teams: in the personal chat) and the words are recorded on that action, with an
Undo valid for ten minutes. End to end over real HTTP: a reminder delivered by a real run,
then signed `message.im` events and button presses; Teams through the fake connector."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest

from bot.clock import FixedClock
from bot.domain import Platform, Rag, Status
from bot.domain.workdays import WorkingCalendar
from bot.render.text import render
from bot.services.context import Caller, Core
from bot.services.dispatch import run_command
from bot.services.reminder_replies import Reading, RepliedTo, answer_reply, read_reply
from scheduler.jobs import run_reminders
from tests import test_slack_http as http
from tests import test_teams_e2e as teams
from tests.scheduler_fakes import FakeSender, action, days
from tests.support.fake_slack import BOT_ID, BOT_USER_ID, Call, FakeSlack
from tests.support.slack_signing import block_actions_body, event_body
from tests.support.teams_server import card_action, message
from tests.test_slack_blocks import all_text, validated
from tests.test_slack_http import AMIRA, SlackUser, action_row, add, dm, history, wait_until

slack, slack_process, slack_core, bot, base = (
    http.slack,
    http.slack_process,
    http.slack_core,
    http.bot,
    http.base,
)
chair, amira, ben = http.chair, http.amira, http.ben
rig = teams.rig

_ts = iter(range(1, 10_000))


# --------------------------------------------------------------------------- helpers


def im_event(
    user: str,
    text: str,
    /,
    *,
    thread_ts: str | None = None,
    channel_type: str = "im",
    **extra: Any,
) -> bytes:
    """A `message.im` event as Slack sends it for words written in the DM with the bot.
    https://api.slack.com/events/message.im"""
    ts = f"{time.time():.0f}.{next(_ts):06d}"
    event: dict[str, Any] = {
        "type": "message",
        "channel": "D" + user,
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": channel_type,
        **extra,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return event_body(event)


def remind(slack_process: Any, slack_core: Core) -> None:
    """The scheduler's reminder run, delivering through the process's Slack sender."""
    calendar = WorkingCalendar.from_settings(slack_core.settings)
    report = run_reminders(slack_core, slack_process.senders, calendar)
    assert report.delivery.sent, report.summary()


def reminder_to(slack: FakeSlack, user: str) -> Call:
    """The reminder DM the run posted to `user` (the latest message whose text says so)."""
    found = [
        c
        for c in slack.calls("chat.postMessage", ok=True)
        if c.params["channel"] == user
        and str(c.text).startswith(("⚠️ Due", "⏰ Due", "📅 Due", "🔴", "Reminders"))
    ]
    assert found, "no reminder was posted"
    return found[-1]


def answers(slack: FakeSlack, user: str) -> list[Call]:
    """The bot's answers in `user`'s DM (posted to the DM's id, unlike its DMs to the user)."""
    return [
        c for c in slack.calls("chat.postMessage", ok=True) if c.params["channel"] == "D" + user
    ]


def answer(slack: FakeSlack, user: str, count: int = 1) -> Call:
    wait_until(lambda: len(answers(slack, user)) >= count, f"answer {count} to {user}")
    call = answers(slack, user)[count - 1]
    assert call.blocks is not None
    validated(call.blocks)
    return call


def undo_value(blocks: list[dict[str, Any]]) -> str:
    [value] = [
        element["value"]
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"].startswith("command_press")
    ]
    return str(value)


def press_undo(user: SlackUser, on: Call, name: str) -> None:
    assert on.response is not None and on.blocks is not None
    body = block_actions_body(
        user.user_id,
        "command_press_0",
        undo_value(on.blocks),
        message=on.response["message"],
        channel_id=on.response["channel"],
        response_url=user.slack.response_url(name),
    )
    assert user.post(body).status_code == 200


def told(slack: FakeSlack, name: str) -> str:
    wait_until(
        lambda: [c for c in slack.calls("response_url") if c.path.endswith(f"/{name}")], name
    )
    [call] = [c for c in slack.calls("response_url") if c.path.endswith(f"/{name}")]
    return str(call.params["text"])


# --------------------------------------------------------------------------- Slack


def test_a_reply_in_the_reminders_thread_is_recorded_and_undone_within_ten_minutes(
    chair: SlackUser,
    amira: SlackUser,
    slack: FakeSlack,
    slack_process: Any,
    slack_core: Core,
    clock: FixedClock,
) -> None:
    number = add(chair, f"Audit case files <@{AMIRA}> due 2026-11-24")
    dm(slack, AMIRA)  # the assignment
    remind(slack_process, slack_core)
    reminder = reminder_to(slack, AMIRA)
    assert reminder.response is not None
    ts = reminder.response["ts"]
    before = len(history(slack_core, number))

    response = amira.post(im_event(AMIRA, "Draft sent to legal &amp; HR", thread_ts=ts))
    assert response.status_code == 200
    recorded = answer(slack, AMIRA)
    assert recorded.params["thread_ts"] == ts  # answered in the reminder's thread
    assert recorded.text == (
        f"Recorded on #{number} Audit case files: update — “Draft sent to legal &amp; HR”."
    )
    shown = all_text(recorded.blocks or [])
    assert "Undo within 10 minutes" in shown
    assert json.loads(undo_value(recorded.blocks or []))["verb"] == "undo"
    assert history(slack_core, number)[before:] == [
        ("status", "in_progress", None, "Amira Khan"),
        ("note", None, "Draft sent to legal & HR", "Amira Khan"),
    ]

    clock.advance(dt.timedelta(minutes=9))
    press_undo(amira, recorded, "undo")
    wait_until(lambda: slack.calls("chat.update"), "the answer redrawn")
    [redrawn] = slack.calls("chat.update")
    assert redrawn.params["ts"] == recorded.response["ts"]  # type: ignore[index]
    assert redrawn.text == (
        f"Undone: the update “Draft sent to legal &amp; HR” on #{number} Audit case files."
    )
    assert "command_press" not in json.dumps(redrawn.blocks)  # the Undo button is gone
    # Both are in the history, the undo with who and when.
    assert history(slack_core, number)[before:] == [
        ("status", "in_progress", None, "Amira Khan"),
        ("note", None, "Draft sent to legal & HR", "Amira Khan"),
        ("note", None, "Withdrawn: Draft sent to legal & HR", "Amira Khan"),
        ("status", "open", "undone", "Amira Khan"),
    ]
    assert action_row(slack_core, number).status == Status.OPEN

    # Pressed again: nothing more happens, and it says why.
    press_undo(amira, recorded, "again")
    assert told(slack, "again").startswith(f"#{number} has changed since that reply")
    assert len(history(slack_core, number)) == before + 4


def test_undo_is_refused_after_ten_minutes_and_to_anyone_else(
    chair: SlackUser,
    amira: SlackUser,
    ben: SlackUser,
    slack: FakeSlack,
    slack_process: Any,
    slack_core: Core,
    clock: FixedClock,
) -> None:
    number = add(chair, f"Audit case files <@{AMIRA}> due 2026-11-24")
    remind(slack_process, slack_core)
    ts = reminder_to(slack, AMIRA).response["ts"]  # type: ignore[index]
    amira.post(im_event(AMIRA, "done", thread_ts=ts))
    recorded = answer(slack, AMIRA)
    assert recorded.text == f"Recorded on #{number} Audit case files: marked done."
    entries = len(history(slack_core, number))

    press_undo(ben, recorded, "ben")
    assert told(slack, "ben").startswith("Only Amira Khan, who replied, or a chair can undo")

    clock.advance(dt.timedelta(minutes=10, seconds=1))
    press_undo(amira, recorded, "late")
    assert told(slack, "late").startswith("Too late to undo: the reply was recorded at 09:30")
    assert action_row(slack_core, number).status == Status.DONE
    assert len(history(slack_core, number)) == entries
    # The answer keeps its button (the reminder lost its buttons when the action was done).
    assert recorded.response is not None
    assert all(c.params["ts"] != recorded.response["ts"] for c in slack.calls("chat.update"))


@pytest.mark.parametrize(
    ("words", "status", "rag", "said", "last"),
    [
        ("Done. Signed off by the board", Status.DONE, None,
         "marked done — “Signed off by the board”", ("status", "done", "Signed off by the board")),
        ("blocked waiting on legal", Status.BLOCKED, None,
         "blocked — “waiting on legal”; the chairs are told",
         ("status", "blocked", "waiting on legal")),
        ("amber", Status.OPEN, Rag.AMBER, "RAG amber", ("rag", "amber", None)),
        ("Amber: legal are slow", Status.IN_PROGRESS, Rag.AMBER, "RAG amber — “legal are slow”",
         ("note", None, "legal are slow")),
        ("green light from legal", Status.IN_PROGRESS, None, "update — “green light from legal”",
         ("note", None, "green light from legal")),
    ],
)  # fmt: skip
def test_done_blocked_and_rag_replies_right_after_the_reminder(
    words: str,
    status: Status,
    rag: Rag | None,
    said: str,
    last: tuple[str, str | None, str | None],
    chair: SlackUser,
    amira: SlackUser,
    slack: FakeSlack,
    slack_process: Any,
    slack_core: Core,
) -> None:
    number = add(chair, f"Audit case files <@{AMIRA}> due 2026-11-24")
    remind(slack_process, slack_core)
    # Not in the thread: a message just after the reminder answers it.
    amira.post(im_event(AMIRA, words))
    recorded = answer(slack, AMIRA)
    assert "thread_ts" not in recorded.params
    assert recorded.text == f"Recorded on #{number} Audit case files: {said}."
    row = action_row(slack_core, number)
    assert (row.status, row.rag) == (status, rag)
    assert history(slack_core, number)[-1] == (*last, "Amira Khan")


def test_a_reply_to_a_reminder_of_several_actions_asks_which_until_it_names_one(
    chair: SlackUser,
    amira: SlackUser,
    slack: FakeSlack,
    slack_process: Any,
    slack_core: Core,
) -> None:
    first = add(chair, f"Audit case files <@{AMIRA}> due 2026-11-24")
    second = add(chair, f"Train managers <@{AMIRA}> due 2026-11-23")
    remind(slack_process, slack_core)
    reminder = reminder_to(slack, AMIRA)
    assert str(reminder.text).startswith("Reminders: 2 actions")
    ts = reminder.response["ts"]  # type: ignore[index]
    entries = {n: len(history(slack_core, n)) for n in (first, second)}

    amira.post(im_event(AMIRA, "all sorted", thread_ts=ts))
    asked = answer(slack, AMIRA)
    assert asked.text == (
        f"Which action is that about? This message is about #{first}, #{second}. Reply again "
        f"starting with its number, e.g. `{first} all sorted`. Nothing was recorded."
    )
    assert {n: len(history(slack_core, n)) for n in (first, second)} == entries

    amira.post(im_event(AMIRA, f"#{second} done, all sorted", thread_ts=ts))
    recorded = answer(slack, AMIRA, 2)
    assert recorded.text == f"Recorded on #{second} Train managers: marked done — “all sorted”."
    assert action_row(slack_core, second).status == Status.DONE
    assert action_row(slack_core, first).status == Status.OPEN


def test_the_bots_own_messages_edits_and_channels_are_not_replies(
    chair: SlackUser,
    amira: SlackUser,
    slack: FakeSlack,
    slack_process: Any,
    slack_core: Core,
) -> None:
    number = add(chair, f"Audit case files <@{AMIRA}> due 2026-11-24")
    remind(slack_process, slack_core)
    entries = len(history(slack_core, number))
    posts = len(slack.calls("chat.postMessage"))
    for body in (
        im_event(AMIRA, "Reminder: …", bot_id=BOT_ID, user=BOT_USER_ID),
        im_event(AMIRA, "done", subtype="message_changed"),
        im_event(AMIRA, "done", channel_type="channel"),
    ):
        assert amira.post(body).status_code == 200
    # A real reply afterwards is answered: the ones above were read and ignored.
    amira.post(im_event(AMIRA, "Started the audit"))
    answer(slack, AMIRA)
    assert len(slack.calls("chat.postMessage")) == posts + 1
    assert len(history(slack_core, number)) == entries + 2  # started, and the note


def test_words_in_the_dm_without_a_reminder_get_a_hint_and_change_nothing(
    chair: SlackUser, amira: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    number = add(chair, f"Audit case files <@{AMIRA}> due 2026-11-24")
    entries = len(history(slack_core, number))
    amira.post(im_event(AMIRA, "done"))
    hint = answer(slack, AMIRA)
    assert str(hint.text).startswith("I read replies to my reminders here")
    assert len(history(slack_core, number)) == entries


# --------------------------------------------------------------------------- Teams


def test_a_reply_in_the_teams_personal_chat_is_recorded_and_undone(rig: Any) -> None:
    [number] = teams.seed(rig.core, ("Audit case files", "amira@council.example", 1))
    rig.connector.members["29:amira"] = {"name": "Amira Khan", "email": "amira@council.example"}
    rig.post(message(rig.connector.url, "29:amira", "action help"))
    report = run_reminders(rig.core, rig.senders, WorkingCalendar.from_settings(rig.core.settings))
    assert len(report.delivery.sent) == 1
    before = len(rig.connector.replies())

    assert (
        rig.post(message(rig.connector.url, "29:amira", "Draft sent to legal")).status_code == 200
    )
    reply = rig.connector.replies()[before]
    assert f"Recorded on #{number} Audit case files: update — “Draft sent to legal”." in (
        reply.card_text
    )
    [undo] = [
        a
        for s in reply.card["body"]
        if s["type"] == "ActionSet"
        for a in s["actions"]
        if a["data"].get("actionbot") == "command"
    ]
    assert undo["type"] == "Action.Execute" and undo["title"] == "Undo"
    assert teams.evidence(rig.core, number)[-1][3:] == (
        "note", None, None, None, "Draft sent to legal"
    )  # fmt: skip

    # A text that reads as a command is one: no Undo, the command's own answer.
    rig.post(message(rig.connector.url, "29:amira", f"rag {number} green"))
    assert "Undo" not in str(rig.connector.replies()[-1].card)

    pressed = card_action(rig.connector.url, "29:amira", undo["data"], reply_to="activity-x")
    answered = rig.post(pressed).json()
    assert answered["type"] == "application/vnd.microsoft.activity.message"
    assert f"#{number} has changed since that reply" in answered["value"]

    rig.post(message(rig.connector.url, "29:amira", "blocked waiting on legal"))
    card = rig.connector.replies()[-1]
    assert "blocked — “waiting on legal”" in card.card_text
    [undo] = [
        a
        for s in card.card["body"]
        if s["type"] == "ActionSet"
        for a in s["actions"]
        if a["data"].get("actionbot") == "command"
    ]
    answered = rig.post(
        card_action(rig.connector.url, "29:amira", undo["data"], reply_to="activity-y")
    ).json()
    assert answered["type"] == "application/vnd.microsoft.card.adaptive"
    assert "Undone: blocked on" in json.dumps(answered["value"])
    with teams.transaction(rig.core.sessions) as session:
        row = session.get(teams.Action, number)
        assert row is not None and row.status == Status.IN_PROGRESS and row.rag == Rag.GREEN


# --------------------------------------------------------------------------- the core


@pytest.mark.parametrize(
    ("words", "actions", "read"),
    [
        ("Draft sent", [12], Reading("note", None, "Draft sent")),
        ("12 sorted", [12, 14], Reading("note", 12, "sorted")),
        ("#15 sorted", [12], Reading("note", 15, "sorted")),
        ("3 reports filed", [12], Reading("note", None, "3 reports filed")),
        ("done", [12], Reading("done", None, None)),
        ("Done!", [12], Reading("done", None, None)),
        ("done #12, all sorted", [12, 14], Reading("done", 12, "all sorted")),
        ("12 done", [12, 14], Reading("done", 12, None)),
        ("blocked - no data", [12], Reading("blocked", None, "no data")),
        ("RED", [12], Reading("rag", None, None, Rag.RED)),
        ("amber: slow", [12], Reading("rag", None, "slow", Rag.AMBER)),
        ("green light", [12], Reading("note", None, "green light")),
        ("blocked", [12], "Say what blocks it: reply `blocked <reason>`. Nothing was recorded."),
    ],
)
def test_how_a_reply_is_read(words: str, actions: list[int], read: Reading | str) -> None:
    assert read_reply(words, actions) == read


def test_the_console_shows_the_undo_as_the_command_to_type(core: Core, clock: FixedClock) -> None:
    number = action(core, "Audit case files", owner="amira", due=days(1))
    sender = FakeSender()
    run_reminders(core, [sender], WorkingCalendar.from_settings(core.settings))
    amira = Caller(Platform.CONSOLE, "amira", display_name="Amira")
    where = RepliedTo(Platform.CONSOLE, "D-amira")
    outcome = answer_reply(core, amira, "Draft sent", where)
    assert outcome is not None
    shown = render(outcome.message)
    assert (
        shown.splitlines()[0] == f"✓ Recorded on #{number} Audit case files: update — “Draft sent”."
    )
    [typed] = [line for line in shown.splitlines() if line.startswith("Undo: ")]
    undone = run_command(core, amira, "/action", typed.removeprefix("Undo: /action "))
    assert undone.message.text == f"Undone: the update “Draft sent” on #{number} Audit case files."
    # A day later there is nothing recent to answer: not a reply.
    clock.advance(dt.timedelta(hours=25))
    assert answer_reply(core, amira, "More news", where) is None
