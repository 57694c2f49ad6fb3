"""One name for a change of blocked reason: `blocked_reason`, as imports always wrote it.

`/action blocked` on an action already blocked recorded its new reason as `blocked`; those
entries are renamed so one word finds every reason, whoever gave it. Nothing else changes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 09:00:00
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Written out, not imported: a migration must mean the same thing whatever the code becomes.
OLD, NEW = "blocked", "blocked_reason"
FIELD = "blocked_reason"
#: `source` of the entries plan imports wrote; those were `blocked_reason` from the start.
IMPORT_SOURCE = "import"

# The update guard of migration 0001, which refuses every UPDATE of the history.
_GUARD_SQLITE = (
    "CREATE TRIGGER action_history_no_update BEFORE UPDATE ON action_history "
    "BEGIN SELECT RAISE(ABORT, 'action_history is append-only'); END"
)
_GUARD_PG = (
    "CREATE TRIGGER action_history_no_update BEFORE UPDATE ON action_history "
    "FOR EACH ROW EXECUTE FUNCTION action_history_append_only()"
)


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
    sa.column("change", sa.String),
    sa.column("field", sa.String),
    sa.column("source", sa.String),
)


def upgrade() -> None:
    h = _history.c
    with _updates_allowed():
        op.execute(_history.update().where(h.change == OLD, h.field == FIELD).values(change=NEW))


def downgrade() -> None:
    h = _history.c
    # Only chat wrote `blocked`; entries of imports keep the name they were written with.
    chat = sa.and_(h.change == NEW, h.field == FIELD, h.source != IMPORT_SOURCE)
    with _updates_allowed():
        op.execute(_history.update().where(chat).values(change=OLD))
