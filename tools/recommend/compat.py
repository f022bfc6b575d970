"""Outfit compatibility from item titles: a small pairwise model learned on real Polyvore outfits.

Input is what every catalogue item has, its title, as a 384-d L2-normalised all-MiniLM-L6-v2
vector. Plain cosine similarity rewards *similar* items (two black boots) while outfits need
*complementary* ones (boots with a skirt), so the model scores a pair from symmetric features

    [a * b, |a - b|, p(a) ⊗ p(b)]

where ``p`` is a coarse slot classifier (top, bottom, shoes, ...) read from the same vector, so
the slot-pair term can learn "two pairs of shoes do not make an outfit" without any label at run
time. A one-hidden-layer MLP (or a logistic regression, whichever wins model selection) turns the
features into P(compatible); an outfit's score is the mean over its pairs.

Training uses the training-side Polyvore outfits only (Maryland ``valid_no_dup`` and the MCN valid
file, which repeats its set ids), with a seeded part of the outfits held out for model selection:
positives are pairs of one outfit, negatives replace one of the two items by a random item, half
of the time of the same slot (style, not slot, must then tell them apart) and half of the time of
any slot (as in the Polyvore test tasks). The test files are read by ``evals.polyvore`` alone.

Weights are numpy arrays copied out of scikit-learn after fitting, saved as ``model.npz`` next to
a ``manifest.json`` that holds the npz's sha256 (checked before loading; nothing is unpickled) in
a versioned folder ``<model_root>/<version>/``: the format of ``tools.artifacts``, shared with
``tools.sizing.model`` and the ranker.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from graphs.vocabulary import Slot
from tools.artifacts import MANIFEST_FILE as MANIFEST_FILE
from tools.artifacts import MODEL_FILE as MODEL_FILE
from tools.artifacts import ModelArtifactError as ModelArtifactError
from tools.artifacts import artifact_folder, list_versions, read_artifact, version_name, write_artifact

log = logging.getLogger(__name__)

Floats = np.ndarray[Any, np.dtype[np.float32]]
Ints = np.ndarray[Any, np.dtype[np.int64]]

FEATURE_VERSION = "compat-minilm-pair-v1"
EMBEDDING_MODEL = "all-MiniLM-L6-v2"
SLOTS: tuple[Slot, ...] = tuple(Slot)
SEED = 20261128
HOLDOUT = 0.15
_VERSION = re.compile(r"^compat-\d{14}-[0-9a-f]{8}$")
_PAIR_CHUNK = 20_000
_ENCODE_CHUNK = 2048
#: MCN's five coarse groups -> our slots; only used for an MCN outfit missing from ``valid_no_dup``.
MCN_SLOT: dict[str, Slot] = {
    "upper": Slot.TOP,
    "bottom": Slot.BOTTOM,
    "shoe": Slot.SHOES,
    "bag": Slot.BAG,
    "accessory": Slot.ACCESSORY,
}


def cache_root() -> Path:
    return Path(os.environ.get("IK_CACHE_DIR", Path.home() / ".cache" / "innovation-kun"))


def default_model_root() -> Path:
    """The settings' compatibility-model folder (``IK_RECOMMEND__COMPAT_DIR``)."""
    from core.training import TrainingPaths

    return TrainingPaths().recommend.compat_dir


def default_embedding_cache() -> Path:
    return cache_root() / "polyvore" / "minilm_titles.npz"


# --- embeddings ---------------------------------------------------------------------------------


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def embed_texts(texts: Sequence[str], cache_path: Path | None = None) -> Floats:
    """MiniLM vectors of ``texts`` (rows in order), reusing and extending a cache keyed by text hash.

    Encoding ~20k Polyvore titles takes minutes on two cores; the cache makes reruns of training
    and evaluation take seconds. It holds vectors only, so it is no copy of the data set.
    """
    cache_path = cache_path or default_embedding_cache()
    keys = [text_key(t) for t in texts]
    known: dict[str, Floats] = {}
    if cache_path.is_file():
        with np.load(cache_path, allow_pickle=False) as stored:
            known = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items())
    if missing:
        from rag.embeddings import default_encoder

        started = time.perf_counter()
        for start in range(0, len(missing), _ENCODE_CHUNK):  # saved per chunk: a killed run keeps its work
            chunk = missing[start : start + _ENCODE_CHUNK]
            vectors = default_encoder().encode([t for _, t in chunk], batch_size=64)
            known.update({k: v for (k, _), v in zip(chunk, vectors, strict=True)})
            _save_cache(cache_path, known)
            log.info(
                "encoded %d/%d new titles in %.1f s",
                start + len(chunk),
                len(missing),
                time.perf_counter() - started,
            )
    if not keys:
        return np.zeros((0, 384), np.float32)
    return np.stack([known[k] for k in keys]).astype(np.float32)


