"""The catalog as the agent and the API see it: SQL truth, search indexes and caches kept in step.

``CatalogService`` owns products, stock and prices; ``SearchService`` owns the
indexes. This class joins them: it loads the indexes from the catalog, keeps them
current from ``inventory-updates`` events (price and stock changes are re-indexed
without re-encoding), matches price changes against alerts on *searches*, and
caches what is read often.

Caching follows the design's lifetimes: a product's details for 10 minutes, a
search page for 5. Both would go stale after a stock change, so every inventory
event drops the product's entry and bumps a generation number that is part of
every search key: a cached page is either current or unreachable.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from rag.documents import CATALOG_CURRENCY, FACET_FIELDS, ProductDoc, SearchFilters, SearchMode, size_key
from rag.money import to_catalog
from rag.query import parse_query
from rag.search import SearchPage, SearchService
from storage.cache import Cache
from storage.cache.base import Namespaces, or_when_down
from storage.events import Event
from tools.catalog.schemas import PriceAlert, ProductDetail
from tools.catalog.service import CatalogService, InvalidAlert

logger = logging.getLogger(__name__)

#: Event types on ``inventory-updates`` that change what the indexes hold for a product.
AVAILABILITY_EVENTS = frozenset({"price.changed", "stock.changed", "product.upserted"})
_GENERATION_KEY = "catalog-generation"


class CatalogStore:
    def __init__(
        self, catalog: CatalogService, search: SearchService, cache: Cache, namespaces: Namespaces
    ) -> None:
        self.catalog = catalog
        self.search_service = search
        self._cache = cache
        self._hot = namespaces.hot_products
        self._pages = namespaces.api_responses
        self._lock = threading.Lock()
        #: Set once every product has a vector; until then vector and hybrid search would rank a
        #: part of the catalog, so they answer from full text instead.
        self.vectors_complete = False

    # --- reads ---------------------------------------------------------------------------------

    def _generation(self) -> int:
        # Unreadable while the cache is down; the page cache misses then anyway.
        raw = or_when_down(lambda: self._cache.get(_GENERATION_KEY), None, "reading the catalog generation")
        return int(raw) if raw is not None else 0

    def search(
        self,
        text: str,
        filters: SearchFilters | None = None,
        *,
        mode: SearchMode = "hybrid",
        limit: int = 10,
        offset: int = 0,
        facets: bool = False,
    ) -> SearchPage:
        notes: list[str] = []
        if mode != "fulltext" and not self.vectors_complete:
            mode = "fulltext"
            notes.append("semantic search is still indexing the catalogue; results are full-text only")
        request = {
            "g": self._generation(),
            "t": text,
            "f": (filters or SearchFilters()).model_dump(mode="json"),
            "m": mode,
            "l": limit,
            "o": offset,
            "facets": facets,
        }
        key = "search:" + hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()
        cached = self._pages.get_json(key)
        if cached is not None:
            return SearchPage.model_validate(cached)
        page = self.search_service.search(text, filters, mode=mode, limit=limit, offset=offset, facets=facets)
        page.notes[:0] = notes
        self._pages.set_json(key, page.model_dump(mode="json"))
        return page

    def product(self, product_id: str) -> ProductDetail | None:
        cached = self._hot.get_json(product_id)
        if cached is not None:
            return ProductDetail.model_validate(cached)
        detail = self.catalog.get_product(product_id)
        if detail is not None:
            self._hot.set_json(product_id, detail.model_dump(mode="json"))
        return detail

    def doc(self, product_id: str) -> ProductDoc | None:
        docs = self.search_service.get([product_id])
        return docs[0] if docs else None

    def create_alert(
        self,
        user_id: str,
        *,
        product_id: str | None = None,
        query: str | None = None,
        threshold: float,
        currency: str = CATALOG_CURRENCY,
        size: str | None = None,
    ) -> PriceAlert:
        """A price-drop alert on a product, or on a search kept as the filters its text stands for
        (so it can be re-checked without the text). A search naming no attribute is refused: an
        alert on "anything" would fire on every sale."""
        filters: dict[str, Any] | None = None
        if query is not None:
            parsed = parse_query(query).filters
            if not any(getattr(parsed, name) for name in FACET_FIELDS):
                raise InvalidAlert(
                    "the search is too vague to watch: name an item type, colour or other attribute"
                )
            filters = parsed.model_dump(mode="json")
        return self.catalog.create_price_alert(
            user_id,
            product_id=product_id,
            query=query,
            filters=filters,
            threshold=to_catalog(threshold, currency),
            size=size,
        )

    # --- keeping the indexes current -----------------------------------------------------------

    def sync_all(self) -> int:
        """Put every catalog product in the full-text index; returns how many. Vectors take minutes
        the first time, so they are built apart (``index_semantic``)."""
        indexed = 0
        for batch in self.catalog.docs():
            self.search_service.index(batch, semantic=False)
            indexed += len(batch)
        self._bump()
        return indexed

    def index_semantic(self, progress: Callable[[int], None] | None = None) -> int:
        """Encode and store vectors for the whole catalog (minutes the first time, cached after).

        ``progress`` hears the running count after every encoded chunk (a few hundred products),
        so a caller can stop the work promptly by raising from it.
        """
        if self.search_service.semantic is None:
            return 0
        done = 0
        for batch in self.catalog.docs():
            before = done

            def step(indexed: int, _total: int, before: int = before) -> None:
                if progress is not None:
                    progress(before + indexed)

            self.search_service.index_semantic(batch, step)
            done += len(batch)
        self.vectors_complete = True
        self._bump()
        return done

    def refresh(self, product_ids: Sequence[str]) -> None:
        """Re-send fresh availability for these products to the indexes and drop their caches."""
        ids = list(dict.fromkeys(product_ids))
        if not ids:
            return
        for batch in self.catalog.docs(ids):
            self.search_service.update_availability(batch)
        for product_id in ids:
            self._hot.delete(product_id)
        self._bump()

    def add(self, product_ids: Sequence[str]) -> None:
        """New or re-described products: index them fully (vectors only for texts not seen before)."""
        for batch in self.catalog.docs(list(dict.fromkeys(product_ids))):
            self.search_service.index(batch, semantic=self.vectors_complete)
        for product_id in product_ids:
            self._hot.delete(product_id)
        self._bump()

    def _bump(self) -> None:
        with self._lock:
            self._cache.incr(_GENERATION_KEY)

    def on_inventory_event(self, event: Event) -> None:
        """Consumer handler for ``inventory-updates``: idempotent, so redelivery is harmless."""
        if event.type not in AVAILABILITY_EVENTS:
            return
        product_id = str(event.payload.get("product_id") or event.key)
        if event.type == "product.upserted":
            self.add([product_id])
        else:
            self.refresh([product_id])
        if event.type == "price.changed" and _dropped(event.payload):
            self._match_query_alerts(product_id)

    def _match_query_alerts(self, product_id: str) -> None:
        """Alerts on a search fire when a product matching the search drops to the threshold."""
        doc = self.doc(product_id)
        if doc is None:
            return
        for alert in self.catalog.query_alerts():
            if alert.threshold < doc.price:
                continue
            if not _matches(alert.filters or {}, doc, alert.size):
                continue
            self.catalog.notify_query_alert(alert.id, product_id, doc.price)


def _dropped(payload: dict[str, Any]) -> bool:
    """A price alert is about a drop: a rise that stays under someone's threshold tells them nothing."""
    old, new = payload.get("old_price"), payload.get("new_price")
    return old is None or new is None or float(new) < float(old)


def _matches(filters: dict[str, Any], doc: ProductDoc, size: str | None) -> bool:
    """Whether ``doc`` passes a stored alert's filters (the attributes its search text stood for)."""
    parsed = SearchFilters.model_validate(filters)
    for name in FACET_FIELDS:
        allowed: list[str] = getattr(parsed, name)
        if allowed and getattr(doc, name) not in allowed:
            return False
    if parsed.price_min is not None and doc.price < parsed.price_min:
        return False
    if not doc.in_stock:
        return False
    wanted = size or parsed.size
    return wanted is None or size_key(wanted) in {size_key(s) for s in doc.sizes_available}
