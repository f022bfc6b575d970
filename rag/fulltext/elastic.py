"""Elasticsearch-API full-text index: the production engine (Elasticsearch or OpenSearch).

It speaks the REST API with ``httpx`` rather than a vendor client, because the
Elasticsearch client refuses servers that are not Elastic's and the OpenSearch client
refuses Elastic's; the handful of endpoints used here (index creation, ``_bulk``,
``_mget``, ``_search``, ``_count``, ``_delete_by_query``) are the same on both.

The mapping mirrors the SQLite engine so results agree: keyword fields for filters and
facets, the same text columns with the same weights (name 4, article type 3, colour 2.5,
other attributes 1, Han bigrams 3), Porter stemming, and the whole ``ProductDoc`` kept
in ``_source`` (not indexed) so ``get`` needs no other store. User words only ever
become ``match_phrase`` values, never query syntax. Writes refresh the index before
they return, so a search right after an upsert sees it, as with SQLite.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from typing import Any

import httpx

from rag.documents import FACET_FIELDS, EngineResult, ProductDoc, ScoredId, SearchFilters, size_key
from rag.fulltext.base import MAX_WINDOW, check_page
from rag.lexicon import fts_terms, han_bigrams

logger = logging.getLogger(__name__)

#: Field weights, as in the SQLite engine's BM25.
FIELD_WEIGHTS = {"name": 4.0, "type_words": 3.0, "colour_text": 2.5, "attrs": 1.0, "han": 3.0}
#: Score added per preferred attribute a product has (as in the SQLite engine).
PREFER_WEIGHT = 1.5
MAX_MATCH_TERMS = 32
#: Facet values returned per field; the catalog has 143 article types, the most of any field.
FACET_SIZE = 500
_WORD = re.compile(r"[a-z0-9]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_INDEX_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,199}$")
_BULK_CHUNK = 2000

_TEXT = {"type": "text", "analyzer": "product_text"}
_MAPPING: dict[str, Any] = {
    "settings": {
        "number_of_shards": 1,
        "number_of_replicas": 0,
        # Deep pages are refused by ``check_page`` first; this lets the allowed ones through.
        "max_result_window": MAX_WINDOW,
        "analysis": {
            "analyzer": {
                "product_text": {
                    "type": "custom",
                    "tokenizer": "standard",
                    "filter": ["lowercase", "asciifolding", "porter_stem"],
                },
                "han_bigrams": {"type": "custom", "tokenizer": "whitespace"},
            }
        },
    },
    "mappings": {
        "dynamic": "strict",
        "properties": {
            "id": {"type": "keyword"},
            **{field: {"type": "keyword"} for field in FACET_FIELDS},
            "year": {"type": "integer"},
            "price": {"type": "double"},
            "in_stock": {"type": "boolean"},
            "sizes": {"type": "keyword"},
            "name": _TEXT,
            "type_words": _TEXT,
            "colour_text": _TEXT,
            "attrs": _TEXT,
            "han": {"type": "text", "analyzer": "han_bigrams"},
            "doc": {"type": "object", "enabled": False},
        },
    },
}


class SearchEngineError(RuntimeError):
    """The search server refused or failed a request; the message says which and why."""


def _pieces(terms: Sequence[str]) -> list[str]:
    """Each term as a phrase of lower-case words and Han bigrams (what the analyzers produce)."""
    phrases: list[str] = []
    for term in terms:
        pieces: list[str] = []
        for word in _WORD.findall(str(term).casefold()):
            pieces.extend(han_bigrams(word) if not word.isascii() else [word])
        if pieces:
            phrases.append(" ".join(pieces))
    return list(dict.fromkeys(phrases))[:MAX_MATCH_TERMS]


def _source(doc: ProductDoc) -> dict[str, Any]:
    name = " ".join(p for p in (doc.name, doc.brand) if p)
    return {
        "id": doc.id,
        **{field: getattr(doc, field) for field in FACET_FIELDS},
        "year": doc.year,
        "price": doc.price,
        "in_stock": doc.in_stock,
        "sizes": [size_key(label) for label in doc.sizes_available],
        "name": name,
        "type_words": " ".join(p for p in (doc.article_type, doc.sub_category) if p),
        "colour_text": doc.colour or "",
        "attrs": " ".join(
            p for p in (doc.gender, doc.master_category, doc.season, doc.usage, doc.brand) if p
        ),
        "han": " ".join(han_bigrams(name)),
        "doc": doc.model_dump(mode="json"),
    }


def _filter_clauses(filters: SearchFilters) -> list[dict[str, Any]]:
    clauses: list[dict[str, Any]] = []
    for field in FACET_FIELDS:
        values: list[str] = getattr(filters, field)
        if values:
            clauses.append({"terms": {field: values}})
    price: dict[str, float] = {}
    if filters.price_min is not None:
        price["gte"] = filters.price_min
    if filters.price_max is not None:
        price["lte"] = filters.price_max
    if price:
        clauses.append({"range": {"price": price}})
    if filters.in_stock is not None:
        clauses.append({"term": {"in_stock": filters.in_stock}})
    if filters.size:
        clauses.append({"term": {"sizes": size_key(filters.size)}})
    return clauses


def _prefer_clauses(prefer: SearchFilters | None) -> list[dict[str, Any]]:
    if prefer is None:
        return []
    return [
        {"constant_score": {"filter": {"terms": {field: values}}, "boost": PREFER_WEIGHT}}
        for field in FACET_FIELDS
        if (values := getattr(prefer, field))
    ]


class ElasticFullTextIndex:
    """``FullTextIndex`` over one index of an Elasticsearch-API server."""

    def __init__(self, url: str, index: str = "products", *, timeout_s: float = 10.0) -> None:
        if not _INDEX_NAME.match(index):
            raise ValueError(f"index names are lower-case letters, digits, '_' or '-': {index!r}")
        self.url = url.rstrip("/")
        self.index = index
        self._client = httpx.Client(base_url=self.url, timeout=timeout_s)

    # --- plumbing ----------------------------------------------------------------------------

    def _request(self, method: str, path: str, *, body: Any = None, ndjson: str | None = None) -> Any:
        headers = {"Content-Type": "application/x-ndjson" if ndjson is not None else "application/json"}
        content = ndjson if ndjson is not None else (json.dumps(body) if body is not None else None)
        try:
            response = self._client.request(method, path, content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise SearchEngineError(f"search server at {self.url} unreachable: {exc}") from exc
        if response.status_code >= 400:
            raise SearchEngineError(
                f"{method} {path} failed with {response.status_code}: {response.text[:500]}"
            )
        return response.json() if response.content else None

    # --- writing -----------------------------------------------------------------------------

    def ensure(self) -> None:
        response = self._client.head(f"/{self.index}")
        if response.status_code == 200:
            return
        try:
            self._request("PUT", f"/{self.index}", body=_MAPPING)
        except SearchEngineError as exc:
            if "resource_already_exists_exception" not in str(exc):  # another process created it
                raise

    def _bulk(self, lines: list[str]) -> None:
        for start in range(0, len(lines), _BULK_CHUNK * 2):
            chunk = lines[start : start + _BULK_CHUNK * 2]
            result = self._request(
                "POST", f"/{self.index}/_bulk?refresh=true", ndjson="\n".join(chunk) + "\n"
            )
            if result and result.get("errors"):
                failures = [
                    item
                    for item in result["items"]
                    for action in item.values()
                    if action.get("status", 200) >= 300
                ]
                real = [f for f in failures if next(iter(f.values())).get("status") != 404]
                if real:
                    raise SearchEngineError(
                        f"bulk write failed for {len(real)} documents: {json.dumps(real[:3])}"
                    )

    def upsert(self, docs: Sequence[ProductDoc]) -> None:
        lines: list[str] = []
        for doc in {d.id: d for d in docs}.values():
            lines.append(json.dumps({"index": {"_id": doc.id}}))
            lines.append(json.dumps(_source(doc), ensure_ascii=False))
        if lines:
            self._bulk(lines)

    def delete(self, ids: Sequence[str]) -> None:
        lines = [json.dumps({"delete": {"_id": id_}}) for id_ in dict.fromkeys(ids)]
        if lines:
            self._bulk(lines)

    def clear(self) -> None:
        self._request(
            "POST",
            f"/{self.index}/_delete_by_query?refresh=true&conflicts=proceed",
            body={"query": {"match_all": {}}},
        )

    # --- reading -----------------------------------------------------------------------------

    def get(self, ids: Sequence[str]) -> list[ProductDoc]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return []
        result = self._request("POST", f"/{self.index}/_mget", body={"ids": wanted})
        found = {
            item["_id"]: ProductDoc.model_validate(item["_source"]["doc"])
            for item in result["docs"]
            if item.get("found")
        }
        return [found[id_] for id_ in ids if id_ in found]

    def count(self) -> int:
        return int(self._request("GET", f"/{self.index}/_count")["count"])

    def search(
        self,
        text: str | Sequence[str],
        filters: SearchFilters | None = None,
        *,
        limit: int = 10,
        offset: int = 0,
        facets: bool = False,
        prefer: SearchFilters | None = None,
    ) -> EngineResult:
        check_page(limit, offset)
        terms = fts_terms(text) if isinstance(text, str) else list(text)
        phrases = _pieces(terms)
        if terms and not phrases:
            return EngineResult(hits=[], total=0, facets={})  # only symbols: nothing can match them
        fields = [f"{field}^{weight}" for field, weight in FIELD_WEIGHTS.items()]
        must: list[dict[str, Any]] = (
            [
                {
                    "bool": {
                        "should": [
                            {"multi_match": {"query": phrase, "type": "phrase", "fields": fields}}
                            for phrase in phrases
                        ],
                        "minimum_should_match": 1,
                    }
                }
            ]
            if phrases
            else [{"constant_score": {"filter": {"match_all": {}}, "boost": 0.0}}]
        )
        body: dict[str, Any] = {
            "query": {
                "bool": {
                    "must": must,
                    "filter": _filter_clauses(filters or SearchFilters()),
                    "should": _prefer_clauses(prefer),
                    "minimum_should_match": 0,
                }
            },
            "sort": [
                {"_score": "desc"},
                {"in_stock": "desc"},
                {"year": {"order": "desc", "missing": "_last"}},
                {"id": "asc"},
            ],
            "from": offset,
            "size": limit,
            "track_total_hits": True,
            "_source": False,
        }
        if facets:
            body["aggs"] = {field: {"terms": {"field": field, "size": FACET_SIZE}} for field in FACET_FIELDS}
        result = self._request("POST", f"/{self.index}/_search", body=body)
        hits = [
            ScoredId(id=hit["_id"], score=round(float(hit.get("_score") or hit["sort"][0] or 0.0), 6))
            for hit in result["hits"]["hits"]
        ]
        counts: dict[str, dict[str, int]] = {}
        if facets:
            for field in FACET_FIELDS:
                buckets = result["aggregations"][field]["buckets"]
                pairs = [(str(b["key"]), int(b["doc_count"])) for b in buckets]
                counts[field] = dict(sorted(pairs, key=lambda kv: (-kv[1], kv[0])))
        return EngineResult(hits=hits, total=int(result["hits"]["total"]["value"]), facets=counts)

    def ping(self) -> bool:
        try:
            return self._client.get("/").status_code == 200
        except Exception:  # a health check reports failure, whatever its cause
            return False

    def close(self) -> None:
        self._client.close()

    def drop(self) -> None:
        """Delete the whole index (tests and re-creation with a new mapping)."""
        response = self._client.delete(f"/{self.index}")
        if response.status_code not in (200, 404):
            raise SearchEngineError(f"deleting index {self.index} failed: {response.text[:300]}")
