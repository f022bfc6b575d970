"""RTR conversion: the split, bra sizes, garment groups, the offset's sign and out-of-fold counts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tools.sizing import rtr
from tools.sizing.schemas import FeedbackStats

pytestmark = pytest.mark.unit


def test_split_is_deterministic_disjoint_and_80_10_10() -> None:
    a, b = rtr.split(10_000), rtr.split(10_000)
    for part in ("train", "validation", "test"):
        assert np.array_equal(getattr(a, part), getattr(b, part))
    everything = np.concatenate([a.train, a.validation, a.test])
    assert len(np.unique(everything)) == len(everything) == 10_000
    assert a.sizes() == {"train": 8000, "validation": 1000, "test": 1000}
    assert not np.array_equal(rtr.split(10_000, seed=1).test, a.test)


def test_bra_size_to_bust_cm() -> None:
    assert rtr.bra_to_bust_cm("34d") == pytest.approx(((34 + 4) * 2.54, 4.0))
    assert rtr.bra_to_bust_cm("32aa") == pytest.approx((32 * 2.54, 0.0))
    assert rtr.bra_to_bust_cm("36e")[0] == pytest.approx(41 * 2.54)
    assert all(math.isnan(v) for v in rtr.bra_to_bust_cm(None))
    assert all(math.isnan(v) for v in rtr.bra_to_bust_cm("large"))


@pytest.mark.parametrize(
    ("category", "group"),
    [
        ("gown", "dress"),
        ("sheath", "dress"),
        ("blouse", "top"),
        ("sweater", "top"),
        ("blazer", "outerwear"),
        ("culottes", "bottom"),
        ("skirt", "bottom"),
        ("jumpsuit", "one_piece"),
        ("romper", "one_piece"),
        ("for", "other"),
        (None, "other"),
    ],
)
def test_garment_group(category: str | None, group: str) -> None:
    assert rtr.garment_group(category) == group


def test_offset_is_positive_for_a_size_above_the_expected_one(prepared: rtr.Prepared) -> None:
    coefficients = prepared.coefficients
    assert coefficients.codes_per_cm > 0
    expected = rtr.expected_size(prepared.data, coefficients)
    above = prepared.data.size > expected
    assert np.all(prepared.offset[above] > 0)
    assert np.all(prepared.offset[~above] <= 0)
    # the ridge has an intercept, so the train rows that fit sit at offset 0 on average
    fit_rows = prepared.split.train[prepared.data.label[prepared.split.train] == 1]
    assert abs(float(np.mean(prepared.offset[fit_rows]))) < 1e-6


def test_oof_stats_never_count_the_row_itself(prepared: rtr.Prepared) -> None:
    d, train = prepared.data, prepared.split.train
    fold = rtr.folds(train, prepared.seed)
    fold_of = dict(zip(train.tolist(), fold.tolist(), strict=True))
    rng = np.random.default_rng(0)
    # users with several train rows, so the count is non-trivial
    for i in rng.choice(train, 300, replace=False).tolist():
        same = train[d.user[train] == d.user[i]]
        others = [j for j in same.tolist() if fold_of[j] != fold_of[i]]
        expected = FeedbackStats.of(
            (("small", "fit", "large")[int(d.label[j])], float(prepared.offset[j])) for j in others
        )
        got = prepared.person.at(i)
        assert (got.n, got.small, got.large) == (expected.n, expected.small, expected.large)
        assert got.offset_sum_cm == pytest.approx(expected.offset_sum_cm)
        assert i not in others


def test_held_out_rows_count_all_train_rows(prepared: rtr.Prepared) -> None:
    d, train = prepared.data, prepared.split.train
    for i in prepared.split.test[:200].tolist():
        same = train[d.child[train] == d.child[i]]
        got = prepared.product_size.at(i)
        assert got.n == len(same)
        assert got.small == int(np.sum(d.label[same] == 0))
        assert got.large == int(np.sum(d.label[same] == 2))


def test_queries_carry_the_record(prepared: rtr.Prepared) -> None:
    row = int(prepared.split.validation[0])
    (query,) = prepared.queries(prepared.split.validation[:1])
    assert query.offset_cm == pytest.approx(prepared.offset[row])
    assert query.group == prepared.data.group[row]
    assert query.person == prepared.person.at(row)
