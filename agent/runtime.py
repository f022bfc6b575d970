"""Assemble a running agent from settings: LLM (starting the embedded server if asked), router,
tools, checkpointer, session registry. The API lifespan, the terminal chat and the benchmarks
all start the agent through ``open_agent`` so they run the same thing.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta

from agent.deps import AgentDeps, LanguageModel
from agent.graph import build_graph
from agent.memory import SessionRegistry, open_checkpointer
from agent.router import IntentClassifier, default_classifier
from agent.service import ChatService
from core.config import Settings
from model_servers.llm.client import LLMClient
from storage.sql.database import Database
from tools.registry import ToolRegistry, ToolServices, default_registry

logger = logging.getLogger(__name__)


def _thread_args(threads: int | None) -> tuple[str, ...]:
    return ("--n-threads", str(threads)) if threads else ()


@asynccontextmanager
async def open_llm(settings: Settings) -> AsyncIterator[LLMClient | None]:
    """The configured LLM client; for ``embedded`` the SmolLM2 server runs as a child process."""
    if settings.llm.provider == "none":
        yield None
        return
    async with AsyncExitStack() as stack:
        if settings.llm.provider == "embedded":
            from model_servers.llm.process import EmbeddedLLMServer

            server = EmbeddedLLMServer(
                port=settings.llm.embedded_port,
                model_path=settings.llm.embedded_model_path,
                model_name=settings.llm.model,
                extra_args=_thread_args(settings.llm.embedded_threads),
            )
            await stack.enter_async_context(server)
        client = LLMClient.from_settings(settings.llm)
        assert client is not None
        stack.push_async_callback(client.aclose)
        logger.info("LLM ready", extra={"provider": settings.llm.provider, "url": settings.llm.url})
        yield client


@asynccontextmanager
async def open_agent(
    settings: Settings,
    database: Database,
    services: ToolServices,
    *,
    registry: ToolRegistry | None = None,
    classifier: IntentClassifier | None = None,
    llm: LanguageModel | None = None,
) -> AsyncIterator[ChatService]:
    """A ready ``ChatService``. Pass ``llm`` to use a client you own; otherwise it follows settings."""
    async with AsyncExitStack() as stack:
        if llm is None:
            llm = await stack.enter_async_context(open_llm(settings))
        deps = AgentDeps(
            registry=registry or default_registry(),
            services=services,
            classifier=classifier or default_classifier(),
            llm=llm,
            llm_settings=settings.llm,
            agent_settings=settings.agent,
        )
        checkpointer = await stack.enter_async_context(open_checkpointer(settings))
        graph = build_graph(deps, checkpointer)
        yield ChatService(graph, SessionRegistry(database, timedelta(hours=settings.agent.session_ttl_hours)))
