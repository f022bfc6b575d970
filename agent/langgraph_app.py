"""The graph for ``langgraph dev`` (``langgraph.json``), so Agent Chat UI, Agent Inbox and
LangGraph Studio can talk to the real agent on a developer's machine.

The LangGraph API calls ``make_graph`` for every request, so everything heavy (stores,
router, LLM client, the compiled graph) is built once per process and reused. The graph
is compiled without a checkpointer: the LangGraph API persists threads itself.

The LangGraph API has no sign-in, so a run whose context carries no ``user_id`` acts for
one local account (``LOCAL_USER_EMAIL``, created on first use); a run started with
``context={"user_id": ...}`` acts for that user. For the same reason this module refuses
to serve a production configuration.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from contextlib import AsyncExitStack
from dataclasses import replace

from agent.deps import AgentDeps
from agent.graph import Graph, build_graph
from agent.router import default_classifier
from agent.runtime import open_llm
from core.config import Settings
from storage.stores import Stores, build_stores
from tools.catalog.runtime import CatalogBackground, open_catalog
from tools.profile.schemas import UserRead
from tools.profile.service import AccountService, EmailTaken, ProfileService
from tools.recommend.runtime import open_recommender
from tools.registry import ToolServices, default_registry
from tools.sizing.runtime import open_sizing
from tools.wardrobe.runtime import open_wardrobe

logger = logging.getLogger(__name__)

#: The person local tools without sign-in (terminal chat, ``langgraph dev``) act for by default.
LOCAL_USER_EMAIL = "you@localhost"


def ensure_local_account(accounts: AccountService, email: str = LOCAL_USER_EMAIL) -> UserRead:
    """The local account, created on first use with a random password nobody needs to know.

    Local tools act for it without signing in; the password only keeps the account from
    being signed into through the API with a guessable one.
    """
    found = accounts.get_by_email(email)
    if found is not None:
        return found
    try:
        user = accounts.create_user(email=email, password=secrets.token_urlsafe(24), full_name="Local user")
    except EmailTaken:  # another process created it a moment ago
        found = accounts.get_by_email(email)
        if found is None:
            raise
        return found
    logger.info("created the local account", extra={"email": user.email})
    return user


class _Host:
    """What one ``langgraph dev`` process keeps for its lifetime: stores, LLM, the compiled graph."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.graph: Graph | None = None
        self.stores: Stores | None = None
        #: Holds the LLM client (and the embedded server) open until the process exits; the
        #: embedded server also exits by itself when this process dies (its stdin closes).
        self.resources = AsyncExitStack()


_HOST = _Host()


def _prepare(settings: Settings) -> tuple[Stores, AgentDeps]:
    """Blocking start-up work, run in a thread: the LangGraph dev server refuses blocking calls
    on its event loop (blockbuster)."""
    stores = build_stores(settings)
    accounts, profiles = AccountService(stores.db), ProfileService(stores.db)
    user = ensure_local_account(accounts)
    catalog = open_catalog(settings, stores)
    # Vectors build in the background (minutes the first time); search uses full text until then.
    CatalogBackground(catalog, stores, settings).start()
    classifier = default_classifier()
    classifier.route("hello")  # loads the embedding model now, not inside the first run
    sizing = open_sizing(settings, stores.db)
    wardrobe, uploads = open_wardrobe(settings, stores)
    deps = AgentDeps(
        registry=default_registry(),
        services=ToolServices(
            accounts=accounts,
            profiles=profiles,
            catalog=catalog,
            sizing=sizing,
            recommend=open_recommender(settings, stores, catalog, profiles, sizing),
            wardrobe=wardrobe,
            uploads=uploads,
        ),
        classifier=classifier,
        llm=None,
        llm_settings=settings.llm,
        agent_settings=settings.agent,
        default_user_id=user.id,
    )
    return stores, deps


async def make_graph() -> Graph:
    """The compiled graph for the LangGraph API (no checkpointer: the API brings its own)."""
    async with _HOST.lock:
        if _HOST.graph is not None:
            return _HOST.graph
        settings = await asyncio.to_thread(Settings)
        if settings.environment not in ("development", "test"):
            raise RuntimeError(
                "langgraph dev serves the agent without sign-in and is for local development only; "
                f"IK_ENVIRONMENT is {settings.environment!r} (langgraph.json sets development)"
            )
        stores, deps = await asyncio.to_thread(_prepare, settings)
        try:
            llm = await _HOST.resources.enter_async_context(open_llm(settings))
        except BaseException:
            await asyncio.to_thread(stores.close)  # the next request starts over
            raise
        _HOST.stores = stores
        graph = build_graph(replace(deps, llm=llm))
        _HOST.graph = graph
        logger.info(
            "agent graph ready for the LangGraph API",
            extra={
                "data_dir": str(settings.data_dir),
                "llm": settings.llm.provider,
                "user_id": deps.default_user_id,
            },
        )
        return _HOST.graph
