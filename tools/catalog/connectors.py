"""Where products come from: e-commerce sources behind one small protocol.

A source yields batches of validated ``FeedRow``s (one per product and size) and,
in the same stream, ``RejectedRow``s for records it could not read, so the
importer reports every bad line without stopping at the first. New shops (a
Shopify export, a supplier's API) plug in by implementing ``CatalogSource``.

Feed files (CSV, JSON, JSON Lines; optionally gzipped) have these columns:
``id, name, brand, gender, master_category, sub_category, article_type, colour,
season, year, usage, size, size_system, price, stock, currency, image,
updated_at``. ``id``, ``name``, ``price`` and ``stock`` are required; ``size``
defaults to "One Size"; ``currency`` must be CNY when given; ``updated_at`` (ISO
8601) is only read for incremental imports (``since``).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property, lru_cache
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

from pydantic import ValidationError

from tools.catalog.generate import BrandGuesser, GeneratedProduct, generate, size_chart
from tools.catalog.schemas import FeedRow, RejectedRow

SourceBatch = list[FeedRow | RejectedRow]

SHIPPED_SOURCE = "shipped"
STYLES_FILE = "styles_clean.jsonl.gz"
THUMBNAILS_INDEX = Path("thumbnails") / "index.jsonl"


@runtime_checkable
class CatalogSource(Protocol):
    #: Recorded on every product and price point the source writes.
    name: str

    def products(self, *, since: datetime | None = None, batch: int = 2000) -> Iterator[SourceBatch]:
        """Rows in batches of about ``batch``; with ``since``, only what changed after it (if known)."""
        ...


def validation_reason(exc: ValidationError) -> str:
    """A one-line reason a person can act on, without pydantic's URLs."""
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "row"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def parse_row(record: dict[str, Any], line: int) -> FeedRow | RejectedRow:
    try:
        return FeedRow.model_validate({**record, "line": line})
    except ValidationError as exc:
        raw_id = record.get("id")
        return RejectedRow(
            line=line,
            reason=validation_reason(exc),
            product_id=str(raw_id)[:64] if raw_id not in (None, "") else None,
        )


# --- the shipped Kaggle dataset ------------------------------------------------------------------


@dataclass(frozen=True)
class ShippedProduct:
    """A styles-file product; its sizes, stock, prices and history are generated when first asked for.

    Reloading the catalog skips products already stored, which is nearly all of them after the
    first start, so generating everything up front cost ~1.5 s of each start for nothing.
    """

    attributes: dict[str, Any]
    seed: int

    def _kind(self) -> dict[str, Any]:
        return {
            field: self.attributes[field]
            for field in ("gender", "master_category", "sub_category", "article_type")
        }

    @cached_property
    def generated(self) -> GeneratedProduct:
        return generate(self.attributes["id"], seed=self.seed, **self._kind())

    @property
    def size_count(self) -> int:
        """How many SKUs ``generated`` has (one per size), without generating them."""
        return len(size_chart(**self._kind())[1])


@lru_cache(maxsize=2)
def _read_styles(path: str, _mtime_ns: int) -> tuple[tuple[dict[str, Any], ...], BrandGuesser]:
    """The parsed styles file and its brand guesser, kept while the file is unchanged.

    Parsing 44k rows takes about a second; a process that loads the catalog at
    start-up and again in tests should pay it once. Brands are guessed from name
    prefixes over the whole file, so a subset (``limit``) gets the same brands.
    """
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        records = tuple(json.loads(line) for line in handle if line.strip())
    return records, BrandGuesser(r["productDisplayName"] or "" for r in records)


