"""Shared test fixtures.

Real servers are found through ``IK_TEST_*`` variables that ``deploy/local/services.sh``
exports (``make test`` sets them). Where a server is missing, its tests are skipped
on a developer's machine but *fail* when ``IK_TEST_REQUIRE_SERVICES=1`` (CI), so a
green CI run always means the adapters ran against the real thing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.config import Settings
from storage.sql import Database, build_database
from storage.sql.database import reset_postgres_schema

REQUIRE_SERVICES = os.environ.get("IK_TEST_REQUIRE_SERVICES") == "1"


def require_service(env_var: str, what: str) -> str:
    """Return the service address from ``env_var`` or skip/fail the test that needs it."""
    value = os.environ.get(env_var)
    if value:
        return value
    message = f"{what} not configured: set {env_var} (make test starts it via deploy/local/services.sh)"
    if REQUIRE_SERVICES:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


# --- settings ---------------------------------------------------------------------------------

TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256"
TEST_ADMIN_EMAIL = "admin@example.com"
TEST_ADMIN_PASSWORD = "admin-password-for-tests"
TEST_WEBHOOK_SECRET = "webhook-secret-for-tests"


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for one test: its own data folder, test secrets, embedded stores unless overridden."""
    values: dict[str, Any] = {
        "environment": "test",
        "data_dir": tmp_path / "var",
        "log_json": True,
        "auth": {
            "secret_key": TEST_SECRET,
            "first_admin_email": TEST_ADMIN_EMAIL,
            "first_admin_password": TEST_ADMIN_PASSWORD,
        },
        # Tests that need products load a small catalog themselves; the full one takes seconds.
        "catalog": {"webhook_secret": TEST_WEBHOOK_SECRET, "load_on_start": False},
        "search": {"semantic": False},
        # No fit model unless a test trains one: the developer's trained model must not leak in.
        "sizing": {"model_dir": tmp_path / "models" / "sizing"},
        "recommend": {
            "ranker_dir": tmp_path / "models" / "ranker",
            "compat_dir": tmp_path / "models" / "compat",
            "warm_on_start": False,
            "goes_with_path": tmp_path / "models" / "goes_with.json",
        },
        "graph": {"path": tmp_path / "var" / "graph.kuzu"},
        # No image category model unless a test trains one (categories then come from captions).
        "wardrobe": {"classifier_dir": tmp_path / "models" / "wardrobe"},
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


# --- relational store on both backends -----------------------------------------------------------


def reset_postgres(url: str) -> None:
    """Start each PostgreSQL test from an empty schema, so migrations run from scratch every time."""
    reset_postgres_schema(url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def sql_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings whose relational store is SQLite or the real PostgreSQL server."""
    if request.param == "sqlite":
        return make_settings(tmp_path)
    url = require_service("IK_TEST_POSTGRES_URL", "PostgreSQL")
    reset_postgres(url)
    return make_settings(tmp_path, sql={"backend": "postgresql", "url": url})


@pytest.fixture
def database(sql_settings: Settings) -> Iterator[Database]:
    db = build_database(sql_settings)
    db.migrate()
    yield db
    db.close()


# --- speech -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def flite() -> Callable[[str], bytes]:
    """``sentence`` spoken by flite's ``slt`` voice as 16 kHz WAV, the way ``python -m evals voice``
    makes its utterances (cached per sentence): test speech made on the spot, since no recordings
    can be fetched here."""
    if shutil.which("flite") is None:
        pytest.skip("flite is not installed (Debian: apt-get install flite; `make system-packages`)")
    from evals.voice import synthesize
    from model_servers.speech.audio import to_wav
    from model_servers.speech.engine import SAMPLE_RATE

    cache: dict[str, bytes] = {}

    def speak(sentence: str) -> bytes:
        if sentence not in cache:
            cache[sentence] = to_wav(synthesize(sentence, "slt").pcm, SAMPLE_RATE)
        return cache[sentence]

    return speak
