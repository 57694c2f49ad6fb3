"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL,
and carry the stored history along when its vocabulary changes."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.command import downgrade
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from bot.domain import Change, Status
from bot.render.from_storage import history_view
from bot.render.text import history_line
from storage.db import make_engine, make_session_factory
from storage.history_chain import verify_url
from storage.migrate import alembic_config, upgrade
from storage.models import Action, Base, HistoryEntry
from storage.types import UTCDateTime
from tests.conftest import reset_postgres

#: `people` before migration 0015 took roles to `board_members` (the models are the newest).
OLD_PEOPLE = Table(
    "people",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("display_name", String),
    Column("role", String),
    Column("created_at", UTCDateTime()),
)



def test_migrated_schema_matches_the_models(database_url: str) -> None:
    # A model change without its migration would work in tests that build tables from the
    # models and fail in production, which only ever migrates.
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_old_history_change_names_are_migrated_and_read(tmp_path: Path) -> None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0004")
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    try:
        # What the code before 0005 wrote: chat named a new blocked reason `blocked`, an
        # import `blocked_reason`.
        # Plain inserts of the columns 0004 has: the models describe the newest schema.
        with engine.begin() as conn:
            amira = conn.execute(
                insert(OLD_PEOPLE).values(display_name="Amira", role="member", created_at=AT)
            ).inserted_primary_key[0]
            action = conn.execute(
                insert(Action.__table__).values(
                    title="Share data",
                    owner_id=amira,
                    status=Status.BLOCKED.value,
                    blocked_reason="police data",
                    created_at=AT,
                    updated_at=AT,
                    version=1,
                )
            ).inserted_primary_key[0]
            for source, change, field, old, new, note in OLD_ENTRIES:
                conn.execute(
                    insert(HistoryEntry.__table__).values(
                        action_id=action,
                        actor_id=amira if source == "slack" else None,
                        source=source,
                        at=AT,
                        change=change,
                        field=field,
                        old_value=old,
                        new_value=new,
                        note=note,
                    )
                )

        upgrade(url)
        renamed = [
            ("slack", "blocked_reason", *entry[2:]) if entry[1] == "blocked" else entry
            for entry in OLD_ENTRIES
        ]
        assert entries(sessions) == renamed
        # Migration 0008 sealed what the older versions wrote: the chain verifies.
        assert verify_url(url).intact
        with sessions() as s:
            stored = s.scalars(select(HistoryEntry).order_by(HistoryEntry.id)).all()
            assert [Change(entry.change).field for entry in stored] == [
                entry.field for entry in stored
            ]
            line = history_line(history_view(stored[2]))
        assert line == "2026-11-23 09:30 Amira: blocked_reason rota → police data"
        # The guard is back: the history is append-only again.
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(update(HistoryEntry).values(change="x"))

        downgrade(alembic_config(url), "0004")
        assert entries(sessions) == OLD_ENTRIES
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(update(HistoryEntry).values(change="x"))
    finally:
        engine.dispose()


AT = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)
#: (source, change, field, old, new, note), oldest first.
OLD_ENTRIES = [
    ("slack", "created", None, None, "Share data", None),
    ("slack", "status", "status", "open", "blocked", "rota"),
    ("slack", "blocked", "blocked_reason", "rota", "police data", None),
    ("import", "blocked_reason", "blocked_reason", "police data", "police data", "row 2"),
    ("slack", "note", None, None, None, "chased"),
]


def entries(sessions: sessionmaker[Session]) -> list[tuple[object, ...]]:
    # Columns, not entities: after a downgrade the models describe a newer schema.
    h = HistoryEntry.__table__.c
    query = select(h.source, h.change, h.field, h.old_value, h.new_value, h.note).order_by(h.id)
    with sessions() as s:
        return [tuple(row) for row in s.execute(query)]
