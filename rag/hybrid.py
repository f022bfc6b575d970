"""Reciprocal rank fusion: one ranking from the full-text and vector rankings.

RRF (Cormack, Clarke and Büttcher, 2009) scores a document by the sum of ``w / (k + rank)``
over the lists it appears in. It needs no score calibration between BM25 and cosine, which
live on unrelated scales, and a document both engines like beats one that only one loves.
Ties (frequent: equal ranks in swapped lists) go to the better single rank, then to the
earlier list, then to the id, so a page never reshuffles between identical requests.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.documents import ScoredId

DEFAULT_K = 60


def rrf(
    rankings: Sequence[Sequence[str]], *, k: int = DEFAULT_K, weights: Sequence[float] | None = None
) -> list[ScoredId]:
    """Fuse ranked id lists (best first); duplicates within one list count at their first rank."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"{len(rankings)} rankings but {len(weights)} weights")
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    scores: dict[str, float] = {}
    best: dict[str, tuple[int, int]] = {}
    for list_index, (ranking, weight) in enumerate(zip(rankings, weights, strict=True)):
        seen: set[str] = set()
        for rank, id_ in enumerate(ranking, 1):
            if id_ in seen:
                continue
            seen.add(id_)
            scores[id_] = scores.get(id_, 0.0) + weight / (k + rank)
            best[id_] = min(best.get(id_, (rank, list_index)), (rank, list_index))
    ordered = sorted(scores, key=lambda i: (-scores[i], best[i], i))
    return [ScoredId(id=i, score=round(scores[i], 9)) for i in ordered]
