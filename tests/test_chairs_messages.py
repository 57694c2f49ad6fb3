"""Reminders, nudges and the chairs' messages as people see them: the reminder says it once
(heading, one line of context, the latest update, the buttons), a blocked action is asked
whether it changed and offers Unblocked, and chairs get Nudge owner, Move deadline and
Reassign on the escalation, `/status overdue` and `/action show`; the history reads as a
timeline; a chair's App Home leads with the board.

End to end over real HTTP (signed Slack requests, the fake Slack; the fake Teams connector),
with a real scheduler run; a few renderings checked directly on the neutral messages.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from bot.clock import FixedClock
from bot.domain import IMPORT_SOURCE, Change, Rag, Status
from bot.domain.workdays import WorkingCalendar
from bot.grammar.commands import NudgeOwner
from bot.grammar.parser import parse
from bot.render import notices, replies
from bot.render.model import ActionView, HistoryView, LatestNote, PersonView
from bot.render.text import render
from bot.services.context import Core
from handlers.slack.blocks import render as slack_render
from handlers.teams.cards import render_card
from scheduler.jobs import run_reminders
from storage.db import transaction
from storage.models import Action, HistoryEntry, OutboxMessage, Person
from tests import test_slack_http as http
from tests import test_teams_e2e as teams
from tests.support.fake_slack import Call, FakeSlack
from tests.support.slack_signing import app_home_opened_event, datepicker, text_input, users_select
from tests.support.teams_server import card_action, installed, message
from tests.test_slack_blocks import all_text, validated
from tests.test_slack_http import (
    AMIRA,
    BEN,
    CHAIR,
    SlackUser,
    action_row,
    add,
    dm,
    history,
    responses,
    wait_until,
)

slack, slack_process, slack_core, bot, base = (
    http.slack,
    http.slack_process,
    http.slack_core,
    http.bot,
    http.base,
)
chair, amira, ben = http.chair, http.amira, http.ben
rig = teams.rig

TODAY = dt.date(2026, 11, 23)


# --------------------------------------------------------------------------- helpers


def remind(slack_process: Any, core: Core) -> None:
    """One scheduler run, delivering through the process's Slack sender."""
    report = run_reminders(
        core, slack_process.senders, WorkingCalendar.from_settings(core.settings)
    )
    assert report.delivery.sent, report.summary()


def plan_details(core: Core, number: int, **fields: Any) -> None:
    """Give an action the plan's reference, workstream, priority, RAG, status…"""
    with transaction(core.sessions) as session:
        action = session.get(Action, number)
        assert action is not None
        for name, value in fields.items():
            setattr(action, name, value)


def section_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]


def contexts(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]


