from __future__ import annotations

import pytest

from rag.hybrid import rrf

pytestmark = pytest.mark.unit


def test_documents_both_engines_like_win() -> None:
    fused = rrf([["a", "b", "c"], ["c", "b", "d"]], k=60)
    # c: 1/61 + 1/63 edges out b: 2/62; both beat the ids only one engine found.
    assert [s.id for s in fused] == ["c", "b", "a", "d"]
    scores = {s.id: s.score for s in fused}
    assert scores["b"] == pytest.approx(2 / 62)
    assert scores["a"] == pytest.approx(1 / 61)
    assert scores["b"] > scores["a"]


def test_ties_break_by_best_rank_then_list_then_id() -> None:
    fused = rrf([["a", "b"], ["b", "a"]], k=10)
    # Equal scores; both have a best rank of 1; "a" got it in the earlier list.
    assert [s.id for s in fused] == ["a", "b"]
    assert [s.id for s in rrf([["y"], ["x"]])] == ["y", "x"]
    assert [s.id for s in rrf([["y", "x"]], weights=[1.0])] == ["y", "x"]


def test_weights_and_duplicates() -> None:
    fused = rrf([["a"], ["b"]], k=1, weights=[1.0, 3.0])
    assert [s.id for s in fused] == ["b", "a"]
    assert len(rrf([["a", "a", "b"]])) == 2


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="k must"):
        rrf([["a"]], k=0)
    with pytest.raises(ValueError, match="weights"):
        rrf([["a"]], weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="negative"):
        rrf([["a"]], weights=[-1.0])
