"""The web app (``web/``, built to ``web/dist``) served by the API, so ``make run`` shows it at ``/``.

Hashed files under ``/assets`` never change and are cached for a year; ``index.html`` is
revalidated on every load so a new build is picked up at once. When nothing is built the root says
how to build it rather than answering 404.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

_NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>Innovation-kun</title>
<p>The web app is not built. Run <code>make web</code> (or <code>npm ci &amp;&amp; npm run build</code>
in <code>web/</code>) and reload. The API is at <a href="/docs">/docs</a>.</p>"""


class _ImmutableAssets(StaticFiles):
    async def get_response(self, path: str, scope: Scope):  # type: ignore[no-untyped-def]
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def mount_web(app: FastAPI, dist: Path) -> None:
    index = dist / "index.html"
    assets = dist / "assets"
    # Mounted even before a build exists, so building while the API runs needs no restart.
    app.mount("/assets", _ImmutableAssets(directory=assets, check_dir=False), name="web-assets")

    @app.get("/", include_in_schema=False, response_model=None)
    def web_index() -> FileResponse | HTMLResponse:
        if not index.is_file():
            return HTMLResponse(_NOT_BUILT, status_code=503, headers={"Cache-Control": "no-store"})
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
