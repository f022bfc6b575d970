"""Outfit compatibility on the Polyvore (Maryland) test tasks, from item titles only.

Two tasks of Han et al. (2017): fill-in-the-blank (FITB: pick the item that completes an outfit
among 4; chance is 25 %) and compatibility prediction (AUC of real outfits against outfits of
random items). This module is the only reader of the test files; training and model selection in
``tools.recommend.compat`` never open them.

The full test outfits (``test_no_dup.json``) are missing from the research copy, so titles come
from the MCN test file, which keeps only 5 coarse groups of 2,463 outfits. Two protocols:

* ``strict``: only questions where *every* item involved has a title; these figures are the ones
  to quote, with their (small) coverage.
* ``titled_items``: untitled items are dropped from the context; a FITB question still needs all 4
  candidates titled and one titled context item, an outfit two titled items. Coverage is larger
  but the task differs from the published one (shorter outfits), so it is a secondary figure.

Baselines on the same questions: random (25 % FITB, 0.5 AUC) and the mean cosine similarity of the
MiniLM vectors. Published anchors (with images, full test set, not comparable number for number):
type-aware embeddings 55.3 % FITB / 0.86 AUC; OutfitTransformer 67.1 % / 0.93.
"""

from __future__ import annotations

import gzip
import json
import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tools.recommend.compat import CompatModel, Floats, auc, embed_texts, fitb_accuracy, load_compat_model

log = logging.getLogger(__name__)

MARYLAND = "polyvore_maryland"
FITB_FILE = "fill_in_blank_test.json.gz"
COMPAT_FILE = "fashion_compatibility_prediction.txt.gz"
TITLES_FILE = "mcn_test_no_dup_with_category_3more_name.json.gz"
PROTOCOLS = ("strict", "titled_items")

#: (candidate vectors (c, d), context vectors (k, d)) -> one score per candidate.
FitbScorer = Callable[[Floats, Floats], Sequence[float]]
#: outfit vectors (k, d) -> one score.
OutfitScorer = Callable[[Floats], float]


def _read_json_gz(path: Path) -> Any:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def test_titles(root: Path) -> dict[str, str]:
    """``setid_index`` -> title, from the MCN test outfits (empty titles left out)."""
    titles: dict[str, str] = {}
    for set_id, groups in _read_json_gz(root / TITLES_FILE).items():
        for item in groups.values():
            name = " ".join(str(item.get("name") or "").split())
            if name:
                titles[f"{set_id}_{item['index']}"] = name
    return titles


def read_fitb(root: Path) -> tuple[list[tuple[list[str], list[str], int]], int]:
    """(context items, 4 candidates, index of the right one: the one from the question's outfit),
    and the number of questions in the file (a question without exactly one such answer is skipped
    but still counts against coverage)."""
    out: list[tuple[list[str], list[str], int]] = []
    questions = _read_json_gz(root / FITB_FILE)
    for q in questions:
        set_id = str(q["question"][0]).split("_")[0]
        answers = [str(a) for a in q["answers"]]
        right = [i for i, a in enumerate(answers) if a.split("_")[0] == set_id]
        if len(right) == 1:
            out.append(([str(x) for x in q["question"]], answers, right[0]))
    return out, len(questions)


def read_compat(root: Path) -> list[tuple[list[str], int]]:
    out: list[tuple[list[str], int]] = []
    with gzip.open(root / COMPAT_FILE, "rt", encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) >= 2:
                out.append((parts[1:], int(parts[0])))
    return out


def select_fitb(
    questions: Sequence[tuple[list[str], list[str], int]], titles: Mapping[str, str], protocol: str
) -> list[tuple[list[str], list[str], int]]:
    chosen: list[tuple[list[str], list[str], int]] = []
    for context, answers, right in questions:
        if not all(a in titles for a in answers):
            continue
        kept = [c for c in context if c in titles]
        if (protocol == "strict" and len(kept) == len(context)) or (protocol == "titled_items" and kept):
            chosen.append((kept, answers, right))
    return chosen


def select_compat(
    outfits: Sequence[tuple[list[str], int]], titles: Mapping[str, str], protocol: str
) -> list[tuple[list[str], int]]:
    chosen: list[tuple[list[str], int]] = []
    for items, label in outfits:
        kept = [i for i in items if i in titles]
        if (protocol == "strict" and len(kept) == len(items) >= 2) or (
            protocol == "titled_items" and len(kept) >= 2
        ):
            chosen.append((kept, label))
    return chosen


