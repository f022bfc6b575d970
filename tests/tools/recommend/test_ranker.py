"""The numpy ranker: gradients, learning a planted signal, artefact safety, the runtime builder."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest

from tools.recommend.interactions import CandidateSets
from tools.recommend.ranker import (
    KINDS,
    N_INPUT,
    OCCASIONS,
    Candidate,
    FeatureColumns,
    HistoryEvent,
    ItemHistory,
    ModelArtifactError,
    Profile,
    Ranker,
    RankerInput,
    TrainConfig,
    auc,
    build_ranker_inputs,
    design,
    encode,
    fit_ranker,
    forward,
    forward_sparse,
    init_params,
    inputs_to_columns,
    load_ranker,
    loss_and_grads,
)
from tools.recommend.schemas import ItemKind, Occasion, Season


def test_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(0)
    n, d = 12, 7
    params = init_params(d, (6, 5, 4), rng)
    for name in params:  # non-zero biases so every ReLU path is exercised
        params[name] = params[name] + 0.1 * rng.standard_normal(params[name].shape)
    x = rng.standard_normal((n, d))
    y_rent = (rng.random(n) < 0.4).astype(float)
    y_like = (rng.random(n) < 0.5).astype(float)
    mask = (rng.random(n) < 0.6).astype(float)
    _, grads = loss_and_grads(params, x, y_rent, y_like, mask, like_weight=0.7)
    eps = 1e-6
    for name, value in params.items():
        flat = value.reshape(-1)
        for i in rng.choice(flat.size, size=min(flat.size, 6), replace=False):
            old = flat[i]
            flat[i] = old + eps
            up, _ = loss_and_grads(params, x, y_rent, y_like, mask, like_weight=0.7)
            flat[i] = old - eps
            down, _ = loss_and_grads(params, x, y_rent, y_like, mask, like_weight=0.7)
            flat[i] = old
            numeric = (up - down) / (2 * eps)
            assert grads[name].reshape(-1)[i] == pytest.approx(numeric, rel=1e-4, abs=1e-7), name


def _planted_sets(n_events: int, width: int, seed: int) -> CandidateSets:
    """Rented items suit the occasion's kind and are popular; liked ones come from likers."""
    rng = np.random.default_rng(seed)
    suits = {0: KINDS.index(ItemKind.GOWN), 2: KINDS.index(ItemKind.DRESS), 3: KINDS.index(ItemKind.TOP)}
    occasion = rng.choice(list(suits), size=n_events)
    kind = rng.integers(0, len(KINDS), size=(n_events, width))
    kind[:, 0] = [suits[o] if rng.random() < 0.7 else rng.integers(len(KINDS)) for o in occasion]
    item_n = rng.poisson(5, size=(n_events, width)).astype(float)
    item_n[:, 0] += rng.poisson(10, size=n_events)
    person_rated = rng.integers(0, 6, size=n_events).astype(float)
    liker = rng.random(n_events) < 0.5
    person_likes = np.where(liker, person_rated, 0.0)
    liked = np.where(rng.random(n_events) < np.where(liker, 0.9, 0.2), 1, 0)
    n = n_events * width
    cols = FeatureColumns(
        occasion=np.repeat(occasion, width),
        season=np.full(n, -1),
        body=np.full(n, -1),
        age=np.full(n, np.nan),
        height_cm=np.full(n, np.nan),
        weight_kg=np.full(n, np.nan),
        kind=kind.reshape(-1),
        item_n=item_n.reshape(-1),
        item_rated=np.zeros(n),
        item_likes=np.zeros(n),
        item_occasion_counts=np.zeros((n, len(OCCASIONS))),
        person_n=np.repeat(person_rated, width),
        person_rated=np.repeat(person_rated, width),
        person_likes=np.repeat(person_likes, width),
        person_kind_n=np.zeros(n),
        person_occasion_counts=np.zeros((n, len(OCCASIONS))),
    )
    return CandidateSets(
        events=np.arange(n_events),
        items=np.arange(n).reshape(n_events, width),
        columns=cols,
        liked=liked,
        cold=np.zeros(n_events, bool),
    )


@pytest.fixture(scope="module")
def trained() -> tuple[Ranker, CandidateSets]:
    train_sets = _planted_sets(1500, 5, seed=1)
    validation = _planted_sets(400, 10, seed=2)
    config = TrainConfig(hidden=(16, 8, 4), max_epochs=6, batch=256)
    return fit_ranker(train_sets, validation, 4, config, manifest={"data": {"synthetic": True}}), validation


