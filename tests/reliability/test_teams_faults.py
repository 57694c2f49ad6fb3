"""Teams faults: the Bot Connector answers 429 with Retry-After, 500s, late answers (timeouts),
403 (the bot was removed) and 404 (the conversation is gone). Everything reachable is delivered
once, sends are paced, and a permanent failure reaches the chairs and drops the dead chat."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.config import Settings
from bot.domain import Platform, Status
from bot.outbox.delivery import UNREACHABLE, deliver
from bot.outbox.queue import enqueue
from bot.outbox.sender import SendError
from bot.people.directory import ConsoleDirectory
from bot.render.model import Message, Paragraph
from bot.services.context import Core
from handlers.teams.connector import Connector, NoToken
from handlers.teams.references import (
    Reference,
    conversation_key,
    get_reference,
    save_reference,
    user_key,
)
from handlers.teams.sender import TeamsSender
from storage.db import make_engine, make_session_factory, transaction
from storage.models import DEFAULT_BOARD_ID, Action, Identity, OutboxMessage, OutboxStatus, Person
from tests.conftest import MONDAY
from tests.reliability.conftest import SOAK, Tally
from tests.support.fake_connector import FakeConnector, fake_connector
from tests.support.fake_time import pacer_on

CHAIR = "29:chair"
REMOVED, GONE = "29:removed", "29:gone"
BOARD = "19:board@thread.tacv2"
#: The connector's answer is awaited this long; a scripted late answer takes longer.
CLIENT_TIMEOUT = 0.2
LATE = 0.4


def chat(user: str) -> str:
    """The personal chat the fake connector gives a user."""
    return f"a:personal-{user}"


@dataclass
class World:
    core: Core
    clock: FixedClock
    sender: TeamsSender
    connector: FakeConnector
    http: httpx.Client


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        chair_user_ids=(CHAIR,),
        teams_insecure_no_auth=True,
        bot_timezone="Europe/London",
    )
    engine = make_engine(database_url)
    clock = FixedClock(MONDAY)
    core = Core(
        settings=settings,
        sessions=make_session_factory(engine),
        clock=clock,
        directories={Platform.CONSOLE: ConsoleDirectory()},
    )
    with fake_connector() as connector, httpx.Client(timeout=CLIENT_TIMEOUT) as http:
        # The sender's pacing keeps the test's time: a Retry-After passes as the clock moves.
        sender = TeamsSender(core, Connector(NoToken(), http=http), pacer=pacer_on(clock))
        yield World(core, clock, sender, connector, http)
    engine.dispose()


def seed(world: World, users: list[str], *, chair: bool = True) -> None:
    """The chair, and one queued message per user, each user known by a personal chat.

    The messages are queued as any notice is (an outbox row per recipient): what is proven
    here is the Teams side of delivery, whatever planning and bundling put in the outbox.
    """
    created = MONDAY - dt.timedelta(days=30)
    with transaction(world.core.sessions) as session:
        for user in [CHAIR, *users] if chair else users:
            person = Person(display_name=f"Person {user}", created_at=created)
            person.identities.append(Identity(platform=Platform.TEAMS, external_id=user))
            session.add(person)
            save_reference(session, reference(world, user), now=created)
            if user == CHAIR:
                continue
            action = Action(title=f"Action for {user}", owner=person, due_date=MONDAY.date(),
                            status=Status.OPEN, created_at=created, updated_at=created)
            session.add(action)
            session.flush()
            text = f"#{action.id} Action for {user} is due today"
            enqueue(session, board_id=DEFAULT_BOARD_ID, key=f"teams-fault:{user}", kind="reminder",
                    message=Message(text=text, blocks=[Paragraph(text=text)]),
                    now=world.core.now(), recipient=person, action=action)


def reference(world: World, user: str) -> Reference:
    return Reference(key=user_key(user), service_url=world.connector.url,
                     conversation_id=chat(user), conversation_type="personal",
                     tenant_id="tenant-1", bot_id="28:bot", user_id=user)


def outstanding(core: Core) -> list[int]:
    with transaction(core.sessions) as session:
        return list(session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))))


def rows(core: Core) -> list[OutboxMessage]:
    with transaction(core.sessions) as session:
        found = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        for row in found:
            _ = row.recipient and row.recipient.identities  # loaded before the session ends
            session.expunge(row)
        return found


def posts_by_chat(connector: FakeConnector) -> Counter[str]:
    return Counter(p.conversation_id for p in connector.proactive())


def test_deliveries_survive_every_kind_of_teams_fault(world: World, tally: Tally) -> None:
    count = 300 if SOAK else 60
    rng = random.Random(18)
    users = [f"29:owner-{n:04d}" for n in range(count)]
    seed(world, [*users, REMOVED, GONE])
    world.connector.refused.update({chat(REMOVED): 403, chat(GONE): 404})
    faults = {"429 short": 0, "429 long": 0, "500": 0, "timeout": 0}
    for _ in range(300):
        due = outstanding(world.core)
        if not due:
            break
        # A fault is scripted only once the last one was met, so each one counted was served.
        idle = not world.connector.fail_next and not world.connector.delay_next
        if idle and len(due) > 10 and rng.random() < 0.7:
            kind = rng.choice(list(faults))
            faults[kind] += 1
            if kind == "429 short":
                world.connector.retry_after = "0"
                world.connector.fail_next.append(429)
            elif kind == "429 long":
                world.connector.retry_after = "120"
                world.connector.fail_next.append(429)
            elif kind == "500":
                world.connector.fail_next.extend([500] * rng.randint(1, 3))
            else:
                world.connector.delay_next.append(LATE)
        deliver(world.core, [world.sender], ids=rng.sample(due, min(len(due), 2)))
        world.clock.advance(dt.timedelta(minutes=rng.choice([1, 5, 30, 61])))  # past a backoff
    world.connector.fail_next.clear()
    world.connector.delay_next.clear()
    deliver(world.core, [world.sender])
    posts = posts_by_chat(world.connector)
    sent = rows(world.core)
    missing = [u for u in users if posts[chat(u)] == 0]
    duplicated = sum(posts[chat(u)] - 1 for u in users if posts[chat(u)] > 1)
    tally.add("9 teams faults", faults=sum(faults.values()) + 2, inputs=count + 2,
              sent=sum(posts.values()), lost=len(missing), duplicated=duplicated,
              note=f"deliveries: {faults}, plus a removed bot (403) and a gone chat (404)")
    assert missing == [] and outstanding(world.core) == []
    reminders = [r for r in sent if r.kind != UNREACHABLE]
    failed = [r for r in reminders if r.status == OutboxStatus.FAILED]
    assert {r.recipient.identities[0].external_id for r in failed if r.recipient} == {
        GONE, REMOVED}
    assert all(r.status == OutboxStatus.SENT for r in reminders
               if r.recipient is not None and r.recipient.identities[0].external_id in users)
    # Each permanent failure reached the chair, saying why in words a chair can act on.
    notices = [r for r in sent if r.kind == UNREACHABLE]
    assert len(notices) == 2 and all(r.status == OutboxStatus.SENT for r in notices)
    assert posts[chat(CHAIR)] == 2
    reasons = {r.recipient.identities[0].external_id: r.last_error for r in reminders
               if r.status == OutboxStatus.FAILED and r.recipient is not None}
    assert "removed" in str(reasons[REMOVED]) and "no longer exists" in str(reasons[GONE])
    # The dead chats are forgotten; the people are still known by their references.
    with transaction(world.core.sessions) as session:
        for user in (REMOVED, GONE):
            ref = get_reference(session, key=user_key(user))
            assert ref is not None and ref.conversation_id is None and ref.user_id == user
        assert get_reference(session, key=user_key(users[0])) == reference(world, users[0])
    assert faults["429 short"] and faults["429 long"] and faults["500"] and faults["timeout"]
    # A duplicate can only come from a late answer: Teams posted, the answer never reached us.
    assert duplicated <= faults["timeout"]


def test_a_short_retry_after_is_waited_out_in_pace_and_delivered_once(
    world: World, tally: Tally
) -> None:
    users = [f"29:paced-{n:03d}" for n in range(30)]
    seed(world, users)
    world.connector.retry_after = "3"
    first = deliver(world.core, [world.sender], limit=15)  # a burst the connector took
    assert len(first.sent) == 30 and world.sender.pacer.rate is None  # unpaced until told
    world.connector.fail_next.append(429)
    later = [f"29:later-{n:03d}" for n in range(20)]
    seed(world, later, chair=False)
    before = world.clock.now()
    report = deliver(world.core, [world.sender])
    waited = (world.clock.now() - before).total_seconds()
    posts = posts_by_chat(world.connector)
    tally.add("9 teams faults", faults=1, inputs=50, sent=sum(posts.values()),
              lost=sum(1 for u in [*users, *later] if posts[chat(u)] == 0),
              duplicated=sum(n - 1 for n in posts.values() if n > 1))
    assert len(report.sent) == 20 and not report.retried
    assert all(posts[chat(u)] == 1 for u in [*users, *later])
    # The 429 was waited out in the sending thread (on the test's clock, never slept), and
    # the sends after it were spaced at the rate it taught: not one burst.
    rate = world.sender.pacer.rate
    assert rate is not None
    assert waited >= 3 + 10 / rate


def test_a_removed_channel_is_a_permanent_failure_and_forgotten(world: World) -> None:
    with transaction(world.core.sessions) as session:
        save_reference(session, Reference(
            key=conversation_key(BOARD), service_url=world.connector.url,
            conversation_id=BOARD, conversation_type="channel", tenant_id="tenant-1",
            bot_id="28:bot"), now=MONDAY)
    world.connector.refused[BOARD] = 403
    message = Message(text="Weekly digest", blocks=[Paragraph(text="Weekly digest")])
    with pytest.raises(SendError) as raised:
        world.sender.send_to_channel(BOARD, message)
    assert raised.value.permanent and "removed" in raised.value.reason
    with transaction(world.core.sessions) as session:
        assert get_reference(session, key=conversation_key(BOARD)) is None
    # Gone from the directory's channels too; the next message says why without a call.
    calls = len(world.connector.calls)
    with pytest.raises(SendError, match="has not been added"):
        world.sender.send_to_channel(BOARD, message)
    assert len(world.connector.calls) == calls
