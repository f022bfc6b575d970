"""The outfit ranker: a two-head (rent, like) MLP over features our catalogue can also compute.

**Why a shared feature space.** The model is trained on RentTheRunway rentals but serves our
catalogue, whose items RTR never saw, so it never sees an item or user id. Each candidate is a
``RankerInput``: the request (occasion, season), the person's profile and own history, and the
item's kind and own history of counts. ``build_ranker_inputs`` makes those from runtime objects;
training builds the same ``FeatureColumns`` from RTR (``tools.recommend.interactions``) and both
go through one ``encode``, so the arithmetic cannot drift apart.

**Why two heads.** "Would she pick it" (rent, vs items on offer at the time) and "would she love
it" (rating 10, among what was rented) are different questions with different data; a shared
bottom lets the small like data borrow the rent data's representation. The ranking score is
``P(rent) * (alpha + P(like))``, with ``alpha`` chosen on validation rentals rated 10.

**Why numpy.** The network is tiny (a few thousand weights) and torch is not installed; forward,
backward and Adam are written out here, and a gradient check in the tests guards them. Each
version lives in ``<model_dir>/<version>/`` as ``model.npz`` + ``manifest.json`` (with the npz's
sha256, checked before loading; nothing is unpickled), the format of ``tools.artifacts``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

import numpy as np

from tools.artifacts import MANIFEST_FILE as MANIFEST_FILE
from tools.artifacts import MODEL_FILE as MODEL_FILE
from tools.artifacts import ModelArtifactError as ModelArtifactError
from tools.artifacts import list_versions, read_artifact, version_folder, version_name, write_artifact
from tools.recommend.schemas import ItemKind, Occasion, Season
from tools.sizing.schemas import RtrBodyType

if TYPE_CHECKING:
    from tools.recommend.interactions import CandidateSets

log = logging.getLogger(__name__)

Floats = np.ndarray[Any, np.dtype[np.float64]]
Ints = np.ndarray[Any, np.dtype[np.int64]]
Bools = np.ndarray[Any, np.dtype[np.bool_]]

OCCASIONS: tuple[Occasion, ...] = tuple(Occasion)
SEASONS: tuple[Season, ...] = tuple(Season)
KINDS: tuple[ItemKind, ...] = tuple(ItemKind)
BODY_TYPES: tuple[str, ...] = get_args(RtrBodyType)

#: Bump when the features or their meaning change: a model of another feature version is not loaded.
FEATURE_VERSION = "rank-v1"
PARAM_NAMES = (
    "w1",
    "b1",
    "w2",
    "b2",
    "w_rent",
    "b_rent",
    "v_rent",
    "c_rent",
    "w_like",
    "b_like",
    "v_like",
    "c_like",
)
HEADS = ("rent", "like")
ALPHAS = (0.0, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 1000.0)
_VERSION = re.compile(r"^rank-[a-z0-9]+-\d{14}-[0-9a-f]{8}$")

NUMERIC_FEATURES: tuple[str, ...] = (
    "item_log_n",
    "item_like_rate",
    "item_occasion_share",
    "item_log_occasion_n",
    "item_is_new",
    "person_log_n",
    "person_has_history",
    "person_like_rate",
    "person_kind_share",
    "person_occasion_share",
    "person_item_occasion_match",
    "age",
    "height_cm",
    "weight_kg",
    "bmi",
    "age_missing",
    "height_missing",
    "weight_missing",
)
#: Categorical fields (one-hot; the last code of each is "unknown") and the crosses learnt as parameters.
CATEGORICAL_SIZES: dict[str, int] = {
    "occasion": len(OCCASIONS) + 1,
    "season": len(SEASONS) + 1,
    "kind": len(KINDS),
    "body": len(BODY_TYPES) + 1,
    "occasion_x_kind": (len(OCCASIONS) + 1) * len(KINDS),
    "season_x_kind": (len(SEASONS) + 1) * len(KINDS),
    "body_x_kind": (len(BODY_TYPES) + 1) * len(KINDS),
}
N_ONE_HOT = sum(CATEGORICAL_SIZES.values())
N_INPUT = len(NUMERIC_FEATURES) + N_ONE_HOT


# --- the runtime contract ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RankerInput:
    """One (request, person, candidate) triple, in counts the runtime has.

    Occasion counts are in ``OCCASIONS`` order (empty = none). ``item_rated`` is how many of the
    item's interactions carry a like/dislike (so like-rate = likes / rated).
    """

    kind: ItemKind
    occasion: Occasion | None = None
    season: Season | None = None
    body_type: RtrBodyType | None = None
    age: float | None = None
    height_cm: float | None = None
    weight_kg: float | None = None
    item_n: int = 0
    item_rated: int = 0
    item_likes: int = 0
    item_occasion_counts: tuple[int, ...] = ()
    person_n: int = 0
    person_rated: int = 0
    person_likes: int = 0
    person_kind_n: int = 0
    person_occasion_counts: tuple[int, ...] = ()


@dataclass(frozen=True)
class Profile:
    body_type: RtrBodyType | None = None
    age: float | None = None
    height_cm: float | None = None
    weight_kg: float | None = None


@dataclass(frozen=True)
class HistoryEvent:
    """One past interaction of the person: what kind, for what, whether she liked it (None: no say)."""

    kind: ItemKind
    occasion: Occasion | None
    liked: bool | None
    when: date


@dataclass(frozen=True)
class ItemHistory:
    """Counts of a catalogue item's own past interactions (``rated`` defaults to ``n``)."""

    n: int = 0
    likes: int = 0
    rated: int | None = None
    occasion_counts: Mapping[Occasion, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Candidate:
    kind: ItemKind
    history: ItemHistory = ItemHistory()


def _day(when: date) -> date:
    return when.date() if isinstance(when, datetime) else when


def build_ranker_inputs(
    candidates: Sequence[Candidate],
    *,
    occasion: Occasion | None = None,
    season: Season | None = None,
    profile: Profile | None = None,
    history: Sequence[HistoryEvent] = (),
    as_of: date | None = None,
) -> list[RankerInput]:
    """The ranker's inputs for one request; the person's history is summarised once.

    With ``as_of``, only history from strictly earlier days counts (training counts the same way).
    """
    profile = profile or Profile()
    body = profile.body_type if profile.body_type in BODY_TYPES else None
    cutoff = _day(as_of) if as_of is not None else None
    past = [e for e in history if cutoff is None or _day(e.when) < cutoff]
    kind_n: dict[ItemKind, int] = {}
    occ_counts = [0] * len(OCCASIONS)
    occ_index = {o: i for i, o in enumerate(OCCASIONS)}
    rated = likes = 0
    for event in past:
        kind_n[event.kind] = kind_n.get(event.kind, 0) + 1
        if event.occasion is not None:
            occ_counts[occ_index[event.occasion]] += 1
        if event.liked is not None:
            rated += 1
            likes += int(event.liked)
    person_occ = tuple(occ_counts)
    out = []
    for candidate in candidates:
        h = candidate.history
        out.append(
            RankerInput(
                kind=candidate.kind,
                occasion=occasion,
                season=season,
                body_type=body,
                age=profile.age,
                height_cm=profile.height_cm,
                weight_kg=profile.weight_kg,
                item_n=h.n,
                item_rated=h.n if h.rated is None else h.rated,
                item_likes=h.likes,
                item_occasion_counts=tuple([h.occasion_counts.get(o, 0) for o in OCCASIONS])
                if h.occasion_counts
                else (),
                person_n=len(past),
                person_rated=rated,
                person_likes=likes,
                person_kind_n=kind_n.get(candidate.kind, 0),
                person_occasion_counts=person_occ,
            )
        )
    return out


@dataclass(frozen=True)
class FeatureColumns:
    """``RankerInput`` fields as arrays (codes index the module's tuples; -1 = unknown, NaN = missing)."""

    occasion: Ints
    season: Ints
    body: Ints
    age: Floats
    height_cm: Floats
    weight_kg: Floats
    kind: Ints
    item_n: Floats
    item_rated: Floats
    item_likes: Floats
    item_occasion_counts: Floats  # (n, len(OCCASIONS))
    person_n: Floats
    person_rated: Floats
    person_likes: Floats
    person_kind_n: Floats
    person_occasion_counts: Floats  # (n, len(OCCASIONS))

    def __len__(self) -> int:
        return len(self.kind)

    def take(self, rows: Ints | slice) -> FeatureColumns:
        return FeatureColumns(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})


