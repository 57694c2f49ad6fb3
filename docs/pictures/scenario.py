"""The sample board on a Monday morning, and what the bot sends it: the messages of the pictures.

Everything here is the bot's own code at work on a temporary SQLite database with a clock that
is moved by hand: the sample plan (bot/plans/demo.py) is imported, last week's digest is
posted (so this week's shows what changed), an owner adds an update, then the weekly digest
and the morning's reminders go out through the real jobs and the real Slack and Teams senders,
and the App Home is drawn for a chair. Only the last step to the platform is replaced: the
senders' clients record what they were asked to post instead of calling Slack or Teams.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from slack_sdk import WebClient
from sqlalchemy import select

from bot.clock import FixedClock
from bot.config import Settings
from bot.domain import Platform
from bot.domain.workdays import WorkingCalendar
from bot.people.directory import Account, ConsoleDirectory
from bot.people.resolve import upsert_account
from bot.plans.demo import DEMO_CHAIR, PEOPLE, load_demo
from bot.services.context import Caller, Core
from bot.services.dispatch import run_command
from bot.services.home import home_message
from handlers.slack.blocks import home_view
from handlers.slack.sender import SlackSender
from handlers.teams.connector import Connector
from handlers.teams.references import Reference, conversation_key, save_reference
from handlers.teams.sender import TeamsSender
from scheduler.jobs import run_digest, run_reminders
from storage.db import make_engine, make_session_factory, transaction
from storage.migrate import upgrade
from storage.models import Action

#: The Monday of the pictures (fixed, so the pictures change only when the messages do).
MONDAY = dt.datetime(2026, 11, 23, 8, 30, tzinfo=dt.UTC)
TIMEZONE = "Europe/London"
SLACK_CHANNEL = "C0BOARD"
TEAMS_CHANNEL = "19:improvement-board@thread.tacv2"
CHANNEL_NAME = "improvement-board"
WORKSPACE = "Northshire Safeguarding Partnership"
#: Whose reminder is shown: Grace's action is due today.
REMINDED = "grace"
#: What owners type this morning before the digest (the plan's reference stands for the
#: action's number), so the digest has something done and something recent to say.
MORNING = (
    ("owen", "update", "IT-01", "Supplier's fix tested on the training system; release on Thu"),
    ("tom", "done", "QA-02", "Practice week held: 14 visits observed, findings to the board"),
)


def slack_id(name: str) -> str:
    """The Slack user id the sample gives a person (`U0GRACE`)."""
    return f"U0{name.upper()}"


def teams_id(name: str) -> str:
    """The Teams user id the sample gives a person."""
    return f"29:{name}"


@dataclass
class SlackPost:
    """What chat.postMessage was given: where, the notification text and the blocks."""

    channel: str
    text: str
    blocks: list[dict[str, Any]]


class RecordingSlack:
    """Stands in for slack_sdk's WebClient: keeps each chat.postMessage and answers ok."""

    def __init__(self) -> None:
        self.posts: list[SlackPost] = []

    def chat_postMessage(self, **kwargs: Any) -> dict[str, Any]:
        self.posts.append(SlackPost(kwargs["channel"], kwargs["text"], kwargs["blocks"]))
        return {"ok": True, "channel": kwargs["channel"], "ts": f"1700000000.{len(self.posts):06d}"}


class RecordingConnector:
    """Stands in for the Bot Connector client: keeps each activity posted and answers ok."""

    def __init__(self) -> None:
        self.activities: list[tuple[str, dict[str, Any]]] = []

    def send(
        self,
        service_url: str,
        conversation_id: str,
        activity: dict[str, Any],
        *,
        reply_to: str | None = None,
    ) -> str:
        self.activities.append((conversation_id, activity))
        return f"activity-{len(self.activities)}"


@dataclass
class Pictured:
    """The messages of the pictures, as each platform was asked to show them."""

    digest: SlackPost
    reminder: SlackPost
    home: dict[str, Any]
    teams_digest: dict[str, Any]
    #: Slack ids and Teams ids to the names the platforms would show.
    users: dict[str, str] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)


def settings_for(url: str, channel: str) -> Settings:
    # Only what is set here: a developer's .env must not change the pictures.
    values: dict[str, Any] = {
        "_env_file": None,
        "database_url": url,
        "board_channel": channel,
        "bot_timezone": TIMEZONE,
    }
    return Settings(**values)


