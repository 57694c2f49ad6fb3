"""Plans as published: a people directory (job titles, organisations, names to match),
supporting owners, and an action's success measure, cadence and owner as the plan wrote it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 23:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("job_title", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("organisation", sa.String(length=200), nullable=True))
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("success_measure", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("cadence", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("owner_text", sa.Text(), nullable=True))
    op.create_table(
        "person_names",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_person_names_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_names")),
        sa.UniqueConstraint("person_id", "kind", "key", name="uq_person_names_entry"),
    )
    with op.batch_alter_table("person_names", schema=None) as batch_op:
        batch_op.create_index("ix_person_names_key", ["key"], unique=False)
        batch_op.create_index(batch_op.f("ix_person_names_person_id"), ["person_id"], unique=False)
    op.create_table(
        "action_supporters",
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["actions.id"],
            name=op.f("fk_action_supporters_action_id_actions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_action_supporters_person_id_people")
        ),
        sa.PrimaryKeyConstraint("action_id", "person_id", name=op.f("pk_action_supporters")),
    )
    with op.batch_alter_table("action_supporters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_action_supporters_person_id"), ["person_id"], unique=False
        )


def downgrade() -> None:
    # SQLite drops a column in place (3.35+): rebuilding `actions` would trip the foreign keys
    # that history and the outbox hold on it.
    with op.batch_alter_table("action_supporters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_supporters_person_id"))
    op.drop_table("action_supporters")
    with op.batch_alter_table("person_names", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_names_person_id"))
        batch_op.drop_index("ix_person_names_key")
    op.drop_table("person_names")
    with op.batch_alter_table("actions", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("owner_text")
        batch_op.drop_column("cadence")
        batch_op.drop_column("success_measure")
    with op.batch_alter_table("people", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("organisation")
        batch_op.drop_column("job_title")
