"""Catalog fixtures: a small shipped catalog (200 products) on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from core.config import CatalogSettings, Settings
from storage.sql import Database
from tools.catalog.importer import FeedImporter
from tools.catalog.service import CatalogService
from tools.profile.service import AccountService

SMALL_CATALOG = 200


@pytest.fixture
def catalog_settings(sql_settings: Settings) -> CatalogSettings:
    return sql_settings.catalog


@pytest.fixture
def empty_catalog(database: Database, catalog_settings: CatalogSettings) -> CatalogService:
    return CatalogService(database, catalog_settings)


@pytest.fixture
def catalog(empty_catalog: CatalogService, sql_settings: Settings) -> CatalogService:
    report = empty_catalog.load_shipped(sql_settings.catalog_dir, limit=SMALL_CATALOG)
    assert report.products == SMALL_CATALOG
    return empty_catalog


@pytest.fixture
def importer(database: Database, catalog_settings: CatalogSettings) -> FeedImporter:
    return FeedImporter(database, catalog_settings)


@pytest.fixture
def accounts(database: Database) -> AccountService:
    return AccountService(database)


@pytest.fixture
def user_id(accounts: AccountService) -> str:
    return accounts.create_user(email="shopper@example.com", password="password-1").id
