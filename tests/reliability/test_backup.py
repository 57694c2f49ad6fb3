"""11. Backups: a copy taken while reminders go out restores whole, and sends nothing twice.

SQLite is backed up by `actionbot backup` (SQLite's online backup API) and restored by
`actionbot restore`; PostgreSQL by its own `pg_dump -Fc` and `pg_restore`, which the test runs
against the test database and a second one it creates, and compares table by table.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, create_engine, func, select, text
from sqlalchemy.engine import make_url

from bot.domain import Platform
from bot.services.context import Caller, Core
from scheduler.jobs import run_reminders
from storage.backup import BackupError, backup, postgres_commands, restore
from storage.db import transaction
from storage.migrate import alembic_config, current_revision, upgrade
from storage.models import HistoryEntry, Identity, OutboxMessage, OutboxStatus
from tests.conftest import MONDAY, reset_postgres
from tests.reliability.conftest import SOAK, Tally, postgres_url
from tests.reliability.helpers import added_id, ok
from tests.reliability.slackworld import CHAIR_ID, posts_by_channel, seed_owners, slack_core
from tests.support.fake_slack import FakeSlack

ROOT = Path(__file__).resolve().parents[2]
AREA = "11 backups"

sqlite_only = pytest.mark.skipif(
    postgres_url() is not None,
    reason="actionbot backup copies SQLite; PostgreSQL is backed up with pg_dump (tested below)",
)


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of `url` (the schema's version table too), in key order."""
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name, table in meta.tables.items():
            order = list(table.primary_key.columns) or list(table.columns)
            out[name] = [tuple(row) for row in conn.execute(select(table).order_by(*order))]
    engine.dispose()
    return out


def sent_to(core: Core) -> dict[int, str]:
    """Outbox rows marked sent, with the Slack user each went to."""
    with transaction(core.sessions) as session:
        query = (
            select(OutboxMessage.id, Identity.external_id)
            .join(Identity, Identity.person_id == OutboxMessage.recipient_id)
            .where(OutboxMessage.status == OutboxStatus.SENT)
        )
        return {row_id: user for row_id, user in session.execute(query)}


@sqlite_only
def test_a_backup_taken_during_delivery_restores_and_sends_nothing_twice(
    database_url: str, tmp_path: Path, tally: Tally
) -> None:
    count = 1500 if SOAK else 300
    copy = tmp_path / "backup.db"
    with FakeSlack() as fake:
        seed_owners(database_url, count, MONDAY.date())
        core, senders, calendar = slack_core(database_url, fake, MONDAY)
        chair = Caller(Platform.SLACK, CHAIR_ID, display_name="Sarah Chair")
        for number in range(1, 21):
            ok(core, chair, f"/action update {number} checked before the run")

        def write_history() -> None:
            # The chair keeps writing history while reminders go out and the copy is taken.
            for number in range(21, 81):
                ok(core, chair, f"/action rag {number} amber")

        delivering = threading.Thread(target=run_reminders, args=(core, senders, calendar))
        writing = threading.Thread(target=write_history)
        delivering.start()
        writing.start()
        # Take the copy once some reminders are out and most are still to go.
        deadline = time.monotonic() + 60
        while len(fake.calls("chat.postMessage", ok=True)) < count // 5:
            assert delivering.is_alive() and time.monotonic() < deadline, "delivery ended early"
            time.sleep(0.005)
        taken = backup(database_url, copy)
        posted_then = len(fake.calls("chat.postMessage", ok=True))
        delivering.join(120)
        writing.join(120)
        assert not delivering.is_alive() and not writing.is_alive()
    assert 0 < posted_then < count, "the backup was not taken during the delivery"
    original = dump(database_url)

    restored_url = f"sqlite:///{tmp_path / 'restored.db'}"
    report = restore(copy, restored_url)
    assert report.revision == taken.revision == current_revision(database_url)
    restored = dump(restored_url)
    # Every history row of the copy is the original's row with the same id, in full.
    history = restored["action_history"]
    assert history and history == original["action_history"][: len(history)]
    assert len(history) >= 20

    # Delivery on the restored copy: what the copy recorded as sent is never sent again.
    with FakeSlack() as again:
        copy_core, copy_senders, _ = slack_core(restored_url, again, MONDAY)
        already = sent_to(copy_core)
        run_reminders(copy_core, copy_senders, calendar)
        resent = set(already.values()) & set(posts_by_channel(again))
        now_sent = sent_to(copy_core)
    assert already, "the copy recorded nothing as sent"
    assert resent == set()
    assert {k: v for k, v in now_sent.items() if k in already} == already
    tally.add(
        AREA,
        inputs=count,
        sent=posted_then,
        duplicated=len(resent),
        note=f"backup during delivery of {count} reminders: {len(set(already.values()))} people "
        "reminded before the copy, "
        f"none again from the restored copy; {len(history)} history rows intact",
    )


