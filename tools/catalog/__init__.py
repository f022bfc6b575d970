"""The product catalog: products, sizes, stock, prices, price alerts, feeds and webhooks.

``CatalogService`` owns the rules, ``FeedImporter`` bulk-loads sources
(``connectors``), ``WebhookProcessor`` applies signed stock/price calls, and
``CatalogService.docs`` hands search its ``rag.documents.ProductDoc``s.
"""

from tools.catalog.importer import FeedImporter
from tools.catalog.service import (
    AlertLimit,
    AlertNotFound,
    CatalogError,
    CatalogService,
    DuplicateDelivery,
    InvalidAlert,
    InvalidPrice,
    InvalidStock,
    ProductNotFound,
    SizeNotFound,
)
from tools.catalog.webhook import WebhookProcessor, WebhookRejected

__all__ = [
    "AlertLimit",
    "AlertNotFound",
    "CatalogError",
    "CatalogService",
    "DuplicateDelivery",
    "FeedImporter",
    "InvalidAlert",
    "InvalidPrice",
    "InvalidStock",
    "ProductNotFound",
    "SizeNotFound",
    "WebhookProcessor",
    "WebhookRejected",
]