def _save_cache(cache_path: Path, known: dict[str, Floats]) -> None:
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_path.with_suffix(".tmp.npz")
    order = sorted(known)
    np.savez(tmp, keys=np.array(order), vectors=np.stack([known[k] for k in order]).astype(np.float32))
    tmp.replace(cache_path)


# --- the model ----------------------------------------------------------------------------------


def _softmax(x: Floats) -> Floats:
    z = x - x.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: Floats = e / e.sum(axis=1, keepdims=True)
    return out


def _sigmoid(x: Floats) -> Floats:
    out: Floats = 0.5 * (1.0 + np.tanh(0.5 * x))
    return out


def pair_features(a: Floats, b: Floats, pa: Floats, pb: Floats) -> Floats:
    """Symmetric features of aligned rows ``a[i]``, ``b[i]`` (``p*``: their slot probabilities)."""
    outer = pa[:, :, None] * pb[:, None, :]
    outer = outer + outer.transpose(0, 2, 1)
    upper = np.triu_indices(pa.shape[1])
    out: Floats = np.concatenate([a * b, np.abs(a - b), 0.5 * outer[:, upper[0], upper[1]]], axis=1).astype(
        np.float32
    )
    return out


@dataclass
class CompatModel:
    """P(two items belong in one outfit) from their title vectors; see the module docstring."""

    version: str
    type_w: Floats  # (slots, dim)
    type_b: Floats  # (slots,)
    w1: Floats  # (features, hidden) or (features, 1) for a linear model
    b1: Floats
    w2: Floats  # (hidden, 1), or shape (0,) for a linear model
    b2: Floats
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return int(self.type_w.shape[1])

    def slot_proba(self, e: Floats) -> Floats:
        return _softmax(np.asarray(e, np.float32) @ self.type_w.T + self.type_b)

    def _logits(self, x: Floats) -> Floats:
        h = x @ self.w1 + self.b1
        if self.w2.size:
            h = np.maximum(h, 0.0) @ self.w2 + self.b2
        out: Floats = h[:, 0]
        return out

    def aligned_scores(self, a: Floats, b: Floats) -> Floats:
        """P(compatible) of ``a[i]`` with ``b[i]``, for each row i."""
        a = np.asarray(a, np.float32)
        b = np.asarray(b, np.float32)
        out = np.empty(a.shape[0], np.float32)
        for start in range(0, a.shape[0], _PAIR_CHUNK):
            sa, sb = a[start : start + _PAIR_CHUNK], b[start : start + _PAIR_CHUNK]
            x = pair_features(sa, sb, self.slot_proba(sa), self.slot_proba(sb))
            out[start : start + _PAIR_CHUNK] = _sigmoid(self._logits(x))
        return out

    def pair_scores(self, a: Floats, b: Floats) -> Floats:
        """(n, m) matrix of P(compatible) between every row of ``a`` and every row of ``b``."""
        a = np.atleast_2d(np.asarray(a, np.float32))
        b = np.atleast_2d(np.asarray(b, np.float32))
        if a.shape[1] != self.dim or b.shape[1] != self.dim:
            raise ValueError(f"expected {self.dim}-d vectors, got {a.shape[1]} and {b.shape[1]}")
        n, m = a.shape[0], b.shape[0]
        rows = np.repeat(np.arange(n), m)
        cols = np.tile(np.arange(m), n)
        out: Floats = self.aligned_scores(a[rows], b[cols]).reshape(n, m)
        return out

    def outfit_score(self, e: Floats) -> float:
        """Mean P(compatible) over the outfit's pairs; 0.5 (no evidence) below two items."""
        e = np.atleast_2d(np.asarray(e, np.float32))
        if e.shape[0] < 2:
            return 0.5
        i, j = np.triu_indices(e.shape[0], k=1)
        return float(self.aligned_scores(e[i], e[j]).mean())

    def arrays(self) -> dict[str, Floats]:
        return {
            "type_w": self.type_w,
            "type_b": self.type_b,
            "w1": self.w1,
            "b1": self.b1,
            "w2": self.w2,
            "b2": self.b2,
        }

    def save(self, model_root: Path) -> Path:
        """Write ``<model_root>/<version>/`` (npz first, manifest last, so a folder with a manifest
        is complete) and return that folder."""
        folder = model_root / self.version
        self.manifest = write_artifact(
            folder,
            self.arrays(),
            {
                **self.manifest,
                "version": self.version,
                "feature_version": FEATURE_VERSION,
                "embedding_model": EMBEDDING_MODEL,
                "dim": self.dim,
                "slots": [s.value for s in SLOTS][: self.type_w.shape[0]],
            },
        )
        return folder


