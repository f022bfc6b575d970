"""The catalog's business rules: products, sizes, stock, prices and price alerts.

Every write is one transaction that also writes what it implies: the price
history, the outbox events on ``inventory-updates`` (so search re-indexes the
product and caches drop it) and any price alert it fires. A caller never has to
remember to do those, and a failure leaves none of them behind.

Price alert rule (one place, applied to every price or stock change, whether it
came from ``set_price``, ``set_stock``, a webhook or a feed):

* The *observed price* of a product alert is the lowest current price over the
  product's sizes that are in stock, or, when the alert names a size, that
  size's price while it is in stock. Nothing in stock means nothing observed:
  a deal one cannot buy is not worth a message.
* An active alert fires when its observed price is at or below its threshold
  **and** below ``last_price``, the price the person last heard of (the price
  when the alert was set, or when it fired). So an alert set while the price
  already met the threshold (it comes back with ``already_met=True``, for the
  agent to say so at once) fires only on a further drop, and a restock at a
  price the person already knew about does not repeat itself.
* It fires once: it becomes inactive with ``triggered_at`` set, an
  ``alert_notifications`` row is written for the agent to deliver next time, and
  a ``price_alert.triggered`` event (key: the user id) goes out, all in the
  transaction of the change.

Alerts on a *search* (query + filters) need the search engine, which this
module must not call: ``query_alerts`` lists them and ``notify_query_alert``
fires one, for the API's event consumer that matches price changes to searches.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

from pydantic import ValidationError
from sqlalchemy import JSON, Connection, Table, bindparam, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.config import CatalogSettings
from rag.documents import CATALOG_CURRENCY, ProductDoc, SearchFilters, size_key
from rag.query import MAX_QUERY_CHARS
from storage.events import Topic
from storage.sql import Database
from storage.sql.models import AlertNotification as AlertNotificationRow
from storage.sql.models import (
    Money,
    OutboxEvent,
    PriceHistory,
    Sku,
    User,
    WebhookDelivery,
    new_id,
)
from storage.sql.models import PriceAlert as PriceAlertRow
from storage.sql.models import Product as ProductRow
from storage.sql.outbox import add_event
from storage.sql.types import UTCDateTime, utcnow
from tools.catalog.connectors import SHIPPED_SOURCE, ShippedDatasetSource
from tools.catalog.schemas import (
    AlertNotification,
    ImportReport,
    PriceAlert,
    PricePoint,
    Product,
    ProductDetail,
    SizeStock,
    StockAnswer,
    StockPriceUpdate,
    UpdateResult,
)
from tools.catalog.schemas import Sku as SkuOut

INVENTORY_TOPIC = Topic.INVENTORY_UPDATES
PRODUCTS = cast(Table, ProductRow.__table__)
SKUS = cast(Table, Sku.__table__)
HISTORY = cast(Table, PriceHistory.__table__)
OUTBOX = cast(Table, OutboxEvent.__table__)
#: A person may keep this many active alerts; more is a runaway agent loop, not a shopper.
MAX_ACTIVE_ALERTS = 50
#: Where the API serves a product's real photo.
IMAGE_URL = "/api/v1/catalog/products/{id}/image"
#: Generated history rows are written with this source.
GENERATED_SOURCE = "generated"


class CatalogError(Exception):
    """Base for errors a caller can act on; the message is safe to show."""


class ProductNotFound(CatalogError, LookupError):
    pass


class SizeNotFound(CatalogError, LookupError):
    """The product does not come in that size; the message lists the sizes it does come in."""


class InvalidPrice(CatalogError, ValueError):
    pass


class InvalidStock(CatalogError, ValueError):
    pass


class InvalidAlert(CatalogError, ValueError):
    pass


class AlertLimit(CatalogError):
    pass


class AlertNotFound(CatalogError, LookupError):
    pass


class DuplicateDelivery(CatalogError):
    """A webhook delivery id that was already processed (a replay)."""


# --- sizes ---------------------------------------------------------------------------------------


class _Sized(Protocol):
    @property
    def size(self) -> str: ...


SizedT = TypeVar("SizedT", bound=_Sized)


def match_size(skus: Sequence[SizedT], requested: str) -> SizedT | None:
    """The SKU (row or schema) a person means by ``requested``, compared by ``size_key``."""
    wanted = size_key(requested)
    return next((s for s in skus if size_key(s.size) == wanted), None)


def _require_size(product_id: str, skus: Sequence[Sku], requested: str) -> Sku:
    """The SKU in ``requested`` size, or ``SizeNotFound`` naming the sizes the product comes in."""
    sku = match_size(skus, requested)
    if sku is None:
        sizes = ", ".join(s.size for s in sorted(skus, key=lambda s: s.position)) or "none"
        raise SizeNotFound(
            f"product {product_id} does not come in size {requested!r}; its sizes are: {sizes}"
        )
    return sku


def _require_product(session: Session, product_id: str) -> ProductRow:
    product = session.get(ProductRow, product_id)
    if product is None:
        raise ProductNotFound(f"no product with id {product_id!r}")
    return product


def money(value: float) -> float:
    return round(float(value), 2)


def check_price(settings: CatalogSettings, price: float) -> float:
    if not (settings.min_price <= price <= settings.max_price):
        raise InvalidPrice(
            f"price {price} {CATALOG_CURRENCY} is outside the accepted range "
            f"{settings.min_price}..{settings.max_price} {CATALOG_CURRENCY}"
        )
    return money(price)


def check_stock(quantity: int) -> int:
    if quantity < 0:
        raise InvalidStock(f"stock cannot be negative (got {quantity})")
    return quantity


# --- changes, events and alerts, shared with the importer ------------------------------------------


@dataclass(frozen=True)
class SkuChange:
    """One SKU's price or stock before and after a write (None: that part did not change)."""

    sku_id: str
    product_id: str
    size: str
    old_price: float | None = None
    new_price: float | None = None
    old_stock: int | None = None
    new_stock: int | None = None