def labels(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["text"]["text"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def press_on(user: SlackUser, action_id: str, number: int, message: Call) -> None:
    assert user.press(action_id, number, message=message).status_code == 200


def nudged(core: Core, number: int) -> list[tuple[str, str | None]]:
    """The nudge entries of an action's history: (who nudged, whom)."""
    with transaction(core.sessions) as session:
        entries = session.scalars(
            select(HistoryEntry).where(
                HistoryEntry.action_id == number, HistoryEntry.change == Change.NUDGED.value
            )
        ).all()
        return [(e.actor.display_name if e.actor else "", e.new_value) for e in entries]


def late_action(chair: SlackUser, core: Core, clock: FixedClock, days_late: int) -> int:
    """An action of Amira's, `days_late` days past its deadline (the clock moved on)."""
    number = add(chair, f"Re-audit CP plans <@{AMIRA}> due 2026-11-24")
    clock.advance(dt.timedelta(days=1 + days_late))
    plan_details(
        core, number, ref="CP-02", workstream="Child protection", priority="High", rag=Rag.RED
    )
    return number


# --------------------------------------------------------------------------- reminders


def test_a_reminder_says_it_once_heading_context_latest_update_buttons(
    chair: SlackUser,
    amira: SlackUser,
    slack: FakeSlack,
    slack_process: Any,
    slack_core: Core,
) -> None:
    number = add(chair, f"Re-audit CP plans <@{AMIRA}> due today")
    plan_details(
        slack_core,
        number,
        ref="CP-02",
        workstream="Child protection",
        priority="High",
        rag=Rag.AMBER,
    )
    amira.reply(f"update {number} Audit booked with the safeguarding team")
    dm(slack, AMIRA)  # the assignment, sent after the ack: not to be taken for the reminder
    slack.clear()
    remind(slack_process, slack_core)

    reminder = dm(slack, AMIRA)
    assert reminder.text == "⚠️ Due today: CP-02 Re-audit CP plans"
    blocks = validated(reminder.blocks or [])
    heading, *rest = section_texts(blocks)
    assert heading == "*⚠️ Due today: CP-02 Re-audit CP plans*"
    assert contexts(blocks) == ["Child protection · priority High · 🟠 amber · #1"]
    assert rest == [
        "_Latest update, Mon 23 Nov (Amira Khan):_ Audit booked with the safeguarding team"
    ]
    assert labels(blocks) == ["Mark done", "Add update", "Request new date", "Blocked"]
    # Said once: no "Owner: you" field, the title not repeated.
    text = all_text(blocks)
    assert "Owner" not in text and text.count("Re-audit CP plans") == 1
    assert [b["type"] for b in blocks] == ["section", "context", "section", "actions"]


def test_a_blocked_action_is_asked_whether_it_changed_and_offers_unblocked(
    chair: SlackUser,
    amira: SlackUser,
    slack: FakeSlack,
    slack_process: Any,
    slack_core: Core,
    clock: FixedClock,
) -> None:
    number = late_action(chair, slack_core, clock, days_late=3)
    amira.reply(f"blocked {number} waiting for the police data")
    dm(slack, AMIRA)
    slack.clear()
    remind(slack_process, slack_core)

    nudge = dm(slack, AMIRA)
    assert nudge.text == (
        "🔴 3 days late: CP-02 Re-audit CP plans. "
        "Still blocked: waiting for the police data. Anything changed?"
    )
    blocks = validated(nudge.blocks or [])
    assert section_texts(blocks)[0] == (
        "*🔴 3 days late: CP-02 Re-audit CP plans*\n"
        "Still blocked: waiting for the police data. Anything changed?"
    )
    # No Blocked again; a new date may be what it needs.
    assert labels(blocks) == ["Unblocked", "Add update", "Request new date"]
    assert "say what blocks it" not in all_text(blocks)

    # Unblocked reopens it, as /action reopen would; the message then offers Mark done.
    press_on(amira, "action_unblock", number, nudge)
    [update] = slack.wait_for("chat.update")
    assert action_row(slack_core, number).status == Status.OPEN
    assert history(slack_core, number)[-1] == ("status", "open", None, "Amira Khan")
    redrawn = validated(update.params["blocks"])
    assert labels(redrawn) == ["Mark done", "Add update", "Request new date", "Blocked"]
    assert "Still blocked" not in all_text(redrawn)


def test_a_bundle_shows_each_action_as_its_own_reminder_would(
    chair: SlackUser, slack: FakeSlack, slack_process: Any, slack_core: Core
) -> None:
    first = add(chair, f"Audit case files <@{AMIRA}> due today")
    add(chair, f"Refresh thresholds <@{AMIRA}> due tomorrow")
    plan_details(slack_core, first, ref="QA-01")
    dm(slack, AMIRA, 2)  # both assignments are out before the run
    slack.clear()
    remind(slack_process, slack_core)
    [message] = slack.messages_to(AMIRA)
    blocks = validated(message.blocks or [])
    assert message.text == "Reminders: 2 actions of yours need you (2 due soon)."
    headings = [t for t in section_texts(blocks) if t.startswith("*⚠️") or t.startswith("*⏰")]
    assert headings == [
        "*⚠️ Due today: QA-01 Audit case files*",
        "*⏰ Due tomorrow, Tue 24 Nov: #2 Refresh thresholds*",
    ]
    assert labels(blocks) == ["Mark done", "Add update", "Request new date", "Blocked"] * 2


# --------------------------------------------------------------------------- chairs


def test_the_escalation_offers_nudge_move_and_reassign_and_a_nudge_goes_once_a_day(
    chair: SlackUser,
    slack: FakeSlack,
    slack_process: Any,
    slack_core: Core,
    clock: FixedClock,
) -> None:
    # 21 days (15 working days) late: the rung of the escalation ladder that tells the chairs.
    number = late_action(chair, slack_core, clock, days_late=21)
    dm(slack, AMIRA)
    slack.clear()
    remind(slack_process, slack_core)

    escalation = dm(slack, CHAIR)
    assert escalation.text == (
        "Escalation: 🔴 15 working days late: CP-02 Re-audit CP plans. Owner: Amira Khan."
    )
    blocks = validated(escalation.blocks or [])
    assert labels(blocks) == ["Nudge owner", "Move deadline", "Reassign"]
    assert [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]] == [
        "action_nudge",
        "action_move_due",
        "action_reassign",
    ]
    before = len(slack.messages_to(AMIRA))  # her own overdue nudge of this run

    press_on(chair, "action_nudge", number, escalation)
    wait_until(lambda: len(slack.messages_to(AMIRA)) > before, "the nudge to Amira")
    nudge = slack.messages_to(AMIRA)[-1]
    assert nudge.text == "Sarah Chair is checking in: CP-02 Re-audit CP plans"
    nudge_blocks = validated(nudge.blocks or [])
    assert section_texts(nudge_blocks)[:2] == [
        "Sarah Chair asked me to check in with you about this action.",
        "*🔴 21 days late: CP-02 Re-audit CP plans*",
    ]
    assert labels(nudge_blocks) == ["Mark done", "Add update", "Request new date", "Blocked"]
    assert nudged(slack_core, number) == [("Sarah Chair", "Amira Khan")]
    wait_until(lambda: responses(slack, f"press-{CHAIR}"), "the chair's answer")
    assert responses(slack, f"press-{CHAIR}")[0].params["text"] == (
        "Nudged Amira Khan about #1 Re-audit CP plans: one message from me, now."
    )
    with transaction(slack_core.sessions) as session:
        [row] = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "nudge")).all()
        assert row.key == f"nudge:{number}:2026-12-15"  # once per action per day

    # A second press the same day: said, not sent.
    clock.advance(dt.timedelta(hours=2))
    press_on(chair, "action_nudge", number, escalation)
    wait_until(lambda: len(responses(slack, f"press-{CHAIR}")) >= 2, "the second answer")
    assert responses(slack, f"press-{CHAIR}")[1].params["text"] == (
        "Amira Khan was already nudged about #1 today at 09:30 (by you); once a day is enough."
    )
    assert len(slack.messages_to(AMIRA)) == before + 1
    assert nudged(slack_core, number) == [("Sarah Chair", "Amira Khan")]


