"""The composition root: the one place that builds engines, clients and the core."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.services.context import Core
from bot.services.directory import ConsoleDirectory, Directory
from storage.db import make_engine, make_session_factory
from storage.models import Platform

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.outbox.delivery import Sender


def build_core(settings: Settings | None = None, *, clock: Clock | None = None) -> Core:
    """A core on the configured database; platforms add their directories to it."""
    settings = settings or Settings()
    engine = make_engine(settings.database_url)
    return Core(
        settings=settings,
        sessions=make_session_factory(engine),
        clock=clock or SystemClock(),
        directories={Platform.CONSOLE: ConsoleDirectory()},
    )


def import_directory(core: Core) -> Directory:
    """Where `actionbot import` resolves owners: Slack's directory when Slack is configured."""
    if Platform.SLACK in core.directories:
        return core.directories[Platform.SLACK]
    client = slack_client(core.settings)
    if client is not None:
        from handlers.slack.directory import SlackDirectory

        # Emails in a plan are resolved with users.lookupByEmail, ids with users.info.
        return SlackDirectory(client)
    return core.directories[Platform.CONSOLE]


def slack_client(settings: Settings) -> WebClient | None:
    """Slack's Web API client (SLACK_API_URL, retries for 429/5xx) when SLACK_BOT_TOKEN is set."""
    if settings.slack_bot_token is None:
        return None
    from handlers.slack.client import build_web_client

    return build_web_client(
        settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url
    )


def build_senders(core: Core, *, slack: WebClient | None = None) -> list[Sender]:
    """The platforms the outbox delivers through: Slack and Teams, each when configured."""
    senders: list[Sender] = []
    client = slack or slack_client(core.settings)
    if client is not None:
        from handlers.slack.sender import SlackSender

        senders.append(SlackSender(client, core))
    if core.settings.teams_enabled:
        from handlers.teams.app import build_connector
        from handlers.teams.directory import TeamsDirectory
        from handlers.teams.sender import TeamsSender

        # Teams after Slack: someone on both is reached on Slack, as before Teams existed.
        senders.append(TeamsSender(core, build_connector(core.settings)))
        core.directories.setdefault(Platform.TEAMS, TeamsDirectory(core))
    return senders