def outbox_row(*, topic: str, type: str, key: str, payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    """An outbox row for a bulk insert (``add_event`` flushes once per event, too slow for a feed;
    single events use it)."""
    Topic(topic)
    return {
        "id": new_id(),
        "topic": topic,
        "key": key,
        "type": type,
        "version": 1,
        "payload": payload,
        "occurred_at": now,
        "created_at": now,
        "published_at": None,
        "attempts": 0,
        "last_error": None,
    }


def _bind_processor(type_: Any, dialect: Any) -> Any:
    """The column type's bind processor; psycopg adapts JSON through its own wrapper instead."""
    if dialect.name == "postgresql" and isinstance(type_, JSON):
        from psycopg.types.json import Json  # only on PostgreSQL, where psycopg is the driver

        return Json
    return type_.bind_processor(dialect)


def _driver_rows(
    connection: Connection, table: Table, names: list[str], rows: list[dict[str, Any]]
) -> list[Any]:
    """Rows as the driver takes them, each value through its column type's bind processor.

    Only columns whose type has a processor are touched; batches share their
    timestamps, so processed datetimes are memoised.
    """
    dialect = connection.dialect
    processors = [
        (index, processor)
        for index, name in enumerate(names)
        if (processor := _bind_processor(table.c[name].type, dialect)) is not None
    ]
    getter = itemgetter(*names)
    sqlite = dialect.name == "sqlite"
    if sqlite:
        # sqlite3 would adapt every datetime itself (``isoformat(" ")``), once per value; doing the
        # same once per distinct timestamp took a tenth off a first import.
        found = {
            index for index, name in enumerate(names) if rows and isinstance(rows[0].get(name), datetime)
        }
        processed = {index for index, _ in processors}
        processors = [*processors, *((index, None) for index in found - processed)]
    if not processors:
        return [getter(row) for row in rows]
    memo: dict[datetime, Any] = {}
    result = []
    for row in rows:
        values = list(getter(row))
        for index, processor in processors:
            value = values[index]
            if value is None:
                continue
            if isinstance(value, datetime):
                if value not in memo:
                    bound = processor(value) if processor is not None else value
                    memo[value] = bound.isoformat(" ") if sqlite and isinstance(bound, datetime) else bound
                values[index] = memo[value]
            elif processor is not None:
                values[index] = processor(value)
        result.append(values)
    return result


def _driver_executemany(connection: Connection, sql: str, params: list[Any]) -> None:
    driver = connection.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        cursor.executemany(sql, params)
    finally:
        cursor.close()


def _columns(table: Table, names: list[str]) -> list[str]:
    """The names checked against the table's columns, so no other text reaches the SQL."""
    return [table.c[name].name for name in names]


def _placeholder(connection: Connection) -> str:
    return "?" if connection.dialect.name == "sqlite" else "%s"


def _copy(
    connection: Connection, target: str, table: Table, names: list[str], rows: list[dict[str, Any]]
) -> None:
    """``COPY target (names) FROM STDIN`` on PostgreSQL, values through ``table``'s column types."""
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(f"COPY {target} ({', '.join(names)}) FROM STDIN") as copy:
        for values in _driver_rows(connection, table, names, rows):
            copy.write_row(values)


def bulk_insert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """A many-row INSERT in the caller's transaction, fast on both dialects.

    SQLAlchemy's per-row parameter handling costs more than SQLite's own insert,
    so rows go to the driver directly, through the column types' bind processors.
    On PostgreSQL they go through ``COPY ... FROM STDIN`` (psycopg's
    executemany is a round trip per row), an order of magnitude faster for a load.
    """
    if not rows:
        return
    names = _columns(table, list(rows[0]))
    if connection.dialect.name == "postgresql":
        _copy(connection, table.name, table, names, rows)
        return
    mark = _placeholder(connection)
    # Identifiers come from the table's own metadata (``_columns``), never from input.
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join([mark] * len(names))})"  # noqa: S608
    _driver_executemany(connection, sql, _driver_rows(connection, table, names, rows))


