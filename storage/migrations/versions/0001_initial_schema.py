"""Initial schema: people, identities, actions, append-only history, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 07:37:32.106226
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column(
            "role",
            sa.Enum("chair", "member", name="role", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("email", name=op.f("uq_people_email")),
    )
    op.create_table(
        "actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "in_progress",
                "blocked",
                "done",
                "cancelled",
                name="status",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "rag",
            sa.Enum("red", "amber", "green", name="rag", native_enum=False, length=20),
            nullable=True,
        ),
        sa.Column("workstream", sa.String(length=200), nullable=True),
        sa.Column("priority", sa.String(length=50), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("blocked_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["people.id"], name=op.f("fk_actions_owner_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actions")),
        sa.UniqueConstraint("ref", name=op.f("uq_actions_ref")),
    )
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_actions_owner_status_due", ["owner_id", "status", "due_date"], unique=False
        )
        batch_op.create_index("ix_actions_status_due", ["status", "due_date"], unique=False)

    op.create_table(
        "identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column(
            "platform",
            sa.Enum("slack", "teams", "console", name="platform", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_identities_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identities")),
        sa.UniqueConstraint("platform", "external_id", name="uq_identities_account"),
    )
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identities_person_id"), ["person_id"], unique=False)

    op.create_table(
        "action_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("change", sa.String(length=20), nullable=False),
        sa.Column("field", sa.String(length=50), nullable=True),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_id"], ["actions.id"], name=op.f("fk_action_history_action_id_actions")
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["people.id"], name=op.f("fk_action_history_actor_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_history")),
    )
    with op.batch_alter_table("action_history", schema=None) as batch_op:
        batch_op.create_index("ix_action_history_action_at", ["action_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_action_history_at"), ["at"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=200), nullable=True),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sending",
                "sent",
                "failed",
                name="outboxstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("platform", sa.String(length=20), nullable=True),
        sa.Column("platform_channel", sa.String(length=200), nullable=True),
        sa.Column("platform_ref", sa.String(length=200), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"], ["actions.id"], name=op.f("fk_outbox_action_id_actions")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["people.id"], name=op.f("fk_outbox_recipient_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_status_not_before", ["status", "not_before"], unique=False)

    _protect_history()


# History is evidence: the database itself refuses to change or delete it, whatever the code.
_HISTORY_GUARD_SQLITE = (
    "CREATE TRIGGER action_history_no_{op} BEFORE {OP} ON action_history "
    "BEGIN SELECT RAISE(ABORT, 'action_history is append-only'); END"
)
_HISTORY_GUARD_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION action_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'action_history is append-only';
END;
$$ LANGUAGE plpgsql
"""
_HISTORY_GUARD_PG = (
    "CREATE TRIGGER action_history_no_{op} BEFORE {OP} ON action_history "
    "FOR EACH ROW EXECUTE FUNCTION action_history_append_only()"
)


def _protect_history() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(_HISTORY_GUARD_PG_FUNCTION)
        for name in ("update", "delete"):
            op.execute(_HISTORY_GUARD_PG.format(op=name, OP=name.upper()))
    elif dialect == "sqlite":
        for name in ("update", "delete"):
            op.execute(_HISTORY_GUARD_SQLITE.format(op=name, OP=name.upper()))


def _unprotect_history() -> None:
    dialect = op.get_bind().dialect.name
    for name in ("update", "delete"):
        suffix = " ON action_history" if dialect == "postgresql" else ""
        op.execute(f"DROP TRIGGER IF EXISTS action_history_no_{name}{suffix}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS action_history_append_only()")


def downgrade() -> None:
    _unprotect_history()

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_not_before")

    op.drop_table("outbox")
    with op.batch_alter_table("action_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_history_at"))
        batch_op.drop_index("ix_action_history_action_at")

    op.drop_table("action_history")
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identities_person_id"))

    op.drop_table("identities")
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_index("ix_actions_status_due")
        batch_op.drop_index("ix_actions_owner_status_due")

    op.drop_table("actions")
    op.drop_table("people")
