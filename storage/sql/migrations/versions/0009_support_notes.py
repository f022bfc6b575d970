"""support notes

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 14:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.sql.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "support_notes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("author_id", sa.String(length=36), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", storage.sql.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["chat_sessions.id"],
            name=op.f("fk_support_notes_session_id_chat_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_support_notes_author_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_notes")),
    )
    with op.batch_alter_table("support_notes", schema=None) as batch_op:
        batch_op.create_index("ix_support_notes_session_created", ["session_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("support_notes", schema=None) as batch_op:
        batch_op.drop_index("ix_support_notes_session_created")
    op.drop_table("support_notes")
