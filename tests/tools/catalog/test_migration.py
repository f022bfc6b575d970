"""The catalog migration upgrades and downgrades cleanly on both backends."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from storage.sql import Database

CATALOG_TABLES = {
    "products",
    "skus",
    "price_history",
    "price_alerts",
    "alert_notifications",
    "webhook_deliveries",
}


def test_downgrade_and_upgrade(database: Database) -> None:
    assert set(inspect(database.engine).get_table_names()) >= CATALOG_TABLES
    command.downgrade(database.alembic_config(), "0002")
    assert not CATALOG_TABLES & set(inspect(database.engine).get_table_names())
    database.migrate()
    assert set(inspect(database.engine).get_table_names()) >= CATALOG_TABLES