_OCCASION_CODE = {o: i for i, o in enumerate(OCCASIONS)}
_SEASON_CODE = {x: i for i, x in enumerate(SEASONS)}
_KIND_CODE = {k: i for i, k in enumerate(KINDS)}
_BODY_CODE = {b: i for i, b in enumerate(BODY_TYPES)}
_NO_COUNTS = (0,) * len(OCCASIONS)


def inputs_to_columns(inputs: Sequence[RankerInput]) -> FeatureColumns:
    """One pass into a float table, then columns: scoring a few hundred candidates is dominated
    by this Python loop, so it does as little per input as it can."""
    n_occ = len(OCCASIONS)
    nan = math.nan
    rows = [
        (
            _OCCASION_CODE.get(x.occasion, -1),  # type: ignore[arg-type]
            _SEASON_CODE.get(x.season, -1),  # type: ignore[arg-type]
            _BODY_CODE.get(x.body_type, -1),  # type: ignore[arg-type]
            _KIND_CODE[x.kind],
            nan if x.age is None else x.age,
            nan if x.height_cm is None else x.height_cm,
            nan if x.weight_kg is None else x.weight_kg,
            x.item_n,
            x.item_rated,
            x.item_likes,
            x.person_n,
            x.person_rated,
            x.person_likes,
            x.person_kind_n,
            *(x.item_occasion_counts or _NO_COUNTS),
            *(x.person_occasion_counts or _NO_COUNTS),
        )
        for x in inputs
    ]
    width = 14 + 2 * n_occ
    try:
        table = np.asarray(rows, np.float64).reshape(len(inputs), width)
    except ValueError as error:
        raise ValueError(f"occasion counts need {n_occ} values in OCCASIONS order (or none)") from error
    codes = table[:, :4].astype(np.int64)
    return FeatureColumns(
        occasion=codes[:, 0],
        season=codes[:, 1],
        body=codes[:, 2],
        kind=codes[:, 3],
        age=table[:, 4],
        height_cm=table[:, 5],
        weight_kg=table[:, 6],
        item_n=table[:, 7],
        item_rated=table[:, 8],
        item_likes=table[:, 9],
        person_n=table[:, 10],
        person_rated=table[:, 11],
        person_likes=table[:, 12],
        person_kind_n=table[:, 13],
        item_occasion_counts=table[:, 14 : 14 + n_occ],
        person_occasion_counts=table[:, 14 + n_occ :],
    )


