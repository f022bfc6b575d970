"""``python -m evals bench-import`` on a small feed: the three runs happen and are reported honestly."""

from __future__ import annotations

import pytest

from evals.bench_import import run, table

pytestmark = pytest.mark.unit


def test_a_small_feed_is_imported_three_times_and_reported() -> None:
    result = run(products=300)
    runs = result["backends"]["sqlite"]
    assert runs["first"]["inserted"] == 900
    assert runs["unchanged"]["unchanged"] == 900
    assert runs["unchanged"]["inserted"] == runs["unchanged"]["updated"] == 0
    assert runs["repriced"]["updated"] == 900
    assert all(r["rejected"] == 0 for r in runs.values())
    assert result["pass"] == all(r["pass"] for r in runs.values())
    assert "products/s" in table(result)
