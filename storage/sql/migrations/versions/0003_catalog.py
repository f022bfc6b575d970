"""catalog: products, SKUs, price history, price alerts, alert notifications, webhook deliveries

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.sql.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("brand", sa.String(length=120), nullable=True),
        sa.Column("gender", sa.String(length=32), nullable=True),
        sa.Column("master_category", sa.String(length=64), nullable=True),
        sa.Column("sub_category", sa.String(length=64), nullable=True),
        sa.Column("article_type", sa.String(length=64), nullable=True),
        sa.Column("colour", sa.String(length=64), nullable=True),
        sa.Column("season", sa.String(length=32), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("usage", sa.String(length=64), nullable=True),
        sa.Column("image", sa.String(length=255), nullable=True),
        sa.Column("generated", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.sql.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.sql.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index("ix_products_category", ["master_category", "article_type"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_source"), ["source"], unique=False)

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("received_at", storage.sql.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updates", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_deliveries_received_at"), ["received_at"], unique=False)

    op.create_table(
        "price_alerts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=True),
        sa.Column("query", sa.Text(), nullable=True),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("threshold", sa.Numeric(precision=12, scale=2, asdecimal=False), nullable=False),
        sa.Column("size", sa.String(length=32), nullable=True),
        sa.Column("created_at", storage.sql.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("triggered_at", storage.sql.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_price", sa.Numeric(precision=12, scale=2, asdecimal=False), nullable=True),
        sa.CheckConstraint(
            "(product_id IS NULL) <> (query IS NULL)", name=op.f("ck_price_alerts_product_xor_query")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_price_alerts_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_price_alerts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_alerts")),
    )
    with op.batch_alter_table("price_alerts", schema=None) as batch_op:
        batch_op.create_index("ix_price_alerts_product_active", ["product_id", "active"], unique=False)
        batch_op.create_index("ix_price_alerts_user_active", ["user_id", "active"], unique=False)

    op.create_table(
        "skus",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("size", sa.String(length=32), nullable=False),
        sa.Column("size_system", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=2, asdecimal=False), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("updated_at", storage.sql.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("price >= 0", name=op.f("ck_skus_price_not_negative")),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_skus_stock_not_negative")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_skus_product_id_products"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skus")),
        sa.UniqueConstraint("product_id", "size", name=op.f("uq_skus_product_id")),
    )
    op.create_table(
        "alert_notifications",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("alert_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("size", sa.String(length=32), nullable=True),
        sa.Column("price", sa.Numeric(precision=12, scale=2, asdecimal=False), nullable=False),
        sa.Column("created_at", storage.sql.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", storage.sql.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["price_alerts.id"],
            name=op.f("fk_alert_notifications_alert_id_price_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_alert_notifications_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_alert_notifications_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_notifications")),
    )
    with op.batch_alter_table("alert_notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_notifications_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index(
            "ix_alert_notifications_user_pending", ["user_id", "delivered_at"], unique=False
        )

    op.create_table(
        "price_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sku_id", sa.String(length=100), nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=2, asdecimal=False), nullable=False),
        sa.Column("at", storage.sql.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["sku_id"], ["skus.id"], name=op.f("fk_price_history_sku_id_skus"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_history")),
    )
    with op.batch_alter_table("price_history", schema=None) as batch_op:
        batch_op.create_index("ix_price_history_sku_at", ["sku_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("price_history", schema=None) as batch_op:
        batch_op.drop_index("ix_price_history_sku_at")

    op.drop_table("price_history")
    with op.batch_alter_table("alert_notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_notifications_user_pending")
        batch_op.drop_index(batch_op.f("ix_alert_notifications_alert_id"))

    op.drop_table("alert_notifications")
    op.drop_table("skus")
    with op.batch_alter_table("price_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_price_alerts_user_active")
        batch_op.drop_index("ix_price_alerts_product_active")

    op.drop_table("price_alerts")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_received_at"))

    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_source"))
        batch_op.drop_index("ix_products_category")

    op.drop_table("products")
