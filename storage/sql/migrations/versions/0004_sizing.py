"""sizing: size charts, fit feedback

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.sql.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "size_charts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("brand_key", sa.String(length=120), nullable=False),
        sa.Column("department", sa.String(length=16), nullable=False),
        sa.Column("garment_group", sa.String(length=16), nullable=False),
        sa.Column("size_system", sa.String(length=16), nullable=False),
        sa.Column("chart", sa.JSON(), nullable=False),
        sa.Column("updated_at", storage.sql.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_size_charts")),
        sa.UniqueConstraint(
            "brand_key", "department", "garment_group", "size_system", name=op.f("uq_size_charts_brand_key")
        ),
    )
    op.create_table(
        "fit_feedback",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("size", sa.String(length=32), nullable=False),
        sa.Column("fit", sa.String(length=8), nullable=False),
        sa.Column("offset_cm", sa.Float(), nullable=True),
        sa.Column("garment_group", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_at", storage.sql.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("fit IN ('small', 'fit', 'large')", name=op.f("ck_fit_feedback_fit_label")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_fit_feedback_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_fit_feedback_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fit_feedback")),
    )
    with op.batch_alter_table("fit_feedback", schema=None) as batch_op:
        batch_op.create_index("ix_fit_feedback_product_size", ["product_id", "size"], unique=False)
        batch_op.create_index(batch_op.f("ix_fit_feedback_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_fit_feedback_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("fit_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fit_feedback_user_id"))
        batch_op.drop_index(batch_op.f("ix_fit_feedback_product_id"))
        batch_op.drop_index("ix_fit_feedback_product_size")

    op.drop_table("fit_feedback")
    op.drop_table("size_charts")
