"""Board packs: each pack built for a meeting, its files as circulated (PDF, workbook, HTML
view, the digest's small trend chart) and the SHA-256 of its link's token, never the token.

A new table only: nothing stored before changes. Downgrade drops it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "board_packs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("xlsx", sa.LargeBinary(), nullable=False),
        sa.Column("html", sa.LargeBinary(), nullable=False),
        sa.Column("trend_png", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_board_packs_meeting_id_meetings")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["people.id"], name=op.f("fk_board_packs_created_by_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_board_packs")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_board_packs_token_hash")),
    )
    op.create_index(op.f("ix_board_packs_meeting_id"), "board_packs", ["meeting_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_board_packs_meeting_id"), table_name="board_packs")
    op.drop_table("board_packs")
