"""Idempotent bulk import of products, sizes, prices and stock from a ``CatalogSource``.

Rows are validated one by one (bad ones are reported with their line and reason
and skipped, or, with ``strict``, sink the whole feed before anything is
written); valid rows are applied a batch per transaction with dialect upserts
(``INSERT ... ON CONFLICT``), so re-importing the same feed changes nothing and a
feed of tens of thousands of products takes seconds. A price or stock change
goes through the same path as a webhook's: price history, ``inventory-updates``
events and price alerts, in the batch's transaction.

Identity: a product by its ``id``, a size by its label compared forgivingly
(``rag.documents.size_key``), so a feed's "m" updates the catalog's "M".
Sizes a feed does not mention are left alone; the last row of a product or size
in a batch wins.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import CatalogSettings
from rag.documents import size_key
from storage.sql import Database
from storage.sql.models import Product as ProductRow
from storage.sql.models import Sku
from storage.sql.types import utcnow
from tools.catalog.connectors import CatalogSource, FeedFileSource, SourceBatch
from tools.catalog.schemas import FeedRow, ImportReport, RejectedRow, size_position
from tools.catalog.service import (
    HISTORY,
    INVENTORY_TOPIC,
    OUTBOX,
    PRODUCTS,
    SKUS,
    CatalogError,
    SkuChange,
    bulk_insert,
    bulk_upsert,
    check_price,
    money,
    outbox_row,
    record_changes,
)

#: Product columns a feed sets (besides ``id``).
PRODUCT_FIELDS = (
    "source",
    "name",
    "brand",
    "gender",
    "master_category",
    "sub_category",
    "article_type",
    "colour",
    "season",
    "year",
    "usage",
    "image",
    "generated",
)
#: Keep a batch's ``IN (...)`` lists well under SQLite's and PostgreSQL's parameter limits.
MAX_BATCH = 5000


@dataclass
class _BatchResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    products: int = 0
    changes: list[SkuChange] = field(default_factory=list)
    alerts: int = 0


class FeedImporter:
    def __init__(self, db: Database, settings: CatalogSettings, *, batch_size: int = 2000) -> None:
        self.db = db
        self.settings = settings
        self.batch_size = max(1, min(batch_size, MAX_BATCH))

    def import_file(
        self, path: Path, *, strict: bool = False, source: str | None = None, since: datetime | None = None
    ) -> ImportReport:
        return self.import_source(FeedFileSource(path, name=source), strict=strict, since=since)

    def import_source(
        self, source: CatalogSource, *, strict: bool = False, since: datetime | None = None
    ) -> ImportReport:
        started = time.perf_counter()
        report = ImportReport(source=source.name)
        batches: Iterable[SourceBatch] = source.products(since=since, batch=self.batch_size)
        if strict:
            # Read and check everything first: a strict feed is applied whole or not at all.
            checked = [self._check(batch, report) for batch in batches]
            if report.rejected:
                report.applied = False
                report.seconds = round(time.perf_counter() - started, 3)
                return report
            valid_batches: Iterable[list[FeedRow]] = checked
        else:
            valid_batches = (self._check(batch, report) for batch in batches)
        for rows in valid_batches:
            if not rows:
                continue
            result = self._apply_batch(rows, source.name)
            report.inserted += result.inserted
            report.updated += result.updated
            report.unchanged += result.unchanged
            report.products += result.products
            report.price_changes += sum(1 for c in result.changes if c.new_price is not None)
            report.stock_changes += sum(1 for c in result.changes if c.new_stock is not None)
            report.alerts_triggered += result.alerts
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def _check(self, batch: SourceBatch, report: ImportReport) -> list[FeedRow]:
        """Rows that pass the catalog's own limits; the others go to ``report.rejected``."""
        valid: list[FeedRow] = []
        for row in batch:
            report.rows += 1
            if isinstance(row, RejectedRow):
                report.rejected.append(row)
                continue
            try:
                row.price = check_price(self.settings, row.price)
            except CatalogError as exc:
                report.rejected.append(RejectedRow(line=row.line, reason=str(exc), product_id=row.id))
                continue
            valid.append(row)
        return valid

    def _apply_batch(self, rows: list[FeedRow], source: str) -> _BatchResult:
        result = _BatchResult()
        now = utcnow()
        with self.db.session() as session:
            products: dict[str, FeedRow] = {}
            for row in rows:
                products[row.id] = row
            ids = list(products)
            result.products = len(ids)
            existing_products = self._existing_products(session, ids)
            # Plain rows, not ORM objects: a batch reads thousands, and the writes go around the ORM.
            existing_skus: dict[tuple[str, str], Any] = {}
            query = (
                select(Sku.id, Sku.product_id, Sku.size, Sku.size_system, Sku.price, Sku.stock)
                .where(Sku.product_id.in_(ids))
                .with_for_update()
            )
            for sku in session.execute(query):
                existing_skus[(sku.product_id, size_key(sku.size))] = sku

            # Products: insert new ones, update changed ones, leave the rest untouched.
            changed_products: set[str] = set()
            product_rows: list[dict[str, Any]] = []
            for product_id, row in products.items():
                values = {
                    field: source if field == "source" else getattr(row, field) for field in PRODUCT_FIELDS
                }
                if existing_products.get(product_id) == values:
                    continue
                changed_products.add(product_id)
                product_rows.append({"id": product_id, **values, "created_at": now, "updated_at": now})

            # SKUs: the last row of a size wins.
            latest: dict[tuple[str, str], FeedRow] = {}
            for row in rows:
                latest[(row.id, size_key(row.size))] = row
            sku_rows: list[dict[str, Any]] = []
            new_history: list[dict[str, Any]] = []
            for key, row in latest.items():
                price = money(row.price)
                current = existing_skus.get(key)
                if current is None:
                    sku_id = f"{row.id}/{row.size}"
                    sku_rows.append(self._sku_values(sku_id, row, price, now))
                    new_history.append({"sku_id": sku_id, "price": price, "at": now, "source": source})
                    result.inserted += 1
                    continue
                price_changed = current.price != price
                stock_changed = current.stock != row.stock
                if price_changed or stock_changed or current.size_system != row.size_system:
                    sku_rows.append(self._sku_values(current.id, row, price, now, size=current.size))
                if price_changed or stock_changed:
                    result.changes.append(
                        SkuChange(
                            sku_id=current.id,
                            product_id=row.id,
                            size=current.size,
                            old_price=current.price if price_changed else None,
                            new_price=price if price_changed else None,
                            old_stock=current.stock if stock_changed else None,
                            new_stock=row.stock if stock_changed else None,
                        )
                    )
                if price_changed or stock_changed or row.id in changed_products:
                    result.updated += 1
                else:
                    result.unchanged += 1
            # Rows superseded by a later row of the same size count as unchanged: they wrote nothing.
            result.unchanged += len(rows) - len(latest)

            connection = session.connection()
            bulk_upsert(connection, PRODUCTS, product_rows, [*PRODUCT_FIELDS, "updated_at"])
            bulk_upsert(connection, SKUS, sku_rows, ["size_system", "price", "stock", "updated_at"])
            bulk_insert(connection, HISTORY, new_history)
            # One event per new or changed product, the type the search indexer re-indexes on.
            created = {k[0] for k in latest if k not in existing_skus and k[0] not in existing_products}
            touched = sorted(changed_products | {k[0] for k in latest if k not in existing_skus})
            if touched:
                bulk_insert(
                    connection,
                    OUTBOX,
                    [
                        outbox_row(
                            topic=INVENTORY_TOPIC,
                            type="product.upserted",
                            key=product_id,
                            payload={
                                "product_id": product_id,
                                "source": source,
                                "created": product_id in created,
                            },
                            now=now,
                        )
                        for product_id in touched
                    ],
                )
            session.expire_all()  # the upserts bypassed the identity map; alerts must see new values
            result.alerts = record_changes(session, result.changes, source=source, now=now)
        return result

    @staticmethod
    def _sku_values(
        sku_id: str, row: FeedRow, price: float, now: datetime, *, size: str | None = None
    ) -> dict[str, Any]:
        label = size or row.size
        return {
            "id": sku_id,
            "product_id": row.id,
            "size": label,
            "size_system": row.size_system,
            "position": size_position(label),
            "price": price,
            "stock": row.stock,
            "updated_at": now,
        }

    @staticmethod
    def _existing_products(session: Session, ids: list[str]) -> dict[str, dict[str, Any]]:
        columns = [getattr(ProductRow, name) for name in PRODUCT_FIELDS]
        rows = session.execute(select(ProductRow.id, *columns).where(ProductRow.id.in_(ids))).all()
        return {row[0]: dict(zip(PRODUCT_FIELDS, row[1:], strict=True)) for row in rows}