def run(workdir: Path | None = None) -> Pictured:
    """Play the Monday morning on a fresh database in `workdir` (a temporary one if None)."""
    with tempfile.TemporaryDirectory(prefix="actionbot-pictures-") as scratch:
        url = f"sqlite:///{(workdir or Path(scratch)) / 'pictures.db'}"
        upgrade(url)
        engine = make_engine(url)
        try:
            return _play(url, engine)
        finally:
            engine.dispose()


def _play(url: str, engine: Any) -> Pictured:
    clock = FixedClock(MONDAY)
    sessions = make_session_factory(engine)
    directories = {Platform.CONSOLE: ConsoleDirectory()}
    slack_core = Core(settings_for(url, SLACK_CHANNEL), sessions, clock, directories)
    teams_core = Core(settings_for(url, TEAMS_CHANNEL), sessions, clock, directories)
    slack = RecordingSlack()
    connector = RecordingConnector()
    slack_sender = SlackSender(cast(WebClient, slack), slack_core)
    teams_sender = TeamsSender(teams_core, cast(Connector, connector))

    load_demo(slack_core)
    users = _accounts(slack_core)
    _teams_channel(teams_core)

    # Last Monday's digest, so this week's says what changed since.
    clock.set(MONDAY - dt.timedelta(days=7, minutes=-30))
    run_digest(slack_core, [slack_sender])
    run_digest(teams_core, [teams_sender])

    # Owners at work this morning, through the commands they would type.
    for minutes, (owner, verb, ref, note) in enumerate(MORNING, start=10):
        clock.set(MONDAY + dt.timedelta(minutes=minutes))
        with transaction(sessions) as session:
            action_id = session.scalar(select(Action.id).where(Action.ref == ref))
        outcome = run_command(slack_core, _caller(owner), "/action", f"{verb} {action_id} {note}")
        if outcome.message.tone == "error":
            raise RuntimeError(f"{owner}'s /action {verb} was refused: {outcome.message.text}")

    # The weekly digest at 09:00, then the morning's reminders.
    clock.set(MONDAY + dt.timedelta(minutes=30))
    slack.posts.clear()
    connector.activities.clear()
    run_digest(slack_core, [slack_sender])
    run_digest(teams_core, [teams_sender])
    [digest] = [p for p in slack.posts if p.channel == SLACK_CHANNEL]
    [(_, teams_digest)] = [a for a in connector.activities if a[0] == TEAMS_CHANNEL]

    clock.set(MONDAY + dt.timedelta(minutes=35))
    slack.posts.clear()
    calendar = WorkingCalendar.from_settings(slack_core.settings)
    run_reminders(slack_core, [slack_sender], calendar)
    reminders = [p for p in slack.posts if p.channel == slack_id(REMINDED)]
    if not reminders:
        sent = ", ".join(sorted({p.channel for p in slack.posts})) or "nobody"
        raise RuntimeError(f"no reminder went to {REMINDED} this morning (sent to: {sent})")

    chair = _caller(DEMO_CHAIR)
    home = home_view(
        home_message(slack_core, chair),
        today=slack_core.today(),
        tz=slack_core.settings.tz,
    )
    return Pictured(
        digest=digest,
        reminder=reminders[0],
        home=home,
        teams_digest=teams_digest,
        users=users,
        channels={SLACK_CHANNEL: CHANNEL_NAME, TEAMS_CHANNEL: CHANNEL_NAME},
    )


def _caller(name: str) -> Caller:
    person = next(p for p in PEOPLE if p.name == name)
    return Caller(
        Platform.SLACK, slack_id(name), display_name=person.display_name, email=person.email
    )


def _accounts(core: Core) -> dict[str, str]:
    """Give each person of the sample a Slack and a Teams account (matched by email)."""
    users: dict[str, str] = {}
    with transaction(core.sessions) as session:
        for person in PEOPLE:
            for platform, external_id in (
                (Platform.SLACK, slack_id(person.name)),
                (Platform.TEAMS, teams_id(person.name)),
            ):
                account = Account(platform, external_id, person.display_name, person.email)
                upsert_account(session, account=account, now=core.now())
                users[external_id] = person.display_name
    return users


def _teams_channel(core: Core) -> None:
    """The board's Teams channel as the bot knows it once added there."""
    with transaction(core.sessions) as session:
        save_reference(
            session,
            Reference(
                key=conversation_key(TEAMS_CHANNEL),
                service_url="https://smba.invalid/teams/",
                conversation_id=TEAMS_CHANNEL,
                tenant_id="northshire",
                bot_id="28:actionbot",
                conversation_type="channel",
                name=CHANNEL_NAME,
            ),
            now=core.now(),
        )
