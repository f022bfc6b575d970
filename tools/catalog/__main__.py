"""Command line: ``python -m tools.catalog import FEED [--strict] [--source NAME]`` and ``load-shipped``.

Reads the store from the usual settings (``IK_*``) and prints the import report as
JSON on stdout; exits 1 when rows were rejected, 2 when a strict feed was refused.
The schema must already be migrated (``python -m storage.sql``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.config import get_settings
from storage.sql import build_database
from tools.catalog.connectors import FeedFormatError
from tools.catalog.importer import FeedImporter
from tools.catalog.service import CatalogService


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.catalog")
    commands = parser.add_subparsers(dest="command", required=True)
    feed = commands.add_parser("import", help="import a CSV, JSON or JSON Lines feed (optionally .gz)")
    feed.add_argument("file", type=Path)
    feed.add_argument("--strict", action="store_true", help="apply nothing if any row is bad")
    feed.add_argument("--source", help="source name recorded on the products (default feed:<file name>)")
    shipped = commands.add_parser("load-shipped", help="load the shipped catalog into the database")
    shipped.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)

    settings = get_settings()
    db = build_database(settings)
    try:
        if args.command == "import":
            report = FeedImporter(db, settings.catalog).import_file(
                args.file, strict=args.strict, source=args.source
            )
        else:
            report = CatalogService(db, settings.catalog).load_shipped(settings.catalog_dir, args.limit)
    except FeedFormatError as exc:
        sys.stderr.write(f"error: {exc}; nothing was imported\n")
        return 2
    finally:
        db.close()
    sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    if not report.applied:
        return 2
    return 1 if report.rejected else 0


if __name__ == "__main__":
    raise SystemExit(main())
