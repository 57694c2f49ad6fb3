"""12. Tamper checks: the history is a hash chain, and `actionbot verify-history` names the first
entry changed, removed or slipped in behind the bot's back.

Tampering goes around the append-only triggers the way an administrator could: the guard is
dropped, the row changed, the guard put back, all in one transaction.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.people.directory import ConsoleDirectory
from bot.plans.importer import import_file
from bot.services.context import Caller, Core
from storage.backup import BackupError, backup, restore
from storage.db import make_engine, make_session_factory, transaction
from storage.history_chain import GENESIS, ChainReport, restore_check, verify, verify_url
from storage.migrate import alembic_config, upgrade
from storage.models import HistoryEntry
from tests.conftest import MONDAY, reset_postgres
from tests.reliability.conftest import Tally, postgres_url
from tests.reliability.helpers import added_id, ok
from tests.reliability.test_data_safety import _copy_rows, _dump, busy_day

ROOT = Path(__file__).resolve().parents[2]
AREA = "12 tamper checks"

PLAN = (
    "Ref,Action,Owner,Due,Status,RAG,Notes\n"
    "FD-1,Audit the front door,amira,2026-12-04,In progress,amber,first pass\n"
    "FD-2,Publish the threshold document,ben,2026-12-18,blocked,red,awaiting legal\n"
    "FD-3,Recruit two social workers,,2027-01-15,,,\n"
)


def busy_day_and_import(
    core: Core, chair: Caller, amira: Caller, ben: Caller, tmp_path: Path
) -> None:
    """Commands of every kind, then a plan import (which writes history in bulk)."""
    busy_day(core, chair, amira, ben)
    plan = tmp_path / "plan.csv"
    plan.write_text(PLAN, encoding="utf-8")
    preview = import_file(core, plan, directory=ConsoleDirectory())
    assert preview.report.created == 3
    ok(core, chair, "/action update 1 second pass done after the import")


def chain(core: Core) -> ChainReport:
    engine = core.sessions.kw["bind"]
    return verify(engine)


def cli(core: Core, *args: str) -> subprocess.CompletedProcess[str]:
    """The real `actionbot` in a child process, on the test's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_"))}
    env.update(DATABASE_URL=core.settings.database_url, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env=env, cwd=ROOT, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip


@contextmanager
def guard_lifted(core: Core, operation: str) -> Iterator[Connection]:
    """A connection on which `operation` (update or delete) of the history is allowed; the
    guard trigger is dropped and put back in the same transaction."""
    engine = core.sessions.kw["bind"]
    name = f"action_history_no_{operation}"
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"DROP TRIGGER {name} ON action_history")
            yield conn
            conn.exec_driver_sql(
                f"CREATE TRIGGER {name} BEFORE {operation.upper()} ON action_history "
                "FOR EACH ROW EXECUTE FUNCTION action_history_append_only()"
            )
        else:
            conn.exec_driver_sql(f"DROP TRIGGER {name}")
            yield conn
            conn.exec_driver_sql(
                f"CREATE TRIGGER {name} BEFORE {operation.upper()} ON action_history "
                "BEGIN SELECT RAISE(ABORT, 'action_history is append-only'); END"
            )


def entries(core: Core) -> list[tuple[int, int, str | None, str | None]]:
    with transaction(core.sessions) as session:
        h = HistoryEntry.__table__.c
        rows = session.execute(select(h.id, h.action_id, h.prev_hash, h.hash).order_by(h.id))
        return [(r.id, r.action_id, r.prev_hash, r.hash) for r in rows]


def test_a_busy_day_and_an_import_verify(
    core: Core, chair: Caller, amira: Caller, ben: Caller, tmp_path: Path, tally: Tally
) -> None:
    busy_day_and_import(core, chair, amira, ben, tmp_path)
    rows = entries(core)
    assert len(rows) >= 25
    # Every entry is sealed and links to the one before it, the first to the genesis value.
    assert [prev for _, _, prev, _ in rows] == [GENESIS] + [h for _, _, _, h in rows[:-1]]
    assert all(h is not None and len(h) == 64 for _, _, _, h in rows)
    assert len({h for _, _, _, h in rows}) == len(rows)
    report = chain(core)
    assert report.intact and report.entries == len(rows)
    result = cli(core, "verify-history")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{len(rows)} entries, chain intact."
    tally.add(AREA, inputs=len(rows), note=f"busy day + import: {len(rows)} entries verify")