def test_nudge_is_a_chairs_command_with_its_usage_and_help(
    chair: SlackUser, amira: SlackUser, ben: SlackUser, slack: FakeSlack, slack_core: Core
) -> None:
    number = add(chair, f"Audit case files <@{AMIRA}>")
    refused = ben.reply(f"nudge {number}")
    assert refused["text"].startswith("Only a chair")
    assert "/action nudge &lt;id&gt;" in all_text(refused["blocks"])
    assert nudged(slack_core, number) == []
    assert "/action nudge &lt;id&gt;" in all_text(chair.reply("help")["blocks"])
    sent = chair.reply(f"nudge #{number}")
    assert sent["text"] == "Nudged Amira Khan about #1 Audit case files: one message from me, now."
    wait_until(lambda: len(slack.messages_to(AMIRA)) >= 2, "the nudge")  # assigned, nudged
    assert parse("/action", "nudge 12", today=TODAY) == NudgeOwner(action_id=12)
    nobody = add(chair, "Nobody's yet")
    assert chair.reply(f"nudge {nobody}")["text"] == (
        f"#{nobody} has no owner to nudge; give it to someone first."
    )


def test_status_overdue_and_show_give_a_chair_the_buttons_and_nobody_else(
    chair: SlackUser,
    amira: SlackUser,
    slack: FakeSlack,
    slack_core: Core,
    clock: FixedClock,
) -> None:
    number = late_action(chair, slack_core, clock, days_late=2)
    overdue = chair.reply("overdue", command="/status")
    assert labels(overdue["blocks"]) == ["Nudge owner", "Move deadline", "Reassign"]
    assert labels(amira.reply("overdue", command="/status")["blocks"]) == []

    shown = chair.reply(f"show {number}")
    assert labels(shown["blocks"]) == ["Nudge owner", "Move deadline", "Reassign"]
    assert labels(amira.reply(f"show {number}")["blocks"]) == []


