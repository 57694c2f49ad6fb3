"""The composition root: builds a process's engine, core, directories and senders, once.

Every entry point (serve and each of its worker processes, socket, worker, run, console,
import, export) calls `compose` exactly once and hands the parts to the adapters as
arguments; no adapter imports this module. One sender per platform per process matters: a
sender owns its pacer, and two pacers would each think they had Slack's whole allowance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.domain import Platform
from bot.people.directory import ConsoleDirectory, Directory
from bot.services.context import Core
from storage.db import make_engine, make_session_factory

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.outbox.sender import Sender
    from handlers.slack.directory import SlackDirectory
    from handlers.slack.install import Workspaces
    from handlers.slack.sender import SlackSender
    from handlers.teams.connector import Connector
    from handlers.teams.directory import TeamsDirectory
    from handlers.teams.sender import TeamsSender


@dataclass(frozen=True)
class SlackParts:
    """Slack's Web API client, its user directory and the one sender (with its pacers), and
    the installations when the app can be installed in many workspaces."""

    client: WebClient
    directory: SlackDirectory
    sender: SlackSender
    workspaces: Workspaces | None = None


@dataclass(frozen=True)
class TeamsParts:
    """The Bot Connector client, the Teams directory and the one Teams sender."""

    connector: Connector
    directory: TeamsDirectory
    sender: TeamsSender


@dataclass(frozen=True)
class Process:
    """Everything one process runs on; built by `compose`, never changed afterwards."""

    core: Core
    engine: Engine
    slack: SlackParts | None = None
    teams: TeamsParts | None = None

    @property
    def senders(self) -> tuple[Sender, ...]:
        """The platforms the outbox delivers through, Slack first: someone on both is reached
        on Slack, as before Teams existed."""
        parts: list[Sender] = [p.sender for p in (self.slack, self.teams) if p is not None]
        return tuple(parts)

    @property
    def plan_directory(self) -> Directory:
        """Where a plan's owners are resolved: Slack's directory when Slack is configured."""
        if self.slack is not None:
            return self.slack.directory
        return self.core.directories[Platform.CONSOLE]

    def close(self) -> None:
        """Release the database connections (the process is ending)."""
        self.engine.dispose()


def compose(
    settings: Settings,
    *,
    clock: Clock | None = None,
    slack_client: WebClient | None = None,
    teams_connector: Connector | None = None,
) -> Process:
    """The process's parts: Slack when SLACK_BOT_TOKEN is set, Teams when it is configured.

    `slack_client` and `teams_connector` replace the configured ones (tests, benchmarks).
    """
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    client = slack_client or _slack_client(settings)
    connector = teams_connector or (_teams_connector(settings) if settings.teams_enabled else None)
    clock = clock or SystemClock()
    slack_directory = _slack_directory(client, clock) if client is not None else None
    teams_directory = _teams_directory(sessions, connector, clock) if connector else None
    directories: dict[Platform, Directory] = {Platform.CONSOLE: ConsoleDirectory()}
    if slack_directory is not None:
        directories[Platform.SLACK] = slack_directory
    if teams_directory is not None:
        directories[Platform.TEAMS] = teams_directory
    core = Core(
        settings=settings,
        sessions=sessions,
        clock=clock,
        directories=directories,
    )
    slack = teams = None
    if client is not None and slack_directory is not None:
        from handlers.slack.sender import SlackSender

        workspaces = _workspaces(settings, engine, client)
        sender = SlackSender(client, core, workspaces=workspaces)
        slack = SlackParts(client, slack_directory, sender, workspaces)
    if connector is not None and teams_directory is not None:
        from handlers.teams.sender import TeamsSender

        teams = TeamsParts(connector, teams_directory, TeamsSender(core, connector))
    return Process(core=core, engine=engine, slack=slack, teams=teams)


def _slack_client(settings: Settings) -> WebClient | None:
    """Slack's Web API client (SLACK_API_URL, retries for 429/5xx) when SLACK_BOT_TOKEN is set
    or the install flow is on (each call then goes with its workspace's token)."""
    if settings.slack_bot_token is None and not settings.slack_install_enabled:
        return None
    from handlers.slack.client import build_web_client

    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return build_web_client(token, base_url=settings.slack_api_url)


def _workspaces(settings: Settings, engine: Engine, client: WebClient) -> Workspaces | None:
    """The installations, when SLACK_CLIENT_ID and SLACK_CLIENT_SECRET turn the install flow
    on (InstallNotConfigured, naming the variable, when it cannot run as configured)."""
    if not settings.slack_install_enabled:
        return None
    from handlers.slack.install import Workspaces

    return Workspaces(settings, engine, client=client)


def _teams_connector(settings: Settings) -> Connector:
    from handlers.teams.connector import Connector, token_source

    return Connector(token_source(settings))


def _slack_directory(client: WebClient, clock: Clock) -> SlackDirectory:
    from handlers.slack.directory import SlackDirectory

    return SlackDirectory(client, clock=clock)


def _teams_directory(
    sessions: sessionmaker[Session], connector: Connector, clock: Clock
) -> TeamsDirectory:
    from handlers.teams.directory import TeamsDirectory

    return TeamsDirectory(sessions, connector=connector, clock=clock)
