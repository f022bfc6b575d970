"""``python -m tools.sizing train``: train a fit model version on RentTheRunway feedback."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.sizing", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a new fit model version (train split; validation stops)")
    train.add_argument(
        "--out", type=Path, default=None, help="model folder (default: settings.sizing.model_dir)"
    )
    train.add_argument("--data", type=Path, default=None, help="RTR JSON Lines (default: research_data_dir)")
    train.add_argument("--seed", type=int, default=None, help="split and fold seed (default: rtr.SEED)")
    train.add_argument("--limit", type=_positive, default=None, help="use only the first N records")
    train.add_argument(
        "--if-missing", action="store_true", help="do nothing when a model of this code version exists"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from core.training import TrainingPaths
    from tools.sizing import rtr
    from tools.sizing.train import current
    from tools.sizing.train import train as train_model

    settings = TrainingPaths()
    out = args.out or settings.sizing.model_dir
    if args.if_missing:
        existing = current(out)
        if existing is not None:
            sys.stdout.write(f"fit model {existing.version} is current; nothing to do\n")
            return 0
    data = args.data or rtr.default_path(settings.research_data_dir)
    if not data.exists():
        # A machine without the research datasets still runs: size advice then reads charts only.
        sys.stderr.write(f"RentTheRunway data not found at {data}: no fit model trained\n")
        return 0 if args.if_missing else 2
    model = train_model(out, data, seed=rtr.SEED if args.seed is None else args.seed, limit=args.limit)
    summary = {
        "version": model.version,
        "folder": str(out / model.version),
        "validation": model.manifest["validation"],
        "total_seconds": model.manifest["total_seconds"],
    }
    sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


if __name__ == "__main__":
    sys.exit(main())