def test_move_deadline_and_reassign_open_forms_that_do_what_the_commands_do(
    chair: SlackUser,
    ben: SlackUser,
    slack: FakeSlack,
    slack_core: Core,
    clock: FixedClock,
) -> None:
    ben.reply("list mine")  # the bot has met Ben
    number = late_action(chair, slack_core, clock, days_late=2)
    slack.clear()
    chair.press("action_move_due", number)
    [opened] = slack.wait_for("views.open")
    form = opened.params["view"]
    assert form["callback_id"] == "action_move_due_form"
    assert "CP-02 Re-audit CP plans" in all_text(form["blocks"])
    answer = chair.submit(
        form["callback_id"],
        {
            "due": {"due": datepicker("2026-12-18")},
            "reason": {"reason": text_input("audit tool arrives late")},
        },
        form["private_metadata"],
    )
    assert answer.status_code == 200 and answer.text == ""
    wait_until(lambda: action_row(slack_core, number).due_date == dt.date(2026, 12, 18), "moved")
    # As `/action due` records it: the new date, the reason, who moved it.
    assert history(slack_core, number)[-1][1:] == (
        "2026-12-18",
        "audit tool arrives late",
        "Sarah Chair",
    )

    slack.clear()
    ben.press("action_reassign", number)  # not a chair: told why, no form
    wait_until(lambda: responses(slack, f"press-{BEN}"), "the refusal")
    assert responses(slack, f"press-{BEN}")[0].params["text"].startswith("Only a chair")
    assert slack.calls("views.open") == []

    chair.press("action_reassign", number)
    [opened] = slack.wait_for("views.open")
    form = opened.params["view"]
    assert form["callback_id"] == "action_reassign_form"
    chair.submit(
        form["callback_id"], {"owner": {"owner": users_select(BEN)}}, form["private_metadata"]
    )
    wait_until(lambda: history(slack_core, number)[-1][0] == "assigned", "reassigned")
    assert history(slack_core, number)[-1] == ("assigned", "Ben Okafor", None, "Sarah Chair")


# --------------------------------------------------------------------------- timeline


def test_show_reads_as_a_timeline_newest_first_with_the_latest_note_on_top(
    chair: SlackUser, amira: SlackUser, slack_core: Core, clock: FixedClock
) -> None:
    number = add(chair, "Re-audit CP plans")
    imported_at = dt.datetime(2026, 11, 20, 16, 0, tzinfo=dt.UTC)
    with transaction(slack_core.sessions) as session:
        action = session.get(Action, number)
        amira_person = session.scalars(select(Person)).first()
        assert action is not None and amira_person is not None
        note = "import of plan.xlsx row 4"
        for change, field, new in (
            ("assigned", "owner", "Amira Khan"),
            ("due", "due", "2026-12-04"),
            ("rag", "rag", "red"),
        ):
            session.add(
                HistoryEntry(
                    action_id=number,
                    at=imported_at,
                    source=IMPORT_SOURCE,
                    change=change,
                    field=field,
                    new_value=new,
                    note=note,
                )
            )
    clock.advance(dt.timedelta(hours=1))
    chair.reply(f"update {number} First draft sent to the panel")
    clock.advance(dt.timedelta(hours=1))
    chair.reply(f"blocked {number} waiting for the police data")

    shown = chair.reply(f"show {number}")
    text = all_text(shown["blocks"])
    latest = text.index("_Latest update, Mon 23 Nov (Sarah Chair):_ First draft sent to the panel")
    timeline = text.index("*History*, newest first")
    assert latest < timeline  # the latest note above the timeline
    lines = text[timeline:].splitlines()[1:6]
    assert lines == [
        "23 Nov 11:30 · Sarah Chair marked it blocked — waiting for the police data",
        "23 Nov 10:30 · Sarah Chair: First draft sent to the panel",
        "23 Nov 10:30 · Sarah Chair started it",
        "23 Nov 09:30 · Sarah Chair added it: “Re-audit CP plans”",
        "20 Nov · imported from the plan, row 4 (owner Amira Khan, due Fri 4 Dec, RAG red)",
    ]


