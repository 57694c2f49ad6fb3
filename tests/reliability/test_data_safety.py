"""7. Data safety: history is append-only, migrations keep every row, export reproduces history."""

from __future__ import annotations

import ast
import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, create_engine, select, text
from sqlalchemy.exc import DBAPIError

from bot.clock import FixedClock
from bot.domain import Platform
from bot.people.directory import ConsoleDirectory
from bot.plans.exporter import HISTORY_COLUMNS, csv_cell, history_row
from bot.services.context import Caller, Core
from storage.db import make_engine, make_session_factory, transaction
from storage.migrate import alembic_config, upgrade
from storage.models import HistoryEntry
from tests.conftest import MONDAY, reset_postgres
from tests.reliability.conftest import Tally, postgres_url
from tests.reliability.helpers import added_id, history_rows, ok

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ["bot", "handlers", "scheduler", "storage"]


def busy_day(core: Core, chair: Caller, amira: Caller, ben: Caller) -> None:
    """Every kind of change, several times, by several people."""
    ok(core, ben, "/action help")
    first = added_id(ok(core, chair, "/action add Audit the front door @amira due 2026-12-04"))
    second = added_id(ok(core, chair, "/action add Threshold document @ben due friday"))
    third = added_id(ok(core, chair, "/action add Unowned task"))
    ok(core, amira, f"/action update {first} first visit done; notes \"quoted\", commas")
    ok(core, amira, f"/action rag {first} amber")
    ok(core, chair, f"/action due {first} 2026-12-11 partner asked")
    ok(core, ben, f"/action blocked {second} waiting for =SUM(A1) data")
    ok(core, chair, f"/action assign {third} @amira")
    ok(core, amira, f"/action done {first} signed off")
    ok(core, chair, f"/action reopen {first}")
    ok(core, chair, f"/action assign {first} @ben")
    ok(core, ben, f"/action done {second} unblocked and finished")
    ok(core, amira, f"/action update {third} émoji 👍 and RTL مرحبا")


#: The one audited rewrite of the history: an erasure of personal data, which lifts the
#: UPDATE guard in its transaction and re-seals the chain (storage/history_chain.py).
HISTORY_REWRITE = {("storage", "history_chain.py"): {"rewrite_history", "_reseal_from"}}


def test_no_code_path_updates_or_deletes_history() -> None:
    """Static: no UPDATE/DELETE of action_history (ORM or SQL) anywhere in production code,
    but the erasure's rewrite in storage/history_chain.py (it never deletes)."""
    offenders: list[str] = []
    for package in PRODUCTION:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source)
            allowed = HISTORY_REWRITE.get((path.parent.name, path.name), set())
            exempt = {
                id(inner)
                for node in ast.walk(tree)
                if isinstance(node, ast.FunctionDef) and node.name in allowed
                for inner in ast.walk(node)
                if isinstance(inner, ast.Call)
                and isinstance(inner.func, ast.Name)
                and inner.func.id == "update"
            }
            for node in ast.walk(tree):
                if id(node) in exempt:
                    continue
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute):
                    name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
                    args = [ast.unparse(a) for a in node.args]
                    if name in ("update", "delete") and any("HistoryEntry" in a for a in args):
                        offenders.append(f"{path}:{node.lineno} {ast.unparse(node)[:80]}")
                    if name == "delete" and any("entry" in a.lower() for a in args):
                        offenders.append(f"{path}:{node.lineno} {ast.unparse(node)[:80]}")
            low = source.lower()
            for needle in ("update action_history", "delete from action_history",
                           "truncate action_history"):
                if needle in low:
                    offenders.append(f"{path}: {needle}")
    assert offenders == []


def test_the_database_refuses_to_change_history(
    core: Core, chair: Caller, amira: Caller, ben: Caller, tally: Tally
) -> None:
    busy_day(core, chair, amira, ben)
    before = [(h.id, h.change, h.old_value, h.new_value, h.note) for h in history_rows(core)]
    assert len(before) >= 15
    for statement in (
        "UPDATE action_history SET note = 'forged' WHERE id = 1",
        "UPDATE action_history SET actor_id = NULL",
        "DELETE FROM action_history WHERE id = 2",
        "DELETE FROM action_history",
    ):
        with pytest.raises(DBAPIError), transaction(core.sessions) as session:
            session.execute(text(statement))
        tally.add("7 data safety", inputs=1)
    after = [(h.id, h.change, h.old_value, h.new_value, h.note) for h in history_rows(core)]
    assert after == before


def test_every_change_only_appends_to_history(
    core: Core, chair: Caller, amira: Caller, ben: Caller
) -> None:
    """After each command, the history seen before it is still there unchanged (a prefix)."""
    seen: list[tuple[object, ...]] = []
    steps = [
        (chair, "/action add One @amira due 2026-12-04"), (amira, "/action update 1 a"),
        (amira, "/action rag 1 red"), (chair, "/action due 1 2026-12-18 why"),
        (amira, "/action blocked 1 b"), (amira, "/action blocked 1 c"),
        (chair, "/action done 1"), (chair, "/action done 1"), (chair, "/action reopen 1"),
        (chair, "/action assign 1 @ben"), (ben, "/action rag 1 green"),
    ]
    for caller, line in steps:
        name, _, rest = line.partition(" ")
        from bot.services.dispatch import run_command

        run_command(core, caller, name, rest)
        now = [(h.id, h.at, h.actor_id, h.change, h.field, h.old_value, h.new_value, h.note)
               for h in history_rows(core)]
        assert now[: len(seen)] == seen, line
        seen = now


