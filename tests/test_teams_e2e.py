"""Teams end to end: activities posted to the real /api/messages, a fake Bot Connector on loopback.

The app is the one `actionbot serve` runs (Starlette under uvicorn); the connector records the
replies and proactive sends; the database is SQLite or PostgreSQL (TEST_DATABASE_URL).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.config import Settings
from bot.domain import Platform, Status
from bot.domain.workdays import WorkingCalendar
from bot.outbox.sender import Sender
from bot.services.context import Caller, Core
from bot.services.dispatch import run_command
from handlers.teams.app import build_teams
from handlers.web import create_web_app
from scheduler.jobs import run_digest, run_reminders
from storage.db import transaction
from storage.models import Action, HistoryEntry, Identity, OutboxMessage, OutboxStatus, Person
from tests.conftest import MONDAY
from tests.support.fake_connector import FakeConnector, Post, fake_connector
from tests.support.teams_server import card_action, installed, message, running
from wiring.root import compose

CHAIR_EMAIL = "chair@council.example"
BOARD = "19:board-channel@thread.tacv2"
TODAY = MONDAY.date()


@dataclass
class Rig:
    core: Core
    senders: tuple[Sender, ...]
    connector: FakeConnector
    url: str
    http: httpx.Client

    def post(self, activity: dict[str, Any]) -> httpx.Response:
        return self.http.post(f"{self.url}/api/messages", json=activity)


@pytest.fixture
def rig(database_url: str) -> Iterator[Rig]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        chair_user_ids=(CHAIR_EMAIL,),
        board_channel=BOARD,
        teams_insecure_no_auth=True,
    )
    process = compose(settings, clock=FixedClock(MONDAY))
    assert process.teams is not None
    endpoint = build_teams(
        process.core, settings, connector=process.teams.connector, senders=process.senders
    )
    with fake_connector() as connector:
        app = create_web_app(process.core, teams=endpoint.handle)
        with running(app) as url, httpx.Client(timeout=20) as http:
            yield Rig(process.core, process.senders, connector, url, http)
    process.close()


def seed(core: Core, *actions: tuple[str, str | None, int]) -> list[int]:
    """Actions (title, owner email, days from today); owners are imported by email only."""
    created = MONDAY - dt.timedelta(days=60)
    ids = []
    with transaction(core.sessions) as session:
        for title, email, ahead in actions:
            owner = None
            if email:
                owner = session.scalars(select(Person).where(Person.email == email)).first()
                if owner is None:
                    owner = Person(
                        display_name=email.split("@")[0].title(), email=email, created_at=created
                    )
                    session.add(owner)
            action = Action(
                title=title,
                owner=owner,
                due_date=TODAY + dt.timedelta(days=ahead),
                status=Status.OPEN,
                created_at=created,
                updated_at=created,
            )
            session.add(action)
            session.flush()
            ids.append(action.id)
    return ids


def test_status_overdue_from_a_chair_gets_a_card_of_overdue_actions(rig: Rig) -> None:
    seed(
        rig.core,
        ("Audit *case* files", "amira@council.example", -5),
        ("Recruit social workers", "ben@council.example", -1),
        ("Later work", "ben@council.example", 10),
    )
    rig.connector.members["29:chair"] = {"name": "Chair Person", "email": CHAIR_EMAIL}
    answer = rig.post(message(rig.connector.url, "29:chair", "status overdue", name="Chair"))
    assert answer.status_code == 200
    [reply] = rig.connector.replies()
    assert reply.conversation_id == "a:personal-29:chair"
    text = reply.card_text
    assert r"Audit \*case\* files" in text  # the user's asterisks are shown, not bold
    assert "Recruit social workers" in text
    assert "Later work" not in text
    assert text.index("Audit") < text.index("Recruit")  # most late first
    assert reply.card["version"] == "1.5"


def test_action_done_from_its_owner_closes_it_with_history(rig: Rig) -> None:
    [number] = seed(rig.core, ("Audit case files", "amira@council.example", -2))
    with transaction(rig.core.sessions) as session:
        # Amira also uses Slack: one person, two platforms, linked by email.
        amira = session.scalars(select(Person)).one()
        amira.identities.append(Identity(platform=Platform.SLACK, external_id="U0AMIRA"))
    rig.connector.members["29:amira"] = {"name": "Amira Khan", "email": "Amira@Council.example"}
    answer = rig.post(message(rig.connector.url, "29:amira", f"/action done {number} all filed"))
    assert answer.status_code == 200
    [reply] = rig.connector.replies()
    assert f"#{number}" in reply.card_text
    with transaction(rig.core.sessions) as session:
        action = session.get(Action, number)
        assert action is not None and action.status == Status.DONE
        [person] = session.scalars(select(Person)).all()
        assert {i.platform for i in person.identities} == {Platform.SLACK, Platform.TEAMS}
        history = session.scalars(
            select(HistoryEntry).where(HistoryEntry.action_id == number)
        ).all()
        done = [h for h in history if h.new_value == "done"]
        assert done and done[0].actor_id == person.id and done[0].source == "teams"
    # The same database answers a Slack caller (the same person) at the same time.
    shown = run_command(rig.core, Caller(Platform.SLACK, "U0AMIRA"), "/action", f"show {number}")
    assert "done" in str(shown.message.model_dump())


def test_card_buttons_mark_done_and_add_an_update(rig: Rig) -> None:
    first, second = seed(
        rig.core,
        ("Audit case files", "amira@council.example", 3),
        ("Train managers", "amira@council.example", 4),
    )
    rig.connector.members["29:amira"] = {"name": "Amira", "email": "amira@council.example"}
    rig.post(message(rig.connector.url, "29:amira", "action list mine"))
    listing = rig.connector.replies()[-1].card
    assert "Mark done" in str(listing)
    note = {"actionbot": "update", "action": second, f"note_{second}_update": "Draft _sent_"}
    assert rig.post(message(rig.connector.url, "29:amira", value=note)).status_code == 200
    done = {"actionbot": "done", "action": first}
    assert rig.post(message(rig.connector.url, "29:amira", value=done)).status_code == 200
    with transaction(rig.core.sessions) as session:
        assert session.get(Action, first).status == Status.DONE  # type: ignore[union-attr]
        notes = session.scalars(
            select(HistoryEntry.note).where(HistoryEntry.action_id == second)
        ).all()
        assert "Draft _sent_" in notes


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


def test_card_buttons_record_what_the_typed_commands_record(rig: Rig) -> None:
    pressed, typed = seed(
        rig.core,
        ("Audit case files", "amira@council.example", 3),
        ("Audit case files", "amira@council.example", 3),
    )
    rig.connector.members["29:amira"] = {"name": "Amira", "email": "amira@council.example"}
    steps = [
        ("update", {f"note_{pressed}_update": "Draft\n  sent"}, f"update {typed} Draft sent"),
        ("blocked", {f"note_{pressed}_blocked": "No data"}, f"blocked {typed} No data"),
        ("done", {}, f"done {typed}"),
    ]
    for kind, note, words in steps:
        value = {"actionbot": kind, "action": pressed, **note}
        assert rig.post(message(rig.connector.url, "29:amira", value=value)).status_code == 200
        assert rig.post(message(rig.connector.url, "29:amira", words)).status_code == 200
        by_card, by_words = (reply.card_text for reply in rig.connector.replies()[-2:])
        assert by_card == by_words.replace(f"#{typed}", f"#{pressed}"), kind
    assert evidence(rig.core, pressed) == evidence(rig.core, typed)
    assert [entry[3:] for entry in evidence(rig.core, pressed)] == [
        ("status", "status", "open", "in_progress", None),
        ("note", None, None, None, "Draft sent"),
        ("status", "status", "in_progress", "blocked", "No data"),
        ("status", "status", "blocked", "done", None),
    ]


def test_a_card_note_left_empty_or_unstorable_changes_nothing(rig: Rig) -> None:
    [number] = seed(rig.core, ("Audit case files", "amira@council.example", 3))
    rig.connector.members["29:amira"] = {"name": "Amira", "email": "amira@council.example"}
    before = evidence(rig.core, number)
    for note, reason in [
        ("  \n ", "Please write a few words."),
        ("before\x00after", "The text contains a NUL character, which I cannot store."),
    ]:
        value = {"actionbot": "update", "action": number, f"note_{number}_update": note}
        assert rig.post(message(rig.connector.url, "29:amira", value=value)).status_code == 200
        assert rig.connector.replies()[-1].card_text.splitlines()[0] == reason
    assert evidence(rig.core, number) == before


def test_mention_in_a_channel_replies_in_the_thread(rig: Rig) -> None:
    seed(rig.core, ("Audit case files", "amira@council.example", -2))
    rig.connector.members["29:ben"] = {"name": "Ben", "email": "ben@council.example"}
    activity = message(
        rig.connector.url,
        "29:ben",
        "<at>ActionBot</at> status overdue",
        conversation=f"{BOARD};messageid=1700",
        conversation_type="channel",
        channel_id=BOARD,
        entities=[
            {"type": "mention", "text": "<at>ActionBot</at>", "mentioned": {"id": "28:bot-app-id"}}
        ],
    )
    assert rig.post(activity).status_code == 200
    [reply] = rig.connector.replies()
    assert reply.conversation_id == f"{BOARD};messageid=1700"
    assert reply.reply_to == activity["id"]
    assert "Audit case files" in reply.card_text


def test_reminder_for_a_teams_only_owner_is_sent_proactively_once(rig: Rig) -> None:
    [number] = seed(rig.core, ("Audit case files", "dana@partner.example", 0))
    rig.connector.members["29:dana"] = {"name": "Dana", "email": "dana@partner.example"}
    # Dana installs the app (the reference is kept) and says hello (her email links her).
    assert rig.post(installed(rig.connector.url, "29:dana", name="Dana")).status_code == 200
    rig.post(message(rig.connector.url, "29:dana", "action help"))
    senders = rig.senders
    assert [s.platform for s in senders] == [Platform.TEAMS]
    calendar = WorkingCalendar.from_settings(rig.core.settings)
    first = run_reminders(rig.core, senders, calendar)
    second = run_reminders(rig.core, senders, calendar)
    assert len(first.delivery.sent) == 1 and not second.delivery.sent
    [sent] = rig.connector.proactive()
    assert sent.conversation_id == "a:personal-29:dana"
    assert f"#{number}" in sent.card_text
    assert all(c.authorization is None for c in rig.connector.calls)  # insecure: no token


def test_user_seen_only_in_a_channel_gets_a_new_personal_chat(rig: Rig) -> None:
    seed(rig.core, ("Audit case files", "ed@partner.example", 0))
    rig.connector.members["29:ed"] = {"name": "Ed", "email": "ed@partner.example"}
    activity = message(
        rig.connector.url,
        "29:ed",
        "status",
        conversation=BOARD,
        conversation_type="channel",
        channel_id=BOARD,
    )
    rig.post(activity)
    report = run_reminders(
        rig.core, rig.senders, WorkingCalendar.from_settings(rig.core.settings)
    )
    assert len(report.delivery.sent) == 1
    [created] = rig.connector.created
    assert created["members"] == [{"id": "29:ed"}] and created["tenantId"] == "tenant-1"
    assert [p.conversation_id for p in rig.connector.proactive()] == ["a:personal-29:ed"]


def test_weekly_digest_goes_to_a_teams_board_channel(rig: Rig) -> None:
    seed(rig.core, ("Audit case files", "amira@council.example", -2))
    # The bot is added to the board's team: Teams sends a conversationUpdate from the channel.
    update = installed(rig.connector.url, "29:admin")
    update["conversation"] = {"id": BOARD, "conversationType": "channel", "tenantId": "tenant-1"}
    update["channelData"] = {"channel": {"id": BOARD}, "tenant": {"id": "tenant-1"}}
    assert rig.post(update).status_code == 200
    report = run_digest(rig.core, rig.senders)
    assert len(report.delivery.sent) == 1
    [post] = rig.connector.proactive()
    assert post.conversation_id == BOARD
    with transaction(rig.core.sessions) as session:
        row = session.scalars(select(OutboxMessage)).one()
        assert row.status == OutboxStatus.SENT and row.platform == "teams"


def test_removed_bot_is_a_permanent_failure_reported_to_chairs(rig: Rig) -> None:
    seed(rig.core, ("Audit case files", "dana@partner.example", 0))
    rig.connector.members["29:dana"] = {"name": "Dana", "email": "dana@partner.example"}
    rig.post(message(rig.connector.url, "29:dana", "action help"))
    rig.connector.fail_next = [403]
    report = run_reminders(
        rig.core, rig.senders, WorkingCalendar.from_settings(rig.core.settings)
    )
    assert report.delivery.failed and not report.delivery.retried


def test_garbage_and_half_activities_do_not_break_the_endpoint(rig: Rig) -> None:
    bad = rig.http.post(f"{rig.url}/api/messages", content=b"not json")
    assert bad.status_code == 400
    assert rig.post({"type": "message", "text": "status"}).status_code == 200
    assert rig.connector.posts == []


def test_assign_by_mention_reaches_someone_the_bot_has_never_met(rig: Rig) -> None:
    [number] = seed(rig.core, ("Audit case files", None, 5))
    rig.connector.members["29:chair"] = {"name": "Chair", "email": CHAIR_EMAIL}
    # Dee has never installed the app or written to the bot: only the channel knows her.
    rig.connector.members["29:dee"] = {"name": "Dee Jones", "email": "Dee@Partner.example"}
    activity = message(
        rig.connector.url,
        "29:chair",
        f"<at>ActionBot</at> assign {number} <at>Dee Jones</at>",
        conversation=f"{BOARD};messageid=1800",
        conversation_type="channel",
        channel_id=BOARD,
        entities=[
            {"type": "mention", "text": "<at>ActionBot</at>", "mentioned": {"id": "28:bot-app-id"}},
            {
                "type": "mention",
                "text": "<at>Dee Jones</at>",
                "mentioned": {"id": "29:dee", "name": "Dee Jones"},
            },
        ],
    )
    assert rig.post(activity).status_code == 200
    [reply] = rig.connector.replies()
    assert f"#{number}" in reply.card_text and "Dee Jones" in reply.card_text
    with transaction(rig.core.sessions) as session:
        action = session.get(Action, number)
        assert action is not None and action.owner is not None
        assert action.owner.email == "dee@partner.example"
        assert [(i.platform, i.external_id) for i in action.owner.identities] == [
            (Platform.TEAMS, "29:dee")
        ]
    # Her new-assignment message opened a personal chat with her.
    assert [c["members"] for c in rig.connector.created] == [[{"id": "29:dee"}]]
    [told] = rig.connector.proactive()
    assert told.conversation_id == "a:personal-29:dee" and f"#{number}" in told.card_text


def executes(card: dict[str, Any]) -> list[dict[str, Any]]:
    """The data of every `Action.Execute` button of a card (nested forms included)."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Execute":
                found.append(node["data"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


def card_of(answer: httpx.Response) -> dict[str, Any]:
    """The card an invoke was answered with (what Teams puts in place of the pressed one)."""
    assert answer.status_code == 200
    body = answer.json()
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive", body
    return dict(body["value"])


def text_of(card: dict[str, Any]) -> str:
    return Post("", None, {"attachments": [{"content": card}]}).card_text


def post_id(rig: Rig, post: Post) -> str:
    """The id the fake connector gave `post` (what a press on it names as replyToId)."""
    return f"activity-{rig.connector.posts.index(post) + 1}"


def test_pressing_done_on_a_reminder_redraws_it_without_buttons(rig: Rig) -> None:
    [number] = seed(rig.core, ("Audit case files", "dana@partner.example", 0))
    rig.connector.members["29:dana"] = {"name": "Dana", "email": "dana@partner.example"}
    rig.post(installed(rig.connector.url, "29:dana", name="Dana"))
    rig.post(message(rig.connector.url, "29:dana", "action help"))
    run_reminders(rig.core, rig.senders, WorkingCalendar.from_settings(rig.core.settings))
    [reminder] = rig.connector.proactive()
    assert executes(reminder.card)[0] == {"actionbot": "done", "action": number}
    press = card_action(
        rig.connector.url,
        "29:dana",
        {"actionbot": "done", "action": number},
        reply_to=post_id(rig, reminder),
    )
    card = card_of(rig.post(press))
    assert executes(card) == []  # done: no buttons left to press
    assert f"#{number}" in text_of(card) and "Audit case files" in text_of(card)
    with transaction(rig.core.sessions) as session:
        assert session.get(Action, number).status == Status.DONE  # type: ignore[union-attr]
    # Pressed again on a stale copy: nothing changes, the card still shows no buttons.
    again = card_of(rig.post(press))
    assert executes(again) == []
    assert len(evidence(rig.core, number)) == 1


def test_pressing_a_button_in_a_list_redraws_the_list(rig: Rig) -> None:
    first, second = seed(
        rig.core,
        ("Audit case files", "amira@council.example", 3),
        ("Train managers", "amira@council.example", 4),
    )
    rig.connector.members["29:amira"] = {"name": "Amira", "email": "amira@council.example"}
    rig.post(message(rig.connector.url, "29:amira", "action list mine"))
    [listing] = rig.connector.replies()
    assert {d["view"] for d in executes(listing.card)} == {"/action list mine"}
    press = card_action(
        rig.connector.url,
        "29:amira",
        {"actionbot": "done", "action": first, "view": "/action list mine"},
        reply_to=post_id(rig, listing),
    )
    card = card_of(rig.post(press))
    shown = text_of(card)
    assert "Audit case files" in shown and "Train managers" in shown
    assert {d["action"] for d in executes(card)} == {second}  # only the open one has buttons
    note = {
        "actionbot": "update",
        "action": second,
        "view": "/action list mine",
        f"note_{second}_update": "Draft <b>sent</b>",
    }
    card = card_of(rig.post(card_action(rig.connector.url, "29:amira", note, reply_to="x")))
    assert "Train managers" in text_of(card)
    assert [e[7] for e in evidence(rig.core, second) if e[3] == "note"] == ["Draft <b>sent</b>"]
    assert len(rig.connector.replies()) == 1  # answered in place, not with new messages


def test_a_button_view_that_is_not_a_listing_is_never_run(rig: Rig) -> None:
    first, second = seed(
        rig.core,
        ("Audit case files", "amira@council.example", 3),
        ("Train managers", "amira@council.example", 4),
    )
    rig.connector.members["29:amira"] = {"name": "Amira", "email": "amira@council.example"}
    forged = {"actionbot": "done", "action": first, "view": f"/action done {second}"}
    card = card_of(rig.post(card_action(rig.connector.url, "29:amira", forged, reply_to="x")))
    assert f"#{first}" in text_of(card)
    with transaction(rig.core.sessions) as session:
        assert session.get(Action, second).status == Status.OPEN  # type: ignore[union-attr]


def test_an_invoke_without_a_note_changes_nothing_and_says_why(rig: Rig) -> None:
    [number] = seed(rig.core, ("Audit case files", "amira@council.example", 3))
    rig.connector.members["29:amira"] = {"name": "Amira", "email": "amira@council.example"}
    empty = {"actionbot": "blocked", "action": number, f"note_{number}_blocked": "  "}
    answer = rig.post(card_action(rig.connector.url, "29:amira", empty, reply_to="x"))
    assert answer.status_code == 200
    assert answer.json() == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "Please write a few words.",
    }
    assert evidence(rig.core, number) == []


def test_other_invokes_still_get_an_empty_200(rig: Rig) -> None:
    activity = card_action(rig.connector.url, "29:amira", {}, reply_to="x")
    activity["name"] = "composeExtension/query"
    answer = rig.post(activity)
    assert answer.status_code == 200 and answer.content == b""


def test_a_reminder_reaches_an_owner_learned_from_a_mention(rig: Rig) -> None:
    [number] = seed(rig.core, ("Audit case files", "dee@partner.example", 0))
    rig.connector.members["29:chair"] = {"name": "Chair", "email": CHAIR_EMAIL}
    rig.connector.members["29:dee"] = {"name": "Dee Jones", "email": "Dee@Partner.example"}
    # The chair names Dee in the board channel; she has never installed the app.
    activity = message(
        rig.connector.url,
        "29:chair",
        "<at>ActionBot</at> status <at>Dee Jones</at>",
        conversation=f"{BOARD};messageid=1900",
        conversation_type="channel",
        channel_id=BOARD,
        entities=[
            {"type": "mention", "text": "<at>ActionBot</at>", "mentioned": {"id": "28:bot-app-id"}},
            {
                "type": "mention",
                "text": "<at>Dee Jones</at>",
                "mentioned": {"id": "29:dee", "name": "Dee Jones"},
            },
        ],
    )
    assert rig.post(activity).status_code == 200
    report = run_reminders(
        rig.core, rig.senders, WorkingCalendar.from_settings(rig.core.settings)
    )
    assert len(report.delivery.sent) == 1, report
    [created] = rig.connector.created
    assert created["members"] == [{"id": "29:dee"}] and created["isGroup"] is False
    assert created["tenantId"] == "tenant-1"
    assert created["channelData"] == {"tenant": {"id": "tenant-1"}}
    [sent] = rig.connector.proactive()
    assert sent.conversation_id == "a:personal-29:dee" and f"#{number}" in sent.card_text
    # The new chat is kept: the next message goes straight there.
    with transaction(rig.core.sessions) as session:
        dee = session.scalars(select(Person).where(Person.email == "dee@partner.example")).one()
        assert [(i.platform, i.external_id) for i in dee.identities] == [
            (Platform.TEAMS, "29:dee")
        ]


def test_digest_goes_to_a_board_channel_known_only_by_its_reference(rig: Rig) -> None:
    seed(rig.core, ("Audit case files", "amira@council.example", -2))
    board = "general-channel"  # not shaped like 19:…@thread.tacv2
    update = installed(rig.connector.url, "29:admin")
    update["conversation"] = {"id": board, "conversationType": "channel", "tenantId": "tenant-1"}
    update["channelData"] = {"channel": {"id": board}, "tenant": {"id": "tenant-1"}}
    assert rig.post(update).status_code == 200
    settings = rig.core.settings.model_copy(update={"board_channel": board})
    core = dataclasses.replace(rig.core, settings=settings)
    report = run_digest(core, rig.senders)
    assert len(report.delivery.sent) == 1, report
    [post] = rig.connector.proactive()
    assert post.conversation_id == board
    assert post.card_text.startswith("Weekly digest") and "**1** overdue" in post.card_text
