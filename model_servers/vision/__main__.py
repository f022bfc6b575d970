"""``python -m model_servers.vision``: serve garment segmentation over HTTP with uvicorn.

    python -m model_servers.vision --host 127.0.0.1 --port 8091

The API uses it with ``IK_WARDROBE__SEGMENTER=model_server`` and
``IK_WARDROBE__SEGMENTER_URL=http://127.0.0.1:8091``.
"""

from __future__ import annotations

from collections.abc import Sequence

from model_servers.serve import serve
from model_servers.vision.app import create_app


def main(argv: Sequence[str] | None = None) -> None:
    serve(
        "python -m model_servers.vision",
        __doc__,
        create_app,
        8091,
        argv,
        service_name="innovation-kun-vision",
    )


if __name__ == "__main__":
    main()
