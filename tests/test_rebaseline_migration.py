"""Migration 0011 keeps every action: its current deadline becomes its baseline, nothing has
moved yet, and a downgrade gives the rows back as they were."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from alembic.command import downgrade
from sqlalchemy import insert, select, text

from bot.domain import Status
from storage.db import make_engine
from storage.migrate import alembic_config, upgrade
from storage.models import Action
from tests.conftest import reset_postgres
from tests.test_migrations import OLD_PEOPLE

AT = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)


def _url(tmp_path: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        reset_postgres(url)
        return url
    return f"sqlite:///{tmp_path / 'old.db'}"


def test_existing_actions_take_their_deadline_as_baseline(tmp_path: Path) -> None:
    url = _url(tmp_path)
    upgrade(url, "0010")
    engine = make_engine(url)
    try:
        # Plain inserts of the columns 0010 has: the models describe the newest schema.
        with engine.begin() as conn:
            amira = conn.execute(
                insert(OLD_PEOPLE).values(display_name="Amira", role="none", created_at=AT)
            ).inserted_primary_key[0]
            rows = {}
            for title, due in (("Dated", dt.date(2026, 12, 18)), ("Ongoing", None)):
                rows[title] = conn.execute(
                    insert(Action.__table__).values(
                        title=title,
                        owner_id=amira,
                        due_date=due,
                        status=Status.OPEN.value,
                        created_at=AT,
                        updated_at=AT,
                        version=3,
                    )
                ).inserted_primary_key[0]
        upgrade(url)
        with engine.connect() as conn:
            found = conn.execute(
                select(
                    Action.__table__.c.title,
                    Action.__table__.c.due_date,
                    Action.__table__.c.baseline_due,
                    Action.__table__.c.rebaselines,
                    Action.__table__.c.version,
                ).order_by(Action.__table__.c.id)
            ).all()
            requests = conn.execute(text("SELECT count(*) FROM date_requests")).scalar_one()
        assert [tuple(row) for row in found] == [
            ("Dated", dt.date(2026, 12, 18), dt.date(2026, 12, 18), 0, 3),
            ("Ongoing", None, None, 0, 3),
        ]
        assert requests == 0

        downgrade(alembic_config(url), "0010")
        with engine.connect() as conn:
            kept = conn.execute(
                text("SELECT title, due_date, version FROM actions ORDER BY id")
            ).all()
            columns = conn.execute(text("SELECT * FROM actions")).keys()
        assert [(t, str(d) if d else None, v) for t, d, v in kept] == [
            ("Dated", "2026-12-18", 3),
            ("Ongoing", None, 3),
        ]
        assert "baseline_due" not in columns and "rebaselines" not in columns
    finally:
        engine.dispose()
