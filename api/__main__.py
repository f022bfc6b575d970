"""``python -m api``: serve the API with uvicorn on the configured host and port."""

from __future__ import annotations

import uvicorn

from api.main import create_app
from core.config import get_settings


def main() -> None:
    settings = get_settings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
