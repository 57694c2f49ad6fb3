"""Delivered, then signed off: when an action was delivered, its evidence, board settings.

`actions.delivered_at` is when an owner said an action was done while the board signs off;
no action was delivered before this revision, so it starts empty (actions already done stay
done: complete, as they were). `evidence` holds notes, links and files (the platform's
reference, name, size and SHA-256, never the bytes). `board_settings` holds what a chair
changes with `/board settings` (sign-off on or off), with who changed it and when; without a
row a setting has its default.

Downgrade: an action waiting for sign-off goes back to open (the older code knows no
`delivered`), and the new tables and column are dropped.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_actions = sa.table("actions", sa.column("status", sa.String))


def upgrade() -> None:
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("file_ref", sa.String(length=500), nullable=True),
        sa.Column("file_name", sa.String(length=300), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_id"], ["actions.id"], name=op.f("fk_evidence_action_id_actions")
        ),
        sa.ForeignKeyConstraint(
            ["added_by_id"], ["people.id"], name=op.f("fk_evidence_added_by_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
    )
    op.create_index("ix_evidence_action_added", "evidence", ["action_id", "added_at"])
    op.create_table(
        "board_settings",
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["people.id"], name=op.f("fk_board_settings_changed_by_id_people")
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_board_settings")),
    )


def downgrade() -> None:
    op.drop_table("board_settings")
    op.drop_index("ix_evidence_action_added", table_name="evidence")
    op.drop_table("evidence")
    op.execute(_actions.update().where(_actions.c.status == "delivered").values(status="open"))
    # SQLite drops a column in place (3.35+): rebuilding `actions` would trip the foreign keys
    # that history and the outbox hold on it.
    with op.batch_alter_table("actions", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("delivered_at")
