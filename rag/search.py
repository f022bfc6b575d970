"""Product search as the agent and the API call it: text in, a page of products out.

``SearchService.search`` reads the text (``rag.query``), merges the caller's explicit
filters over the ones read from it, and asks one or both engines:

* ``fulltext``: BM25 over words, filters, facets (always available);
* ``vector``: MiniLM similarity of the query's English reading, within the same filters;
* ``hybrid`` (default): both, fused by reciprocal rank fusion. When the text was read
  entirely into filters ("red dress" is colour Red + Dresses) full-text has nothing to rank
  by, so the vector ranking orders the filtered set and full-text supplies total and facets.

When the semantic index is off or still loading, vector and hybrid fall back to full-text and
``SearchPage.mode`` says so. When the free words match nothing inside the filters ("navy
*slim* chinos" and no name says "slim"), full-text drops the words rather than answer
nothing, and a note says so.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from pydantic import BaseModel, Field

from core.config import Settings
from rag.documents import EngineResult, ProductDoc, ScoredId, SearchFilters, SearchMode
from rag.fulltext import FullTextIndex, build_fulltext
from rag.hybrid import rrf
from rag.query import ParsedQuery, parse_query
from rag.semantic import IndexStats, Progress, SemanticIndex
from storage.vectors.base import VectorStore

logger = logging.getLogger(__name__)

MAX_LIMIT = 100
MAX_OFFSET = 10_000
MAX_CANDIDATES = 1_000
#: The full-text list's weight in hybrid fusion (the vector list weighs 1). Chosen on the dev split
#: of ``python -m evals search``: word matches help most as a tie-breaker among close meanings.
FULLTEXT_WEIGHT = 0.5


class SearchHit(BaseModel):
    doc: ProductDoc
    score: float


class SearchPage(BaseModel):
    hits: list[SearchHit]
    #: Products matching the filters and text (hybrid: at least the fused candidates).
    total: int
    #: field -> value -> count over all full-text matches.
    facets: dict[str, dict[str, int]] = Field(default_factory=dict)
    understood: ParsedQuery
    #: The mode actually used (vector/hybrid fall back to full-text without a semantic index).
    mode: SearchMode
    #: Why the answer differs from what was asked (a fallback, dropped words).
    notes: list[str] = Field(default_factory=list)


def _check(limit: int, offset: int, candidates: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be an integer from 0 to {MAX_LIMIT}, got {limit!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
        raise ValueError(f"offset must be an integer from 0 to {MAX_OFFSET}, got {offset!r}")
    if (
        isinstance(candidates, bool)
        or not isinstance(candidates, int)
        or not 1 <= candidates <= MAX_CANDIDATES
    ):
        raise ValueError(f"candidates must be an integer from 1 to {MAX_CANDIDATES}, got {candidates!r}")


class SearchService:
    """Full-text plus (optionally) semantic search over the same product documents."""

    def __init__(
        self,
        fulltext: FullTextIndex,
        semantic: SemanticIndex | None,
        rrf_k: int = 60,
        fulltext_weight: float = FULLTEXT_WEIGHT,
    ) -> None:
        if isinstance(rrf_k, bool) or not isinstance(rrf_k, int) or rrf_k < 1:
            raise ValueError(f"rrf_k must be a positive integer, got {rrf_k!r}")
        if not 0 <= fulltext_weight <= 10:
            raise ValueError(f"fulltext_weight must be between 0 and 10, got {fulltext_weight!r}")
        self.fulltext = fulltext
        self.semantic = semantic
        self.rrf_k = rrf_k
        self.fulltext_weight = fulltext_weight

    @property
    def semantic_ready(self) -> bool:
        return self.semantic is not None and self.semantic.ready

    # -- writing --------------------------------------------------------------------------

    def index(
        self, docs: Sequence[ProductDoc], *, semantic: bool = True, progress: Progress | None = None
    ) -> IndexStats | None:
        """Index ``docs`` in both engines; ``semantic=False`` leaves vectors for a background job."""
        self.fulltext.upsert(docs)
        if semantic and self.semantic is not None:
            return self.semantic.index(docs, progress)
        return None

    def index_semantic(
        self, docs: Sequence[ProductDoc], progress: Progress | None = None
    ) -> IndexStats | None:
        """The vector half of ``index`` alone (minutes the first time; run it off the request path)."""
        return self.semantic.index(docs, progress) if self.semantic is not None else None

    def update_availability(self, docs: Sequence[ProductDoc]) -> None:
        """New price, stock or sizes: rewrites the stored documents, never re-encodes."""
        self.fulltext.upsert(docs)
        if self.semantic is not None:
            self.semantic.update_availability(docs)

    def delete(self, ids: Sequence[str]) -> None:
        self.fulltext.delete(ids)
        if self.semantic is not None:
            self.semantic.delete(ids)

    def get(self, ids: Sequence[str]) -> list[ProductDoc]:
        return self.fulltext.get(ids)

    # -- searching ------------------------------------------------------------------------

    def search(
        self,
        text: str,
        filters: SearchFilters | None = None,
        *,
        mode: SearchMode = "hybrid",
        limit: int = 10,
        offset: int = 0,
        facets: bool = True,
        candidates: int = 100,
    ) -> SearchPage:
        _check(limit, offset, candidates)
        if mode not in ("fulltext", "vector", "hybrid"):
            raise ValueError(f"mode must be fulltext, vector or hybrid, got {mode!r}")
        parsed = parse_query(text)
        effective = parsed.filters.merged(filters) if filters is not None else parsed.filters
        notes: list[str] = []
        used: SearchMode = mode
        if mode != "fulltext" and not self.semantic_ready:
            used = "fulltext"
            notes.append("semantic search is not available; used full-text search")
        elif mode != "fulltext" and not parsed.semantic_text:
            used = "fulltext"
            notes.append("no words to compare by meaning; listed the products matching the filters")
        window = offset + limit

        if used == "fulltext":
            result, _ = self._fulltext(parsed, effective, limit, offset, facets, notes)
            page, total, counts = result.hits, result.total, result.facets
        elif used == "vector":
            assert self.semantic is not None
            vector = self.semantic.search(parsed.semantic_text, effective, top_k=max(window, 1))
            page, total = vector.hits[offset:window], vector.total
            counts = self.fulltext.search([], effective, limit=0, facets=True).facets if facets else {}
        else:
            assert self.semantic is not None
            n = min(max(candidates, window), MAX_OFFSET + MAX_LIMIT)
            words, relaxed = self._fulltext(parsed, effective, n, 0, facets, notes)
            vector = self.semantic.search(parsed.semantic_text, effective, top_k=n)
            ranked_by_words = bool(parsed.fulltext_terms) and bool(words.hits) and words.hits[0].score > 0
            if (ranked_by_words or parsed.prefer != SearchFilters()) and not relaxed:
                fused = rrf(
                    [[h.id for h in words.hits], [h.id for h in vector.hits]],
                    k=self.rrf_k,
                    weights=[self.fulltext_weight, 1.0],
                )
            else:
                # Full-text only filtered (no words to rank by): order by meaning, keep its total and facets.
                fused = _append_missing(vector.hits, words.hits)
            page, total, counts = fused[offset:window], max(words.total, len(fused)), words.facets
        return SearchPage(
            hits=self._hits(page), total=total, facets=counts, understood=parsed, mode=used, notes=notes
        )

    def _fulltext(
        self,
        parsed: ParsedQuery,
        filters: SearchFilters,
        limit: int,
        offset: int,
        facets: bool,
        notes: list[str],
    ) -> tuple[EngineResult, bool]:
        """The full-text result, and whether the words were dropped because nothing within the
        filters mentions them (then the list is filtered, not ranked by the words)."""
        terms = parsed.fulltext_terms
        result = self.fulltext.search(
            terms, filters, limit=limit, offset=offset, facets=facets, prefer=parsed.prefer
        )
        if result.total == 0 and terms and filters != SearchFilters():
            relaxed = self.fulltext.search(
                [], filters, limit=limit, offset=offset, facets=facets, prefer=parsed.prefer
            )
            if relaxed.total:
                notes.append(f"no product mentions {' '.join(terms)!r}; showing all that match the filters")
                return relaxed, True
        return result, False

    def _hits(self, scored: Sequence[ScoredId]) -> list[SearchHit]:
        docs = {doc.id: doc for doc in self.fulltext.get([s.id for s in scored])}
        return [SearchHit(doc=docs[s.id], score=s.score) for s in scored if s.id in docs]

    def close(self) -> None:
        self.fulltext.close()
        if self.semantic is not None:
            self.semantic.close()


def _append_missing(first: Sequence[ScoredId], second: Sequence[ScoredId]) -> list[ScoredId]:
    seen = {s.id for s in first}
    return [*first, *(s for s in second if s.id not in seen)]


def build_search_service(settings: Settings, vectors: VectorStore) -> SearchService:
    """Full-text as ``settings.search.backend`` says, semantic search if ``settings.search.semantic``."""
    fulltext = build_fulltext(settings)
    fulltext.ensure()
    semantic = (
        SemanticIndex(vectors, cache_dir=settings.search.embedding_cache_dir)
        if settings.search.semantic
        else None
    )
    return SearchService(fulltext, semantic, rrf_k=settings.search.rrf_k)
