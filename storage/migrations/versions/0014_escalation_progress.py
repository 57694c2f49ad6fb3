"""The escalation ladder's progress: the highest step sent per action and trigger.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 03:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Starts empty: an action already escalated to the chairs under the old single threshold
    # climbs the ladder once more from where it stands, each rung sent once.
    op.create_table(
        "escalation_progress",
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("anchor", sa.Date(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["action_id"], ["actions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("action_id", "trigger"),
    )


def downgrade() -> None:
    op.drop_table("escalation_progress")