# --- encoding ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Priors:
    """Training averages that counts shrink towards (a new item or person looks average), and the
    standardisation of the numeric features; part of the model."""

    like_rate: float
    occasion_share: tuple[float, ...]  # OCCASIONS order
    kind_share: tuple[float, ...]  # KINDS order
    mean: tuple[float, ...]  # NUMERIC_FEATURES order
    std: tuple[float, ...]
    weight: float = 5.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "like_rate": self.like_rate,
            "occasion_share": list(self.occasion_share),
            "kind_share": list(self.kind_share),
            "mean": list(self.mean),
            "std": list(self.std),
            "weight": self.weight,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Priors:
        return cls(
            like_rate=float(data["like_rate"]),
            occasion_share=tuple(float(x) for x in data["occasion_share"]),
            kind_share=tuple(float(x) for x in data["kind_share"]),
            mean=tuple(float(x) for x in data["mean"]),
            std=tuple(float(x) for x in data["std"]),
            weight=float(data["weight"]),
        )


def raw_numeric(cols: FeatureColumns, priors: Priors) -> Floats:
    """Unstandardised numeric features, NaN-free, columns as ``NUMERIC_FEATURES``."""
    w = priors.weight
    n = len(cols)
    occ_prior = np.asarray(priors.occasion_share)
    kind_prior = np.asarray(priors.kind_share)
    has_occ = cols.occasion >= 0
    occ = np.where(has_occ, cols.occasion, 0)
    rows = np.arange(n)
    item_n = np.maximum(cols.item_n, 0.0)
    item_occ = np.maximum(cols.item_occasion_counts, 0.0)
    item_share_all = (item_occ + w * occ_prior) / (item_occ.sum(axis=1, keepdims=True) + w)
    item_occ_share = np.where(has_occ, item_share_all[rows, occ], 0.0)
    item_occ_n = np.where(has_occ, item_occ[rows, occ], 0.0)
    person_n = np.maximum(cols.person_n, 0.0)
    person_occ = np.maximum(cols.person_occasion_counts, 0.0)
    person_share_all = (person_occ + w * occ_prior) / (person_occ.sum(axis=1, keepdims=True) + w)
    person_occ_share = np.where(has_occ, person_share_all[rows, occ], 0.0)
    match = (person_share_all * item_share_all).sum(axis=1) / float((occ_prior * occ_prior).sum())
    item_like = (np.maximum(cols.item_likes, 0.0) + w * priors.like_rate) / (
        np.maximum(cols.item_rated, 0.0) + w
    )
    person_like = (np.maximum(cols.person_likes, 0.0) + w * priors.like_rate) / (
        np.maximum(cols.person_rated, 0.0) + w
    )
    person_kind = (np.maximum(cols.person_kind_n, 0.0) + w * kind_prior[cols.kind]) / (person_n + w)
    age = np.clip(cols.age, 10.0, 90.0)
    height = np.clip(cols.height_cm, 130.0, 210.0)
    weight = np.clip(cols.weight_kg, 30.0, 200.0)
    bmi = weight / (height / 100.0) ** 2
    missing = [np.isnan(x) for x in (age, height, weight)]
    fills = (33.0, 165.0, 62.0)
    filled = [np.where(m, f, x) for m, f, x in zip(missing, fills, (age, height, weight), strict=True)]
    bmi = np.where(np.isnan(bmi), fills[2] / (fills[1] / 100.0) ** 2, bmi)
    return np.column_stack(
        [
            np.log1p(item_n),
            item_like,
            item_occ_share,
            np.log1p(item_occ_n),
            (item_n == 0).astype(np.float64),
            np.log1p(person_n),
            (person_n > 0).astype(np.float64),
            person_like,
            person_kind,
            person_occ_share,
            match,
            *filled,
            bmi,
            *(m.astype(np.float64) for m in missing),
        ]
    ).reshape(n, len(NUMERIC_FEATURES))