@sqlite_only
def test_restore_refuses_what_it_should_and_migrates_an_older_backup(
    core: Core, chair: Caller, amira: Caller, tmp_path: Path, tally: Tally
) -> None:
    url = core.settings.database_url
    added_id(ok(core, chair, "/action add Audit the front door @amira due 2026-12-04"))
    copy = tmp_path / "backup.db"
    backup(url, copy)
    with pytest.raises(BackupError, match="--force"):
        backup(url, copy)
    with pytest.raises(BackupError, match="stop the bot and give --force"):
        restore(copy, url)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 10)
    with pytest.raises(BackupError, match="not an SQLite database"):
        restore(junk, f"sqlite:///{tmp_path / 'a.db'}")
    bare = tmp_path / "bare.db"
    with sqlite3.connect(bare) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(BackupError, match="no schema revision"):
        restore(bare, f"sqlite:///{tmp_path / 'b.db'}")
    future = tmp_path / "future.db"
    shutil.copy(copy, future)
    with sqlite3.connect(future) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    with pytest.raises(BackupError, match="does not know"):
        restore(future, f"sqlite:///{tmp_path / 'c.db'}")
    # A check of the restored copy (the history's own checks plug in here) can stop it.
    before = dump(url)
    with pytest.raises(BackupError, match="failed a check: forged"):
        restore(copy, url, force=True, checks=[lambda _url: "forged"])
    assert dump(url) == before

    # A backup at the previous schema is restored and brought up to the newest.
    script = ScriptDirectory.from_config(alembic_config(url))
    previous = [r.revision for r in script.walk_revisions()][1]
    old_url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(old_url, previous)
    report = restore(tmp_path / "old.db", f"sqlite:///{tmp_path / 'new.db'}")
    assert report.migrated_from == previous
    assert report.revision == script.get_current_head()
    tally.add(AREA, faults=6, inputs=7, note="restore refusals: 6 files and targets refused")


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_"))}
    env.update(DATABASE_URL=url, PYTHONPATH=str(ROOT), BOT_TIMEZONE="Europe/London")
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_backup_commands(core: Core, chair: Caller, tmp_path: Path, tally: Tally) -> None:
    url = core.settings.database_url
    ok(core, chair, "/action add Audit the front door due 2026-12-04")
    file = tmp_path / "backup.db"
    made = _cli(url, "backup", str(file))
    if postgres_url() is not None:
        # PostgreSQL: refused, with the dump commands to use instead.
        assert made.returncode == 1 and "pg_dump -Fc" in made.stderr and "pg_restore" in made.stderr
        assert not file.exists()
        tally.add(AREA, inputs=1)
        return
    assert made.returncode == 0, made.stderr
    assert "Backed up to" in made.stdout
    target = f"sqlite:///{tmp_path / 'restored.db'}"
    assert _cli(target, "restore", str(file)).returncode == 0
    refused = _cli(target, "restore", str(file))
    assert refused.returncode == 1 and "--force" in refused.stderr
    assert _cli(target, "restore", str(file), "--force").returncode == 0
    assert dump(target) == dump(url)
    tally.add(AREA, inputs=4, note="actionbot backup / restore / restore --force")


@pytest.mark.skipif(postgres_url() is None, reason="PostgreSQL only (TEST_DATABASE_URL)")
def test_pg_dump_and_pg_restore_reproduce_every_table(
    core: Core, chair: Caller, amira: Caller, ben: Caller, tmp_path: Path, tally: Tally
) -> None:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump and pg_restore are not installed: the PostgreSQL client tools")
    from tests.reliability.test_data_safety import busy_day

    busy_day(core, chair, amira, ben)
    url = core.settings.database_url
    source = make_url(url)
    copy_name = f"{source.database}_restore"
    copy_url = source.set(database=copy_name).render_as_string(hide_password=False)
    admin = create_engine(source.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{copy_name}"'))
        conn.execute(text(f'CREATE DATABASE "{copy_name}"'))
    try:
        file = tmp_path / "plan.dump"
        dump_command, _ = postgres_commands(url, file)
        assert dump_command.startswith("pg_dump -Fc")
        libpq = source.set(drivername="postgresql").render_as_string(hide_password=False)
        into = make_url(copy_url).set(drivername="postgresql").render_as_string(False)
        env = {**os.environ}
        if source.password:
            env["PGPASSWORD"] = str(source.password)
        subprocess.run(
            ["pg_dump", "-Fc", "--no-owner", "--dbname", libpq, "--file", str(file)],
            check=True,
            env=env,
            timeout=120,
        )
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", "--dbname", into, str(file)],
            check=True,
            env=env,
            timeout=120,
        )
        original, restored = dump(url), dump(copy_url)
        assert set(restored) == set(original)
        for table, rows in original.items():
            assert restored[table] == rows, table
        engine = create_engine(copy_url)
        with engine.connect() as conn:
            history = conn.execute(select(func.count()).select_from(HistoryEntry.__table__))
            assert history.scalar_one() >= 15
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{copy_name}" WITH (FORCE)'))
        admin.dispose()
        reset_postgres(url)
    total = sum(len(r) for r in original.values())
    tally.add(
        AREA, inputs=total, note=f"pg_dump -Fc / pg_restore: {len(original)} tables, {total} rows"
    )