def test_the_timeline_folds_one_imports_lines_and_the_console_shows_it_too() -> None:
    at = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)
    later = at + dt.timedelta(days=1)

    def entry(when: dt.datetime, change: str, **kw: Any) -> HistoryView:
        return HistoryView(
            at=when,
            actor=kw.pop("actor", None),
            source=kw.pop("source", "slack"),
            change=change,
            **kw,
        )

    imported = {"source": IMPORT_SOURCE, "note": "import of plan.xlsx row 4"}
    reimported = {"source": IMPORT_SOURCE, "note": "import of plan.xlsx row 9"}
    history = [  # newest first, as /action show reads them
        entry(later, "note", actor="Amira Khan", note="Booked\nthe room too"),
        entry(at, "rag", field="rag", new="amber", **reimported),
        entry(at - dt.timedelta(days=1), "rag", field="rag", new="red", **imported),
        entry(at - dt.timedelta(days=1), "assigned", field="owner", new="Amira Khan", **imported),
        entry(at - dt.timedelta(days=1), "created", new="Re-audit", **imported),
    ]
    view = ActionView(id=4, title="Re-audit", status=Status.OPEN)
    message = replies.detail(view, history, more=0)
    text = render(message, today=TODAY)
    assert text.splitlines()[-4:] == [
        "    29 Nov 09:00 · Amira Khan: Booked",
        "        the room too",
        "    28 Nov · imported from the plan, row 9 (RAG amber)",
        "    27 Nov · imported from the plan, row 4 (owner Amira Khan, RAG red)",
    ]


# --------------------------------------------------------------------------- App Home


def test_a_chairs_home_leads_with_the_board_when_they_own_nothing(
    chair: SlackUser, amira: SlackUser, slack: FakeSlack, clock: FixedClock
) -> None:
    add(chair, f"Audit case files <@{AMIRA}> due 2026-11-24")
    clock.advance(dt.timedelta(days=3))
    chair.post(app_home_opened_event(CHAIR))
    wait_until(lambda: slack.published_home(CHAIR), "the chair's home tab")
    home = slack.published_home(CHAIR)
    assert home is not None
    blocks = validated(home["blocks"])
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Board overview", "emoji": True},
    }
    assert "You have no open actions." not in all_text(blocks)
    assert any(b["type"] == "divider" for b in blocks)
    assert "Updated at 09:30." in all_text(blocks)
    assert "Nudge owner" in labels(blocks)  # the overdue list carries the chair's buttons

    amira.post(app_home_opened_event(AMIRA))
    wait_until(lambda: slack.published_home(AMIRA), "Amira's home tab")
    hers = slack.published_home(AMIRA)
    assert hers is not None
    assert all_text(hers["blocks"]).startswith("*Your open actions*")
    assert "Board overview" not in all_text(hers["blocks"])


# --------------------------------------------------------------------------- Teams


def test_teams_reminder_card_and_the_chairs_card_with_nudge(rig: teams.Rig) -> None:
    [number] = teams.seed(rig.core, ("Re-audit CP plans", "dana@partner.example", -21))
    plan_details(rig.core, number, ref="CP-02", workstream="Child protection", rag=Rag.RED)
    rig.connector.members["29:dana"] = {"name": "Dana", "email": "dana@partner.example"}
    rig.connector.members["29:chair"] = {"name": "Chair Person", "email": teams.CHAIR_EMAIL}
    rig.post(installed(rig.connector.url, "29:dana", name="Dana"))
    rig.post(message(rig.connector.url, "29:chair", "action help", name="Chair Person"))
    run_reminders(rig.core, rig.senders, WorkingCalendar.from_settings(rig.core.settings))
    sent = {p.conversation_id: p for p in rig.connector.proactive()}

    reminder = sent["a:personal-29:dana"]
    body = reminder.card["body"]
    assert body[0]["text"] == "🔴 21 days late: CP-02 Re-audit CP plans"
    assert body[0]["weight"] == "Bolder"
    assert body[1]["text"] == "Child protection · 🔴 red · #1"
    assert [a["title"] for a in body[-1]["actions"]] == [
        "Mark done",
        "Add update",
        "Request new date",
        "Blocked",
    ]

    escalation = sent["a:personal-29:chair"]
    actions = escalation.card["body"][-1]["actions"]
    assert [a["title"] for a in actions] == ["Nudge owner", "Move deadline", "Reassign"]
    assert actions[0]["data"] == {"actionbot": "nudge", "action": number}
    assert actions[1]["data"] == {"actionbot": "due_form", "action": number}

    posts = len(rig.connector.posts)
    press = card_action(
        rig.connector.url,
        "29:chair",
        {"actionbot": "nudge", "action": number},
        reply_to=teams.post_id(rig, escalation),
    )
    card = teams.card_of(rig.post(press))
    assert teams.text_of(card).startswith("Nudged Dana about #1 Re-audit CP plans")
    [nudge] = [p for p in rig.connector.posts[posts:] if p.conversation_id == "a:personal-29:dana"]
    assert (
        nudge.card["body"][0]["text"]
        == "Chair Person asked me to check in with you about this action."
    )
    assert nudged(rig.core, number) == [("Chair Person", "Dana")]

    # Move deadline opens an input card in place of the escalation; Save moves the date.
    press = card_action(
        rig.connector.url,
        "29:chair",
        {"actionbot": "due_form", "action": number},
        reply_to=teams.post_id(rig, escalation),
    )
    form = teams.card_of(rig.post(press))
    assert [i["type"] for i in form["body"] if i["type"].startswith("Input.")] == [
        "Input.Date",
        "Input.Text",
    ]
    assert [a["title"] for a in form["body"][-1]["actions"]] == ["Save", "Cancel"]
    assert form["body"][-1]["actions"][0]["data"] == {"actionbot": "due", "action": number}
    press = card_action(
        rig.connector.url,
        "29:chair",
        {
            "actionbot": "due",
            "action": number,
            "note_1_due": "2026-12-18",
            "reason_1_due": "audit tool late",
        },
        reply_to=teams.post_id(rig, escalation),
    )
    moved = teams.card_of(rig.post(press))
    assert teams.text_of(moved).startswith("Moved #1 Re-audit CP plans to")
    with transaction(rig.core.sessions) as session:
        row = session.get(Action, number)
        assert row is not None and row.due_date == dt.date(2026, 12, 18)