def bulk_upsert(
    connection: Connection, table: Table, rows: list[dict[str, Any]], update: Sequence[str]
) -> None:
    """``INSERT ... ON CONFLICT (id) DO UPDATE`` (same syntax on SQLite >= 3.24 and PostgreSQL)."""
    if not rows:
        return
    names = _columns(table, list(rows[0]))
    mark = _placeholder(connection)
    assignments = ", ".join(f"{c} = excluded.{c}" for c in _columns(table, list(update)))
    columns = ", ".join(names)
    if connection.dialect.name == "postgresql":
        # psycopg's executemany is a round trip per row: COPY into a scratch table, then one
        # INSERT ... SELECT ... ON CONFLICT, the usual way to bulk-upsert on PostgreSQL.
        scratch = f"upsert_{table.name}"
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {scratch}")
        connection.exec_driver_sql(
            f"CREATE TEMP TABLE {scratch} ON COMMIT DROP AS SELECT {columns} FROM {table.name} WITH NO DATA"  # noqa: S608 - metadata names
        )
        _copy(connection, scratch, table, names, rows)
        connection.exec_driver_sql(
            f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {scratch} "  # noqa: S608
            f"ON CONFLICT (id) DO UPDATE SET {assignments}"
        )
        return
    values = ", ".join([mark] * len(names))
    sql = (
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({values}) "  # noqa: S608 - metadata names
        f"ON CONFLICT (id) DO UPDATE SET {assignments}"
    )
    _driver_executemany(connection, sql, _driver_rows(connection, table, names, rows))


def record_changes(session: Session, changes: Sequence[SkuChange], *, source: str, now: datetime) -> int:
    """Write the price history and events of changes already applied, then fire alerts.

    Returns how many alerts fired.
    """
    history: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for change in changes:
        if change.new_price is not None and change.new_price != change.old_price:
            history.append({"sku_id": change.sku_id, "price": change.new_price, "at": now, "source": source})
            events.append(
                _change_event(
                    change,
                    "price.changed",
                    source=source,
                    now=now,
                    old_price=change.old_price,
                    new_price=change.new_price,
                    currency=CATALOG_CURRENCY,
                )
            )
        if change.new_stock is not None and change.new_stock != change.old_stock:
            events.append(
                _change_event(
                    change,
                    "stock.changed",
                    source=source,
                    now=now,
                    old_stock=change.old_stock,
                    new_stock=change.new_stock,
                    in_stock=change.new_stock > 0,
                )
            )
    bulk_insert(session.connection(), HISTORY, history)
    bulk_insert(session.connection(), OUTBOX, events)
    return evaluate_alerts(session, sorted({c.product_id for c in changes}), now=now)


def _change_event(
    change: SkuChange, type: str, *, source: str, now: datetime, **fields: Any
) -> dict[str, Any]:
    """The outbox row announcing one SKU's change; ``fields`` are what changed."""
    payload = {"product_id": change.product_id, "size": change.size, **fields, "source": source}
    return outbox_row(topic=INVENTORY_TOPIC, type=type, key=change.product_id, payload=payload, now=now)


def _observed_price(skus: Sequence[Sku], size: str | None) -> float | None:
    if size is not None:
        sku = match_size(skus, size)
        return sku.price if sku is not None and sku.stock > 0 else None
    return min((s.price for s in skus if s.stock > 0), default=None)


def _fire(session: Session, alert: PriceAlertRow, product_id: str, price: float, now: datetime) -> str:
    alert.active = False
    alert.triggered_at = now
    alert.last_price = price
    notification = AlertNotificationRow(
        id=new_id(),
        alert_id=alert.id,
        user_id=alert.user_id,
        product_id=product_id,
        size=alert.size,
        price=price,
        created_at=now,
    )
    session.add(notification)
    add_event(
        session,
        topic=INVENTORY_TOPIC,
        type="price_alert.triggered",
        key=alert.user_id,
        payload={
            "alert_id": alert.id,
            "notification_id": notification.id,
            "user_id": alert.user_id,
            "product_id": product_id,
            "size": alert.size,
            "price": price,
            "threshold": alert.threshold,
            "query": alert.query,
            "currency": CATALOG_CURRENCY,
        },
    )
    return notification.id