def _dump(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    out: dict[str, list[tuple[object, ...]]] = {}
    with engine.connect() as conn:
        for name, table in meta.tables.items():
            if name == "alembic_version":
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            out[name] = [tuple(r._mapping.items()) for r in conn.execute(
                select(table).order_by(*order))]
    engine.dispose()
    return out


def test_upgrade_from_the_previous_schema_keeps_every_row(
    tmp_path: Path, chair: Caller, amira: Caller, ben: Caller, tally: Tally
) -> None:
    url = postgres_url() or f"sqlite:///{tmp_path / 'old.db'}"
    if postgres_url():
        reset_postgres(url)
    script = ScriptDirectory.from_config(alembic_config(url))
    head = script.get_current_head()
    revisions = [r.revision for r in script.walk_revisions()][::-1]  # base … head
    previous = revisions[-2]
    # A busy day with today's code, on a scratch database at the newest schema...
    scratch = f"sqlite:///{tmp_path / 'scratch.db'}"
    upgrade(scratch)
    from bot.config import Settings

    settings = Settings(_env_file=None, database_url=scratch, chair_user_ids=("chair",))  # type: ignore[call-arg]
    engine = make_engine(scratch)
    core = Core(settings=settings, sessions=make_session_factory(engine), clock=FixedClock(MONDAY),
                directories={Platform.CONSOLE: ConsoleDirectory()})
    busy_day(core, chair, amira, ben)
    from bot.outbox.delivery import deliver

    deliver(core, [])  # outbox rows fail (no platform): failed rows and notices exist too
    engine.dispose()
    # ...copied, as far as the previous schema has columns for it, into a database at that
    # schema: rows as the previous version would have written them.
    upgrade(url, previous)
    _copy_rows(scratch, url)
    before = _dump(url)
    assert sum(len(rows) for rows in before.values()) > 30
    upgrade(url, head)
    after = _dump(url)
    for table, rows in before.items():
        kept = [tuple((k, v) for k, v in row if k in dict(rows[0]) ) for row in after[table]]
        assert [tuple(row) for row in rows] == kept, f"{table} changed in {previous} → {head}"
    tally.add("7 data safety", inputs=sum(len(r) for r in before.values()),
              note=f"upgrade {previous}→{head} kept {sum(len(r) for r in before.values())} rows")


def _copy_rows(source_url: str, target_url: str) -> None:
    """Every row of `source_url` into the same tables of `target_url`, in the target's columns."""
    from storage.models import Base

    source, target = make_engine(source_url), create_engine(target_url)
    old = MetaData()
    old.reflect(target)
    with source.connect() as read, target.begin() as write:
        for table in old.sorted_tables:
            if table.name == "alembic_version" or table.name not in Base.metadata.tables:
                continue
            new = Base.metadata.tables[table.name]
            columns = [new.c[c.name] for c in table.columns if c.name in new.c]
            rows = [dict(r._mapping) for r in read.execute(select(*columns))]
            if table.name == "people" and "role" in table.c and "role" not in new.c:
                # Before 0015 a role was a column of the person: the default board's, as
                # the previous schema wrote it (`member` meant "no role" before 0009).
                held = dict(
                    read.execute(
                        text("SELECT person_id, role FROM board_members WHERE board_id = 1")
                    ).all()
                )
                nobody = "none" if "role_changes" in old.tables else "member"
                for row in rows:
                    row["role"] = held.get(row["id"], nobody)
            if rows:
                # Rows a migration seeded (the default board) are the source's to give.
                write.execute(table.delete())
                write.execute(table.insert(), rows)
        if write.dialect.name == "postgresql":
            # Ids were copied as they were: move each sequence past them.
            for table in old.sorted_tables:
                if "id" in table.c and table.name != "alembic_version":
                    write.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"COALESCE((SELECT MAX(id) FROM {table.name}), 1))"))
    source.dispose()
    target.dispose()


def test_export_history_reproduces_every_change(
    core: Core, chair: Caller, amira: Caller, ben: Caller, tally: Tally
) -> None:
    busy_day(core, chair, amira, ben)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_"))}
    env.update(DATABASE_URL=core.settings.database_url, PYTHONPATH=str(ROOT),
               BOT_TIMEZONE="Europe/London")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "export", "--history"], env=env, cwd=ROOT,
        capture_output=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    rows = list(csv.reader(io.StringIO(result.stdout.decode("utf-8-sig"))))
    assert tuple(rows[0]) == HISTORY_COLUMNS
    exported = rows[1:]
    with transaction(core.sessions) as session:
        entries = session.scalars(select(HistoryEntry).order_by(HistoryEntry.id)).all()
        expected = [[csv_cell(v) for v in history_row(e, tz=core.settings.tz)] for e in entries]
    assert len(exported) == len(expected) and len(expected) >= 15
    assert sorted(map(tuple, exported)) == sorted(map(tuple, expected))
    tally.add("7 data safety", inputs=len(expected), note=f"export --history: {len(expected)}"
              " changes, all reproduced")
