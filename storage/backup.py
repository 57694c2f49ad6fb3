"""Backing up and restoring the SQLite database; PostgreSQL is backed up with its own tools.

SQLite: `backup` copies the live database with SQLite's online backup API in one step, inside
one read transaction, so the copy is a consistent moment even while the bot writes (WAL lets
writers go on meanwhile). `restore` checks the copy is an SQLite database at a schema
revision this code knows, brings a scratch copy of it up to the newest schema, runs the checks
it is given on that scratch copy, and only then copies it over the target, again with the
backup API so that the target's WAL and lock files stay coherent.

PostgreSQL: a dump is the right tool there (`pg_dump -Fc`, `pg_restore`); `postgres_commands`
gives the commands for a database URL.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

#: The first bytes of every SQLite 3 database file.
SQLITE_HEADER = b"SQLite format 3\x00"

#: A check run on the restored, migrated copy before it replaces the target: given the copy's
#: URL, it returns a problem (which stops the restore) or None.
RestoreCheck = Callable[[str], str | None]


class BackupError(Exception):
    """The backup or restore was refused; nothing was written. The message says why."""


@dataclass(frozen=True)
class BackupReport:
    """What a backup or restore did, for the command line."""

    path: Path
    revision: str | None
    size: int
    #: Rows per table of the copy (the schema's version table left out).
    rows: dict[str, int]
    #: The revision the restored copy was migrated from, when it was older than the newest.
    migrated_from: str | None = None


def sqlite_path(url: str) -> Path | None:
    """The database file of an SQLite URL; None for another database or an in-memory one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def postgres_commands(url: str, file: Path) -> list[str]:
    """The pg_dump and pg_restore commands that back up and restore the database at `url`."""
    parsed = make_url(url).set(drivername="postgresql")
    shown = parsed.render_as_string(hide_password=True)
    into = parsed.set(database="NEW_DATABASE").render_as_string(hide_password=True)
    return [
        f"pg_dump -Fc --no-owner --dbname '{shown}' --file '{file}'",
        f"createdb NEW_DATABASE && pg_restore --no-owner --dbname '{into}' '{file}'",
    ]


def backup(url: str, target: Path, *, force: bool = False) -> BackupReport:
    """Copy the SQLite database at `url` into `target`, consistent while the bot runs."""
    source = _database_file(url)
    if not source.exists():
        raise BackupError(f"there is no database at {source}")
    if target.exists() and not force:
        raise BackupError(f"{target} exists; give --force to replace it")
    if target.resolve() == source.resolve():
        raise BackupError("the backup cannot be the database itself")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    with (
        contextlib.closing(sqlite3.connect(source)) as live,
        contextlib.closing(sqlite3.connect(partial)) as copy,
    ):
        # All pages in one step: stepping page by page restarts whenever the bot writes, and
        # one read transaction is what makes the copy a single moment.
        live.backup(copy)
        # One self-contained file: no -wal beside it to lose when the backup is moved.
        copy.execute("PRAGMA journal_mode=DELETE")
        problem = _integrity(copy)
    if problem is not None:
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy failed SQLite's integrity check: {problem}")
    partial.replace(target)
    return _report(target)


def restore(
    source: Path,
    url: str,
    *,
    force: bool = False,
    checks: Sequence[RestoreCheck] = (),
) -> BackupReport:
    """Replace the SQLite database at `url` with the backup at `source`, migrated to the newest
    schema. Refuses an existing database unless `force`, a file that is not an SQLite database
    at a known schema revision, and a copy that any of `checks` finds a problem with."""
    target = _database_file(url)
    if target.exists() and target.stat().st_size > 0 and not force:
        raise BackupError(
            f"{target} already holds a database; stop the bot and give --force to replace it"
        )
    revision = _known_revision(source)
    scratch = target.with_name(target.name + ".restoring")
    _remove(scratch)
    try:
        with (
            contextlib.closing(sqlite3.connect(source)) as backup_file,
            contextlib.closing(sqlite3.connect(scratch)) as copy,
        ):
            backup_file.backup(copy)
        scratch_url = f"sqlite:///{scratch}"
        from storage.migrate import upgrade

        upgrade(scratch_url)
        for check in checks:
            problem = check(scratch_url)
            if problem is not None:
                raise BackupError(f"the restored copy failed a check: {problem}")
        with (
            contextlib.closing(sqlite3.connect(scratch)) as copy,
            contextlib.closing(sqlite3.connect(target, timeout=30)) as live,
        ):
            # Through the backup API, not a file rename: a rename would leave the old
            # database's -wal file beside the new one, to be replayed into it.
            copy.backup(live)
    finally:
        _remove(scratch)
    report = _report(target)
    head = report.revision
    return BackupReport(
        path=report.path,
        revision=head,
        size=report.size,
        rows=report.rows,
        migrated_from=revision if revision != head else None,
    )


def _database_file(url: str) -> Path:
    path = sqlite_path(url)
    if path is None:
        raise BackupError("only an SQLite database file is backed up by actionbot")
    return path


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def _integrity(conn: sqlite3.Connection) -> str | None:
    rows = [str(row[0]) for row in conn.execute("PRAGMA quick_check")]
    return None if rows == ["ok"] else "; ".join(rows[:5])


def _known_revision(path: Path) -> str:
    """The schema revision of the SQLite database at `path`; BackupError if it has none we
    know or is not an SQLite database in good order."""
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror or exc}") from None
    if header != SQLITE_HEADER:
        raise BackupError(f"{path} is not an SQLite database")
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            problem = _integrity(conn)
            if problem is not None:
                raise BackupError(f"{path} failed SQLite's integrity check: {problem}")
            found = conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
            row = (
                conn.execute("SELECT version_num FROM alembic_version").fetchone()
                if found
                else None
            )
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database ({exc})") from None
    if row is None:
        raise BackupError(f"{path} is not an actionbot database (it has no schema revision)")
    revision = str(row[0])
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from storage.migrate import alembic_config

    try:
        known = ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise BackupError(
            f"{path} is at schema revision {revision}, which this version of actionbot does "
            "not know (a backup from a newer version?)"
        )
    return revision


def _report(path: Path) -> BackupReport:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        tables = [
            str(row[0])
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        # Table names come from sqlite_master, quoted: no outside text reaches the SQL.
        counts = {table: f'SELECT count(*) FROM "{table}"' for table in tables}  # noqa: S608
        rows = {
            table: int(conn.execute(query).fetchone()[0])
            for table, query in counts.items()
            if table != "alembic_version"
        }
        revision = None
        if "alembic_version" in tables:
            found = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = str(found[0]) if found else None
    return BackupReport(path=path, revision=revision, size=path.stat().st_size, rows=rows)
