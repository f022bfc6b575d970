"""``python -m evals search``: how well product search ranks the catalog for labelled queries.

The queries (``evals/data/search/queries.jsonl``) carry relevance judged from catalog
attributes, not from any engine's output (see ``evals/data/search/README.md``): every
product gets a grade from the query's ``must`` and ``should`` attributes and price bounds,
so the ideal ranking is known over the whole catalog.

The suite builds a fresh embedded stack in a temporary folder (SQLite, Milvus Lite, the
shipped catalog with its seeded prices), indexes every product, runs each query of a split
in each mode (full-text, vector, hybrid) with ``limit=50``, and reports per mode:

* nDCG@10 with linear graded gains (gain = grade) and the standard ``1 / log2(rank + 1)``
  discount; the ideal DCG is computed over the grades of *all* catalog products, so a
  ranking that misses better products than it shows is penalised;
* recall@50 over products with grade ≥ 1, divided by ``min(|relevant|, 50)`` so a query
  with hundreds of relevant products can still reach 1.0;
* both per language (``en``, ``zh``, ``mixed``), and the latency p50 of a search call.

Queries without any relevant product in the loaded catalog (possible with ``--limit``) are
not scored and are counted as ``unscored``. Develop on ``--split dev``; the figure to quote
is ``--split test``.
"""

from __future__ import annotations

import json
import math
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from evals.measure import percentile
from evals.settings import embedded_settings
from rag.documents import FACET_FIELDS, SearchMode

if TYPE_CHECKING:
    from core.config import Settings
    from rag.documents import ProductDoc
    from rag.search import SearchService

DATA_DIR = Path(__file__).resolve().parent / "data" / "search"
QUERIES_PATH = DATA_DIR / "queries.jsonl"

#: Product attributes a query's relevance may name (``ProductDoc`` field names).
ATTRIBUTE_FIELDS: tuple[str, ...] = FACET_FIELDS
#: ``name``: one of the listed words occurs as a whole word of the product name (case-insensitive).
MATCH_FIELDS: tuple[str, ...] = (*ATTRIBUTE_FIELDS, "name")
#: The raw catalog file's keys for each attribute (``data/catalog/styles_clean.jsonl.gz``).
RAW_KEYS: dict[str, str] = {
    "gender": "gender",
    "master_category": "masterCategory",
    "sub_category": "subCategory",
    "article_type": "articleType",
    "colour": "baseColour",
    "season": "season",
    "usage": "usage",
    "name": "productDisplayName",
}

MODES: tuple[SearchMode, ...] = ("fulltext", "vector", "hybrid")
Split = Literal["dev", "test"]
LIMIT = 50
NDCG_AT = 10
RECALL_AT = 50
LANGS: tuple[str, ...] = ("en", "zh", "mixed")

_WORD = re.compile(r"[0-9a-z]+(?:[-'&.][0-9a-z]+)*")


def name_words(name: str | None) -> frozenset[str]:
    """The lower-cased words of a product name, as ``name`` relevance matches them."""
    return frozenset(_WORD.findall((name or "").lower()))


