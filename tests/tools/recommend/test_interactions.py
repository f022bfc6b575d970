"""RTR rentals as ranking examples: the time split and the no-leakage counting."""

from __future__ import annotations

import gzip
import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from tools.recommend.interactions import (
    Interactions,
    candidate_sets,
    category_kind,
    day_number,
    history_columns,
    load_interactions,
    occasion_of,
    sample_candidates,
    time_split,
)
from tools.recommend.ranker import (
    KINDS,
    OCCASIONS,
    Candidate,
    HistoryEvent,
    build_ranker_inputs,
    inputs_to_columns,
)
from tools.recommend.schemas import ItemKind, Occasion

_CATEGORIES = ["dress", "gown", "top", "jumpsuit", "skirt", "blazer"]
_RENTED_FOR = ["wedding", "formal affair", "party", "work", "everyday", None]


@pytest.fixture(scope="module")
def rtr_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small file in RTR's format: 30 users, 25 items, dates 2016-06 .. 2017-12, shuffled."""
    rng = np.random.default_rng(7)
    folder = tmp_path_factory.mktemp("datasets") / "renttherunway_fit"
    folder.mkdir()
    path = folder / "renttherunway_fit.jsonl.gz"
    item_category = {i: _CATEGORIES[i % len(_CATEGORIES)] for i in range(25)}
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for _ in range(600):
            item = int(rng.integers(25))
            when = date(2016, 6, 1) + timedelta(days=int(rng.integers(0, 580)))
            rating = None if rng.random() < 0.1 else int(rng.choice([2, 4, 6, 8, 10]))
            row = {
                "user_id": str(1000 + int(rng.integers(30))),
                "item_id": str(50000 + item),
                "fit": "fit",
                "size": int(rng.integers(0, 20)),
                "category": item_category[item],
                "rating": rating,
                "rented_for": _RENTED_FOR[int(rng.integers(len(_RENTED_FOR)))],
                "body_type": ["hourglass", "pear", None][int(rng.integers(3))],
                "bust_size": "34b",
                "weight_lbs": None if rng.random() < 0.3 else 130,
                "height_in": 65.0,
                "age": 30,
                "review_date": when.isoformat(),
            }
            handle.write(json.dumps(row) + "\n")
    return path


@pytest.fixture(scope="module")
def data(rtr_file: Path) -> Interactions:
    return load_interactions(rtr_file)


def test_vocabulary_maps() -> None:
    assert category_kind("Sheath") is ItemKind.DRESS
    assert category_kind("romper") is ItemKind.JUMPSUIT
    assert category_kind("mystery") is ItemKind.OTHER
    assert category_kind(None) is ItemKind.OTHER
    assert occasion_of("formal affair") is Occasion.FORMAL
    assert occasion_of(None) is None


def test_time_split_is_disjoint_ordered_and_complete(data: Interactions) -> None:
    split = time_split(data)
    parts = [split.train, split.validation, split.test]
    assert sum(len(p) for p in parts) == len(data)
    assert len(np.unique(np.concatenate(parts))) == len(data)
    assert all(len(p) > 0 for p in parts)
    assert data.day[split.train].max() < day_number(split.train_end) <= data.day[split.validation].min()
    assert data.day[split.validation].max() < day_number(split.validation_end) <= data.day[split.test].min()
    assert np.all(np.diff(data.day) >= 0)


def test_features_count_only_strictly_earlier_days(data: Interactions) -> None:
    split = time_split(data)
    events = np.concatenate([split.validation[:20], split.test[:20]])
    candidates = sample_candidates(data, events, 3, seed=1)
    cols = history_columns(data, events, candidates)
    width = candidates.shape[1]
    for e, event in enumerate(events):
        past = data.day < data.day[event]
        user_past = past & (data.user == data.user[event])
        assert cols.person_n[e * width] == user_past.sum()
        assert cols.person_likes[e * width] == (user_past & (data.liked == 1)).sum()
        for j in range(width):
            item = candidates[e, j]
            item_past = past & (data.item == item)
            row = e * width + j
            assert cols.item_n[row] == item_past.sum()
            assert cols.item_rated[row] == (item_past & (data.liked >= 0)).sum()
            assert cols.person_kind_n[row] == (user_past & (data.kind == data.item_kind[item])).sum()
            for o in range(len(OCCASIONS)):
                assert cols.item_occasion_counts[row, o] == (item_past & (data.occasion == o)).sum()


def test_training_features_equal_the_runtime_builder(data: Interactions) -> None:
    """The person half of a training row is what ``build_ranker_inputs`` makes from her history."""
    split = time_split(data)
    events = split.test[:15]
    candidates = sample_candidates(data, events, 2, seed=2)
    cols = history_columns(data, events, candidates)
    for e, event in enumerate(events):
        mine = np.flatnonzero(data.user == data.user[event])
        history = [
            HistoryEvent(
                kind=KINDS[data.kind[i]],
                occasion=OCCASIONS[data.occasion[i]] if data.occasion[i] >= 0 else None,
                liked=None if data.liked[i] < 0 else bool(data.liked[i]),
                when=date(1970, 1, 1) + timedelta(days=int(data.day[i])),
            )
            for i in mine
        ]
        kind = KINDS[data.item_kind[candidates[e, 0]]]
        (built,) = build_ranker_inputs(
            [Candidate(kind)], history=history, as_of=date(1970, 1, 1) + timedelta(days=int(data.day[event]))
        )
        runtime = inputs_to_columns([built])
        row = e * candidates.shape[1]
        for name in ("person_n", "person_rated", "person_likes", "person_kind_n"):
            assert getattr(runtime, name)[0] == getattr(cols, name)[row], name
        np.testing.assert_array_equal(runtime.person_occasion_counts[0], cols.person_occasion_counts[row])


def test_candidates_are_same_month_and_exclude_the_rented_item(data: Interactions) -> None:
    split = time_split(data)
    sets = candidate_sets(data, split.test, 4, split.validation_end)
    assert np.all(sets.items[:, 0] == data.item[split.test])
    for e, event in enumerate(split.test):
        month_items = set(data.item[data.month == data.month[event]].tolist())
        negatives = sets.items[e, 1:]
        if len(month_items) > len(negatives):
            assert data.item[event] not in negatives
            assert len(set(negatives.tolist())) == len(negatives)
        assert set(negatives.tolist()) <= month_items
    seen = set(data.user[data.day < day_number(split.validation_end)].tolist())
    assert np.array_equal(sets.cold, [u not in seen for u in data.user[split.test]])


def test_end_to_end_train_then_evaluate(rtr_file: Path, tmp_path: Path) -> None:
    """The CLI trains and saves; the evaluation loads that version and reports every baseline."""
    from evals.recommend_ranker import evaluate_ranker
    from tools.recommend.ranker import load_ranker, main

    assert main(["train", "--data", str(rtr_file), "--model-dir", str(tmp_path)]) == 0
    saved = load_ranker(tmp_path)
    assert saved is not None
    assert main(["train", "--if-missing", "--data", str(rtr_file), "--model-dir", str(tmp_path)]) == 0
    assert load_ranker(tmp_path) is not None
    assert len(list(tmp_path.iterdir())) == 1
    report = evaluate_ranker(rtr_file.parent.parent, tmp_path, single_task=False)
    assert report["ranker"]["source"] == "loaded"
    assert report["ranker"]["version"] == saved.version
    assert report["n_negatives"] == 99
    assert set(report["ranking"]) >= {"ranker", "popularity_train_counts", "occasion_popularity_train_counts"}
    assert 0.0 <= report["ranking"]["ranker"]["all"]["recall@10"] <= 1.0