def one_hot_codes(cols: FeatureColumns) -> Ints:
    """Each row's active one-hot position per categorical field (global positions)."""
    n_occ, n_season, n_kind, n_body = len(OCCASIONS), len(SEASONS), len(KINDS), len(BODY_TYPES)
    occ = np.where(cols.occasion >= 0, cols.occasion, n_occ)
    season = np.where(cols.season >= 0, cols.season, n_season)
    body = np.where(cols.body >= 0, cols.body, n_body)
    kind = cols.kind
    codes = [occ, season, kind, body, occ * n_kind + kind, season * n_kind + kind, body * n_kind + kind]
    offsets = np.cumsum([0, *CATEGORICAL_SIZES.values()])[:-1]
    return np.column_stack([c + o for c, o in zip(codes, offsets, strict=True)]).astype(np.int64)


def design(numeric: Floats, codes: Ints, dtype: type[np.floating[Any]] = np.float64) -> np.ndarray[Any, Any]:
    """The network's input: standardised numerics followed by the one-hot block."""
    x = np.zeros((numeric.shape[0], N_INPUT), dtype)
    x[:, : numeric.shape[1]] = numeric
    rows = np.repeat(np.arange(numeric.shape[0]), codes.shape[1])
    x[rows, numeric.shape[1] + codes.reshape(-1)] = 1.0
    return x


def encode(cols: FeatureColumns, priors: Priors) -> tuple[Floats, Ints]:
    raw = raw_numeric(cols, priors)
    standard = (raw - np.asarray(priors.mean)) / np.asarray(priors.std)
    return standard, one_hot_codes(cols)


# --- the network -------------------------------------------------------------------------------

Params = dict[str, np.ndarray[Any, Any]]


def init_params(
    n_input: int,
    hidden: tuple[int, int, int],
    rng: np.random.Generator,
    dtype: type[np.floating[Any]] = np.float64,
    n_dense: int | None = None,
) -> Params:
    """He-initialised weights; with ``n_dense``, the first-layer rows of the one-hot inputs after
    it start at zero. A category training never saw (RTR has no shoes or bags) then adds nothing,
    instead of a random push, when our catalogue sends it."""
    h1, h2, h3 = hidden

    def he(a: int, b: int) -> np.ndarray[Any, Any]:
        return (rng.standard_normal((a, b)) * math.sqrt(2.0 / a)).astype(dtype)

    params: Params = {
        "w1": he(n_input, h1),
        "b1": np.zeros(h1, dtype),
        "w2": he(h1, h2),
        "b2": np.zeros(h2, dtype),
    }
    if n_dense is not None:
        params["w1"][n_dense:] = 0.0
    for head in HEADS:
        params[f"w_{head}"] = he(h2, h3)
        params[f"b_{head}"] = np.zeros(h3, dtype)
        params[f"v_{head}"] = (rng.standard_normal(h3) * math.sqrt(1.0 / h3)).astype(dtype)
        params[f"c_{head}"] = np.zeros(1, dtype)
    return params


def forward(
    params: Params, x: np.ndarray[Any, Any]
) -> tuple[dict[str, np.ndarray[Any, Any]], dict[str, Any]]:
    """Logits per head, and what backward needs."""
    a1 = x @ params["w1"] + params["b1"]
    h1 = np.maximum(a1, 0)
    a2 = h1 @ params["w2"] + params["b2"]
    h2 = np.maximum(a2, 0)
    logits: dict[str, np.ndarray[Any, Any]] = {}
    cache: dict[str, Any] = {"x": x, "h1": h1, "h2": h2}
    for head in HEADS:
        h3 = np.maximum(h2 @ params[f"w_{head}"] + params[f"b_{head}"], 0)
        cache[f"h3_{head}"] = h3
        logits[head] = h3 @ params[f"v_{head}"] + params[f"c_{head}"][0]
    return logits, cache


def forward_sparse(params: Params, numeric: Floats, codes: Ints) -> dict[str, np.ndarray[Any, Any]]:
    """``forward`` without building the one-hot block: its product with ``w1`` is a sum of rows.

    Scoring uses this: besides skipping ~95 % zeros, a (rows x 353) product makes OpenBLAS start
    its threads, which on a busy 2-core host costs ~10 ms per call instead of ~0.2 ms.
    """
    w1 = params["w1"]
    d = numeric.shape[1]
    a1 = numeric.astype(w1.dtype) @ w1[:d] + w1[d + codes].sum(axis=1) + params["b1"]
    h2 = np.maximum(np.maximum(a1, 0) @ params["w2"] + params["b2"], 0)
    logits: dict[str, np.ndarray[Any, Any]] = {}
    for head in HEADS:
        h3 = np.maximum(h2 @ params[f"w_{head}"] + params[f"b_{head}"], 0)
        logits[head] = h3 @ params[f"v_{head}"] + params[f"c_{head}"][0]
    return logits