def test_a_changed_note_is_caught_and_named(
    core: Core, chair: Caller, amira: Caller, ben: Caller, tmp_path: Path, tally: Tally
) -> None:
    busy_day_and_import(core, chair, amira, ben, tmp_path)
    rows = entries(core)
    victim_id, victim_action = rows[len(rows) // 2][:2]
    with guard_lifted(core, "update") as conn:
        conn.execute(
            text("UPDATE action_history SET note = 'nothing to see' WHERE id = :id"),
            {"id": victim_id},
        )
    # The guard is back: the bot's own path still cannot change history.
    with pytest.raises(DBAPIError, match="append-only"), transaction(core.sessions) as session:
        session.execute(text("UPDATE action_history SET note = 'x' WHERE id = 1"))

    report = chain(core)
    assert report.mismatch is not None
    assert report.mismatch.entry_id == victim_id
    assert "content changed" in report.mismatch.reason
    result = cli(core, "verify-history")
    assert result.returncode == 1
    assert f"history entry #{victim_id} (action #{victim_action}, " in result.stderr
    assert "content changed" in result.stderr
    assert result.stdout == ""
    tally.add(AREA, faults=1, inputs=1, note=f"note changed in #{victim_id}: named, exit 1")


def test_a_forger_who_rehashes_the_row_breaks_the_link_after_it(
    core: Core, chair: Caller, amira: Caller, ben: Caller, tally: Tally
) -> None:
    """Recomputing the changed row's own hash is not enough: the next row still links to the
    old hash, so the chain breaks right after the forged row."""
    busy_day(core, chair, amira, ben)
    rows = entries(core)
    victim_id, _, victim_prev, _ = rows[3]
    from storage.history_chain import seal_hash

    with transaction(core.sessions) as session:
        entry = session.get(HistoryEntry, victim_id)
        assert entry is not None
        forged = seal_hash(
            entry_id=entry.id, action_id=entry.action_id, at=entry.at, actor_id=entry.actor_id,
            source=entry.source, change=entry.change, field=entry.field,
            old_value=entry.old_value, new_value="forged", note=entry.note,
            prev_hash=victim_prev or GENESIS,
        )  # fmt: skip
    with guard_lifted(core, "update") as conn:
        conn.execute(
            text("UPDATE action_history SET new_value = 'forged', hash = :h WHERE id = :id"),
            {"h": forged, "id": victim_id},
        )
    report = chain(core)
    assert report.mismatch is not None
    assert report.mismatch.entry_id == rows[4][0]
    assert f"does not link to entry #{victim_id}" in report.mismatch.reason
    tally.add(AREA, faults=1, inputs=1, note="forged row re-hashed: the next link breaks")


def test_a_deleted_row_breaks_the_chain_and_is_named(
    core: Core, chair: Caller, amira: Caller, ben: Caller, tmp_path: Path, tally: Tally
) -> None:
    busy_day_and_import(core, chair, amira, ben, tmp_path)
    rows = entries(core)
    gone, after = rows[5][0], rows[6]
    with guard_lifted(core, "delete") as conn:
        conn.execute(text("DELETE FROM action_history WHERE id = :id"), {"id": gone})
    report = chain(core)
    assert report.mismatch is not None and report.mismatch.entry_id == after[0]
    assert "chain broken" in report.mismatch.reason
    assert f"entry #{rows[4][0]}" in report.mismatch.reason
    result = cli(core, "verify-history")
    assert result.returncode == 1
    assert f"history entry #{after[0]} (action #{after[1]}, " in result.stderr
    assert "chain broken" in result.stderr

    # The first entry removed: the new first one links to something that is not there.
    first = entries(core)[0][0]
    with guard_lifted(core, "delete") as conn:
        conn.execute(text("DELETE FROM action_history WHERE id = :id"), {"id": first})
    report = chain(core)
    assert report.mismatch is not None and report.mismatch.entry_id == entries(core)[0][0]
    assert "first entry" in report.mismatch.reason
    tally.add(AREA, faults=2, inputs=2, note="rows deleted (middle, first): chain broken named")


def test_a_row_slipped_in_around_the_bot_is_named(
    core: Core, chair: Caller, amira: Caller, ben: Caller, tally: Tally
) -> None:
    busy_day(core, chair, amira, ben)
    rows = entries(core)
    engine = core.sessions.kw["bind"]
    # A plain INSERT, as a script with database access would write it: no seal.
    with engine.begin() as conn:
        sneaked = conn.execute(
            insert(HistoryEntry.__table__).values(
                action_id=rows[0][1],
                at=MONDAY,
                source="console",
                change="note",
                note="signed off by the chair",
            )
        ).inserted_primary_key[0]
    # The bot goes on writing after it; its next entry still links to the last sealed one.
    ok(core, chair, f"/action update {rows[0][1]} after the sneaked row")
    report = chain(core)
    assert report.mismatch is not None and report.mismatch.entry_id == sneaked
    assert "not sealed" in report.mismatch.reason
    tally.add(AREA, faults=1, inputs=1, note="unsealed row inserted around the bot: named")


def test_a_second_link_to_one_entry_is_refused(
    core: Core, chair: Caller, amira: Caller, ben: Caller, tally: Tally
) -> None:
    """A writer that skipped the lock cannot fork the chain: the unique link refuses it."""
    busy_day(core, chair, amira, ben)
    rows = entries(core)
    engine = core.sessions.kw["bind"]
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            insert(HistoryEntry.__table__).values(
                action_id=rows[0][1],
                at=MONDAY,
                source="console",
                change="note",
                note="fork",
                prev_hash=rows[2][3],
                hash="f" * 64,
            )
        )
    assert chain(core).intact
    tally.add(AREA, faults=1, inputs=1)


