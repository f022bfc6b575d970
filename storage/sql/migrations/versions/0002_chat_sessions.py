"""chat sessions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.sql.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chat_sessions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", storage.sql.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_active_at", storage.sql.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expired_at", storage.sql.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("handoff", sa.Boolean(), nullable=False),
        sa.Column("handoff_since", storage.sql.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("staff_id", sa.String(length=36), nullable=True),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_chat_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_sessions")),
    )
    with op.batch_alter_table("chat_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_chat_sessions_handoff", ["handoff", "last_active_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_chat_sessions_last_active_at"), ["last_active_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_chat_sessions_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("chat_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_sessions_user_id"))
        batch_op.drop_index(batch_op.f("ix_chat_sessions_last_active_at"))
        batch_op.drop_index("ix_chat_sessions_handoff")
    op.drop_table("chat_sessions")
