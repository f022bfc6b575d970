"""``python -m tools.recommend train [--if-missing]``: build what recommendation learns from data.

* ``train`` (what ``make run`` runs): the GOES_WITH table from Polyvore outfits (seconds) and
  the multi-task ranker from RentTheRunway (1-2 minutes on 2 cores);
* ``train-compat``: the outfit-compatibility model (Polyvore titles; encoding them with MiniLM
  takes minutes the first time, so it is not part of ``make run``).

All learn from research-only data, so they are built on the machine that runs the assistant
rather than shipped. Without that data nothing is built, and recommendations run on the
graph's encoded rules, popularity and the person's history.
"""

from __future__ import annotations

import argparse
import logging
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.recommend", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, what in (
        ("train", "the GOES_WITH table and the ranker"),
        ("train-ranker", "the multi-task ranker (RentTheRunway)"),
        ("train-compat", "the outfit-compatibility model (Polyvore)"),
    ):
        command = commands.add_parser(name, help=f"train {what} into the folders the settings name")
        command.add_argument("--if-missing", action="store_true", help="keep a model that already exists")
    commands.add_parser(
        "rebuild-graph",
        help="rebuild the knowledge graph the settings select from the catalogue and interactions",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from core.training import TrainingPaths

    if args.command == "rebuild-graph":
        return _rebuild_graph()

    from graphs import polyvore
    from tools.recommend import compat, ranker

    paths = TrainingPaths()
    settings = paths.recommend
    status = 0
    if args.command == "train":
        table = settings.goes_with_path
        source = paths.research_data_dir / "polyvore_maryland"
        if args.if_missing and table.is_file():
            sys.stdout.write(f"GOES_WITH table {table} exists; nothing to do\n")
        elif not source.is_dir():
            sys.stderr.write(f"Polyvore data not found at {source}: no GOES_WITH table built\n")
            status = status if args.if_missing else 2
        else:
            status |= polyvore.main(["--output", str(table), "--data-dir", str(paths.research_data_dir)])
    if args.command in ("train", "train-ranker"):
        data = ranker.default_data_path()
        if not data.exists():
            sys.stderr.write(f"RentTheRunway data not found at {data}: no ranker trained\n")
            status = status if args.if_missing else 2
        else:
            keep = ["--if-missing"] if args.if_missing else []
            status |= ranker.main(["train", "--model-dir", str(settings.ranker_dir), *keep])
    if args.command == "train-compat":
        outfits = paths.research_data_dir / "polyvore_maryland"
        if not outfits.is_dir():
            sys.stderr.write(f"Polyvore data not found at {outfits}: no compatibility model trained\n")
            status = status if args.if_missing else 2
        else:
            status |= compat.main(
                [
                    "train",
                    "--model-dir",
                    str(settings.compat_dir),
                    "--data-dir",
                    str(paths.research_data_dir),
                    *(["--if-missing"] if args.if_missing else []),
                ]
            )
    return status


def _rebuild_graph() -> int:
    """A full rebuild, for attribute edits a restart does not notice (a restart only adds new products)."""
    import json

    from core.config import get_settings
    from storage.stores import build_stores
    from tools.catalog.runtime import open_catalog
    from tools.profile.service import ProfileService
    from tools.recommend.runtime import open_recommender

    settings = get_settings()
    stores = build_stores(settings)
    try:
        catalog = open_catalog(settings, stores)
        service = open_recommender(settings, stores, catalog, ProfileService(stores.db), None)
        try:
            counts = service.rebuild_graph()
        finally:
            service.close()
    finally:
        stores.close()
    sys.stdout.write(json.dumps(counts) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