def new_version(fingerprint: str, now: datetime | None = None) -> str:
    """``compat-<UTC yyyymmddHHMMSS>-<8 hex>``: sorts by time, names its inputs."""
    return version_name("compat", fingerprint, now)


def versions(model_root: Path) -> list[str]:
    """Versions with a manifest under ``model_root``, oldest first."""
    return list_versions(model_root, _VERSION)


def load_compat_model(model_dir: Path | None = None, version: str | None = None) -> CompatModel | None:
    """The given version, or the newest under ``model_dir`` (which may also be one version's own
    folder); None when there is no model.

    Raises ``ModelArtifactError`` when the asked-for version is missing, the files are corrupt, or
    the npz's sha256 differs from the manifest's.
    """
    model_dir = model_dir or default_model_root()
    folder = artifact_folder(model_dir, version, _VERSION, "compat model")
    if folder is None:
        return None
    arrays, manifest = read_artifact(folder, FEATURE_VERSION)
    try:
        parts = {k: np.asarray(arrays[k], np.float32) for k in ("type_w", "type_b", "w1", "b1", "w2", "b2")}
    except (KeyError, ValueError, OSError) as error:
        raise ModelArtifactError(f"corrupt compat model in {folder}: {error}") from error
    return CompatModel(version=str(manifest.get("version", folder.name)), manifest=manifest, **parts)


# --- training data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingSet:
    """Items (vector, slot index into ``SLOTS``) and outfits as lists of item rows."""

    vectors: Floats
    slots: Ints
    outfits: list[Ints]
    set_ids: list[str]


@dataclass(frozen=True)
class PolyvoreItems:
    """Titled, slotted items of the training-side outfits, before embedding."""

    texts: list[str]
    slots: list[int]
    outfits: list[list[int]]
    set_ids: list[str]
    sources: dict[str, str]


def _read_json_gz(path: Path) -> Any:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def polyvore_training_items(data_dir: Path) -> PolyvoreItems:
    """Maryland valid outfits (titles, fine categories mapped to slots) plus any MCN valid outfit
    not among them. Items without a title or outside the outfit slots (beauty, home) are left out:
    the test questions the model is scored on hold only garments, bags and accessories."""
    from graphs import polyvore as graph

    root = data_dir / graph.MARYLAND
    article = graph.maryland_article_types(graph.read_maryland_categories(root / "category_id.txt"))
    slot_index = {s: i for i, s in enumerate(SLOTS)}
    texts: list[str] = []
    slots: list[int] = []
    outfits: list[list[int]] = []
    set_ids: list[str] = []
    row: dict[tuple[str, int], int] = {}

    def add(set_id: str, index: int, name: str, slot: Slot | None) -> int | None:
        name = " ".join(name.split())
        if not name or slot is None:
            return None
        key = (set_id, index)
        if key not in row:
            row[key] = len(texts)
            texts.append(name)
            slots.append(slot_index[slot])
        return row[key]

    for outfit in _read_json_gz(root / graph.MARYLAND_OUTFITS):
        set_id = str(outfit["set_id"])
        found: list[int] = []
        for item in outfit["items"]:
            kind = article.get(int(item["categoryid"]))
            got = add(
                set_id,
                int(item["index"]),
                str(item.get("name") or ""),
                graph.article_slot(kind) if kind else None,
            )
            if got is not None:
                found.append(got)
        if len(found) >= 2:
            outfits.append(found)
            set_ids.append(set_id)
    seen = set(set_ids)
    for set_id, groups in _read_json_gz(root / graph.MCN_OUTFITS).items():
        if str(set_id) in seen:
            continue
        found = []
        for group, item in groups.items():
            got = add(str(set_id), int(item["index"]), str(item.get("name") or ""), MCN_SLOT.get(group))
            if got is not None:
                found.append(got)
        if len(found) >= 2:
            outfits.append(found)
            set_ids.append(str(set_id))
    sources = {
        f"{graph.MARYLAND}/{name}": hashlib.sha256((root / name).read_bytes()).hexdigest()
        for name in ("category_id.txt", graph.MARYLAND_OUTFITS, graph.MCN_OUTFITS)
    }
    return PolyvoreItems(texts, slots, outfits, set_ids, sources)


