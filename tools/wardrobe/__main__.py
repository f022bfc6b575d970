"""``python -m tools.wardrobe train-classifier``: fit the photo category model on the shipped thumbnails."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


def thumbnail_features(limit: int | None = None) -> tuple[np.ndarray[Any, Any], list[str]]:
    """Features and article types of the catalogue thumbnails, segmented as photos are at run time."""
    from PIL import Image

    from core.config import REPO_ROOT
    from tools.wardrobe.classify import image_features
    from tools.wardrobe.images import ImageRejected
    from tools.wardrobe.segment import Segmentation, default_segmenter

    thumbnails = REPO_ROOT / "data" / "catalog" / "thumbnails"
    lines = (thumbnails / "index.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()][:limit]
    segmenter = default_segmenter()
    features = []
    for row in rows:
        rgb = np.asarray(Image.open(thumbnails / Path(row["image"]).name).convert("RGB"))
        try:
            segmentation = segmenter.segment(rgb)
        except ImageRejected:
            mask = np.ones(rgb.shape[:2], bool)
            segmentation = Segmentation(mask, "rejected", False, 1.0, (0, 0, rgb.shape[1], rgb.shape[0]))
        features.append(image_features(rgb, segmentation))
    return np.vstack(features), [str(r["articleType"]) for r in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.wardrobe", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser(
        "train-classifier", help="train the image category model on data/catalog/thumbnails (seconds)"
    )
    train.add_argument(
        "--model-dir", type=Path, default=None, help="model root (default: settings.wardrobe.classifier_dir)"
    )
    train.add_argument("--if-missing", action="store_true", help="do nothing when a model exists")
    train.add_argument("--limit", type=int, default=None, help="use only the first N thumbnails")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from tools.wardrobe.classify import CategoryModel, default_model_dir, train_category_model

    model_root = args.model_dir or default_model_dir()
    if args.if_missing:
        existing = CategoryModel.load(model_root)
        if existing is not None:
            sys.stdout.write(json.dumps({"version": existing.version, "trained": False}) + "\n")
            return 0
    started = time.perf_counter()
    features, article_types = thumbnail_features(args.limit)
    feature_seconds = time.perf_counter() - started
    # The evaluation captions are for evaluation only, so the served caption weight is the default.
    model = train_category_model(features, article_types)
    model.manifest["feature_seconds"] = round(feature_seconds, 1)
    model.manifest["train_seconds"] = round(time.perf_counter() - started, 1)
    folder = model.save(model_root)
    log.info("saved wardrobe category model %s", folder)
    summary = {
        "version": model.version,
        "trained": True,
        "folder": str(folder),
        "labels": model.labels,
        "examples": len(article_types),
        "caption_weight": model.caption_weight,
        "train_seconds": model.manifest["train_seconds"],
    }
    sys.stdout.write(json.dumps(summary) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
