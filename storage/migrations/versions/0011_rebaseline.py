"""Re-baselining: an action keeps its original deadline (its baseline) and counts how often the
deadline moved; requests for a new date wait in `date_requests` for a chair's decision.

Existing actions take their current deadline as their baseline (nothing moved before this
revision was counted) and 0 re-baselines. Downgrade drops the table and the two columns.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_actions = sa.table("actions", sa.column("due_date", sa.Date), sa.column("baseline_due", sa.Date))


def upgrade() -> None:
    # ALTER TABLE … ADD COLUMN in place on SQLite: rebuilding `actions` would trip the
    # foreign keys the history and the outbox hold on it.
    with op.batch_alter_table("actions", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("baseline_due", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("rebaselines", sa.Integer(), server_default="0", nullable=False)
        )
    op.execute(_actions.update().values(baseline_due=_actions.c.due_date))
    op.create_table(
        "date_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("old_due", sa.Date(), nullable=True),
        sa.Column("new_due", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_id"], ["actions.id"], name=op.f("fk_date_requests_action_id_actions")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["people.id"], name=op.f("fk_date_requests_decided_by_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["people.id"],
            name=op.f("fk_date_requests_requested_by_id_people"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_date_requests")),
    )
    with op.batch_alter_table("date_requests", schema=None) as batch_op:
        batch_op.create_index("ix_date_requests_action_state", ["action_id", "state"])
        # One pending request per action: two asked at once cannot both wait.
        batch_op.create_index(
            "ix_date_requests_one_pending",
            ["action_id"],
            unique=True,
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("date_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_date_requests_one_pending")
        batch_op.drop_index("ix_date_requests_action_state")
    op.drop_table("date_requests")
    # SQLite drops a column in place (3.35+), without rebuilding the table.
    with op.batch_alter_table("actions", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("rebaselines")
        batch_op.drop_column("baseline_due")
