"""Migration 0015 turns a single-board database into one with boards: every row stays and goes
to the default board, roles move to `board_members`, and nothing else changes (checked by
going back to the single-board schema and forward again, on a database the bot filled)."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.command import downgrade
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from bot.clock import FixedClock
from bot.domain import Platform
from bot.people.directory import ConsoleDirectory
from bot.plans.demo import load_demo
from bot.services.context import Caller, Core
from bot.services.dispatch import run_command
from storage.db import make_engine, make_session_factory
from storage.history_chain import verify_url
from storage.migrate import alembic_config, upgrade
from storage.models import Action, Board, BoardMember, EscalationProgress, Supporter
from tests.conftest import MONDAY

#: Tables whose every row must survive the round trip, unchanged in number.
KEPT = (
    "people",
    "identities",
    "actions",
    "action_supporters",
    "action_history",
    "outbox",
    "board_settings",
    "escalation_progress",
    "role_changes",
)


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.scalar(text(f"SELECT count(*) FROM {t}")) or 0 for t in KEPT}


def test_a_single_board_database_upgrades_with_every_row_on_the_default_board(
    database_url: str,
) -> None:
    from bot.config import Settings

    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    engine = make_engine(database_url)
    core = Core(
        settings=settings,
        sessions=make_session_factory(engine),
        clock=FixedClock(MONDAY),
        directories={Platform.CONSOLE: ConsoleDirectory()},
    )
    try:
        assert load_demo(core) > 0
        sarah = Caller(Platform.CONSOLE, "sarah", display_name="Sarah Mitchell")
        out = run_command(core, sarah, "/board", "role @amira secretary")
        assert out.message.tone == "success", out.message.text
        with core.sessions.begin() as session:
            first, second = session.scalars(select(Action.id).order_by(Action.id).limit(2))
            session.add(EscalationProgress(action_id=first, trigger="overdue",
                                           anchor=MONDAY.date(), days=5, at=MONDAY))
            if session.get(Supporter, (second, 1)) is None:
                session.add(Supporter(action_id=second, person_id=1, position=0))
            roles_before = sorted(
                (m.person_id, m.role.value) for m in session.scalars(select(BoardMember))
            )  # fmt: skip
        before = counts(engine)
        assert before["escalation_progress"] == 1 and before["action_supporters"] >= 1

        downgrade(alembic_config(database_url), "0014")
        with engine.connect() as conn:
            old_roles = sorted(
                (row.id, row.role)
                for row in conn.execute(text("SELECT id, role FROM people WHERE role <> 'none'"))
            )
        assert old_roles == roles_before
        assert counts(engine) == before

        upgrade(database_url)
        assert counts(engine) == before
        with core.sessions() as session:
            assert session.scalars(select(Board.id)).all() == [1]
            on_default = session.scalar(
                select(func.count()).select_from(Action).where(Action.board_id == 1)
            )
            assert on_default == before["actions"]
            roles_after = sorted(
                (m.person_id, m.role.value) for m in session.scalars(select(BoardMember))
            )
            assert roles_after == roles_before and all(
                m.board_id == 1 for m in session.scalars(select(BoardMember))
            )
        assert verify_url(database_url).intact

        # A plan's reference is unique within a board, no longer across the deployment.
        with engine.begin() as conn:
            ref = conn.scalar(select(Action.ref).where(Action.ref.is_not(None)).limit(1))
            conn.execute(insert(Board.__table__).values(id=2, name="SEND Board", created_at=MONDAY))
            row = {"title": "Same reference, another board", "status": "open",
                   "created_at": MONDAY, "updated_at": MONDAY, "version": 1}  # fmt: skip
            conn.execute(insert(Action.__table__).values(board_id=2, ref=ref, **row))
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(insert(Action.__table__).values(board_id=1, ref=ref, **row))
    finally:
        engine.dispose()


def test_the_downgrade_refuses_while_other_boards_hold_actions(database_url: str) -> None:
    engine = make_engine(database_url)
    at = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)
    try:
        with engine.begin() as conn:
            conn.execute(insert(Board.__table__).values(id=2, name="SEND Board", created_at=at))
            conn.execute(
                insert(Action.__table__).values(
                    board_id=2, title="Map the pathway", status="open",
                    created_at=at, updated_at=at, version=1,
                )
            )  # fmt: skip
        with pytest.raises(RuntimeError, match="1 actions belong to boards other than"):
            downgrade(alembic_config(database_url), "0014")
    finally:
        engine.dispose()
