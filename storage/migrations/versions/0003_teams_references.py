"""Teams conversation references, so the outbox can reach Teams users and channels.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams_references",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("service_url", sa.String(length=500), nullable=False),
        sa.Column("conversation_id", sa.String(length=500), nullable=True),
        sa.Column("conversation_type", sa.String(length=30), nullable=True),
        sa.Column("tenant_id", sa.String(length=100), nullable=True),
        sa.Column("bot_id", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams_references")),
        sa.UniqueConstraint("key", name=op.f("uq_teams_references_key")),
    )
    with op.batch_alter_table("teams_references", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_teams_references_email"), ["email"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("teams_references", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_teams_references_email"))
    op.drop_table("teams_references")
