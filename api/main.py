"""The FastAPI application: ``create_app()`` wires settings, stores, services and routers.

Everything heavy is built once in the lifespan and put on ``app.state``; routers
receive it through ``api.deps``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

from agent.runtime import open_agent
from agent.service import ChatService
from agent.turns import TurnRunner
from agent.voice.engines import LazySpeech
from api.deps import API_PREFIX
from api.errors import install_error_handlers
from api.evals_runs import EvalRuns
from api.middleware import Metrics, RequestContextMiddleware
from api.routers import admin as admin_routes
from api.routers import (
    alerts,
    auth,
    catalog,
    chat,
    evals,
    health,
    images,
    profiles,
    recommend,
    sizing,
    support,
    users,
)
from api.routers import tryon as tryon_routes
from api.routers import voice as voice_routes
from api.routers import wardrobe as wardrobe_routes
from api.tokens import TokenService
from api.web import mount_web
from core.config import Settings, get_settings
from core.logging import configure_logging
from core.telemetry import fastapi_telemetry, setup_tracing, shutdown_tracing
from storage.sql.outbox import OutboxRelay, relay_forever
from storage.stores import build_stores
from tools.catalog.runtime import CatalogBackground, open_catalog
from tools.catalog.webhook import WebhookProcessor
from tools.imagegen.runtime import open_image_workers, open_imagegen
from tools.jobs import JobWorker
from tools.profile.schemas import Role
from tools.profile.service import AccountService, EmailTaken, ProfileService
from tools.recommend.runtime import open_recommender
from tools.registry import ToolServices
from tools.sizing.runtime import open_sizing
from tools.tryon.runtime import open_tryon, open_worker
from tools.wardrobe.runtime import open_wardrobe

logger = logging.getLogger(__name__)

#: How often idle chat sessions past their TTL are expired and their checkpoints deleted.
PURGE_INTERVAL_S = 600.0
_QUERY_TOKEN = re.compile(r"([?&]token=)[^&\s\"]+")


class _RedactQueryTokens(logging.Filter):
    """uvicorn logs a WebSocket's path with its query string, where ``/chat/ws`` may carry a token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _QUERY_TOKEN.sub(r"\1[redacted]", arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


async def _purge_forever(
    chat: ChatService, stop: asyncio.Event, *, interval_s: float = PURGE_INTERVAL_S
) -> None:
    """Forget expired sessions until ``stop`` is set; a failing pass is logged and retried next time."""
    while not stop.is_set():
        try:
            purged = await chat.purge_expired()
        except Exception:
            logger.exception("purging expired chat sessions failed")
        else:
            if purged:
                logger.info("purged expired chat sessions", extra={"sessions": purged})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)


def _ensure_first_admin(settings: Settings, accounts: AccountService) -> None:
    """A fresh install gets one admin from the settings, so someone can grant roles."""
    if accounts.count_active_admins() > 0:
        return
    try:
        accounts.create_user(
            email=settings.auth.first_admin_email,
            password=settings.auth.first_admin_password.get_secret_value(),
            full_name="Administrator",
            role=Role.admin,
        )
    except EmailTaken:
        # Another pod starting at the same moment created it, or the account exists but
        # was disabled or demoted: either way, do not overwrite a person's account here.
        logger.warning(
            "first admin not created: the account exists", extra={"email": settings.auth.first_admin_email}
        )
        return
    logger.info("created the first admin", extra={"email": settings.auth.first_admin_email})