def test_training_beats_chance_on_planted_signal(trained: tuple[Ranker, CandidateSets]) -> None:
    ranker, test = trained
    test = _planted_sets(400, 10, seed=3)
    rent, like = ranker.heads_columns(test.columns)
    assert auc(rent, test.rent_labels()) > 0.75
    rated = np.arange(len(test.events)) * test.width
    assert auc(like[rated], (test.liked == 1).astype(float)) > 0.65


def test_save_load_round_trip_and_tamper(trained: tuple[Ranker, CandidateSets], tmp_path: Path) -> None:
    ranker, validation = trained
    assert load_ranker(tmp_path) is None
    folder = ranker.save(tmp_path)
    loaded = load_ranker(tmp_path)
    assert loaded is not None
    assert loaded.version == folder.name
    np.testing.assert_allclose(
        loaded.score_columns(validation.columns),
        ranker.score_columns(validation.columns),
    )
    assert json.loads((folder / "manifest.json").read_text())["feature_version"] == "rank-v1"
    blob = bytearray((folder / "model.npz").read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (folder / "model.npz").write_bytes(bytes(blob))
    with pytest.raises(ModelArtifactError):
        load_ranker(tmp_path)


def test_builder_handles_nones_and_scores(trained: tuple[Ranker, CandidateSets]) -> None:
    ranker = trained[0]
    bare = build_ranker_inputs([Candidate(kind=k) for k in ItemKind])
    assert len(bare) == len(ItemKind)
    assert bare[0].occasion is None
    assert bare[0].person_n == 0
    scores = ranker.score(bare)
    assert scores.shape == (len(ItemKind),)
    assert np.all(np.isfinite(scores))
    assert ranker.score([]).shape == (0,)
    history = [
        HistoryEvent(ItemKind.DRESS, Occasion.WEDDING, True, date(2020, 1, 1)),
        HistoryEvent(ItemKind.DRESS, None, None, datetime(2020, 2, 1, 12)),
        HistoryEvent(ItemKind.GOWN, Occasion.FORMAL, False, date(2020, 3, 1)),
    ]
    inputs = build_ranker_inputs(
        [Candidate(ItemKind.DRESS, ItemHistory(n=10, likes=4, occasion_counts={Occasion.PARTY: 3}))],
        occasion=Occasion.PARTY,
        season=Season.WINTER,
        profile=Profile(body_type="pear", age=None, height_cm=170.0, weight_kg=None),
        history=history,
        as_of=date(2020, 3, 1),
    )
    (x,) = inputs
    assert (x.person_n, x.person_rated, x.person_likes, x.person_kind_n) == (2, 1, 1, 2)
    assert x.item_rated == 10
    assert x.item_occasion_counts[OCCASIONS.index(Occasion.PARTY)] == 3
    assert x.person_occasion_counts[OCCASIONS.index(Occasion.WEDDING)] == 1
    assert np.all(np.isfinite(ranker.score(inputs)))
    odd = RankerInput(kind=ItemKind.SHOES, age=116.0, height_cm=300.0, weight_kg=1.0)
    assert np.all(np.isfinite(ranker.score([odd])))
    cols = inputs_to_columns([odd, *inputs])
    assert len(cols) == 2
    assert cols.occasion[0] == -1
    assert cols.body[1] == 2


def test_sparse_forward_equals_dense(trained: tuple[Ranker, CandidateSets]) -> None:
    ranker, validation = trained
    numeric, codes = encode(validation.columns, ranker.priors)
    dense, _ = forward(ranker.params, design(numeric, codes, ranker.params["w1"].dtype.type))
    sparse = forward_sparse(ranker.params, numeric, codes)
    for head in ("rent", "like"):
        np.testing.assert_allclose(sparse[head], dense[head], rtol=1e-4, atol=1e-5)


def test_unseen_categories_add_nothing(trained: tuple[Ranker, CandidateSets]) -> None:
    """The planted data never names a season: all four keep zero weights, so they score alike."""
    ranker = trained[0]
    scores = ranker.score(
        [RankerInput(kind=ItemKind.GOWN, occasion=Occasion.WEDDING, season=s) for s in Season]
    )
    np.testing.assert_allclose(scores, scores[0])


def test_design_width_is_stable() -> None:
    assert N_INPUT == 18 + 10 + 5 + 13 + 8 + 130 + 65 + 104
