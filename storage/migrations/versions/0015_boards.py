"""Boards: one deployment, many boards; everything a board owns names it.

Before this revision a deployment served one board, configured by the environment. It
becomes the default board (id 1), which still follows the environment for every setting a
chair has not changed in chat, so an upgraded deployment behaves exactly as before and keeps
its data: every action, meeting, snapshot, board pack, outbox row, digest figure, board
setting and role change is given board 1. Roles move from `people.role` to `board_members`
(a role is held on a board), and a plan's reference is unique per board, not per deployment
(two boards may both have a "1.1").

Downgrade keeps board 1 only: it refuses while other boards hold actions.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 07:00:00
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

#: Tables whose rows belong to a board.
_OWNED = ("actions", "meetings", "plan_snapshots", "board_packs", "outbox", "digest_snapshots")
#: Those whose board id is a foreign key: a snapshot, like its action id, outlives what it
#: points at (and rebuilding its table on SQLite would lose its append-only triggers).
_REFERENCED = ("actions", "meetings", "board_packs", "outbox", "digest_snapshots")


def upgrade() -> None:
    op.create_table(
        "boards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=True),
        sa.Column("slack_team_id", sa.String(length=32), nullable=True),
        sa.Column("slack_channel", sa.String(length=200), nullable=True),
        sa.Column("teams_tenant_id", sa.String(length=100), nullable=True),
        sa.Column("teams_channel", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_boards")),
        sa.UniqueConstraint("name", name=op.f("uq_boards_name")),
        sa.UniqueConstraint("slack_channel", name=op.f("uq_boards_slack_channel")),
        sa.UniqueConstraint("teams_channel", name=op.f("uq_boards_teams_channel")),
    )
    with op.batch_alter_table("boards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_boards_slack_team_id"), ["slack_team_id"])
        batch_op.create_index(batch_op.f("ix_boards_teams_tenant_id"), ["teams_tenant_id"])
    boards = sa.table("boards", sa.column("id", sa.Integer), sa.column("created_at", sa.DateTime))
    # The default board: its name and channels are NULL, so they follow BOARD_NAME and
    # BOARD_CHANNEL as before.
    op.execute(boards.insert().values(id=1, created_at=dt.datetime.now(dt.UTC)))
    if op.get_bind().dialect.name == "postgresql":
        # The row above was given its id: the sequence must not hand out 1 again.
        op.execute("SELECT setval(pg_get_serial_sequence('boards', 'id'), 1)")

    for table in _OWNED:
        with op.batch_alter_table(table, schema=None, recreate="never") as batch_op:
            batch_op.add_column(
                sa.Column("board_id", sa.Integer(), nullable=False, server_default=sa.text("1"))
            )
        if table in _REFERENCED:
            # On SQLite this rebuilds the table (foreign keys are off while migrating).
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.create_foreign_key(
                    op.f(f"fk_{table}_board_id_boards"), "boards", ["board_id"], ["id"]
                )

    # A reference is unique within its board: the old deployment-wide constraint goes.
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_constraint("uq_actions_ref", type_="unique")
        batch_op.create_unique_constraint("uq_actions_board_ref", ["board_id", "ref"])
        batch_op.create_index("ix_actions_board_status_due", ["board_id", "status", "due_date"])
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index("ix_meetings_board_starts_at", ["board_id", "starts_at"])
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_board_id"), ["board_id"])

    # A board's settings are keyed by board.
    with op.batch_alter_table("board_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("board_id", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )
    with op.batch_alter_table("board_settings", schema=None) as batch_op:
        batch_op.drop_constraint("pk_board_settings", type_="primary")
        batch_op.create_primary_key("pk_board_settings", ["board_id", "key"])
        batch_op.create_foreign_key(
            op.f("fk_board_settings_board_id_boards"), "boards", ["board_id"], ["id"]
        )

    # Roles are held on a board.
    op.create_table(
        "board_members",
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"], ["boards.id"], name=op.f("fk_board_members_board_id_boards")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_board_members_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("board_id", "person_id", name=op.f("pk_board_members")),
    )
    with op.batch_alter_table("board_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_board_members_person_id"), ["person_id"])
    op.execute(
        "INSERT INTO board_members (board_id, person_id, role) "
        "SELECT 1, id, role FROM people WHERE role <> 'none'"
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("role")
        # The board a person last chose in a direct message, asked again only when it goes.
        batch_op.add_column(sa.Column("current_board_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_people_current_board_id_boards"),
            "boards",
            ["current_board_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("role_changes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("board_id", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )
    with op.batch_alter_table("role_changes", schema=None) as batch_op:
        batch_op.drop_column("board")
        batch_op.create_foreign_key(
            op.f("fk_role_changes_board_id_boards"), "boards", ["board_id"], ["id"]
        )


def downgrade() -> None:
    bind = op.get_bind()
    others = bind.execute(sa.text("SELECT count(*) FROM actions WHERE board_id <> 1")).scalar()
    if others:
        raise RuntimeError(
            f"{others} actions belong to boards other than the default one; a single-board "
            "database cannot hold them"
        )
    with op.batch_alter_table("role_changes", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_role_changes_board_id_boards"), type_="foreignkey")
        batch_op.add_column(
            sa.Column("board", sa.String(length=50), nullable=False, server_default="board")
        )
    with op.batch_alter_table("role_changes", schema=None) as batch_op:
        batch_op.drop_column("board_id")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_people_current_board_id_boards"), type_="foreignkey")
        batch_op.drop_column("current_board_id")
        batch_op.add_column(
            sa.Column("role", sa.String(length=20), nullable=False, server_default="none")
        )
    op.execute(
        "UPDATE people SET role = (SELECT role FROM board_members m "
        "WHERE m.person_id = people.id AND m.board_id = 1) "
        "WHERE id IN (SELECT person_id FROM board_members WHERE board_id = 1)"
    )
    op.drop_table("board_members")
    op.execute("DELETE FROM board_settings WHERE board_id <> 1")
    with op.batch_alter_table("board_settings", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_board_settings_board_id_boards"), type_="foreignkey")
        batch_op.drop_constraint("pk_board_settings", type_="primary")
        batch_op.create_primary_key("pk_board_settings", ["key"])
    with op.batch_alter_table("board_settings", schema=None) as batch_op:
        batch_op.drop_column("board_id")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_board_id"))
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index("ix_meetings_board_starts_at")
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_index("ix_actions_board_status_due")
        batch_op.drop_constraint("uq_actions_board_ref", type_="unique")
        batch_op.create_unique_constraint("uq_actions_ref", ["ref"])
    for table in _OWNED:
        if table in _REFERENCED:
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.drop_constraint(op.f(f"fk_{table}_board_id_boards"), type_="foreignkey")
        with op.batch_alter_table(table, schema=None, recreate="never") as batch_op:
            batch_op.drop_column("board_id")
    op.drop_table("boards")
