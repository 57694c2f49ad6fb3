"""Migration 0009 keeps everyone and what they could do: the old `member` (no more than "not a
chair") becomes `none`, chairs stay chairs, and a downgrade gives `member` back."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from alembic.command import downgrade
from sqlalchemy import insert, select

from storage.db import make_engine
from storage.migrate import alembic_config, upgrade
from storage.models import Action
from tests.conftest import reset_postgres
from tests.test_migrations import OLD_PEOPLE

AT = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)


def test_roles_migration_keeps_people_and_their_rights(tmp_path: Path) -> None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0008")
    engine = make_engine(url)
    people = OLD_PEOPLE
    try:
        with engine.begin() as conn:
            for name, role in (("Sarah", "chair"), ("Amira", "member"), ("Ben", "member")):
                conn.execute(insert(people).values(display_name=name, role=role, created_at=AT))
            amira = conn.scalar(select(people.c.id).where(people.c.display_name == "Amira"))
            conn.execute(
                insert(Action.__table__).values(
                    title="Share data",
                    owner_id=amira,
                    status="open",
                    created_at=AT,
                    updated_at=AT,
                    version=1,
                )
            )

        upgrade(url, "0009")
        with engine.connect() as conn:
            roles = dict(conn.execute(select(people.c.display_name, people.c.role)).all())
            owners = conn.scalars(select(Action.__table__.c.owner_id)).all()
        assert roles == {"Sarah": "chair", "Amira": "none", "Ben": "none"}
        assert owners == [amira]

        with engine.begin() as conn:
            conn.execute(
                people.update().where(people.c.display_name == "Ben").values(role="observer")
            )
        downgrade(alembic_config(url), "0008")
        with engine.connect() as conn:
            roles = dict(conn.execute(select(people.c.display_name, people.c.role)).all())
        assert roles == {"Sarah": "chair", "Amira": "member", "Ben": "member"}
    finally:
        engine.dispose()
