"""``python -m model_servers.tryon``: serve virtual try-on over HTTP with uvicorn.

    python -m model_servers.tryon --host 127.0.0.1 --port 8092

The API (or a ``python -m tools.tryon worker``) uses it with ``IK_TRYON__ENGINE=model_server``
and ``IK_TRYON__MODEL_SERVER_URL=http://127.0.0.1:8092``.
"""

from __future__ import annotations

from collections.abc import Sequence

from model_servers.serve import serve
from model_servers.tryon.app import create_app


def main(argv: Sequence[str] | None = None) -> None:
    serve("python -m model_servers.tryon", __doc__, create_app, 8092, argv)


if __name__ == "__main__":
    main()
