"""``python -m storage.sql migrate|current``: run or inspect migrations with the configured settings."""

from __future__ import annotations

import argparse
import logging

from alembic import command

from core.config import get_settings
from storage.sql.database import build_database


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m storage.sql")
    parser.add_argument("action", choices=["migrate", "current"])
    parser.add_argument("--revision", default="head")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    db = build_database(get_settings())
    try:
        if args.action == "migrate":
            db.migrate(args.revision)
        else:
            command.current(db.alembic_config(), verbose=True)
    finally:
        db.close()


if __name__ == "__main__":
    main()
