"""Agent-facing catalog tools: search, product details, stock, price history, price-drop alerts.

Every number a reply may state (price, stock, sizes) comes back as a fact built
from the database row, so the responder can quote it and cannot invent one. Prices
are stored in CNY; a tool converts an argument given in another currency with
``rag.money`` and says which rate it used.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from rag.documents import CATALOG_CURRENCY, ProductDoc, SearchFilters
from rag.money import Currency, bound_to_catalog
from tools.base import Card, Tool, ToolArgs, ToolContext, ToolError, ToolResult
from tools.catalog.schemas import ProductDetail
from tools.catalog.service import CatalogError
from tools.catalog.store import CatalogStore
from tools.profile.tools import plain_number

Gender = Literal["Men", "Women", "Unisex", "Boys", "Girls"]
Season = Literal["Summer", "Fall", "Winter", "Spring"]
Usage = Literal["Casual", "Sports", "Ethnic", "Formal", "Smart Casual", "Party", "Travel"]
MasterCategory = Literal["Apparel", "Accessories", "Footwear", "Personal Care", "Sporting Goods"]

_ZH = {
    "price": "{name}（编号 {id}）现价 {price} 元",
    "stock": "{name}（编号 {id}）{size} 码有货 {qty} 件",
    "sold_out": "{name}（编号 {id}）{size} 码已售罄",
    "sizes": "{name}（编号 {id}）有货尺码：{sizes}",
    "none_in_stock": "{name}（编号 {id}）目前所有尺码都缺货",
    "history": "{name}（编号 {id}）近 {days} 天最低 {low} 元，最高 {high} 元，现价 {price} 元",
    "alert": "已设置降价提醒：{target} 降到 {threshold} 元或以下时通知你",
    "found": "找到 {total} 件符合条件的商品",
    "generated": "价格、尺码和库存为演示用的生成数据",
}
_EN = {
    "price": "{name} (id {id}) costs {price} CNY now",
    "stock": "{name} (id {id}) size {size}: {qty} in stock",
    "sold_out": "{name} (id {id}) size {size} is sold out",
    "sizes": "{name} (id {id}) is in stock in sizes {sizes}",
    "none_in_stock": "{name} (id {id}) is sold out in every size",
    "history": (
        "{name} (id {id}) over the last {days} days: lowest {low} CNY, highest {high} CNY, now {price} CNY"
    ),
    "alert": "price-drop alert set: you will be told when {target} costs {threshold} CNY or less",
    "found": "{total} matching products found",
    "generated": "prices, sizes and stock are generated demo data",
}


def _say(context: ToolContext, key: str, **values: object) -> str:
    table = _ZH if str(context.locale) == "zh" else _EN
    return table[key].format(**values)


def _store(context: ToolContext) -> CatalogStore:
    store: CatalogStore | None = getattr(context.services, "catalog", None)
    if store is None:
        raise ToolError("the product catalog is not available in this deployment")
    return store


def product_card(doc: ProductDoc) -> Card:
    return Card(
        kind="product",
        id=doc.id,
        title=doc.name,
        image_url=doc.image_url,
        data={
            "price": doc.price,
            "currency": CATALOG_CURRENCY,
            "in_stock": doc.in_stock,
            "sizes_available": doc.sizes_available,
            "colour": doc.colour,
            "article_type": doc.article_type,
            "gender": doc.gender,
            "generated": doc.generated,
        },
    )


def _price_fact(context: ToolContext, doc: ProductDoc) -> str:
    return _say(context, "price", name=doc.name, id=doc.id, price=plain_number(doc.price))


def _sizes_fact(context: ToolContext, doc: ProductDoc) -> str:
    if not doc.sizes_available:
        return _say(context, "none_in_stock", name=doc.name, id=doc.id)
    return _say(context, "sizes", name=doc.name, id=doc.id, sizes=", ".join(doc.sizes_available))


# --- search_products ---------------------------------------------------------------------------


class SearchProductsArgs(ToolArgs):
    query: str = Field(
        default="",
        max_length=500,
        description=(
            "What the person is looking for, in their words and language, e.g. '白色连衣裙 夏天' or "
            "'navy slim chinos'. Colours, item types, seasons, genders and prices in it are understood."
        ),
    )
    gender: list[Gender] = Field(default_factory=list, description="Only these genders.")
    master_category: list[MasterCategory] = Field(default_factory=list)
    article_type: list[str] = Field(
        default_factory=list, max_length=10, description="Catalog article types, e.g. 'Dresses', 'Tshirts'."
    )
    colour: list[str] = Field(
        default_factory=list, max_length=10, description="Catalog colours, e.g. 'White', 'Navy Blue'."
    )
    season: list[Season] = Field(default_factory=list)
    usage: list[Usage] = Field(default_factory=list)
    price_min: float | None = Field(default=None, ge=0, le=1_000_000)
    price_max: float | None = Field(default=None, ge=0, le=1_000_000)
    currency: Currency = Field(default="CNY", description="Currency of price_min / price_max.")
    size: str | None = Field(default=None, max_length=16, description="Only products in stock in this size.")
    in_stock_only: bool = Field(default=True, description="Leave out products sold out in every size.")
    limit: int = Field(default=5, ge=1, le=20)

    @field_validator("query")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()


def search_products(context: ToolContext, args: SearchProductsArgs) -> ToolResult:
    store = _store(context)
    try:
        filters = SearchFilters(
            gender=list(args.gender),
            master_category=list(args.master_category),
            article_type=args.article_type,
            colour=args.colour,
            season=list(args.season),
            usage=list(args.usage),
            price_min=bound_to_catalog(args.price_min, args.currency),
            price_max=bound_to_catalog(args.price_max, args.currency),
            in_stock=True if args.in_stock_only else None,
            size=args.size,
        )
    except ValueError as exc:
        raise ToolError(f"invalid filters: {exc}") from exc
    if not args.query and filters == SearchFilters(in_stock=filters.in_stock):
        raise ToolError(
            "say what to search for: a query or at least one filter (colour, item type, price...)"
        )
    page = store.search(args.query, filters, limit=args.limit)
    docs = [hit.doc for hit in page.hits]
    facts = [_say(context, "found", total=page.total)]
    for doc in docs:
        facts.append(_price_fact(context, doc))
        facts.append(_sizes_fact(context, doc))
    if any(doc.generated for doc in docs):
        facts.append(_say(context, "generated"))
    return ToolResult(
        ok=True,
        data={
            "total": page.total,
            "mode": page.mode,
            "understood": page.understood.model_dump(mode="json"),
            "products": [doc.model_dump(mode="json") for doc in docs],
        },
        facts=facts,
        cards=[product_card(doc) for doc in docs],
    )


# --- get_product / check_stock / price_history -------------------------------------------------


class ProductArgs(ToolArgs):
    product_id: str = Field(
        min_length=1, max_length=64, description="The catalog id shown on a product card."
    )


def _detail(context: ToolContext, product_id: str) -> ProductDetail:
    detail = _store(context).product(product_id)
    if detail is None:
        raise ToolError(f"no product with id {product_id!r}; search first and use an id from the results")
    return detail


def get_product(context: ToolContext, args: ProductArgs) -> ToolResult:
    detail = _detail(context, args.product_id)
    doc = _store(context).doc(args.product_id)
    if doc is None:
        raise ToolError(f"no product with id {args.product_id!r}")
    facts = [_price_fact(context, doc), _sizes_fact(context, doc)]
    if detail.product.generated:
        facts.append(_say(context, "generated"))
    return ToolResult(
        ok=True, data={"product": detail.model_dump(mode="json")}, facts=facts, cards=[product_card(doc)]
    )


class CheckStockArgs(ProductArgs):
    size: str | None = Field(default=None, max_length=16, description="One size; leave empty for all sizes.")


def check_stock(context: ToolContext, args: CheckStockArgs) -> ToolResult:
    store = _store(context)
    try:
        answer = store.catalog.check_stock(args.product_id, args.size)
    except CatalogError as exc:
        raise ToolError(str(exc)) from exc
    name = answer.name
    facts: list[str] = []
    for level in answer.sizes:
        key = "stock" if level.quantity > 0 else "sold_out"
        facts.append(_say(context, key, name=name, id=args.product_id, size=level.size, qty=level.quantity))
    return ToolResult(ok=True, data={"stock": answer.model_dump(mode="json")}, facts=facts)


class PriceHistoryArgs(ProductArgs):
    days: int = Field(default=90, ge=1, le=365, description="How far back to look.")


def price_history(context: ToolContext, args: PriceHistoryArgs) -> ToolResult:
    store = _store(context)
    doc = store.doc(args.product_id)
    if doc is None:
        raise ToolError(
            f"no product with id {args.product_id!r}; search first and use an id from the results"
        )
    try:
        points = store.catalog.price_history(args.product_id, args.days)
    except CatalogError as exc:
        raise ToolError(str(exc)) from exc
    prices = [p.price for p in points] or [doc.price]
    facts = [
        _say(
            context,
            "history",
            name=doc.name,
            id=doc.id,
            days=args.days,
            low=plain_number(min(prices)),
            high=plain_number(max(prices)),
            price=plain_number(doc.price),
        )
    ]
    return ToolResult(ok=True, data={"points": [p.model_dump(mode="json") for p in points]}, facts=facts)


# --- create_price_alert ------------------------------------------------------------------------


class CreatePriceAlertArgs(ToolArgs):
    product_id: str | None = Field(default=None, max_length=64, description="Watch one product.")
    query: str | None = Field(
        default=None, max_length=500, description="Or watch a search, e.g. 'navy blazer', for any product."
    )
    threshold: float = Field(
        gt=0, le=1_000_000, description="Tell the person when the price is at or below this."
    )
    currency: Currency = "CNY"
    size: str | None = Field(default=None, max_length=16, description="Only when this size is in stock.")


def create_price_alert(context: ToolContext, args: CreatePriceAlertArgs) -> ToolResult:
    if (args.product_id is None) == (args.query is None):
        raise ToolError("give exactly one of product_id (one product) or query (a search to watch)")
    if not context.user_id:
        raise ToolError("price alerts need a signed-in person")
    store = _store(context)
    try:
        alert = store.create_alert(
            context.user_id,
            product_id=args.product_id,
            query=args.query,
            threshold=args.threshold,
            currency=args.currency,
            size=args.size,
        )
    except CatalogError as exc:
        raise ToolError(str(exc)) from exc
    target = args.query or args.product_id or ""
    if args.product_id is not None:
        doc = store.doc(args.product_id)
        target = doc.name if doc is not None else args.product_id
    facts = [_say(context, "alert", target=target, threshold=plain_number(alert.threshold))]
    return ToolResult(ok=True, data={"alert": alert.model_dump(mode="json")}, facts=facts)


# --- take_price_alert_notifications ---------------------------------------------------------


class TakeNotificationsArgs(ToolArgs):
    pass


def take_price_alert_notifications(context: ToolContext, _: TakeNotificationsArgs) -> ToolResult:
    """Fired alerts not yet told to the person; marked delivered once handed over."""
    if not context.user_id:
        return ToolResult(ok=True, data={"notifications": []})
    store = _store(context)
    pending = store.catalog.pending_notifications(context.user_id)
    if not pending:
        return ToolResult(ok=True, data={"notifications": []})
    store.catalog.mark_delivered(context.user_id, [n.id for n in pending])
    facts = []
    items = []
    for notification in pending:
        name = notification.product_name
        item = {
            "product_id": notification.product_id,
            "name": name,
            "price": notification.price,
            "threshold": notification.threshold,
        }
        items.append(item)
        facts.append(
            _say(
                context,
                "price",
                name=name,
                id=notification.product_id,
                price=plain_number(notification.price),
            )
        )
    cards = [product_card(doc) for n in pending if (doc := store.doc(n.product_id)) is not None]
    return ToolResult(ok=True, data={"notifications": items}, facts=facts, cards=cards)


CATALOG_TOOLS: tuple[Tool[Any], ...] = (
    Tool(
        name="search_products",
        description=(
            "Search the product catalog (zh or en). Returns up to `limit` products with current price (CNY), "
            "sizes in stock and an image. Use for 'find me…', 'do you have…', '有没有…'."
        ),
        args=SearchProductsArgs,
        run=search_products,
    ),
    Tool(
        name="get_product",
        description=(
            "Details of one catalog product by its id (from a search result card): attributes, and every "
            "size with its current price in CNY and stock."
        ),
        args=ProductArgs,
        run=get_product,
    ),
    Tool(
        name="check_stock",
        description=(
            "Current stock of one catalog product, for one size or for all sizes. Call it before telling "
            "the person something is available; an unknown size returns the sizes it comes in."
        ),
        args=CheckStockArgs,
        run=check_stock,
    ),
    Tool(
        name="price_history",
        description=(
            "Price history of one catalog product: every recorded price over the last `days` days, with "
            "the lowest, highest and current price in CNY."
        ),
        args=PriceHistoryArgs,
        run=price_history,
    ),
    Tool(
        name="create_price_alert",
        description=(
            "Tell the person when a product (product_id) or any product matching a search (query) drops to "
            "`threshold` or below. Only after the person asked for it."
        ),
        args=CreatePriceAlertArgs,
        run=create_price_alert,
    ),
    Tool(
        name="take_price_alert_notifications",
        description=(
            "Price-drop alerts of the signed-in person that fired since they last heard: product, new price "
            "and their threshold. Each is handed over once, then marked delivered."
        ),
        args=TakeNotificationsArgs,
        run=take_price_alert_notifications,
    ),
)