def test_concurrent_writers_never_fork_the_chain(
    core: Core, chair: Caller, amira: Caller, tally: Tally
) -> None:
    """Two threads, each its own transactions, writing history as fast as they can."""
    number = added_id(ok(core, chair, "/action add Busy action @amira due 2026-12-04"))
    other = added_id(ok(core, chair, "/action add Other action @amira due 2026-12-11"))
    per_thread = 40
    failures: list[BaseException] = []
    start = threading.Barrier(2)

    def write(caller: Caller, action: int, word: str) -> None:
        try:
            start.wait(10)
            for n in range(per_thread):
                ok(core, caller, f"/action update {action} {word} {n}")
        except BaseException as exc:  # reported to the test thread below
            failures.append(exc)

    threads = [
        threading.Thread(target=write, args=(chair, number, "chair")),
        threading.Thread(target=write, args=(amira, other, "amira")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(t.is_alive() for t in threads)
    assert failures == []
    rows = entries(core)
    notes = [r for r in rows if r[1] in (number, other)]
    assert len(notes) >= 2 * per_thread
    # One chain: every hash is linked to exactly once, and the chain verifies.
    links = [prev for _, _, prev, _ in rows]
    assert len(links) == len(set(links))
    report = chain(core)
    assert report.intact, report.describe()
    tally.add(AREA, inputs=2 * per_thread, note=f"two writers: {len(rows)} entries, no fork")


def test_the_migration_seals_an_older_database(
    tmp_path: Path, chair: Caller, amira: Caller, ben: Caller, tally: Tally
) -> None:
    url = postgres_url() or f"sqlite:///{tmp_path / 'old.db'}"
    if postgres_url():
        reset_postgres(url)
    script = ScriptDirectory.from_config(alembic_config(url))
    chained = script.get_revision("0008")
    assert chained is not None
    before_chain = str(chained.down_revision)
    # A busy day with today's code on a scratch database, copied into one at the schema
    # before the chain: history as the previous version wrote it, with no hashes.
    scratch = f"sqlite:///{tmp_path / 'scratch.db'}"
    upgrade(scratch)
    from bot.clock import FixedClock
    from bot.config import Settings
    from bot.domain import Platform

    settings = Settings(_env_file=None, database_url=scratch, chair_user_ids=("chair",))  # type: ignore[call-arg]
    engine = make_engine(scratch)
    scratch_core = Core(
        settings=settings, sessions=make_session_factory(engine), clock=FixedClock(MONDAY),
        directories={Platform.CONSOLE: ConsoleDirectory()},
    )  # fmt: skip
    busy_day_and_import(scratch_core, chair, amira, ben, tmp_path)
    engine.dispose()
    upgrade(url, before_chain)
    _copy_rows(scratch, url)
    before = _dump(url)["action_history"]
    assert len(before) >= 25
    upgrade(url, "0008")
    after = _dump(url)["action_history"]
    # Every entry kept as it was, now sealed.
    assert [row for row in before] == [
        tuple((k, v) for k, v in row if k not in ("prev_hash", "hash")) for row in after
    ]
    report = verify_url(url)
    assert report.intact and report.entries == len(before), report.describe()
    # The guard is back after sealing.
    check = create_engine(url)
    try:
        with pytest.raises(DBAPIError, match="append-only"), check.begin() as conn:
            conn.execute(text("UPDATE action_history SET note = 'x'"))
    finally:
        check.dispose()
    tally.add(AREA, inputs=len(before), note=f"upgrade {before_chain}→0008 sealed {len(before)}")


@pytest.mark.skipif(postgres_url() is not None, reason="actionbot restore is for SQLite")
def test_restore_refuses_a_backup_whose_history_does_not_verify(
    core: Core, chair: Caller, amira: Caller, ben: Caller, tmp_path: Path, tally: Tally
) -> None:
    busy_day(core, chair, amira, ben)
    url = core.settings.database_url
    good = tmp_path / "good.db"
    backup(url, good)
    victim = entries(core)[2][0]
    with guard_lifted(core, "update") as conn:
        conn.execute(text("UPDATE action_history SET note = 'x' WHERE id = :id"), {"id": victim})
    bad = tmp_path / "bad.db"
    backup(url, bad)

    target = tmp_path / "restored.db"
    with pytest.raises(BackupError, match=f"history entry #{victim} .*content changed"):
        restore(bad, f"sqlite:///{target}", checks=[restore_check])
    assert not target.exists() or target.stat().st_size == 0
    result = cli(core, "restore", str(bad), "--force")
    assert result.returncode == 1 and f"history entry #{victim}" in result.stderr
    # A good copy restores, through the same check.
    restore(good, f"sqlite:///{target}", checks=[restore_check])
    assert verify_url(f"sqlite:///{target}").intact
    tally.add(AREA, faults=1, inputs=2, note="restore refused a copy whose history was altered")