def holdout_mask(set_ids: Sequence[str], fraction: float = HOLDOUT, seed: int = SEED) -> np.ndarray[Any, Any]:
    """A fixed, seeded outfit split by set id hash: rerunning selects on the same outfits."""
    values = [int(hashlib.sha256(f"{seed}:{s}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF for s in set_ids]
    return np.asarray(values) < fraction


# --- fitting ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """One candidate of model selection: ``hidden=0`` is a logistic regression."""

    hidden: int
    alpha: float

    @property
    def name(self) -> str:
        return (
            f"logreg(C={1 / self.alpha:g})"
            if self.hidden == 0
            else f"mlp({self.hidden}, alpha={self.alpha:g})"
        )


DEFAULT_CONFIGS: tuple[Config, ...] = (Config(0, 1.0), Config(64, 1e-3), Config(64, 1e-2))


def _pairs(outfits: Iterable[Ints]) -> tuple[Ints, Ints]:
    left: list[int] = []
    right: list[int] = []
    for items in outfits:
        for x in range(len(items)):
            for y in range(x + 1, len(items)):
                left.append(int(items[x]))
                right.append(int(items[y]))
    return np.asarray(left, np.int64), np.asarray(right, np.int64)


def sample_negatives(
    right: Ints, slots: Ints, pool: Ints, rng: np.random.Generator, same_slot: float = 0.5
) -> Ints:
    """A replacement for each ``right`` item: same slot with probability ``same_slot``, else any."""
    by_slot = {s: pool[slots[pool] == s] for s in np.unique(slots[pool])}
    out = pool[rng.integers(0, len(pool), len(right))]
    same = rng.random(len(right)) < same_slot
    for s, members in by_slot.items():
        pick = same & (slots[right] == s)
        if members.size and pick.any():
            out[pick] = members[rng.integers(0, members.size, int(pick.sum()))]
    return out


def simulated_tasks(
    outfits: Sequence[Ints], rng: np.random.Generator, candidates: int = 4
) -> tuple[list[tuple[Ints, Ints]], list[tuple[Ints, int]]]:
    """FITB questions (context, candidates with the true one first) and compatibility outfits
    (items, label) built from held-out outfits the way the Polyvore test tasks are: wrong answers
    and negative outfits are random items of any slot from other outfits."""
    pool = np.unique(np.concatenate(list(outfits)))
    fitb: list[tuple[Ints, Ints]] = []
    compat: list[tuple[Ints, int]] = []
    for items in outfits:
        if len(items) >= 3:
            blank = int(rng.integers(0, len(items)))
            others = pool[~np.isin(pool, items)]
            wrong = rng.choice(others, candidates - 1, replace=False)
            fitb.append((np.delete(items, blank), np.concatenate([[items[blank]], wrong]).astype(np.int64)))
        compat.append((items, 1))
        compat.append((rng.choice(pool, len(items), replace=False).astype(np.int64), 0))
    return fitb, compat


def fitb_accuracy(scores: Sequence[Sequence[float]], correct: Sequence[int]) -> float:
    """Expected accuracy with random tie-breaking: a tie at the top earns 1/(number tied)."""
    if not scores:
        return float("nan")
    total = 0.0
    for row, answer in zip(scores, correct, strict=True):
        values = np.asarray(row, np.float64)
        top = np.isclose(values, values.max(), rtol=0.0, atol=1e-12)
        total += float(top[answer]) / float(top.sum())
    return total / len(scores)


def auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """ROC AUC (ties count one half); NaN without both classes."""
    s = np.asarray(scores, np.float64)
    y = np.asarray(labels, np.int64)
    pos, neg = s[y == 1], s[y == 0]
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(order.size, np.float64)
    values = np.concatenate([pos, neg])[order]
    i = 0
    while i < values.size:  # average ranks over ties
        j = i
        while j + 1 < values.size and values[j + 1] == values[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return float((ranks[: pos.size].sum() - pos.size * (pos.size + 1) / 2.0) / (pos.size * neg.size))


def score_tasks(
    model: CompatModel, vectors: Floats, fitb: Sequence[tuple[Ints, Ints]], compat: Sequence[tuple[Ints, int]]
) -> dict[str, float]:
    fitb_scores = [
        model.pair_scores(vectors[candidates], vectors[context]).mean(axis=1).tolist()
        for context, candidates in fitb
    ]
    outfit_scores = [model.outfit_score(vectors[items]) for items, _ in compat]
    return {
        "fitb_accuracy": fitb_accuracy(fitb_scores, [0] * len(fitb)),
        "compat_auc": auc(outfit_scores, [label for _, label in compat]),
        "fitb_questions": len(fitb),
        "compat_outfits": len(compat),
    }


def _fit_slot_classifier(vectors: Floats, slots: Ints, n_slots: int, seed: int) -> tuple[Floats, Floats]:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=10.0, max_iter=500, random_state=seed)
    clf.fit(vectors, slots)
    w = np.zeros((n_slots, vectors.shape[1]), np.float32)
    b = np.full(n_slots, -30.0, np.float32)  # a slot never seen in training gets ~0 probability
    classes = clf.classes_.astype(np.int64)
    if len(classes) == 2:  # sklearn keeps one row for two classes: class 1 vs class 0
        w[classes[1]] = clf.coef_[0]
        b[classes[1]] = clf.intercept_[0]
        b[classes[0]] = 0.0
    else:
        w[classes] = clf.coef_
        b[classes] = clf.intercept_
    return w, b


def _fit_pair_model(
    x: Floats, y: np.ndarray[Any, Any], config: Config, seed: int
) -> tuple[Floats, Floats, Floats, Floats]:
    if config.hidden == 0:
        from sklearn.linear_model import LogisticRegression

        lin = LogisticRegression(C=1.0 / config.alpha, max_iter=300, random_state=seed)
        lin.fit(x, y)
        return (
            lin.coef_.T.astype(np.float32),
            lin.intercept_.astype(np.float32),
            np.zeros(0, np.float32),
            np.zeros(0, np.float32),
        )
    from sklearn.neural_network import MLPClassifier

    mlp = MLPClassifier(
        hidden_layer_sizes=(config.hidden,),
        alpha=config.alpha,
        batch_size=256,
        learning_rate_init=1e-3,
        max_iter=30,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=4,
        random_state=seed,
    )
    mlp.fit(x, y)
    return (
        mlp.coefs_[0].astype(np.float32),
        mlp.intercepts_[0].astype(np.float32),
        mlp.coefs_[1].astype(np.float32),
        mlp.intercepts_[1].astype(np.float32),
    )


def fit(
    data: TrainingSet,
    *,
    seed: int = SEED,
    holdout: float = HOLDOUT,
    configs: Sequence[Config] = DEFAULT_CONFIGS,
    negatives: int = 2,
    n_slots: int = len(SLOTS),
) -> tuple[CompatModel, dict[str, Any]]:
    """Select a config on held-out outfits, then refit it on all outfits; returns the model (not
    saved) and a report of the selection."""
    rng = np.random.default_rng(seed)
    held = holdout_mask(data.set_ids, holdout, seed)
    train_outfits = [o for o, h in zip(data.outfits, held, strict=True) if not h]
    held_outfits = [o for o, h in zip(data.outfits, held, strict=True) if h]
    if not train_outfits or not held_outfits:
        raise ValueError("need outfits on both sides of the hold-out split")
    fitb, compat = simulated_tasks(held_outfits, rng)

    def design(outfits: Sequence[Ints]) -> tuple[CompatModel, Floats, np.ndarray[Any, Any]]:
        items = np.unique(np.concatenate(list(outfits)))
        type_w, type_b = _fit_slot_classifier(data.vectors[items], data.slots[items], n_slots, seed)
        shell = CompatModel("", type_w, type_b, np.zeros((1, 1), np.float32), *(np.zeros(0, np.float32),) * 3)
        left, right = _pairs(outfits)
        lefts = [left] * (negatives + 1)
        rights = [right] + [sample_negatives(right, data.slots, items, rng, 0.5) for _ in range(negatives)]
        a, b = np.concatenate(lefts), np.concatenate(rights)
        labels = np.concatenate([np.ones(left.size), np.zeros(left.size * negatives)]).astype(np.int64)
        probs = shell.slot_proba(data.vectors)
        x = pair_features(data.vectors[a], data.vectors[b], probs[a], probs[b])
        return shell, x, labels

    started = time.perf_counter()
    shell, x, y = design(train_outfits)
    selection: list[dict[str, Any]] = []
    for config in configs:
        t0 = time.perf_counter()
        model = CompatModel("", shell.type_w, shell.type_b, *_fit_pair_model(x, y, config, seed))
        result = {"config": config.name, **score_tasks(model, data.vectors, fitb, compat)}
        result["fit_seconds"] = round(time.perf_counter() - t0, 1)
        log.info("selection %s", result)
        selection.append(result)
    best_index = max(
        range(len(configs)), key=lambda i: selection[i]["fitb_accuracy"] + selection[i]["compat_auc"]
    )
    best = configs[best_index]
    shell, x, y = design(data.outfits)
    final = CompatModel("", shell.type_w, shell.type_b, *_fit_pair_model(x, y, best, seed))
    report = {
        "seed": seed,
        "holdout_fraction": holdout,
        "negatives_per_positive": negatives,
        "items": int(data.vectors.shape[0]),
        "outfits": len(data.outfits),
        "train_outfits": len(train_outfits),
        "heldout_outfits": len(held_outfits),
        "train_pairs": int(y.size),
        "selection": selection,
        "chosen": best.name,
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    return final, report


def train(
    data_dir: Path | None = None,
    model_root: Path | None = None,
    *,
    seed: int = SEED,
    configs: Sequence[Config] = DEFAULT_CONFIGS,
    embedding_cache: Path | None = None,
) -> CompatModel:
    """Train on the training-side Polyvore outfits and save a new version under ``model_root``."""
    from graphs.polyvore import default_data_dir

    data_dir = data_dir or default_data_dir()
    model_root = model_root or default_model_root()
    items = polyvore_training_items(data_dir)
    vectors = embed_texts(items.texts, embedding_cache)
    data = TrainingSet(
        vectors=vectors,
        slots=np.asarray(items.slots, np.int64),
        outfits=[np.asarray(o, np.int64) for o in items.outfits],
        set_ids=items.set_ids,
    )
    model, report = fit(data, seed=seed, configs=configs)
    fingerprint = json.dumps(
        {"sources": items.sources, "seed": seed, "chosen": report["chosen"]}, sort_keys=True
    )
    model.version = new_version(fingerprint)
    model.manifest = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "sources": items.sources,
        **report,
    }
    folder = model.save(model_root)
    log.info("saved compat model %s", folder)
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.recommend.compat", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    train_cmd = commands.add_parser(
        "train", help="train on Polyvore training-side outfits and save a version"
    )
    train_cmd.add_argument("--if-missing", action="store_true", help="do nothing when a model exists")
    train_cmd.add_argument("--data-dir", type=Path, default=None, help="research datasets folder")
    train_cmd.add_argument("--model-dir", type=Path, default=None, help="model root (versions inside)")
    train_cmd.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    model_root = args.model_dir or default_model_root()
    if args.if_missing:
        existing = load_compat_model(model_root)
        if existing is not None:
            sys.stdout.write(json.dumps({"version": existing.version, "trained": False}) + "\n")
            return 0
    model = train(args.data_dir, model_root, seed=args.seed)
    summary = {
        "version": model.version,
        "trained": True,
        **{k: model.manifest[k] for k in ("chosen", "selection", "train_seconds", "outfits", "items")},
    }
    sys.stdout.write(json.dumps(summary, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    raise SystemExit(main())