def evaluate_alerts(session: Session, product_ids: Sequence[str], *, now: datetime) -> int:
    """Fire the active product alerts on ``product_ids`` that the current prices meet (rule above)."""
    fired = 0
    for start in range(0, len(product_ids), 1000):
        chunk = product_ids[start : start + 1000]
        alerts = session.scalars(
            select(PriceAlertRow)
            .where(PriceAlertRow.product_id.in_(chunk), PriceAlertRow.active.is_(True))
            .order_by(PriceAlertRow.created_at, PriceAlertRow.id)
            .with_for_update()
        ).all()
        if not alerts:
            continue
        skus: dict[str, list[Sku]] = {}
        for sku in session.scalars(select(Sku).where(Sku.product_id.in_({a.product_id for a in alerts}))):
            skus.setdefault(sku.product_id, []).append(sku)
        for alert in alerts:
            assert alert.product_id is not None
            observed = _observed_price(skus.get(alert.product_id, []), alert.size)
            if observed is None or observed > alert.threshold:
                continue
            if alert.last_price is not None and observed >= alert.last_price:
                continue
            _fire(session, alert, alert.product_id, observed, now)
            fired += 1
    session.flush()
    return fired


# --- the service ---------------------------------------------------------------------------------

_DOC_COLUMNS = (
    ProductRow.id,
    ProductRow.name,
    ProductRow.brand,
    ProductRow.gender,
    ProductRow.master_category,
    ProductRow.sub_category,
    ProductRow.article_type,
    ProductRow.colour,
    ProductRow.season,
    ProductRow.year,
    ProductRow.usage,
    ProductRow.image,
    ProductRow.generated,
)