def _sigmoid(z: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    out: np.ndarray[Any, Any] = 0.5 * (1.0 + np.tanh(0.5 * z))
    return out


def _bce(z: np.ndarray[Any, Any], y: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    out: np.ndarray[Any, Any] = np.logaddexp(0, z) - y * z
    return out


def loss_and_grads(
    params: Params,
    x: np.ndarray[Any, Any],
    y_rent: np.ndarray[Any, Any],
    y_like: np.ndarray[Any, Any],
    like_mask: np.ndarray[Any, Any],
    like_weight: float = 1.0,
) -> tuple[float, Params]:
    """Mean BCE of the rent head over all rows plus ``like_weight`` x mean BCE of the like head over
    ``like_mask`` rows, and its gradient by backpropagation."""
    logits, cache = forward(params, x)
    n = x.shape[0]
    n_like = max(int(like_mask.sum()), 1)
    loss = float(_bce(logits["rent"], y_rent).mean())
    loss += like_weight * float((_bce(logits["like"], y_like) * like_mask).sum() / n_like)
    dz = {
        "rent": (_sigmoid(logits["rent"]) - y_rent) / n,
        "like": like_weight * (_sigmoid(logits["like"]) - y_like) * like_mask / n_like,
    }
    grads: Params = {}
    h2 = cache["h2"]
    dh2 = np.zeros_like(h2)
    for head in HEADS:
        h3 = cache[f"h3_{head}"]
        grads[f"v_{head}"] = h3.T @ dz[head]
        grads[f"c_{head}"] = np.asarray([dz[head].sum()], dtype=h3.dtype)
        da3 = np.outer(dz[head], params[f"v_{head}"]) * (h3 > 0)
        grads[f"w_{head}"] = h2.T @ da3
        grads[f"b_{head}"] = da3.sum(axis=0)
        dh2 += da3 @ params[f"w_{head}"].T
    da2 = dh2 * (h2 > 0)
    grads["w2"] = cache["h1"].T @ da2
    grads["b2"] = da2.sum(axis=0)
    da1 = (da2 @ params["w2"].T) * (cache["h1"] > 0)
    grads["w1"] = cache["x"].T @ da1
    grads["b1"] = da1.sum(axis=0)
    return loss, grads


@dataclass
class Adam:
    lr: float = 3e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 1e-5
    step: int = 0
    m: Params = field(default_factory=dict)
    v: Params = field(default_factory=dict)

    def update(self, params: Params, grads: Params) -> None:
        self.step += 1
        for name, g in grads.items():
            if name.startswith(("w", "v")):
                g = g + self.weight_decay * params[name]
            m = self.m.setdefault(name, np.zeros_like(g))
            v = self.v.setdefault(name, np.zeros_like(g))
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            m_hat = m / (1 - self.beta1**self.step)
            v_hat = v / (1 - self.beta2**self.step)
            params[name] -= (self.lr * m_hat / (np.sqrt(v_hat) + self.eps)).astype(params[name].dtype)


# --- the model ---------------------------------------------------------------------------------


@dataclass
class Ranker:
    version: str
    manifest: dict[str, Any]
    params: Params
    priors: Priors
    alpha: float

    def heads_columns(self, cols: FeatureColumns, chunk: int = 65536) -> tuple[Floats, Floats]:
        """(P(rent), P(like)) per row."""
        rent, like = np.zeros(len(cols)), np.zeros(len(cols))
        for start in range(0, len(cols), chunk):
            part = cols.take(slice(start, start + chunk))
            logits = forward_sparse(self.params, *encode(part, self.priors))
            rent[start : start + len(part)] = _sigmoid(logits["rent"])
            like[start : start + len(part)] = _sigmoid(logits["like"])
        return rent, like

    def combine(self, rent: Floats, like: Floats, alpha: float | None = None) -> Floats:
        a = self.alpha if alpha is None else alpha
        out: Floats = rent * (a + like)
        return out

    def score_columns(self, cols: FeatureColumns) -> Floats:
        return self.combine(*self.heads_columns(cols))

    def heads(self, inputs: Sequence[RankerInput]) -> tuple[Floats, Floats]:
        if not inputs:
            return np.zeros(0), np.zeros(0)
        return self.heads_columns(inputs_to_columns(inputs))

    def score(self, inputs: Sequence[RankerInput]) -> Floats:
        """Higher ranks first: ``P(rent) * (alpha + P(like))``."""
        return self.combine(*self.heads(inputs))

    def arrays(self) -> dict[str, np.ndarray[Any, Any]]:
        return {name: self.params[name] for name in PARAM_NAMES}

    def save(self, model_dir: Path) -> Path:
        """Write ``<model_dir>/<version>/`` (model file first, manifest last, so a folder with a
        manifest is complete) and return that folder."""
        folder = model_dir / self.version
        self.manifest = write_artifact(
            folder,
            self.arrays(),
            {
                **self.manifest,
                "version": self.version,
                "feature_version": FEATURE_VERSION,
                "numeric_features": list(NUMERIC_FEATURES),
                "categorical_sizes": dict(CATEGORICAL_SIZES),
                "occasions": [str(o) for o in OCCASIONS],
                "kinds": [str(k) for k in KINDS],
                "seasons": [str(s) for s in SEASONS],
                "body_types": list(BODY_TYPES),
                "priors": self.priors.as_dict(),
                "alpha": self.alpha,
            },
        )
        return folder


def new_version(kind: str, fingerprint: str, now: datetime | None = None) -> str:
    """``rank-<kind>-<UTC yyyymmddHHMMSS>-<8 hex>``: sorts by time, names its inputs."""
    return version_name(f"rank-{kind}", fingerprint, now)


def versions(model_dir: Path) -> list[str]:
    return list_versions(model_dir, _VERSION)


def load_ranker(model_dir: Path, version: str | None = None) -> Ranker | None:
    """The given version, or the newest; None when ``model_dir`` holds none.

    Raises ``ModelArtifactError`` when the asked-for version is missing, a file is corrupt, the
    npz's sha256 differs from the manifest's, or the features are of another version.
    """
    folder = version_folder(model_dir, version, _VERSION, "ranker")
    if folder is None:
        return None
    version = folder.name
    arrays, manifest = read_artifact(folder, FEATURE_VERSION)
    try:
        params = {name: arrays[name] for name in PARAM_NAMES}
        priors = Priors.from_dict(manifest["priors"])
        alpha = float(manifest["alpha"])
    except (KeyError, ValueError, TypeError, OSError) as error:
        raise ModelArtifactError(f"corrupt ranker {version}: {error}") from error
    if params["w1"].shape[0] != N_INPUT:
        raise ModelArtifactError(
            f"ranker {version} expects {params['w1'].shape[0]} inputs, this code {N_INPUT}"
        )
    return Ranker(version=version, manifest=manifest, params=params, priors=priors, alpha=alpha)


# --- ranking metrics ---------------------------------------------------------------------------


def rank_metrics(scores: Floats, k: int = 10) -> dict[str, float]:
    """Recall@k and NDCG@k of column 0 (the true item) among each row's candidates.

    Ties are broken uniformly at random *in expectation*: the true item's position is uniform over
    the tied block, and both metrics average over it exactly (so a constant scorer gets chance).
    """
    scores = np.asarray(scores, np.float64)
    if scores.ndim != 2 or scores.shape[0] == 0:
        return {f"recall@{k}": math.nan, f"ndcg@{k}": math.nan, "n": 0}
    true = scores[:, :1]
    greater = (scores[:, 1:] > true).sum(axis=1)
    ties = (scores[:, 1:] == true).sum(axis=1)
    positions = np.arange(1, k + 1)
    # positions greater+1 .. greater+ties+1, each with probability 1/(ties+1)
    inside = (positions[None, :] > greater[:, None]) & (positions[None, :] <= (greater + ties + 1)[:, None])
    weight = inside / (ties + 1)[:, None]
    recall = weight.sum(axis=1)
    ndcg = (weight / np.log2(positions + 1)[None, :]).sum(axis=1)
    return {f"recall@{k}": float(recall.mean()), f"ndcg@{k}": float(ndcg.mean()), "n": int(scores.shape[0])}


def auc(scores: Floats, labels: Floats) -> float:
    """ROC AUC with ties counted half (Mann-Whitney)."""
    positive = np.asarray(labels, bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return math.nan
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = np.asarray(scores, np.float64)[order]
    ranks = np.empty(len(scores))
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


# --- training ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainConfig:
    hidden: tuple[int, int, int] = (32, 16, 8)
    lr: float = 3e-3
    batch: int = 2048
    max_epochs: int = 8
    patience: int = 2
    #: 0.3 beat 1.0 on validation NDCG@10 (0.1748 vs 0.1730; 0.0, single task: 0.1746), measured
    #: before the one-hot rows were zero-initialised; not re-tuned since.
    like_weight: float = 0.3
    seed: int = 20180


def fit_priors(cols: FeatureColumns, like: Floats, like_mask: Bools, occasion: Ints, kind: Ints) -> Priors:
    """Priors from training rentals (positives only), then the numeric standardisation from all rows."""
    occ_counts = np.bincount(occasion[occasion >= 0], minlength=len(OCCASIONS)).astype(np.float64) + 1.0
    kind_counts = np.bincount(kind, minlength=len(KINDS)).astype(np.float64) + 1.0
    draft = Priors(
        like_rate=float(like[like_mask].mean()) if like_mask.any() else 0.5,
        occasion_share=tuple((occ_counts / occ_counts.sum()).tolist()),
        kind_share=tuple((kind_counts / kind_counts.sum()).tolist()),
        mean=(0.0,) * len(NUMERIC_FEATURES),
        std=(1.0,) * len(NUMERIC_FEATURES),
    )
    raw = raw_numeric(cols, draft)
    std = raw.std(axis=0)
    return Priors(
        like_rate=draft.like_rate,
        occasion_share=draft.occasion_share,
        kind_share=draft.kind_share,
        mean=tuple(raw.mean(axis=0).tolist()),
        std=tuple(np.where(std > 1e-9, std, 1.0).tolist()),
    )


def _validation_loss(
    params: Params, x: np.ndarray[Any, Any], y: np.ndarray[Any, Any], yl: Any, ml: Any, lw: float
) -> float:
    total = 0.0
    chunk = 65536
    for s in range(0, x.shape[0], chunk):
        logits, _ = forward(params, x[s : s + chunk])
        total += float(_bce(logits["rent"], y[s : s + chunk]).sum())
        total += (
            lw
            * float((_bce(logits["like"], yl[s : s + chunk]) * ml[s : s + chunk]).sum())
            * len(y)
            / max(int(ml.sum()), 1)
        )
    return total / len(y)


def fit_network(
    x: np.ndarray[Any, Any],
    y_rent: Floats,
    y_like: Floats,
    like_mask: Bools,
    x_val: np.ndarray[Any, Any],
    y_rent_val: Floats,
    y_like_val: Floats,
    like_mask_val: Bools,
    config: TrainConfig = TrainConfig(),
) -> tuple[Params, list[dict[str, float]]]:
    """Adam on shuffled mini-batches; keeps the epoch with the lowest validation loss."""
    rng = np.random.default_rng(config.seed)
    dtype = x.dtype.type
    params = init_params(x.shape[1], config.hidden, rng, dtype, n_dense=len(NUMERIC_FEATURES))
    adam = Adam(lr=config.lr)
    yr, yl, ml = (a.astype(dtype) for a in (y_rent, y_like, like_mask))
    yrv, ylv, mlv = (a.astype(dtype) for a in (y_rent_val, y_like_val, like_mask_val))
    best = (math.inf, {k: v.copy() for k, v in params.items()})
    history: list[dict[str, float]] = []
    stale = 0
    for epoch in range(config.max_epochs):
        order = rng.permutation(x.shape[0])
        train_loss = 0.0
        for s in range(0, len(order), config.batch):
            rows = order[s : s + config.batch]
            loss, grads = loss_and_grads(params, x[rows], yr[rows], yl[rows], ml[rows], config.like_weight)
            adam.update(params, grads)
            train_loss += loss * len(rows)
        val = _validation_loss(params, x_val, yrv, ylv, mlv, config.like_weight)
        history.append({"epoch": epoch + 1, "train_loss": train_loss / len(order), "validation_loss": val})
        log.info("epoch %d train %.4f validation %.4f", epoch + 1, train_loss / len(order), val)
        if val < best[0] - 1e-5:
            best = (val, {k: v.copy() for k, v in params.items()})
            stale = 0
        else:
            stale += 1
            if stale >= config.patience:
                break
    return best[1], history


def fit_ranker(
    train_sets: CandidateSets,
    validation_sets: CandidateSets,
    n_train_negatives: int,
    config: TrainConfig = TrainConfig(),
    manifest: Mapping[str, Any] | None = None,
    kind: str = "rtr",
) -> Ranker:
    """Train on ``train_sets``; early-stop on ``validation_sets`` cut to the training negatives'
    ratio; choose ``alpha`` by validation NDCG@10 on all of its candidates."""
    started = time.perf_counter()
    train_pos = train_sets.columns.take(np.arange(len(train_sets.events)) * train_sets.width)
    like_lab, like_mask = train_sets.like_labels()
    positives_like = like_lab[:: train_sets.width]
    positives_mask = like_mask[:: train_sets.width]
    priors = fit_priors(
        train_sets.columns, positives_like, positives_mask, train_pos.occasion, train_pos.kind
    )
    x = design(*encode(train_sets.columns, priors), np.float32)
    short_val = validation_sets.first_columns(n_train_negatives)
    x_val = design(*encode(short_val.columns, priors), np.float32)
    yl_val, ml_val = short_val.like_labels()
    params, history = fit_network(
        x,
        train_sets.rent_labels(),
        like_lab,
        like_mask,
        x_val,
        short_val.rent_labels(),
        yl_val,
        ml_val,
        config,
    )
    ranker = Ranker(version="", manifest={}, params=params, priors=priors, alpha=1.0)
    rent, like = ranker.heads_columns(validation_sets.columns)
    shape = validation_sets.items.shape
    loved = validation_sets.liked == 1
    by_alpha = {a: rank_metrics(ranker.combine(rent, like, a).reshape(shape))["ndcg@10"] for a in ALPHAS}
    by_alpha_loved = {
        a: rank_metrics(ranker.combine(rent, like, a).reshape(shape)[loved])["ndcg@10"] for a in ALPHAS
    }
    # What the advisor wants on top is what she would rent *and* love: alpha is chosen on the
    # rentals rated 10 (on all rentals it drifts to "rent head only", which ignores liking).
    alpha = max(ALPHAS, key=lambda a: (by_alpha_loved[a], -a))
    if config.like_weight == 0:
        alpha = ALPHAS[-1]  # the like head is untrained: rank by P(rent) alone
    ranker.alpha = alpha
    ranker.manifest = {
        **(manifest or {}),
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "train_seconds": round(time.perf_counter() - started, 1),
        "config": {**config.__dict__, "hidden": list(config.hidden)},
        "history": history,
        "validation_ndcg@10_by_alpha": {str(a): v for a, v in by_alpha.items()},
        "validation_loved_ndcg@10_by_alpha": {str(a): v for a, v in by_alpha_loved.items()},
        "n_train_negatives": n_train_negatives,
    }
    ranker.version = new_version(kind, json.dumps(ranker.manifest.get("data", {}), sort_keys=True))
    return ranker


def default_model_dir() -> Path:
    """The settings' ranker folder (``IK_RECOMMEND__RANKER_DIR``)."""
    from core.training import TrainingPaths

    return TrainingPaths().recommend.ranker_dir


def default_data_path() -> Path:
    from core.training import TrainingPaths
    from tools.sizing.rtr import default_path

    return default_path(TrainingPaths().research_data_dir)


@dataclass(frozen=True)
class Prepared:
    train: CandidateSets
    validation: CandidateSets
    data_manifest: dict[str, Any]


def prepare(data_path: Path, limit: int | None = None, n_train_negatives: int = 4) -> Prepared:
    """Train and validation candidate sets from the RTR file (test is left to the evaluation)."""
    from tools.recommend import interactions as ia

    data = ia.load_interactions(data_path, limit)
    split = ia.time_split(data)
    recent = split.train[data.day[split.train] >= ia.day_number(ia.EXAMPLES_START)]
    train_sets = ia.candidate_sets(data, recent, n_train_negatives, split.train_end, seed=ia.SEED)
    validation_sets = ia.candidate_sets(
        data, split.validation, ia.N_EVAL_NEGATIVES, split.train_end, seed=ia.SEED + 1
    )
    return Prepared(
        train=train_sets,
        validation=validation_sets,
        data_manifest={
            "data_sha256": data.sha256,
            "limit": limit,
            "split": split.describe(),
            "train_examples": f"{len(recent)} train rentals from {ia.EXAMPLES_START.isoformat()}",
            "n_validation_negatives": ia.N_EVAL_NEGATIVES,
        },
    )


def train(
    data_path: Path | None = None,
    model_dir: Path | None = None,
    limit: int | None = None,
    config: TrainConfig = TrainConfig(),
    n_train_negatives: int = 4,
) -> tuple[Ranker, Path]:
    """Train on RTR's train period and save a new version; returns it and its folder."""
    data_path = data_path or default_data_path()
    model_dir = model_dir or default_model_dir()
    prepared = prepare(data_path, limit, n_train_negatives)
    ranker = fit_ranker(
        prepared.train,
        prepared.validation,
        n_train_negatives,
        config,
        manifest={"data": prepared.data_manifest},
    )
    return ranker, ranker.save(model_dir)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ranker", description="Train the outfit ranker on RentTheRunway.")
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("train")
    cmd.add_argument("--if-missing", action="store_true", help="do nothing when a model already exists")
    cmd.add_argument("--limit", type=int, default=None, help="read only the first N records")
    cmd.add_argument("--model-dir", type=Path, default=None)
    cmd.add_argument("--data", type=Path, default=None, help="the RTR jsonl.gz (default: research_data_dir)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    model_dir = args.model_dir or default_model_dir()
    if args.if_missing:
        try:
            existing = load_ranker(model_dir)
        except ModelArtifactError as error:
            log.warning("the newest ranker cannot be used (%s); training a new one", error)
            existing = None
        if existing is not None:
            log.info("a ranker already exists in %s: %s", model_dir, existing.version)
            return 0
    ranker, folder = train(args.data, model_dir, args.limit)
    log.info("saved %s (alpha %.2f, %.1f s)", folder, ranker.alpha, ranker.manifest["train_seconds"])
    return 0
