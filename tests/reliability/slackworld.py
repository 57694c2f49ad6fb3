"""A plan of many Slack owners on the test database, and cores that deliver to a FakeSlack."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from bot.clock import FixedClock
from bot.config import Settings
from bot.domain import Platform, Status
from bot.domain.workdays import WorkingCalendar
from bot.people.directory import ConsoleDirectory
from bot.services.context import Core
from handlers.slack.client import build_web_client
from handlers.slack.directory import SlackDirectory
from handlers.slack.sender import SlackSender
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Action, Identity, Person
from tests.support.fake_slack import FakeSlack
from tests.support.fake_time import pacer_on

BOARD = "C0BOARD01"
CHAIR_ID = "U0CHAIR"


def owner_id(n: int) -> str:
    return f"U{n:07d}"


def settings_for(database_url: str, fake: FakeSlack) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        slack_bot_token="xoxb-test",
        slack_signing_secret="secret",
        slack_api_url=fake.api_url,
        chair_user_ids=(CHAIR_ID,),
        board_channel=BOARD,
        bot_timezone="Europe/London",
    )


def slack_core(
    database_url: str, fake: FakeSlack, at: dt.datetime, *, timeout: float | None = None
) -> tuple[Core, list[SlackSender], WorkingCalendar]:
    """A core with its own engine (like a separate worker process) and its Slack sender."""
    settings = settings_for(database_url, fake)
    client = build_web_client("xoxb-test", base_url=fake.api_url)
    if timeout is not None:
        client.timeout = int(timeout) if timeout >= 1 else timeout  # type: ignore[assignment]
    clock = FixedClock(at)
    core = Core(
        settings=settings,
        sessions=make_session_factory(make_engine(database_url)),
        clock=clock,
        directories={Platform.CONSOLE: ConsoleDirectory(), Platform.SLACK: SlackDirectory(client)},
    )
    # The sender's pacing keeps the worker's time: a Retry-After passes as the test moves it.
    sender = SlackSender(client, core, pacer=pacer_on(clock))
    return core, [sender], WorkingCalendar.from_settings(settings)


def seed_owners(database_url: str, count: int, due: dt.date, *, start: int = 1) -> list[str]:
    """`count` open actions, each owned by its own Slack user, all due on `due`."""
    created = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    engine = make_engine(database_url)
    users = [owner_id(n) for n in range(start, start + count)]
    with transaction(make_session_factory(engine)) as session:
        chair = Person(display_name="Sarah Chair", created_at=created)
        chair.identities.append(Identity(platform=Platform.SLACK, external_id=CHAIR_ID))
        if start == 1:
            session.add(chair)
        for user in users:
            owner = Person(display_name=f"Owner {user}", created_at=created)
            owner.identities.append(Identity(platform=Platform.SLACK, external_id=user))
            session.add(Action(title=f"Action for {user}", owner=owner, due_date=due,
                               status=Status.OPEN, created_at=created, updated_at=created))
    engine.dispose()
    return users


def posts_by_channel(fake: FakeSlack, token: str | None = None) -> Counter[str]:
    """Successful chat.postMessage calls by destination (a user id and its DM are one);
    with `token`, only calls made with it (a stray process elsewhere cannot pollute them)."""
    counts: Counter[str] = Counter()
    for call in fake.calls("chat.postMessage", ok=True):
        if token is not None and call.headers.get("authorization") != f"Bearer {token}":
            continue
        channel = str(call.params.get("channel"))
        counts[channel[1:] if channel.startswith("DU") else channel] += 1
    return counts
