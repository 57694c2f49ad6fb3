"""The history becomes a hash chain: each entry holds the hash of its content and of the entry
before it (`hash`, `prev_hash`), and the entries already there are sealed, oldest first.

Sealing writes the two new columns of existing entries, under the append-only guard lifted
and restored in this migration's transaction (as 0005 does); nothing else about them changes.
Downgrade drops the columns.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Written out, not imported: a migration must mean the same thing whatever the code becomes.
# This is storage.history_chain.seal_hash as it stands at this revision.
GENESIS = "0" * 64
#: Entries sealed per UPDATE round trip.
BATCH = 1000

# The update guard of migration 0001, which refuses every UPDATE of the history.
_GUARD_SQLITE = (
    "CREATE TRIGGER action_history_no_update BEFORE UPDATE ON action_history "
    "BEGIN SELECT RAISE(ABORT, 'action_history is append-only'); END"
)
_GUARD_PG = (
    "CREATE TRIGGER action_history_no_update BEFORE UPDATE ON action_history "
    "FOR EACH ROW EXECUTE FUNCTION action_history_append_only()"
)


def _utc_iso(at: dt.datetime) -> str:
    utc = at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)
    return utc.isoformat(timespec="microseconds")


def _seal_hash(row: Any, entry_id: int, prev_hash: str) -> str:
    content = [
        "v1",
        entry_id,
        row.action_id,
        _utc_iso(row.at),
        row.actor_id,
        row.source,
        row.change,
        row.field,
        row.old_value,
        row.new_value,
        row.note,
        prev_hash,
    ]
    encoded = json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    return hashlib.sha256(encoded).hexdigest()


@contextmanager
def _updates_allowed() -> Iterator[None]:
    # Inside the migration's transaction: on PostgreSQL the table stays locked until the guard
    # is back, so no other change to the history can slip through meanwhile.
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER action_history_no_update ON action_history")
        yield
        op.execute(_GUARD_PG)
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER action_history_no_update")
        yield
        op.execute(_GUARD_SQLITE)
    else:
        yield


_history = sa.table(
    "action_history",
    sa.column("id", sa.Integer),
    sa.column("action_id", sa.Integer),
    # Zone-aware on PostgreSQL; SQLite gives the stored UTC time back naive.
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor_id", sa.Integer),
    sa.column("source", sa.String),
    sa.column("change", sa.String),
    sa.column("field", sa.String),
    sa.column("old_value", sa.Text),
    sa.column("new_value", sa.Text),
    sa.column("note", sa.Text),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)


def upgrade() -> None:
    op.add_column("action_history", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.add_column("action_history", sa.Column("hash", sa.String(length=64), nullable=True))
    bind = op.get_bind()
    h = _history.c
    rows = bind.execute(
        sa.select(
            h.id,
            h.action_id,
            h.at,
            h.actor_id,
            h.source,
            h.change,
            h.field,
            h.old_value,
            h.new_value,
            h.note,
        ).order_by(h.id)
    ).all()
    seals: list[dict[str, Any]] = []
    prev = GENESIS
    for row in rows:
        sealed = _seal_hash(row, row.id, prev)
        seals.append({"entry": row.id, "prev": prev, "sealed": sealed})
        prev = sealed
    update = (
        _history.update()
        .where(h.id == sa.bindparam("entry"))
        .values(prev_hash=sa.bindparam("prev"), hash=sa.bindparam("sealed"))
    )
    with _updates_allowed():
        for start in range(0, len(seals), BATCH):
            bind.execute(update, seals[start : start + BATCH])
    # After sealing: the index then checks the links once, not at every row's update.
    op.create_index("ix_action_history_prev_hash", "action_history", ["prev_hash"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_action_history_prev_hash", table_name="action_history")
    # SQLite drops a column in place (3.35+): rebuilding the table would lose its guard
    # triggers and trip the foreign keys on it.
    with op.batch_alter_table("action_history", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
