"""Digest snapshots (the weekly digest's trend) and an outbox index by kind and age.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 08:07:09.939836
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=200), nullable=False),
        sa.Column("week", sa.String(length=10), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_snapshots")),
        sa.UniqueConstraint("key", name=op.f("uq_digest_snapshots_key")),
    )
    with op.batch_alter_table("digest_snapshots", schema=None) as batch_op:
        batch_op.create_index("ix_digest_snapshots_channel_week", ["channel", "week"], unique=False)

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_kind_created", ["kind", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_kind_created")

    with op.batch_alter_table("digest_snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_digest_snapshots_channel_week")

    op.drop_table("digest_snapshots")
