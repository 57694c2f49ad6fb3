# ruff: noqa: F811 - pytest fixtures imported by name
"""3. Slack faults: 429 with Retry-After, 500s, timeouts and resets, during deliveries and
commands. Everything is delivered in the end; permanent errors reach the chairs."""

from __future__ import annotations

import datetime as dt
import random

import httpx
from sqlalchemy import select

from bot.domain import Platform
from bot.outbox.delivery import UNREACHABLE, deliver
from scheduler.jobs import plan_messages
from storage.db import transaction
from storage.models import OutboxMessage, OutboxStatus
from tests.conftest import MONDAY
from tests.reliability import slackworld
from tests.reliability.conftest import SOAK, Tally
from tests.reliability.slackworld import CHAIR_ID, posts_by_channel, seed_owners
from tests.support.fake_slack import FakeSlack
from tests.support.slack_signing import signed_headers, slash_command_body
from tests.test_slack_http import (  # noqa: F401 - fixtures
    AMIRA,
    BEN,
    CHAIR,
    SECRET,
    SlackUser,
    base,
    bot,
    dm,
    slack,
    slack_core,
    slack_process,
    wait_until,
)


def test_deliveries_survive_every_kind_of_slack_fault(database_url: str, tally: Tally) -> None:
    count = 400 if SOAK else 80
    rng = random.Random(7)
    faults = {"429 short": 0, "429 long": 0, "500": 0, "reset": 0, "timeout": 0}
    with FakeSlack() as fake:
        users = seed_owners(database_url, count, MONDAY.date())
        gone = users[-1]
        fake.fail_when("chat.postMessage", lambda p: p.get("channel") == gone,
                       error="user_not_found")
        core, senders, calendar = slackworld.slack_core(database_url, fake, MONDAY, timeout=0.5)
        clock = core.clock
        planned = plan_messages(core, calendar, platforms=[Platform.SLACK])
        for _ in range(200):
            with transaction(core.sessions) as session:
                due = list(session.scalars(select(OutboxMessage.id).where(
                    OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))))
            if not due:
                break
            for _ in range(1 if len(due) > 10 and rng.random() < 0.7 else 0):
                kind = rng.choice(list(faults))
                faults[kind] += 1
                if kind == "429 short":
                    fake.fail_next("chat.postMessage", status=429, retry_after=0)
                elif kind == "429 long":
                    fake.fail_next("chat.postMessage", status=429, retry_after=120)
                elif kind == "500":
                    fake.fail_next("chat.postMessage", status=500, times=rng.randint(1, 3))
                elif kind == "reset":
                    fake.fail_next("chat.postMessage", reset=True, times=rng.randint(1, 3))
                else:
                    fake.fail_next("chat.postMessage", delay=0.8)
            deliver(core, senders, ids=rng.sample(due, min(len(due), 4)))
            clock.advance(dt.timedelta(minutes=rng.choice([1, 5, 30, 61])))  # past some backoff
        fake.clear_faults()
        fake.fail_when("chat.postMessage", lambda p: p.get("channel") == gone,
                       error="user_not_found")
        deliver(core, senders)
        posts = posts_by_channel(fake)
        with transaction(core.sessions) as session:
            rows = {r.key: r for r in session.scalars(select(OutboxMessage))}
            for r in rows.values():
                session.expunge(r)
    reminders = [r for r in rows.values() if r.kind != UNREACHABLE]
    missing = [u for u in users[:-1] if posts[u] == 0]
    duplicated = sum(n - 1 for u, n in posts.items() if n > 1)
    tally.add("3 slack faults", faults=sum(faults.values()), inputs=count,
              sent=sum(posts.values()), lost=len(missing), duplicated=duplicated,
              note=f"deliveries: {faults}")
    assert planned and missing == []
    failed = [r for r in reminders if r.status == OutboxStatus.FAILED]
    # The user who left, and only they: their bundle and the reminders it carried.
    assert {r.recipient.identities[0].external_id for r in failed if r.recipient} == {gone}
    assert all(r.status == OutboxStatus.SENT for r in reminders if r not in failed)
    # The permanent failure reached the chair, naming who could not be reached.
    notices = [r for r in rows.values() if r.kind == UNREACHABLE]
    assert notices and all(r.status == OutboxStatus.SENT for r in notices)
    assert posts[CHAIR_ID] >= 1
    # A duplicate can only come from a timeout: Slack posted, the answer never reached us.
    assert duplicated <= faults["timeout"]


def test_commands_are_answered_while_slack_misbehaves(
    base: str, slack: FakeSlack, slack_core: object, bot: object, tally: Tally
) -> None:
    def post(user: str, text: str) -> httpx.Response:
        body = slash_command_body(text=text, user_id=user,
                                  response_url=slack.response_url(f"cmd-{user}"))
        return httpx.post(f"{base}/slack/events", content=body,
                          headers=signed_headers(body, SECRET), timeout=15)

    cases = [
        ("users.info", dict(status=500, times=5)),
        ("users.info", dict(reset=True, times=5)),
        ("users.info", dict(status=429, retry_after=1, times=1)),
        ("users.info", dict(status=429, retry_after=60, times=5)),
        ("users.info", dict(error="fatal_error", status=200, times=5)),
    ]
    for index, (method, fault) in enumerate(cases):
        slack.fail_next(method, **fault)  # type: ignore[arg-type]
        user = f"UNEW{index:03d}"
        slack.add_user(user, f"new{index}@council.example", f"New Person {index}")
        response = post(user, "list")
        tally.add("3 slack faults", faults=1, inputs=1)
        assert response.status_code == 200, (fault, response.text)
        answer = response.json()
        assert answer["response_type"] == "ephemeral" and answer["text"], (fault, answer)
        slack.clear_faults()
    # A DM after a command that fails for a while: the chair's answer comes at once, the
    # owner's DM goes out when Slack recovers (the outbox row is retried, not dropped).
    post(AMIRA, "help")
    slack.fail_next("chat.postMessage", status=500, times=3)
    slack.fail_next("chat.postMessage", reset=True, times=3)
    response = post(CHAIR, f"add Audit under fire <@{AMIRA}> due 2026-12-04")
    tally.add("3 slack faults", faults=6, inputs=2)
    assert response.status_code == 200 and response.json()["text"].startswith("Added action #")
    core = slack_core
    bot.close()  # type: ignore[attr-defined]  # the delivery after the ack has run
    for _ in range(5):  # then the worker's ticks, an hour apart, until Slack takes it
        if slack.messages_to(AMIRA):
            break
        core.clock.advance(dt.timedelta(hours=1))  # type: ignore[attr-defined]
        deliver(core, bot_senders(core))  # type: ignore[arg-type]
    dm(slack, AMIRA)
    assert _statuses(core) == {OutboxStatus.SENT}
    tally.add("3 slack faults", sent=len(slack.messages_to(AMIRA)))


def bot_senders(core: object) -> list[object]:
    from wiring.root import compose

    return list(compose(core.settings, clock=core.clock).senders)  # type: ignore[attr-defined]


def _statuses(core: object) -> set[OutboxStatus]:
    with transaction(core.sessions) as session:  # type: ignore[attr-defined]
        return set(session.scalars(select(OutboxMessage.status)))