class CatalogService:
    def __init__(self, db: Database, settings: CatalogSettings) -> None:
        self.db = db
        self.settings = settings

    # --- loading ---------------------------------------------------------------------------------

    def load_shipped(self, catalog_dir: Path, limit: int | None = None) -> ImportReport:
        """Add the shipped products that are missing, with their generated sizes, stock and prices.

        Products already present (from an earlier load, a feed, or changed since by a
        webhook) are left exactly as they are, so loading again changes nothing and
        never resets a real price to a generated one.
        """
        started = time.perf_counter()
        report = ImportReport(source=SHIPPED_SOURCE)
        source = ShippedDatasetSource(catalog_dir, seed=self.settings.seed, limit=limit)
        with self.db.session() as session:
            existing = set(session.scalars(select(ProductRow.id)))
        batch: list[Any] = []
        for item in source.iter_products():
            report.products += 1
            report.rows += item.size_count
            if item.attributes["id"] in existing:
                report.unchanged += item.size_count
                continue
            batch.append(item)
            if len(batch) >= 5000:
                report.inserted += self._insert_shipped(batch)
                batch = []
        if batch:
            report.inserted += self._insert_shipped(batch)
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def _insert_shipped(self, items: Sequence[Any]) -> int:
        """Core bulk inserts; the history is copied from the new SKU rows by ``INSERT ... SELECT``.

        Every size of a generated product shares its price history, so the history is
        sent once per product and the database fans it out to the sizes: far fewer
        parameters to bind than one row per size and point (the load's slowest part).
        """
        now = utcnow()
        products: list[dict[str, Any]] = []
        skus: list[dict[str, Any]] = []
        past: list[dict[str, Any]] = []
        for item in items:
            product_id = item.attributes["id"]
            products.append(
                {
                    **item.attributes,
                    "source": SHIPPED_SOURCE,
                    "generated": True,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            for days, price in item.generated.history:
                past.append({"pid": product_id, "price": price, "at": now - timedelta(days=days)})
            for sku in item.generated.skus:
                skus.append(
                    {
                        "id": f"{product_id}/{sku.size}",
                        "product_id": product_id,
                        "size": sku.size,
                        "size_system": sku.size_system,
                        "position": sku.position,
                        "price": sku.price,
                        "stock": sku.stock,
                        "updated_at": now,
                    }
                )
        ids = [p["id"] for p in products]
        columns = ["sku_id", "price", "at", "source"]
        with self.db.session() as session:
            connection = session.connection()
            bulk_insert(connection, PRODUCTS, products)
            bulk_insert(connection, SKUS, skus)
            if past and connection.dialect.name == "postgresql":
                sizes: dict[str, list[str]] = {}
                for sku_row in skus:
                    sizes.setdefault(sku_row["product_id"], []).append(sku_row["id"])
                rows = [
                    {"sku_id": sku_id, "price": p["price"], "at": p["at"], "source": GENERATED_SOURCE}
                    for p in past
                    for sku_id in sizes[p["pid"]]
                ]
                bulk_insert(connection, HISTORY, rows)
            elif past:
                connection.execute(
                    HISTORY.insert().from_select(
                        columns,
                        select(
                            SKUS.c.id,
                            bindparam("price", type_=Money),
                            bindparam("at", type_=UTCDateTime()),
                            literal(GENERATED_SOURCE),
                        ).where(SKUS.c.product_id == bindparam("pid")),
                    ),
                    past,
                )
            connection.execute(
                HISTORY.insert().from_select(
                    columns,
                    select(
                        SKUS.c.id,
                        SKUS.c.price,
                        bindparam("now", now, type_=UTCDateTime()),
                        literal(GENERATED_SOURCE),
                    ).where(SKUS.c.product_id.in_(ids)),
                )
            )
            # One summary event, not one per product: whoever loads the shipped catalog indexes it
            # from ``docs()`` afterwards, and 44k per-product events would only re-index it again.
            add_event(
                session,
                topic=INVENTORY_TOPIC,
                type="catalog.loaded",
                key=SHIPPED_SOURCE,
                payload={"source": SHIPPED_SOURCE, "products": len(products)},
            )
        return len(skus)

    def count_products(self) -> int:
        with self.db.session() as session:
            return session.scalar(select(func.count()).select_from(ProductRow)) or 0

    def fingerprint(self) -> str:
        """Changes whenever the catalog does: every write also writes an ``inventory-updates`` event,
        so the product count plus the count and newest time of those events say whether a search
        index built earlier is still current."""
        with self.db.session() as session:
            products = session.scalar(select(func.count()).select_from(ProductRow)) or 0
            events, newest = session.execute(
                select(func.count(), func.max(OutboxEvent.created_at)).where(
                    OutboxEvent.topic == Topic.INVENTORY_UPDATES.value
                )
            ).one()
        return f"{products}:{events}:{newest.isoformat() if newest is not None else '-'}"

    # --- reading ---------------------------------------------------------------------------------

    def get_product(self, product_id: str) -> ProductDetail | None:
        details = self.get_products([product_id])
        return details[0] if details else None

    def get_products(self, ids: Sequence[str]) -> list[ProductDetail]:
        """Details in the order asked for; unknown ids are left out."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return []
        with self.db.session() as session:
            found: dict[str, ProductDetail] = {}
            for start in range(0, len(wanted), 1000):
                chunk = wanted[start : start + 1000]
                skus: dict[str, list[SkuOut]] = {}
                for sku in session.scalars(
                    select(Sku).where(Sku.product_id.in_(chunk)).order_by(Sku.product_id, Sku.position)
                ):
                    skus.setdefault(sku.product_id, []).append(SkuOut.model_validate(sku))
                for product in session.scalars(select(ProductRow).where(ProductRow.id.in_(chunk))):
                    found[product.id] = ProductDetail(
                        product=Product.model_validate(product), skus=skus.get(product.id, [])
                    )
        return [found[i] for i in wanted if i in found]

    def image_file(self, product_id: str, catalog_dir: Path) -> Path | None:
        """The real photo of a product, if it has one, confined to ``catalog_dir``."""
        with self.db.session() as session:
            image = session.scalar(select(ProductRow.image).where(ProductRow.id == product_id))
        if not image:
            return None
        root = catalog_dir.resolve()
        path = (root / image).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return None
        return path

    def docs(self, ids: Sequence[str] | None = None, batch: int = 5000) -> Iterator[list[ProductDoc]]:
        """Search documents in batches; products without any SKU are not sellable and left out."""
        if ids is not None:
            wanted = list(dict.fromkeys(ids))
            for start in range(0, len(wanted), batch):
                with self.db.session() as session:
                    query = select(*_DOC_COLUMNS).where(ProductRow.id.in_(wanted[start : start + batch]))
                    docs = self._docs(session, session.execute(query.order_by(ProductRow.id)).all())
                if docs:
                    yield docs
            return
        last: str | None = None
        while True:
            with self.db.session() as session:
                query = select(*_DOC_COLUMNS).order_by(ProductRow.id).limit(batch)
                if last is not None:
                    query = query.where(ProductRow.id > last)
                rows = session.execute(query).all()
                if not rows:
                    return
                docs = self._docs(session, rows)
            last = rows[-1].id
            if docs:
                yield docs

    @staticmethod
    def _docs(session: Session, rows: Sequence[Any]) -> list[ProductDoc]:
        """Documents for these product rows (``_DOC_COLUMNS``), with prices and sizes from their SKUs."""
        if not rows:
            return []
        ids = [r.id for r in rows]
        sku_rows = session.execute(
            select(Sku.product_id, Sku.size, Sku.price, Sku.stock)
            .where(Sku.product_id.in_(ids))
            .order_by(Sku.product_id, Sku.position)
        ).all()
        prices: dict[str, float] = {}
        available: dict[str, list[str]] = {}
        for sku in sku_rows:
            prices[sku.product_id] = min(prices.get(sku.product_id, sku.price), sku.price)
            sizes = available.setdefault(sku.product_id, [])
            if sku.stock > 0:
                sizes.append(sku.size)
        docs = []
        for row in rows:
            if row.id not in prices:
                continue
            sizes = available[row.id]
            docs.append(
                ProductDoc(
                    id=row.id,
                    name=row.name,
                    brand=row.brand,
                    gender=row.gender,
                    master_category=row.master_category,
                    sub_category=row.sub_category,
                    article_type=row.article_type,
                    colour=row.colour,
                    season=row.season,
                    year=row.year,
                    usage=row.usage,
                    price=prices[row.id],
                    in_stock=bool(sizes),
                    sizes_available=sizes,
                    image_url=IMAGE_URL.format(id=row.id) if row.image else None,
                    generated=row.generated,
                )
            )
        return docs

    def check_stock(self, product_id: str, size: str | None = None) -> StockAnswer:
        with self.db.session() as session:
            product = _require_product(session, product_id)
            skus = list(
                session.scalars(select(Sku).where(Sku.product_id == product_id).order_by(Sku.position))
            )
            if size is not None:
                skus = [_require_size(product_id, skus, size)]
            sizes = [
                SizeStock(size=s.size, quantity=s.stock, price=s.price, in_stock=s.stock > 0) for s in skus
            ]
            return StockAnswer(
                product_id=product_id,
                name=product.name,
                size=skus[0].size if size is not None else None,
                sizes=sizes,
                in_stock=any(s.in_stock for s in sizes),
                generated=product.generated,
            )

    def price_history(self, product_id: str, days: int = 90) -> list[PricePoint]:
        """Price points of the last ``days`` days, oldest first.

        A change that applied to every size at once is one point with ``size`` None.
        """
        since = utcnow() - timedelta(days=days)
        with self.db.session() as session:
            _require_product(session, product_id)
            sizes: dict[str, str] = {}
            for sku_id, label in session.execute(
                select(Sku.id, Sku.size).where(Sku.product_id == product_id)
            ):
                sizes[sku_id] = label
            rows = session.execute(
                select(PriceHistory.sku_id, PriceHistory.price, PriceHistory.at, PriceHistory.source)
                .join(Sku, Sku.id == PriceHistory.sku_id)
                .where(Sku.product_id == product_id, PriceHistory.at >= since)
                .order_by(PriceHistory.at, PriceHistory.id)
            ).all()
        groups: dict[tuple[datetime, float, str], list[str]] = {}
        for row in rows:
            groups.setdefault((row.at, row.price, row.source), []).append(sizes[row.sku_id])
        points: list[PricePoint] = []
        for (at, price, source), group in groups.items():
            if len(set(group)) == len(sizes):
                points.append(PricePoint(at=at, price=price, size=None, source=source))
            else:
                points.extend(PricePoint(at=at, price=price, size=s, source=source) for s in group)
        return points

    # --- writing ---------------------------------------------------------------------------------

    def set_price(
        self, product_id: str, size: str | None, price: float, source: str = "admin"
    ) -> ProductDetail:
        """Set one size's price, or every size's when ``size`` is None."""
        self.apply_update([StockPriceUpdate(product_id=product_id, size=size, price=price)], source=source)
        detail = self.get_product(product_id)
        assert detail is not None
        return detail

    def set_stock(self, product_id: str, size: str, quantity: int, source: str = "admin") -> ProductDetail:
        self.apply_update([StockPriceUpdate(product_id=product_id, size=size, stock=quantity)], source=source)
        detail = self.get_product(product_id)
        assert detail is not None
        return detail

    def apply_update(
        self,
        updates: Sequence[StockPriceUpdate | dict[str, Any]],
        *,
        source: str,
        delivery_id: str | None = None,
    ) -> UpdateResult:
        """Apply a batch of price/stock updates in one transaction: all of them or none.

        ``delivery_id`` records a webhook delivery in the same transaction, so a
        delivery is either applied and remembered, or neither; a second use raises
        ``DuplicateDelivery``.
        """
        try:
            parsed = [
                u if isinstance(u, StockPriceUpdate) else StockPriceUpdate.model_validate(u) for u in updates
            ]
        except ValidationError as exc:
            raise CatalogError(f"invalid update: {exc.errors()[0]['msg']}") from exc
        for item in parsed:
            if item.price is not None:
                check_price(self.settings, item.price)
            if item.stock is not None:
                check_stock(item.stock)
        now = utcnow()
        with self.db.session() as session:
            if delivery_id is not None:
                self._remember_delivery(session, delivery_id, len(parsed), now)
            changes = self._apply(session, parsed)
            session.flush()
            fired = record_changes(session, changes, source=source, now=now)
        return UpdateResult(
            updates=len(parsed),
            price_changes=sum(1 for c in changes if c.new_price is not None),
            stock_changes=sum(1 for c in changes if c.new_stock is not None),
            alerts_triggered=fired,
            product_ids=sorted({c.product_id for c in changes}),
        )

    @staticmethod
    def _remember_delivery(session: Session, delivery_id: str, updates: int, now: datetime) -> None:
        if session.get(WebhookDelivery, delivery_id) is not None:
            raise DuplicateDelivery(f"delivery {delivery_id!r} was already processed")
        session.add(WebhookDelivery(id=delivery_id, received_at=now, updates=updates))
        try:
            session.flush()
        except IntegrityError as exc:  # a concurrent request with the same id won the race
            raise DuplicateDelivery(f"delivery {delivery_id!r} was already processed") from exc

    def _apply(self, session: Session, updates: Sequence[StockPriceUpdate]) -> list[SkuChange]:
        product_ids = sorted({u.product_id for u in updates})
        skus: dict[str, list[Sku]] = {}
        known: set[str] = set()
        for start in range(0, len(product_ids), 1000):
            chunk = product_ids[start : start + 1000]
            known.update(session.scalars(select(ProductRow.id).where(ProductRow.id.in_(chunk))))
            # Row locks serialise concurrent updates of the same SKUs on PostgreSQL.
            for sku in session.scalars(
                select(Sku).where(Sku.product_id.in_(chunk)).order_by(Sku.id).with_for_update()
            ):
                skus.setdefault(sku.product_id, []).append(sku)
        changes: list[SkuChange] = []
        for item in updates:
            if item.product_id not in known:
                raise ProductNotFound(f"no product with id {item.product_id!r}")
            product_skus = skus.get(item.product_id, [])
            if item.size is None:
                targets = product_skus
            else:
                targets = [_require_size(item.product_id, product_skus, item.size)]
            for sku in targets:
                old_price, old_stock = sku.price, sku.stock
                new_price = money(item.price) if item.price is not None else None
                price_changed = new_price is not None and new_price != old_price
                stock_changed = item.stock is not None and item.stock != old_stock
                if not (price_changed or stock_changed):
                    continue
                if price_changed:
                    assert new_price is not None
                    sku.price = new_price
                if stock_changed:
                    assert item.stock is not None
                    sku.stock = item.stock
                changes.append(
                    SkuChange(
                        sku_id=sku.id,
                        product_id=sku.product_id,
                        size=sku.size,
                        old_price=old_price if price_changed else None,
                        new_price=new_price if price_changed else None,
                        old_stock=old_stock if stock_changed else None,
                        new_stock=item.stock if stock_changed else None,
                    )
                )
        return changes

    # --- price alerts ----------------------------------------------------------------------------

    def create_price_alert(
        self,
        user_id: str,
        *,
        product_id: str | None = None,
        query: str | None = None,
        filters: dict[str, Any] | None = None,
        threshold: float,
        size: str | None = None,
    ) -> PriceAlert:
        """Alert on a product (optionally in one size) or on a search.

        Setting an alert that already exists (same product and size, or same query
        and filters) moves its threshold instead of adding a second one.
        """
        if (product_id is None) == (query is None or not query.strip()):
            raise InvalidAlert("an alert needs either a product or a search query, not both")
        threshold = check_price(self.settings, threshold)
        clean_filters: dict[str, Any] = {}
        if query is not None:
            query = query.strip()
            if len(query) > MAX_QUERY_CHARS:
                raise InvalidAlert(f"the search query is longer than {MAX_QUERY_CHARS} characters")
            try:
                clean_filters = SearchFilters.model_validate(filters or {}).model_dump(
                    mode="json", exclude_defaults=True
                )
            except ValidationError as exc:
                raise InvalidAlert(f"invalid search filters: {exc.errors()[0]['msg']}") from exc
        elif filters:
            raise InvalidAlert("filters only apply to an alert on a search query")
        with self.db.session() as session:
            if session.scalar(select(User.id).where(User.id == user_id).with_for_update()) is None:
                raise InvalidAlert(f"no user with id {user_id!r}")
            current: float | None = None
            if product_id is not None:
                _require_product(session, product_id)
                skus = list(session.scalars(select(Sku).where(Sku.product_id == product_id)))
                if size is not None:
                    sku = _require_size(product_id, skus, size)
                    size, current = sku.size, sku.price
                else:
                    current = _observed_price(skus, None)
                    if current is None:
                        current = min((s.price for s in skus), default=None)
            same = select(PriceAlertRow).where(
                PriceAlertRow.user_id == user_id,
                PriceAlertRow.active.is_(True),
                PriceAlertRow.product_id.is_(None)
                if product_id is None
                else PriceAlertRow.product_id == product_id,
                PriceAlertRow.query.is_(None) if query is None else PriceAlertRow.query == query,
                PriceAlertRow.size.is_(None) if size is None else PriceAlertRow.size == size,
            )
            alert = next((a for a in session.scalars(same) if a.filters == clean_filters), None)
            if alert is None:
                active = session.scalar(
                    select(func.count())
                    .select_from(PriceAlertRow)
                    .where(PriceAlertRow.user_id == user_id, PriceAlertRow.active.is_(True))
                )
                if (active or 0) >= MAX_ACTIVE_ALERTS:
                    raise AlertLimit(
                        f"at most {MAX_ACTIVE_ALERTS} active price alerts per person; cancel one first"
                    )
                alert = PriceAlertRow(
                    id=new_id(),
                    user_id=user_id,
                    product_id=product_id,
                    query=query,
                    filters=clean_filters,
                    size=size,
                    created_at=utcnow(),
                    active=True,
                )
                session.add(alert)
            alert.threshold = threshold
            alert.last_price = current
            session.flush()
            result = PriceAlert.model_validate(alert)
        result.current_price = current
        result.already_met = current is not None and current <= threshold
        return result

    def list_alerts(self, user_id: str, *, active_only: bool = False) -> list[PriceAlert]:
        with self.db.session() as session:
            query = select(PriceAlertRow).where(PriceAlertRow.user_id == user_id)
            if active_only:
                query = query.where(PriceAlertRow.active.is_(True))
            rows = session.scalars(query.order_by(PriceAlertRow.created_at.desc(), PriceAlertRow.id))
            return [PriceAlert.model_validate(a) for a in rows]

    def cancel_alert(self, user_id: str, alert_id: str) -> PriceAlert:
        """Deactivate one of the person's alerts; someone else's alert is "not found", not "forbidden"."""
        with self.db.session() as session:
            alert = session.get(PriceAlertRow, alert_id)
            if alert is None or alert.user_id != user_id:
                raise AlertNotFound(f"no price alert with id {alert_id!r}")
            alert.active = False
            session.flush()
            return PriceAlert.model_validate(alert)

    def pending_notifications(self, user_id: str, limit: int = 50) -> list[AlertNotification]:
        with self.db.session() as session:
            rows = session.execute(
                select(AlertNotificationRow, ProductRow.name, PriceAlertRow.threshold, PriceAlertRow.query)
                .join(ProductRow, ProductRow.id == AlertNotificationRow.product_id)
                .join(PriceAlertRow, PriceAlertRow.id == AlertNotificationRow.alert_id)
                .where(AlertNotificationRow.user_id == user_id, AlertNotificationRow.delivered_at.is_(None))
                .order_by(AlertNotificationRow.created_at, AlertNotificationRow.id)
                .limit(limit)
            ).all()
            return [
                AlertNotification(
                    id=n.id,
                    alert_id=n.alert_id,
                    product_id=n.product_id,
                    product_name=name,
                    size=n.size,
                    price=n.price,
                    threshold=threshold,
                    query=query,
                    created_at=n.created_at,
                    delivered_at=n.delivered_at,
                )
                for n, name, threshold, query in rows
            ]

    def mark_delivered(self, user_id: str, ids: Sequence[str]) -> int:
        """Mark the person's notifications as told; others' ids are ignored. Returns how many changed."""
        if not ids:
            return 0
        with self.db.session() as session:
            result = session.execute(
                update(AlertNotificationRow)
                .where(
                    AlertNotificationRow.user_id == user_id,
                    AlertNotificationRow.id.in_(list(ids)),
                    AlertNotificationRow.delivered_at.is_(None),
                )
                .values(delivered_at=utcnow())
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def query_alerts(self) -> list[PriceAlert]:
        """Active alerts on a search, for the consumer that matches price changes with search."""
        with self.db.session() as session:
            rows = session.scalars(
                select(PriceAlertRow)
                .where(PriceAlertRow.active.is_(True), PriceAlertRow.query.is_not(None))
                .order_by(PriceAlertRow.created_at, PriceAlertRow.id)
            )
            return [PriceAlert.model_validate(a) for a in rows]

    def notify_query_alert(self, alert_id: str, product_id: str, price: float) -> AlertNotification | None:
        """Fire a search alert for a product the caller found matching; None if there is nothing to fire.

        The caller checked the product matches the query and filters; the price must
        meet the threshold, and the rule of ``last_price`` applies as for product alerts.
        """
        now = utcnow()
        price = money(price)
        with self.db.session() as session:
            alert = session.scalar(
                select(PriceAlertRow).where(PriceAlertRow.id == alert_id).with_for_update()
            )
            if alert is None or alert.query is None or not alert.active:
                return None  # cancelled, fired or deleted since the caller listed it: nothing to do
            product = _require_product(session, product_id)
            if price > alert.threshold:
                raise InvalidPrice(f"price {price} is above the alert's threshold {alert.threshold}")
            if alert.last_price is not None and price >= alert.last_price:
                return None
            notification_id = _fire(session, alert, product_id, price, now)
            session.flush()
            return AlertNotification(
                id=notification_id,
                alert_id=alert.id,
                product_id=product_id,
                product_name=product.name,
                size=alert.size,
                price=price,
                threshold=alert.threshold,
                query=alert.query,
                created_at=now,
            )
