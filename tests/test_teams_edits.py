"""Buttons taken back in Teams end to end: when a chair reassigns an action or it is closed,
the cards that showed its buttons to someone who may no longer use them are replaced in place
(the Bot Connector's update-activity call) without them; a failed edit never undoes the
change. Real HTTP to /api/messages, the fake Bot Connector on loopback."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.clock import FixedClock
from bot.domain import Status
from bot.domain.workdays import WorkingCalendar
from bot.outbox.delivery import deliver
from bot.outbox.retract import EDIT
from scheduler.jobs import run_reminders
from storage.db import transaction
from storage.models import Action, HistoryEntry, OutboxMessage, OutboxStatus
from tests import test_teams_e2e as e2e
from tests.support.fake_connector import Post
from tests.support.teams_server import card_action, installed, message
from tests.test_teams_e2e import CHAIR_EMAIL, Rig, card_of, executes, post_id, seed, text_of

rig = e2e.rig  # the app served on loopback with the fake Bot Connector

DANA = "29:dana"
PERSONAL = f"a:personal-{DANA}"


def reminded(rig: Rig) -> tuple[int, Post]:
    """An action owned by Dana, due today, and the reminder card the outbox sent her."""
    [number] = seed(rig.core, ("Audit case files", "dana@partner.example", 0))
    rig.connector.members[DANA] = {"name": "Dana", "email": "dana@partner.example"}
    rig.connector.members["29:chair"] = {"name": "Chair", "email": CHAIR_EMAIL}
    rig.connector.members["29:ben"] = {"name": "Ben", "email": "ben@council.example"}
    rig.post(installed(rig.connector.url, DANA, name="Dana"))
    rig.post(message(rig.connector.url, DANA, "action help"))
    rig.post(message(rig.connector.url, "29:ben", "action help"))
    run_reminders(rig.core, rig.senders, WorkingCalendar.from_settings(rig.core.settings))
    [reminder] = rig.connector.proactive()
    assert reminder.conversation_id == PERSONAL
    assert {"actionbot": "done", "action": number} in executes(reminder.card)
    return number, reminder


def assign_to_ben(rig: Rig, number: int) -> None:
    """The chair types `action assign N @Ben`, Ben picked as a Teams mention."""
    rig.post(
        message(
            rig.connector.url,
            "29:chair",
            f"action assign {number} <at>Ben</at>",
            entities=[
                {
                    "type": "mention",
                    "text": "<at>Ben</at>",
                    "mentioned": {"id": "29:ben", "name": "Ben"},
                }
            ],
        )
    )


def owner_email(rig: Rig, number: int) -> str | None:
    with transaction(rig.core.sessions) as session:
        action = session.get(Action, number)
        assert action is not None
        return action.owner.email if action.owner is not None else None


def edit_rows(rig: Rig) -> list[OutboxMessage]:
    with transaction(rig.core.sessions) as session:
        rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == EDIT)))
        session.expunge_all()
        return rows


def test_reassigning_replaces_the_old_owners_reminder_card_without_its_buttons(
    rig: Rig,
) -> None:
    number, reminder = reminded(rig)
    assign_to_ben(rig, number)
    assert owner_email(rig, number) == "ben@council.example"

    [update] = rig.connector.updates
    assert update.conversation_id == PERSONAL
    assert update.activity_id == post_id(rig, reminder)  # the card she was sent, in place
    assert update.activity["id"] == update.activity_id
    card = update.post.card
    assert executes(card) == []  # no button left for an action that is no longer hers
    assert f"#{number}" in text_of(card) and "Audit case files" in text_of(card)
    assert "Ben" in text_of(card)  # the action as it now stands
    [call] = [c for c in rig.connector.calls if c.method == "PUT"]
    assert call.path == (
        f"/v3/conversations/a%3Apersonal-29%3Adana/activities/{update.activity_id}"
    )
    [row] = edit_rows(rig)
    assert row.status == OutboxStatus.SENT
    assert (row.platform, row.platform_channel, row.platform_ref) == (
        "teams",
        PERSONAL,
        update.activity_id,
    )

    # Ben's own card (the assignment) keeps its buttons, and is not edited.
    [told] = [p for p in rig.connector.proactive() if p.conversation_id == "a:personal-29:ben"]
    assert {"actionbot": "done", "action": number} in executes(told.card)
    assert len(rig.connector.updates) == 1


def test_closing_replaces_the_reminder_card_without_its_buttons(rig: Rig) -> None:
    number, reminder = reminded(rig)
    rig.post(message(rig.connector.url, "29:chair", f"action done {number}"))
    with transaction(rig.core.sessions) as session:
        assert session.get(Action, number).status == Status.DONE  # type: ignore[union-attr]

    [update] = rig.connector.updates
    assert (update.conversation_id, update.activity_id) == (PERSONAL, post_id(rig, reminder))
    assert executes(update.post.card) == []
    assert "Audit case files" in update.post.card_text


def test_a_failed_edit_never_undoes_the_change(rig: Rig) -> None:
    number, reminder = reminded(rig)
    rig.connector.fail_updates = [500, 500]  # the connector fails twice: retried later
    assign_to_ben(rig, number)
    assert owner_email(rig, number) == "ben@council.example"
    with transaction(rig.core.sessions) as session:
        changes = session.scalars(
            select(HistoryEntry.change).where(HistoryEntry.action_id == number)
        ).all()
    assert changes  # the reassignment is recorded
    assert rig.connector.updates == []
    [row] = edit_rows(rig)
    assert row.status == OutboxStatus.PENDING and row.last_error

    # The worker's next pass, after the backoff: the card is edited then.
    clock = rig.core.clock
    assert isinstance(clock, FixedClock)
    clock.advance(dt.timedelta(hours=1))
    deliver(rig.core, rig.senders)
    [update] = rig.connector.updates
    assert update.activity_id == post_id(rig, reminder) and executes(update.post.card) == []

    # A card Teams no longer has (deleted) fails for good; the action stays closed and no
    # chair is told about a message that only lost its buttons.
    chair_messages = len(rig.connector.proactive())
    rig.connector.fail_updates = [404]
    rig.post(message(rig.connector.url, "29:ben", f"action done {number}"))
    with transaction(rig.core.sessions) as session:
        assert session.get(Action, number).status == Status.DONE  # type: ignore[union-attr]
    failed = [r for r in edit_rows(rig) if r.status == OutboxStatus.FAILED]
    assert failed and "HTTP 404" in (failed[0].last_error or "")
    assert len(rig.connector.updates) == 1
    assert len(rig.connector.proactive()) == chair_messages


def test_a_card_redrawn_where_it_was_pressed_is_not_edited_again(rig: Rig) -> None:
    number, reminder = reminded(rig)
    press = card_action(
        rig.connector.url,
        DANA,
        {"actionbot": "done", "action": number},
        reply_to=post_id(rig, reminder),
    )
    card = card_of(rig.post(press))
    assert executes(card) == []
    assert rig.connector.updates == []  # the invoke's answer already replaced the card
    assert all(r.status == OutboxStatus.CANCELLED for r in edit_rows(rig))
