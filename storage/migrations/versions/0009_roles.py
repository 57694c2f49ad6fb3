"""Roles on the board: chair, secretary, member, observer or none, and their trail.

Before this revision everyone the bot met was stored as `member`, which meant no more than
"not a chair": they now hold `none`, which keeps exactly what they could do. Chairs stay
chairs. `role_changes` records each change of a role from now on (roles belong to no action,
so they are not in the action history), and a Teams reference learns whether its user is
from outside the tenant (a guest).

Downgrade gives secretaries, members, observers and people without a role back `member`
(the only other role the older code knows) and drops the new table and column.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_people = sa.table("people", sa.column("role", sa.String))


def upgrade() -> None:
    op.execute(_people.update().where(_people.c.role == "member").values(role="none"))
    op.create_table(
        "role_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board", sa.String(length=50), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("change", sa.String(length=20), nullable=False),
        sa.Column("old_value", sa.String(length=20), nullable=True),
        sa.Column("new_value", sa.String(length=20), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["people.id"], name=op.f("fk_role_changes_actor_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_role_changes_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_changes")),
    )
    with op.batch_alter_table("role_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_role_changes_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_role_changes_person_id"), ["person_id"], unique=False)
    with op.batch_alter_table("teams_references", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external", sa.Boolean(), nullable=True))


def downgrade() -> None:
    # SQLite drops a column in place (3.35+), without rebuilding the table.
    with op.batch_alter_table("teams_references", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("external")
    with op.batch_alter_table("role_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_role_changes_person_id"))
        batch_op.drop_index(batch_op.f("ix_role_changes_at"))
    op.drop_table("role_changes")
    op.execute(_people.update().where(_people.c.role != "chair").values(role="member"))