def score(
    fitb: Sequence[tuple[list[str], list[str], int]],
    compat: Sequence[tuple[list[str], int]],
    vectors: Mapping[str, Floats],
    fitb_scorer: FitbScorer,
    outfit_scorer: OutfitScorer,
) -> dict[str, float]:
    def stack(ids: Sequence[str]) -> Floats:
        return np.stack([vectors[i] for i in ids]).astype(np.float32)

    fitb_scores = [list(fitb_scorer(stack(answers), stack(context))) for context, answers, _ in fitb]
    outfit_scores = [outfit_scorer(stack(items)) for items, _ in compat]
    return {
        "fitb_accuracy": fitb_accuracy(fitb_scores, [right for _, _, right in fitb]),
        "compat_auc": auc(outfit_scores, [label for _, label in compat]),
    }


def mean_cosine_fitb(candidates: Floats, context: Floats) -> list[float]:
    return (candidates @ context.T).mean(axis=1).tolist()  # type: ignore[no-any-return]


def mean_cosine_outfit(e: Floats) -> float:
    if e.shape[0] < 2:
        return 0.0
    i, j = np.triu_indices(e.shape[0], k=1)
    return float((e[i] * e[j]).sum(axis=1).mean())


def evaluate_polyvore(
    model: CompatModel | None,
    data_dir: Path,
    *,
    embed: Callable[[Sequence[str]], Floats] | None = None,
) -> dict[str, Any]:
    """FITB accuracy and compatibility AUC for the model and the baselines, per protocol, each
    with its coverage (questions scored / total). ``embed`` maps titles to vectors (default:
    cached MiniLM); ``model=None`` reports the baselines only."""
    root = data_dir / MARYLAND
    titles = test_titles(root)
    fitb_all, fitb_total = read_fitb(root)
    compat_all = read_compat(root)
    embed = embed or embed_texts
    selected = {
        protocol: (select_fitb(fitb_all, titles, protocol), select_compat(compat_all, titles, protocol))
        for protocol in PROTOCOLS
    }
    needed = sorted(
        {i for fitb, _ in selected.values() for context, answers, _ in fitb for i in (*context, *answers)}
        | {i for _, compat in selected.values() for items, _ in compat for i in items}
    )
    vectors = dict(zip(needed, embed([titles[i] for i in needed]), strict=True))
    results: dict[str, Any] = {
        "files": [f"{MARYLAND}/{FITB_FILE}", f"{MARYLAND}/{COMPAT_FILE}", f"{MARYLAND}/{TITLES_FILE}"],
        "model": None if model is None else model.version,
        "anchors_with_images": {
            "type_aware_vasileva_2018": {"fitb_accuracy": 0.553, "compat_auc": 0.86},
            "outfit_transformer_2023": {"fitb_accuracy": 0.671, "compat_auc": 0.93},
        },
    }
    for protocol in PROTOCOLS:
        fitb, compat = selected[protocol]
        block: dict[str, Any] = {
            "fitb_coverage": f"{len(fitb)}/{fitb_total}",
            "compat_coverage": f"{len(compat)}/{len(compat_all)}",
            "compat_positives": sum(label for _, label in compat),
            "random": {"fitb_accuracy": 0.25 if fitb else float("nan"), "compat_auc": 0.5},
            "mean_cosine": score(fitb, compat, vectors, mean_cosine_fitb, mean_cosine_outfit),
        }
        if model is not None:

            def model_fitb(candidates: Floats, context: Floats, m: CompatModel = model) -> list[float]:
                return m.pair_scores(candidates, context).mean(axis=1).tolist()  # type: ignore[no-any-return]

            block["model"] = score(fitb, compat, vectors, model_fitb, model.outfit_score)
        results[protocol] = block
    return results


def run(*, data_dir: Path | None = None, model_dir: Path | None = None) -> dict[str, Any]:
    """``evaluate_polyvore`` with the newest saved compat model (baselines only when none)."""
    from graphs.polyvore import default_data_dir

    model = load_compat_model(model_dir)
    if model is None:
        log.warning("no compat model saved; run python -m tools.recommend.compat train")
    return evaluate_polyvore(model, data_dir or default_data_dir())


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    sys.stdout.write(json.dumps(run(), indent=1) + "\n")