class ShippedDatasetSource:
    """The Kaggle styles file in ``catalog_dir`` plus seeded availability (``tools.catalog.generate``)."""

    name = SHIPPED_SOURCE

    def __init__(self, catalog_dir: Path, *, seed: int, limit: int | None = None) -> None:
        self.catalog_dir = catalog_dir
        self.seed = seed
        self.limit = limit

    def _records(self) -> tuple[tuple[dict[str, Any], ...], BrandGuesser]:
        path = self.catalog_dir / STYLES_FILE
        return _read_styles(str(path.resolve()), path.stat().st_mtime_ns)

    def _thumbnails(self) -> set[str]:
        index = self.catalog_dir / THUMBNAILS_INDEX
        if not index.exists():
            return set()
        with index.open(encoding="utf-8") as handle:
            ids = {str(json.loads(line)["id"]) for line in handle if line.strip()}
        return {i for i in ids if (self.catalog_dir / "thumbnails" / f"{i}.jpg").exists()}

    def iter_products(self) -> Iterator[ShippedProduct]:
        records, brands = self._records()
        thumbnails = self._thumbnails()
        for record in records[: self.limit] if self.limit else records:
            product_id = str(record["id"])
            name = (record["productDisplayName"] or "").strip() or f"{record['articleType']} {product_id}"
            attributes = {
                "id": product_id,
                "name": name[:300],
                "brand": brands.guess(name),
                "gender": record["gender"],
                "master_category": record["masterCategory"],
                "sub_category": record["subCategory"],
                "article_type": record["articleType"],
                "colour": record["baseColour"],
                "season": record["season"],
                "year": record["year"],
                "usage": record["usage"],
                "image": f"thumbnails/{product_id}.jpg" if product_id in thumbnails else None,
            }
            yield ShippedProduct(attributes=attributes, seed=self.seed)

    def products(self, *, since: datetime | None = None, batch: int = 2000) -> Iterator[SourceBatch]:
        """Every product in every size; ``since`` is ignored (the file is a fixed snapshot)."""
        rows: SourceBatch = []
        for line, item in enumerate(self.iter_products(), start=1):
            for sku in item.generated.skus:
                rows.append(
                    FeedRow(
                        **item.attributes,
                        size=sku.size,
                        size_system=sku.size_system,
                        price=sku.price,
                        stock=sku.stock,
                        generated=True,
                        line=line,
                    )
                )
            if len(rows) >= batch:
                yield rows
                rows = []
        if rows:
            yield rows


# --- feed files ----------------------------------------------------------------------------------


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


def _feed_format(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    kind = suffixes[-1] if suffixes else ""
    if kind in {".csv", ".json", ".jsonl", ".ndjson"}:
        return kind.lstrip(".").replace("ndjson", "jsonl")
    raise ValueError(f"unsupported feed file {path.name!r}: use .csv, .json or .jsonl (optionally .gz)")


def _updated_before(record: dict[str, Any], since: datetime) -> bool:
    value = record.get("updated_at")
    if not value:
        return False
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment < since


class FeedFormatError(ValueError):
    """The feed as a whole cannot be read (not UTF-8, not JSON, wrong shape); nothing was applied."""


def _check_utf8(path: Path) -> None:
    """Read the whole file once, so a bad byte late in a feed refuses it before any row is applied."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    opener = gzip.open if path.suffix == ".gz" else open
    offset = 0
    with opener(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise FeedFormatError(
                    f"the feed is not UTF-8 text (bad byte at offset {offset + exc.start})"
                ) from exc
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise FeedFormatError("the feed is not UTF-8 text (it ends inside a character)") from exc


class FeedFileSource:
    """A CSV, JSON (array, or ``{"products": [...]}``) or JSON Lines feed file."""

    def __init__(self, path: Path, *, name: str | None = None) -> None:
        self.path = path
        self.name = name or f"feed:{path.name}"[:64]
        self.format = _feed_format(path)

    def _records(self) -> Iterator[tuple[int, dict[str, Any] | str]]:
        """(line, record) pairs; a record that is not an object comes back as an error message."""
        _check_utf8(self.path)
        with _open_text(self.path) as handle:
            if self.format == "csv":
                reader = csv.DictReader(handle)
                for record in reader:
                    extra = record.pop(None, None)
                    if extra:
                        yield reader.line_num, f"{len(extra)} more fields than the header has"
                    else:
                        yield reader.line_num, {k: v for k, v in record.items() if k is not None}
            elif self.format == "jsonl":
                for line, text in enumerate(handle, start=1):
                    if not text.strip():
                        continue
                    try:
                        value = json.loads(text)
                    except json.JSONDecodeError as exc:
                        yield line, f"invalid JSON: {exc.msg}"
                        continue
                    yield line, value if isinstance(value, dict) else "a row must be a JSON object"
            else:
                try:
                    document = json.load(handle)
                except json.JSONDecodeError as exc:
                    raise FeedFormatError(
                        f"the feed is not valid JSON: {exc.msg} (line {exc.lineno})"
                    ) from exc
                items = document.get("products") if isinstance(document, dict) else document
                if not isinstance(items, list):
                    raise FeedFormatError("a JSON feed must be an array of rows or an object with 'products'")
                for index, value in enumerate(items, start=1):
                    yield index, value if isinstance(value, dict) else "a row must be a JSON object"

    def products(self, *, since: datetime | None = None, batch: int = 2000) -> Iterator[SourceBatch]:
        rows: SourceBatch = []
        for line, record in self._records():
            if isinstance(record, str):
                rows.append(RejectedRow(line=line, reason=record))
            elif since is not None and _updated_before(record, since):
                continue
            else:
                rows.append(parse_row(record, line))
            if len(rows) >= batch:
                yield rows
                rows = []
        if rows:
            yield rows