def _run_in_background(stack: AsyncExitStack, worker: JobWorker[Any, Any]) -> None:
    """A job worker on a thread of its own, stopped (and waited for) when the app shuts down."""
    stop = threading.Event()
    thread = threading.Thread(
        target=worker.run_until, args=(stop,), name=f"{worker.jobs.name}-worker", daemon=True
    )
    thread.start()
    stack.callback(thread.join, 10.0)
    stack.callback(stop.set)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    uvicorn_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _RedactQueryTokens) for f in uvicorn_log.filters):
        uvicorn_log.addFilter(_RedactQueryTokens())
    tracer_provider = setup_tracing(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Closed in reverse: running turns finish, then the agent (and any LLM child process) stops,
        # then the stores close.
        async with AsyncExitStack() as stack:
            # Closed last, so spans from shutting down are still exported.
            stack.callback(shutdown_tracing, tracer_provider)
            stores = await run_in_threadpool(build_stores, settings)
            stack.push_async_callback(run_in_threadpool, stores.close)
            accounts = AccountService(stores.db)
            profiles = ProfileService(stores.db)
            app.state.stores = stores
            app.state.accounts = accounts
            app.state.profiles = profiles
            app.state.tokens = TokenService(settings.auth, stores.db)
            await run_in_threadpool(_ensure_first_admin, settings, accounts)
            catalog = await run_in_threadpool(open_catalog, settings, stores)
            app.state.catalog = catalog
            app.state.webhook = WebhookProcessor(
                catalog.catalog,
                settings.catalog.webhook_secret.get_secret_value(),
                settings.catalog.webhook_tolerance_s,
            )
            background = CatalogBackground(catalog, stores, settings)
            background.start()
            stack.push_async_callback(run_in_threadpool, background.stop)
            sizing_service = await run_in_threadpool(open_sizing, settings, stores.db)
            app.state.sizing = sizing_service
            recommender = await run_in_threadpool(
                open_recommender, settings, stores, catalog, profiles, sizing_service
            )
            stack.push_async_callback(run_in_threadpool, recommender.close)
            if settings.recommend.warm_on_start:
                warming = threading.Thread(target=recommender.warm, name="recommend-warm", daemon=True)
                warming.start()
                stack.push_async_callback(run_in_threadpool, warming.join)
            app.state.recommend = recommender
            wardrobe, uploads = await run_in_threadpool(open_wardrobe, settings, stores)
            app.state.wardrobe = wardrobe
            app.state.uploads = uploads
            tryon_service = await run_in_threadpool(open_tryon, settings, stores, catalog.catalog, wardrobe)
            app.state.tryon = tryon_service
            imagegen = await run_in_threadpool(open_imagegen, settings, stores, catalog.catalog, wardrobe)
            app.state.imagegen = imagegen
            workers: list[JobWorker[Any, Any]] = []
            if settings.tryon.worker_in_process:
                workers.append(open_worker(settings, stores, tryon_service))
            if settings.imagegen.worker_in_process:
                workers.extend(open_image_workers(settings, stores, imagegen))
            for worker in workers:
                _run_in_background(stack, worker)
            eval_runs = EvalRuns(settings.resolve(Path("reports")))
            app.state.eval_runs = eval_runs
            stack.callback(eval_runs.stop)
            services = ToolServices(
                accounts=accounts,
                profiles=profiles,
                catalog=catalog,
                sizing=sizing_service,
                recommend=recommender,
                wardrobe=wardrobe,
                uploads=uploads,
                tryon=tryon_service,
                imagegen=imagegen,
            )
            chat_service = await stack.enter_async_context(open_agent(settings, stores.db, services))
            app.state.chat = chat_service
            turns = TurnRunner()
            app.state.turns = turns
            stack.push_async_callback(turns.drain)
            speech = LazySpeech(settings)
            app.state.speech = speech
            stack.callback(speech.close)
            stop = asyncio.Event()
            relay = asyncio.create_task(relay_forever(OutboxRelay(stores.db, stores.events), stop))
            purge = asyncio.create_task(_purge_forever(chat_service, stop))
            logger.info("ready", extra={"environment": settings.environment, "sql": stores.db.dialect})
            try:
                yield
            finally:
                stop.set()
                await relay
                await purge

    app = FastAPI(
        title=settings.project_name,
        version="0.1.0",
        summary="Personal style advisor (个人形象智能顾问助手) API",
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
        telemetry=fastapi_telemetry(tracer_provider),
    )
    app.state.settings = settings
    app.state.tracer_provider = tracer_provider
    app.state.metrics = Metrics()
    install_error_handlers(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)

    app.include_router(health.router)
    for router in (
        auth.router,
        users.router,
        profiles.router,
        chat.router,
        voice_routes.router,
        support.router,
        catalog.router,
        alerts.router,
        sizing.router,
        recommend.router,
        wardrobe_routes.router,
        wardrobe_routes.uploads_router,
        tryon_routes.router,
        images.router,
        evals.router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(admin_routes.router, prefix=API_PREFIX)
    mount_web(app, settings.web_dist)
    return app
