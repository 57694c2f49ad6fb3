"""Migration 0012 adds meetings and the plan's snapshots; the database keeps a snapshot as it
was taken (UPDATE and DELETE refused), and a downgrade removes both tables and the guards."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from alembic.command import downgrade
from sqlalchemy import delete, insert, inspect, update
from sqlalchemy.exc import DBAPIError

from storage.db import make_engine
from storage.migrate import alembic_config, upgrade
from storage.models import Meeting, PlanSnapshot
from tests.conftest import reset_postgres

AT = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)


def _url(tmp_path: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        reset_postgres(url)
        return url
    return f"sqlite:///{tmp_path / 'cycle.db'}"


def test_snapshots_are_append_only_and_the_downgrade_removes_the_tables(tmp_path: Path) -> None:
    url = _url(tmp_path)
    upgrade(url, "0012")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            meeting = conn.execute(
                insert(Meeting.__table__).values(
                    title="Improvement Board", starts_at=AT, created_at=AT
                )
            ).inserted_primary_key[0]
            conn.execute(
                insert(PlanSnapshot.__table__).values(
                    meeting_id=meeting,
                    taken_at=AT,
                    action_id=1,
                    title="Audit of EHCP timeliness",
                    status="open",
                    rebaselines=0,
                )
            )
        for statement in (
            update(PlanSnapshot).values(status="done"),
            delete(PlanSnapshot),
        ):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(statement)
        downgrade(alembic_config(url), "0011")
        tables = set(inspect(engine).get_table_names())
        assert "meetings" not in tables
        assert "plan_snapshots" not in tables
    finally:
        engine.dispose()