def test_teams_blocked_nudge_offers_unblocked_which_reopens(rig: teams.Rig) -> None:
    [number] = teams.seed(rig.core, ("Share data", "dana@partner.example", -2))
    plan_details(rig.core, number, status=Status.BLOCKED, blocked_reason="no data sharing deal")
    rig.connector.members["29:dana"] = {"name": "Dana", "email": "dana@partner.example"}
    rig.post(installed(rig.connector.url, "29:dana", name="Dana"))
    run_reminders(rig.core, rig.senders, WorkingCalendar.from_settings(rig.core.settings))
    [nudge] = rig.connector.proactive()
    body = nudge.card["body"]
    assert body[1]["text"] == "Still blocked: no data sharing deal. Anything changed?"
    assert [a["title"] for a in body[-1]["actions"]] == [
        "Unblocked",
        "Add update",
        "Request new date",
    ]
    press = card_action(
        rig.connector.url,
        "29:dana",
        {"actionbot": "reopen", "action": number},
        reply_to=teams.post_id(rig, nudge),
    )
    card = teams.card_of(rig.post(press))
    assert teams.executes(card)[0] == {"actionbot": "done", "action": number}  # Mark done again
    with transaction(rig.core.sessions) as session:
        row = session.get(Action, number)
        assert row is not None and row.status == Status.OPEN
    assert "Still blocked" not in teams.text_of(card)


# --------------------------------------------------------------------------- console


def test_the_console_shows_the_commands_where_the_buttons_would_be() -> None:
    owner = PersonView(id=1, name="Amira Khan")
    action = ActionView(
        id=12,
        ref="CP-02",
        title="Re-audit CP plans",
        owner=owner,
        due=TODAY,
        status=Status.BLOCKED,
        blocked_reason="waiting for data",
        rag=Rag.RED,
        workstream="Child protection",
        days_left=0,
    )
    latest = LatestNote(text="Chased the police", on=dt.date(2026, 11, 20), by="Amira Khan")
    assert render(
        notices.reminder(action, today=TODAY, latest=latest), today=TODAY
    ).splitlines() == [
        "⚠️ Due today: CP-02 Re-audit CP plans",
        "Still blocked: waiting for data. Anything changed?",
        "Child protection · 🔴 red · #12",
        "Latest update, Fri 20 Nov (Amira Khan): Chased the police",
        "Commands: /action reopen 12 · /action update 12 <note> · "
        "/action rebaseline 12 <date> <reason>",
    ]
    escalated = notices.escalation(action, reason="blocked", days=9, today=TODAY)
    assert render(escalated, today=TODAY).splitlines()[-1] == (
        "Commands: /action nudge 12 · /action due 12 <date> [reason] · /action assign 12 @user"
    )
    # The same message on Slack and Teams: the headline, then the buttons in that order.
    blocks = slack_render(escalated, today=TODAY).blocks
    assert labels(blocks) == ["Nudge owner", "Move deadline", "Reassign"]
    card = render_card(escalated, today=TODAY)
    assert card["body"][0]["text"] == "⛔ Blocked for 9 working days: CP-02 Re-audit CP plans"
    assert json.dumps(card).count("Input.") == 0  # the forms open on a press, not in every card
