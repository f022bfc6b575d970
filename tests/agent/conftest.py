"""A real agent on a real (SQLite or PostgreSQL) database, with the template responder unless a
test passes a fake LLM (the LLM's wording is not what these tests are about)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import BaseModel

from agent.deps import LanguageModel
from agent.router import default_classifier
from agent.runtime import open_agent
from agent.service import ChatEvent, ChatService
from core.config import Settings
from storage.sql import Database
from storage.stores import Stores, build_stores
from tests.conftest import TEST_WEBHOOK_SECRET, make_settings
from tools.catalog.runtime import open_catalog
from tools.catalog.store import CatalogStore
from tools.profile.schemas import ProfileUpdate
from tools.profile.service import AccountService, ProfileService
from tools.registry import ToolServices

M = TypeVar("M", bound=BaseModel)


class FakeLLM:
    """Streams a scripted reply in small pieces; returns a scripted structured answer."""

    def __init__(self, reply: str = "", choice: dict[str, Any] | None = None) -> None:
        self.reply = reply
        self.choice = choice or {}
        self.calls: list[Sequence[Mapping[str, str]]] = []

    async def stream(
        self, messages: Sequence[Mapping[str, str]], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> AsyncIterator[str]:
        self.calls.append(messages)
        for start in range(0, len(self.reply), 3):
            yield self.reply[start : start + 3]

    async def structured(
        self, messages: Sequence[Mapping[str, str]], schema: type[M], *, max_tokens: int = 256
    ) -> M:
        self.calls.append(messages)
        return schema.model_validate(self.choice)


@dataclass
class Agent:
    service: ChatService
    profiles: ProfileService
    accounts: AccountService
    user_id: str
    other_user_id: str

    async def say(
        self, text: str, session_id: str | None = None, user_id: str | None = None
    ) -> list[ChatEvent]:
        return [e async for e in self.service.turn(user_id or self.user_id, text, session_id=session_id)]


def replies(events: list[ChatEvent]) -> list[str]:
    return [e.data["text"] for e in events if e.event == "message"]


def session_of(events: list[ChatEvent]) -> str:
    return str(events[0].data["session_id"])


@pytest.fixture(scope="session")
def classifier() -> Any:
    return default_classifier()


@pytest.fixture
def database_with_users(database: Database) -> tuple[Database, str, str]:
    database.migrate()
    accounts = AccountService(database)
    first = accounts.create_user(email="ann@example.com", password="a-long-password-1", full_name="Ann")
    second = accounts.create_user(email="bob@example.com", password="a-long-password-2", full_name="Bob")
    return database, first.id, second.id


@pytest.fixture
def open_test_agent(
    sql_settings: Settings, database_with_users: tuple[Database, str, str], classifier: Any
) -> Callable[..., Any]:
    database, first, second = database_with_users

    @asynccontextmanager
    async def make(model: LanguageModel | None = None, **settings_update: Any) -> AsyncIterator[Agent]:
        settings = sql_settings.model_copy(update=settings_update)
        accounts, profiles = AccountService(database), ProfileService(database)
        services = ToolServices(accounts=accounts, profiles=profiles)
        async with open_agent(settings, database, services, classifier=classifier, llm=model) as service:
            yield Agent(service, profiles, accounts, first, second)

    return make


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- a conversation on a real catalogue slice -------------------------------------------------

#: The shipped catalogue's first products: enough for searches, sizes and outfits, quick to load.
SHOP_PRODUCTS = 300


@dataclass
class Conversation:
    """One person talking to an agent over a catalogue slice, with the services behind the agent."""

    service: ChatService
    services: ToolServices
    catalog: CatalogStore
    stores: Stores
    user_id: str

    async def say(self, text: str, session_id: str | None = None) -> list[ChatEvent]:
        return [e async for e in self.service.turn(self.user_id, text, session_id=session_id)]

    def first(self, gender: str, article_type: str) -> str:
        """The first product of this kind in the slice; the test skips, saying so, when there is none."""
        for batch in self.catalog.catalog.docs():
            for doc in batch:
                if doc.gender == gender and doc.article_type == article_type:
                    return doc.id
        pytest.skip(f"no {gender} {article_type} in the catalogue slice")


def cards(events: list[ChatEvent]) -> list[dict[str, Any]]:
    return [e.data["card"] for e in events if e.event == "card"]


#: Builds the services from the opened stores, catalogue, accounts and profiles.
ServicesFactory = Callable[[Stores, CatalogStore, AccountService, ProfileService], ToolServices]


@asynccontextmanager
async def open_conversation(
    settings: Settings,
    classifier: Any,
    *,
    email: str,
    services: ServicesFactory | None = None,
    profile: Mapping[str, Any] | None = None,
) -> AsyncIterator[Conversation]:
    """Fresh stores with the catalogue slice loaded, one account (with ``profile``) and an agent."""
    stores = build_stores(settings)
    try:
        catalog = open_catalog(settings, stores)
        accounts, profiles = AccountService(stores.db), ProfileService(stores.db)
        user = accounts.create_user(email=email, password="a-long-password-1")
        if profile:
            profiles.update(user.id, ProfileUpdate.model_validate(dict(profile)))
        built = (
            services(stores, catalog, accounts, profiles)
            if services is not None
            else ToolServices(accounts=accounts, profiles=profiles, catalog=catalog)
        )
        async with open_agent(settings, stores.db, built, classifier=classifier) as service:
            yield Conversation(service, built, catalog, stores, user.id)
        if built.recommend is not None:
            built.recommend.close()
    finally:
        stores.close()


@pytest.fixture
def shop_settings(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path,
        catalog={"webhook_secret": TEST_WEBHOOK_SECRET, "load_on_start": True, "limit": SHOP_PRODUCTS},
    )
