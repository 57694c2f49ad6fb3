"""People who left: when the bot learned a person's chat account is gone, and why.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("left_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("left_reason", sa.String(length=200), nullable=True))


def downgrade() -> None:
    # SQLite drops a column in place (3.35+): rebuilding `people` would trip the foreign keys
    # that actions, history and the outbox hold on it.
    with op.batch_alter_table("people", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("left_reason")
        batch_op.drop_column("left_at")
