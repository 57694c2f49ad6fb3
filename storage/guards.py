"""Append-only tables other than the history: lifting a table's UPDATE guard for one erasure.

Some tables are evidence the database keeps as written (`plan_snapshots`: what the board was
shown), guarded by a trigger named `<table>_no_update` that refuses every UPDATE. Erasing a
person's personal data is the one change they accept: `updates_allowed` reads the trigger's
own definition, drops it, lets the caller update, and creates it again from that definition,
all in the caller's transaction (DDL is transactional on PostgreSQL and SQLite, so a failure
puts the guard back with the rollback). The history has its own, with its re-seal:
storage.history_chain.rewrite_history.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text


def update_guard(connection: Connection, table: str) -> str | None:
    """The SQL that creates `table`'s UPDATE guard, or None when it has none."""
    name = f"{table}_no_update"
    dialect = connection.dialect.name
    if dialect == "sqlite":
        row = connection.execute(
            text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :name"),
            {"name": name},
        ).first()
    elif dialect == "postgresql":
        row = connection.execute(
            text(
                "SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE t.tgname = :name AND c.relname = :table AND NOT t.tgisinternal"
            ),
            {"name": name, "table": table},
        ).first()
    else:
        return None
    return str(row[0]) if row is not None and row[0] else None


@contextmanager
def updates_allowed(connection: Connection, table: str) -> Iterator[None]:
    """Inside the block, UPDATE of `table` is allowed; its guard is put back as it was."""
    guard = update_guard(connection, table)
    if guard is None:
        yield
        return
    suffix = f" ON {table}" if connection.dialect.name == "postgresql" else ""
    connection.exec_driver_sql(f"DROP TRIGGER {table}_no_update{suffix}")
    yield
    connection.exec_driver_sql(guard)
