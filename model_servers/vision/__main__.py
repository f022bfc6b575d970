"""``python -m model_servers.vision``: serve garment segmentation over HTTP with uvicorn.

    python -m model_servers.vision --host 127.0.0.1 --port 8091

The API uses it with ``IK_WARDROBE__SEGMENTER=model_server`` and
``IK_WARDROBE__SEGMENTER_URL=http://127.0.0.1:8091``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import uvicorn

from core.logging import configure_logging
from model_servers.vision.app import create_app


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m model_servers.vision", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: loopback)")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    uvicorn.run(create_app(), host=args.host, port=args.port, log_config=None)


if __name__ == "__main__":
    main()