# --- relevance -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Relevance:
    """How relevant a product is to one query, judged from its attributes.

    ``must``: field -> accepted values; every field must match one of its values (values of
    one field are alternatives, fields are all required). ``should``: the same shape; each
    field that matches adds one grade. ``price_min``/``price_max``: inclusive bounds in CNY.
    A product that fails a ``must`` field or a price bound has grade 0; otherwise its grade
    is ``1 + number of matching should fields``.
    """

    must: Mapping[str, tuple[str, ...]]
    should: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    price_min: float | None = None
    price_max: float | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Relevance:
        unknown = set(data) - {"must", "should", "price_min", "price_max"}
        if unknown:
            raise ValueError(f"unknown relevance keys: {sorted(unknown)}")

        def fields(part: Mapping[str, Sequence[str]] | None) -> dict[str, tuple[str, ...]]:
            out: dict[str, tuple[str, ...]] = {}
            for name, values in (part or {}).items():
                if name not in MATCH_FIELDS:
                    raise ValueError(f"unknown relevance field {name!r}")
                if isinstance(values, str) or not values:
                    raise ValueError(f"relevance field {name!r} needs a non-empty list of values")
                out[name] = tuple(v.lower() for v in values) if name == "name" else tuple(values)
            return out

        price_min, price_max = data.get("price_min"), data.get("price_max")
        if price_min is not None and price_max is not None and price_min > price_max:
            raise ValueError("price_min is above price_max")
        must = fields(data.get("must"))
        if not must:
            raise ValueError("a query needs at least one must field")
        return cls(
            must=must,
            should=fields(data.get("should")),
            price_min=None if price_min is None else float(price_min),
            price_max=None if price_max is None else float(price_max),
        )

    @property
    def priced(self) -> bool:
        return self.price_min is not None or self.price_max is not None

    def grade(self, product: Mapping[str, Any], *, ignore_price: bool = False) -> int:
        """``product``: ``ProductDoc`` field names -> values (``name`` and ``price`` included)."""
        if not all(_matches(product, name, values) for name, values in self.must.items()):
            return 0
        if not ignore_price:
            price = product.get("price")
            if self.price_min is not None and (price is None or price < self.price_min):
                return 0
            if self.price_max is not None and (price is None or price > self.price_max):
                return 0
        return 1 + sum(_matches(product, name, values) for name, values in self.should.items())

    @property
    def max_grade(self) -> int:
        return 1 + len(self.should)


def _matches(product: Mapping[str, Any], name: str, values: tuple[str, ...]) -> bool:
    if name == "name":
        words = name_words(product.get("name"))
        return any(v in words for v in values)
    return product.get(name) in values


class Grader:
    """Grades every product of a catalog for a query, looking only at products that can match."""

    def __init__(self, products: Iterable[Mapping[str, Any]]) -> None:
        self.products = list(products)
        self._postings: dict[tuple[str, Any], list[Mapping[str, Any]]] = {}
        for product in self.products:
            for name in ATTRIBUTE_FIELDS:
                self._postings.setdefault((name, product.get(name)), []).append(product)

    def _candidates(self, relevance: Relevance) -> list[Mapping[str, Any]]:
        best: list[Mapping[str, Any]] | None = None
        for name, values in relevance.must.items():
            if name == "name":
                continue
            found = [p for v in values for p in self._postings.get((name, v), [])]
            if best is None or len(found) < len(best):
                best = found
        return self.products if best is None else best

    def grades(self, relevance: Relevance, *, ignore_price: bool = False) -> dict[str, int]:
        """Product id -> grade, for the products with a grade above 0."""
        return {
            str(p["id"]): g
            for p in self._candidates(relevance)
            if (g := relevance.grade(p, ignore_price=ignore_price)) > 0
        }


