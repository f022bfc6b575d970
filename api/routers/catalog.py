"""Catalog: search with filters and facets, product details, stock, price history, photos, feeds.

Reads are public (a shop window); importing a feed needs an admin; the stock and
price webhook is authenticated by its HMAC signature instead of a user token.
"""

from __future__ import annotations

import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.deps import AdminUser, CatalogDep, SettingsDep, WebhookDep
from rag.documents import ProductDoc, SearchFilters
from rag.money import Currency, bound_to_catalog
from rag.search import SearchPage
from tools.catalog.connectors import FeedFormatError
from tools.catalog.importer import FeedImporter
from tools.catalog.schemas import ImportReport, PricePoint, ProductDetail, StockAnswer
from tools.catalog.service import CatalogError, ProductNotFound
from tools.catalog.webhook import WebhookRejected

router = APIRouter(prefix="/catalog", tags=["catalog"])

ProductId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="The catalog's product id")]
Multi = Annotated[list[str], Query(max_length=20)]

#: Shown where a product has no real photo; it says so instead of pretending to be one.
_PLACEHOLDER = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">'
    '<rect width="256" height="256" fill="#eeeeee"/>'
    '<text x="128" y="122" font-family="sans-serif" font-size="18" text-anchor="middle" fill="#777">'
    "No photo</text>"
    '<text x="128" y="148" font-family="sans-serif" font-size="18" text-anchor="middle" fill="#777">'
    "暂无图片</text></svg>"
)
_MAX_FEED_BYTES = 50 * 1024 * 1024


class SearchResponse(BaseModel):
    total: int
    mode: str
    products: list[ProductDoc]
    scores: list[float]
    facets: dict[str, dict[str, int]]
    understood: dict[str, Any]


@router.get("/search")
def search(
    catalog: CatalogDep,
    q: Annotated[str, Query(max_length=500, description="Free text in Chinese or English")] = "",
    gender: Multi = [],  # noqa: B006 - FastAPI copies query defaults
    master_category: Multi = [],  # noqa: B006
    sub_category: Multi = [],  # noqa: B006
    article_type: Multi = [],  # noqa: B006
    colour: Multi = [],  # noqa: B006
    season: Multi = [],  # noqa: B006
    usage: Multi = [],  # noqa: B006
    price_min: Annotated[float | None, Query(ge=0, le=1_000_000)] = None,
    price_max: Annotated[float | None, Query(ge=0, le=1_000_000)] = None,
    currency: Currency = "CNY",
    in_stock: bool | None = None,
    size: Annotated[str | None, Query(max_length=32)] = None,
    mode: Literal["hybrid", "fulltext", "vector"] = "hybrid",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
    facets: bool = True,
) -> SearchResponse:
    try:
        filters = SearchFilters(
            gender=gender,
            master_category=master_category,
            sub_category=sub_category,
            article_type=article_type,
            colour=colour,
            season=season,
            usage=usage,
            price_min=bound_to_catalog(price_min, currency),
            price_max=bound_to_catalog(price_max, currency),
            in_stock=in_stock,
            size=size,
        )
    except ValueError as exc:
        raise HTTPException(422, f"invalid filters: {exc}") from exc
    page: SearchPage = catalog.search(q, filters, mode=mode, limit=limit, offset=offset, facets=facets)
    return SearchResponse(
        total=page.total,
        mode=page.mode,
        products=[hit.doc for hit in page.hits],
        scores=[hit.score for hit in page.hits],
        facets=page.facets,
        understood=page.understood.model_dump(mode="json"),
    )


@router.get("/products/{product_id}")
def read_product(product_id: ProductId, catalog: CatalogDep) -> ProductDetail:
    detail = catalog.product(product_id)
    if detail is None:
        raise HTTPException(404, f"no product with id {product_id!r}")
    return detail


@router.get("/products/{product_id}/stock")
def read_stock(
    product_id: ProductId, catalog: CatalogDep, size: Annotated[str | None, Query(max_length=32)] = None
) -> StockAnswer:
    try:
        return catalog.catalog.check_stock(product_id, size)
    except ProductNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except CatalogError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("/products/{product_id}/price-history")
def read_price_history(
    product_id: ProductId, catalog: CatalogDep, days: Annotated[int, Query(ge=1, le=3650)] = 90
) -> list[PricePoint]:
    try:
        return catalog.catalog.price_history(product_id, days)
    except ProductNotFound as exc:
        raise HTTPException(404, str(exc)) from exc


@router.get("/products/{product_id}/image", response_model=None)
def read_image(product_id: ProductId, settings: SettingsDep, catalog: CatalogDep) -> Response:
    photo = catalog.catalog.image_file(product_id, settings.catalog_dir)
    if photo is not None:
        return FileResponse(
            photo, media_type="image/jpeg", headers={"Cache-Control": "public, max-age=86400"}
        )
    if catalog.product(product_id) is None:
        raise HTTPException(404, f"no product with id {product_id!r}")
    return Response(
        _PLACEHOLDER,
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=3600", "X-Placeholder": "true"},
    )


@router.post("/imports", status_code=200)
async def import_feed(
    file: UploadFile,
    _: AdminUser,
    catalog: CatalogDep,
    settings: SettingsDep,
    strict: bool = False,
    source: Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")] = "upload",
) -> ImportReport:
    """Upsert products from a CSV or JSON Lines feed; bad rows are reported, never half-applied."""
    name = (file.filename or "").lower()
    if not name.endswith((".csv", ".json", ".jsonl", ".ndjson")):
        raise HTTPException(415, "feeds are .csv, .json or .jsonl files")
    body = await file.read(_MAX_FEED_BYTES + 1)
    if len(body) > _MAX_FEED_BYTES:
        raise HTTPException(413, f"feeds are at most {_MAX_FEED_BYTES // (1024 * 1024)} MiB")
    importer = FeedImporter(catalog.catalog.db, settings.catalog)
    suffix = "." + name.rsplit(".", 1)[1]
    try:
        return await run_in_threadpool(_import_upload, importer, body, suffix, source, strict)
    except FeedFormatError as exc:
        raise HTTPException(422, f"{exc}; nothing was imported") from exc


def _import_upload(
    importer: FeedImporter, body: bytes, suffix: str, source: str, strict: bool
) -> ImportReport:
    """The importer reads files (feeds can be large); the search indexes follow its events."""
    with tempfile.TemporaryDirectory(prefix="ik-feed-") as folder:
        path = FilePath(folder) / f"feed{suffix}"
        path.write_bytes(body)
        return importer.import_file(path, strict=strict, source=source)


@router.post("/webhooks/inventory")
async def inventory_webhook(request: Request, webhook: WebhookDep, catalog: CatalogDep) -> dict[str, Any]:
    """Stock and price updates from a shop, signed with HMAC-SHA256 (see ``tools.catalog.webhook``)."""
    body = await request.body()
    try:
        result = await run_in_threadpool(webhook.handle, dict(request.headers), body)
    except WebhookRejected as exc:
        raise HTTPException(exc.status, exc.reason) from exc
    await run_in_threadpool(catalog.refresh, result.result.product_ids)
    return result.model_dump(mode="json")
