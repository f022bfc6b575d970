"""Settings for evaluation runs: embedded stores in a scratch folder, whatever the environment says."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from core.config import Settings


def embedded_settings(
    data_dir: Path,
    *,
    llm: dict[str, Any] | None = None,
    semantic: bool = False,
    load_catalog: bool = False,
    search_url: str | None = None,
) -> Settings:
    """A run's own stores under ``data_dir``, with secrets made up for it (no .env is read).

    ``search_url``: full text on that Elasticsearch-API server, in an index of the run's own.
    """
    secret = secrets.token_urlsafe(32)
    search: dict[str, Any] = {"semantic": semantic}
    if search_url:
        search |= {
            "backend": "elasticsearch",
            "elasticsearch_url": search_url,
            "elasticsearch_index": f"eval-{secrets.token_hex(6)}",
        }
    return Settings(
        _env_file=None,
        environment="test",
        data_dir=data_dir,
        auth={"secret_key": secret, "first_admin_password": secret},
        sql={"backend": "sqlite"},
        cache={"backend": "memory"},
        objects={"backend": "local"},
        vectors={"backend": "milvus_lite", "uri": "milvus.db"},
        llm=llm or {"provider": "none"},
        search=search,
        catalog={"webhook_secret": secret, "load_on_start": load_catalog},
    )