def raw_product(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row of the shipped catalog file with ``ProductDoc`` field names (no price)."""
    out = {name: row.get(key) for name, key in RAW_KEYS.items()}
    out["id"] = str(row["id"])
    return out


def product_attributes(doc: ProductDoc) -> dict[str, Any]:
    return doc.model_dump(include={"id", "name", "price", *ATTRIBUTE_FIELDS})


# --- queries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    id: str
    split: str
    lang: str
    text: str
    relevance: Relevance
    note: str | None = None


def load_queries(path: Path = QUERIES_PATH, split: str | None = None) -> list[Query]:
    """The labelled queries, all of them or one split's, in file order."""
    queries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        unknown = set(row) - {"id", "split", "lang", "text", "relevance", "note"}
        if unknown:
            raise ValueError(f"{path.name}:{number}: unknown keys {sorted(unknown)}")
        try:
            relevance = Relevance.from_json(row["relevance"])
        except ValueError as exc:
            raise ValueError(f"{path.name}:{number} ({row.get('id')}): {exc}") from exc
        query = Query(row["id"], row["split"], row["lang"], row["text"], relevance, row.get("note"))
        if split is None or query.split == split:
            queries.append(query)
    return queries


# --- metrics ---------------------------------------------------------------------------------


def dcg(gains: Sequence[float], k: int) -> float:
    """Discounted cumulative gain of the first ``k`` gains: sum of ``gain / log2(rank + 1)``."""
    return sum(g / math.log2(rank + 1) for rank, g in enumerate(gains[:k], start=1))


def ndcg(ranked_grades: Sequence[int], all_grades: Iterable[int], k: int = NDCG_AT) -> float:
    """nDCG@k of a ranking, the ideal taken over the grades of every product in the catalog."""
    ideal = dcg(sorted((g for g in all_grades if g > 0), reverse=True), k)
    return dcg(ranked_grades, k) / ideal if ideal > 0 else 0.0


def recall(ranked_ids: Sequence[str], relevant: set[str], k: int = RECALL_AT) -> float:
    """Share of relevant products in the top ``k``, out of ``min(|relevant|, k)``."""
    if not relevant:
        return 0.0
    found = sum(1 for pid in ranked_ids[:k] if pid in relevant)
    return found / min(len(relevant), k)


# --- the stack -------------------------------------------------------------------------------


def eval_settings(data_dir: Path, *, semantic: bool = True, search_url: str | None = None) -> Settings:
    """Embedded stores in ``data_dir``, full text on ``search_url`` when given; the run loads the catalog."""
    return embedded_settings(data_dir, semantic=semantic, search_url=search_url)


@dataclass
class Stack:
    """A search service over the loaded catalog, and the documents it indexed."""

    search: SearchService
    docs: list[ProductDoc]
    index_seconds: float
    load_seconds: float


def _progress(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


@contextmanager
def search_stack(
    *,
    limit: int | None = None,
    semantic: bool = True,
    search_url: str | None = None,
    progress: Callable[[str], None] = _progress,
) -> Iterator[Stack]:
    """Build the stores, load the shipped catalog and index it, in a temporary folder."""
    from rag.search import build_search_service
    from storage.stores import build_stores
    from tools.catalog.service import CatalogService

    with tempfile.TemporaryDirectory(prefix="ik-eval-search-") as tmp:
        settings = eval_settings(Path(tmp), semantic=semantic, search_url=search_url)
        stores = build_stores(settings)
        try:
            started = time.perf_counter()
            catalog = CatalogService(stores.db, settings.catalog)
            catalog.load_shipped(settings.catalog_dir, limit=limit)
            load_seconds = time.perf_counter() - started
            progress(f"catalog loaded in {load_seconds:.1f}s")
            search = build_search_service(settings, stores.vectors)
            docs: list[ProductDoc] = []
            started = time.perf_counter()
            for batch in catalog.docs(batch=2000):
                done = len(docs)

                def step(indexed: int, _total: int, done: int = done) -> None:
                    if indexed % 1024 == 0 or indexed == _total:
                        elapsed = time.perf_counter() - started
                        progress(f"vectors: {done + indexed} products ({elapsed:.0f}s)")

                search.index(batch, semantic=semantic, progress=step)
                docs.extend(batch)
                progress(f"indexed {len(docs)} products ({time.perf_counter() - started:.0f}s)")
            index_seconds = time.perf_counter() - started
            try:
                yield Stack(search, docs, index_seconds, load_seconds)
            finally:
                drop = getattr(search.fulltext, "drop", None)
                if search_url and drop is not None:
                    drop()  # the run's own index on a shared server
                search.close()
        finally:
            stores.close()


# --- the suite -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryScore:
    id: str
    lang: str
    mode: str
    ndcg: float
    recall: float
    latency_ms: float
    relevant: int


def score_query(
    query: Query,
    ranked_ids: Sequence[str],
    grades: Mapping[str, int],
    *,
    mode: str,
    latency_ms: float,
) -> QueryScore:
    """``grades``: product id -> grade for every product of the catalog (0 may be left out)."""
    relevant = {pid for pid, g in grades.items() if g > 0}
    ranked = [grades.get(pid, 0) for pid in ranked_ids]
    return QueryScore(
        id=query.id,
        lang=query.lang,
        mode=mode,
        ndcg=ndcg(ranked, grades.values()),
        recall=recall(ranked_ids, relevant),
        latency_ms=latency_ms,
        relevant=len(relevant),
    )


def _mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return round(statistics.fmean(values), 4) if values else None


def summarise(scores: Sequence[QueryScore]) -> dict[str, Any]:
    by_lang = {
        lang: {
            "queries": len(part),
            "ndcg@10": _mean(s.ndcg for s in part),
            "recall@50": _mean(s.recall for s in part),
        }
        for lang in LANGS
        if (part := [s for s in scores if s.lang == lang])
    }
    worst = sorted(scores, key=lambda s: (s.ndcg, s.id))[:10]
    return {
        "queries": len(scores),
        "ndcg@10": _mean(s.ndcg for s in scores),
        "recall@50": _mean(s.recall for s in scores),
        "by_lang": by_lang,
        "latency_ms_p50": percentile([s.latency_ms for s in scores], 50),
        "latency_ms_p99": percentile([s.latency_ms for s in scores], 99),
        "zero_ndcg": sorted(s.id for s in scores if s.ndcg == 0),
        "worst": [{"id": s.id, "ndcg@10": round(s.ndcg, 3), "recall@50": round(s.recall, 3)} for s in worst],
    }


def evaluate(
    search: SearchService,
    docs: Sequence[ProductDoc],
    queries: Sequence[Query],
    modes: Sequence[SearchMode],
) -> tuple[dict[str, list[QueryScore]], list[str]]:
    """Scores per mode, and the ids of queries with no relevant product in ``docs``."""
    grader = Grader(product_attributes(d) for d in docs)
    scores: dict[str, list[QueryScore]] = {mode: [] for mode in modes}
    unscored: list[str] = []
    for query in queries:
        grades = grader.grades(query.relevance)
        if not grades:
            unscored.append(query.id)
            continue
        for mode in modes:
            started = time.perf_counter()
            page = search.search(query.text, mode=mode, limit=LIMIT)
            latency = (time.perf_counter() - started) * 1000
            ranked = [hit.doc.id for hit in page.hits]
            scores[mode].append(score_query(query, ranked, grades, mode=mode, latency_ms=latency))
    return scores, unscored


def run(
    *,
    split: Split = "dev",
    limit: int | None = None,
    modes: Sequence[SearchMode] = MODES,
    queries_path: Path = QUERIES_PATH,
    progress: Callable[[str], None] = _progress,
    search_url: str | None = None,
) -> dict[str, Any]:
    queries = load_queries(queries_path, split)
    semantic = any(m in ("vector", "hybrid") for m in modes)
    with search_stack(limit=limit, semantic=semantic, search_url=search_url, progress=progress) as stack:
        ready = stack.search.semantic_ready
        usable = [m for m in modes if m == "fulltext" or ready]
        skipped = [m for m in modes if m not in usable]
        if skipped:
            progress(f"semantic index not ready: skipping {', '.join(skipped)}")
        # One unmeasured query per mode, so lazy loading (models, connections) is not timed.
        for mode in usable:
            stack.search.search("warm up", mode=mode, limit=LIMIT)
        scores, unscored = evaluate(stack.search, stack.docs, queries, usable)
        return {
            "suite": "search",
            "split": split,
            "fulltext_backend": "elasticsearch" if search_url else "sqlite",
            "products": len(stack.docs),
            "queries": len(queries),
            "unscored": unscored,
            "modes": {mode: summarise(scores[mode]) for mode in usable},
            "skipped_modes": skipped,
            "index_seconds": round(stack.index_seconds, 1),
            "load_seconds": round(stack.load_seconds, 1),
        }


def table(result: Mapping[str, Any]) -> str:
    """Human-readable lines: one per mode and language."""
    lines = [
        f"search eval, split {result['split']}: {result['queries']} queries, {result['products']} products"
        + (f", {len(result['unscored'])} without relevant products" if result["unscored"] else ""),
        f"{'mode':10s} {'lang':6s} {'n':>4s} {'nDCG@10':>8s} {'R@50':>6s} {'p50 ms':>7s}",
    ]
    for mode, summary in result["modes"].items():
        lines.append(
            f"{mode:10s} {'all':6s} {summary['queries']:4d} {_fmt(summary['ndcg@10']):>8s} "
            f"{_fmt(summary['recall@50']):>6s} {_fmt(summary['latency_ms_p50'], 1):>7s}"
        )
        for lang, part in summary["by_lang"].items():
            lines.append(
                f"{'':10s} {lang:6s} {part['queries']:4d} {_fmt(part['ndcg@10']):>8s} "
                f"{_fmt(part['recall@50']):>6s}"
            )
    for mode in result["skipped_modes"]:
        lines.append(f"{mode:10s} skipped (semantic index not ready)")
    return "\n".join(lines)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
