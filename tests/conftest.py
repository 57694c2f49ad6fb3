"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL with TEST_DATABASE_URL),
a core on it with a clock the tests move, and callers of each role."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.clock import FixedClock
from bot.config import Settings
from bot.domain import Platform
from bot.domain.workdays import WorkingCalendar
from bot.people.directory import ConsoleDirectory
from bot.services.context import Caller, Core
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade

#: A Monday morning in winter (GMT), so "this week" and "overdue" are easy to reason about.
MONDAY = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)


def reset_postgres(url: str) -> None:
    """Empty the PostgreSQL test database so each test migrates from nothing."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "signoff: the board signs off delivered actions (the product's default)"
    )


@pytest.fixture
def database_url(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A freshly migrated database for one test.

    Tests written before sign-off mean "done is complete at once": the board's sign-off is
    off for them (a chair's `/board settings signoff off`); tests marked `signoff` run with
    the default, on.
    """
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path / 'test.db'}"
    upgrade(url)
    if request.node.get_closest_marker("signoff") is None:
        signoff_off(url)
    yield url


def signoff_off(url: str) -> None:
    """Turn the board's sign-off off, as a chair's `/board settings signoff off` does."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO board_settings (key, value, changed_at) VALUES ('signoff', 'off', :at)"
            ),
            {"at": MONDAY.replace(tzinfo=None) if url.startswith("sqlite") else MONDAY},
        )
    engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        chair_user_ids=("chair",),
        bot_timezone="Europe/London",
    )


@pytest.fixture
def core(settings: Settings, clock: FixedClock) -> Iterator[Core]:
    engine = make_engine(settings.database_url)
    yield Core(
        settings=settings,
        sessions=make_session_factory(engine),
        clock=clock,
        directories={Platform.CONSOLE: ConsoleDirectory()},
    )
    engine.dispose()


@pytest.fixture
def chair() -> Caller:
    return Caller(Platform.CONSOLE, "chair", display_name="Chair")


@pytest.fixture
def amira() -> Caller:
    return Caller(Platform.CONSOLE, "amira", display_name="Amira")


@pytest.fixture
def ben() -> Caller:
    return Caller(Platform.CONSOLE, "ben", display_name="Ben")


@pytest.fixture
def calendar(core: Core) -> WorkingCalendar:
    """The working calendar of the tests' settings (London, England's bank holidays)."""
    return WorkingCalendar.from_settings(core.settings)
