"""The composition root: the one place that builds engines, clients and the core."""

from __future__ import annotations

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.services.context import Core
from bot.services.directory import ConsoleDirectory, Directory
from storage.db import make_engine, make_session_factory
from storage.models import Platform


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
    return core.directories[Platform.CONSOLE]
