"""The board cycle: meetings (each step of the update round stamped once done) and the plan's
snapshots taken at each cut-off, append-only like the history (the database refuses UPDATE
and DELETE of a snapshot).

New tables only: nothing stored before changes. Downgrade drops them and their guards.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Snapshots are what the board was shown: the database itself keeps them as taken.
_GUARD_SQLITE = (
    "CREATE TRIGGER plan_snapshots_no_{op} BEFORE {OP} ON plan_snapshots "
    "BEGIN SELECT RAISE(ABORT, 'plan_snapshots is append-only'); END"
)
_GUARD_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION plan_snapshots_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'plan_snapshots is append-only';
END;
$$ LANGUAGE plpgsql
"""
_GUARD_PG = (
    "CREATE TRIGGER plan_snapshots_no_{op} BEFORE {OP} ON plan_snapshots "
    "FOR EACH ROW EXECUTE FUNCTION plan_snapshots_append_only()"
)


def upgrade() -> None:
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by_id", sa.Integer(), nullable=True),
        sa.Column("round_opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("round_nudged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cut_off_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pack_posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["people.id"], name=op.f("fk_meetings_created_by_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["cancelled_by_id"], ["people.id"], name=op.f("fk_meetings_cancelled_by_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
    )
    op.create_index("ix_meetings_starts_at", "meetings", ["starts_at"])
    op.create_table(
        "plan_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("owner_name", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("rag_declared", sa.String(length=20), nullable=True),
        sa.Column("rag_computed", sa.String(length=20), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("baseline_due", sa.Date(), nullable=True),
        sa.Column("rebaselines", sa.Integer(), nullable=False),
        sa.Column("workstream", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_plan_snapshots_meeting_id_meetings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_snapshots")),
        sa.UniqueConstraint("meeting_id", "action_id", name=op.f("uq_plan_snapshots_meeting_id")),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(_GUARD_PG_FUNCTION)
        for name in ("update", "delete"):
            op.execute(_GUARD_PG.format(op=name, OP=name.upper()))
    elif dialect == "sqlite":
        for name in ("update", "delete"):
            op.execute(_GUARD_SQLITE.format(op=name, OP=name.upper()))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name in ("update", "delete"):
        suffix = " ON plan_snapshots" if dialect == "postgresql" else ""
        op.execute(f"DROP TRIGGER IF EXISTS plan_snapshots_no_{name}{suffix}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS plan_snapshots_append_only()")
    op.drop_table("plan_snapshots")
    op.drop_index("ix_meetings_starts_at", table_name="meetings")
    op.drop_table("meetings")
