"""A store that is down is a 503 with ``Retry-After`` and a code; a bad query is still a 500 bug.

The errors are real ones, from clients pointed at a port nothing listens on; tests/faults kills
real servers under the whole API."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.errors import RETRY_AFTER_S, is_database_outage, outage
from api.main import create_app
from storage.cache import RedisCache
from tests.conftest import make_settings

pytestmark = pytest.mark.unit

DEAD_POSTGRES = "postgresql+psycopg://ik:ik@127.0.0.1:1/ik?connect_timeout=1"


def dead_database() -> None:
    engine = create_engine(DEAD_POSTGRES)
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()


def bad_query() -> None:
    engine = create_engine("sqlite://")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT * FROM no_such_table"))
    finally:
        engine.dispose()


def dead_cache() -> None:
    cache = RedisCache.from_url("redis://127.0.0.1:1/0", timeout_s=0.5)
    try:
        cache.get("key")
    finally:
        cache.close()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = create_app(make_settings(tmp_path_factory.mktemp("outages")))
    app.add_api_route("/test/dead-database", dead_database)
    app.add_api_route("/test/bad-query", bad_query)
    app.add_api_route("/test/dead-cache", dead_cache)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_a_database_that_is_down_is_a_503_the_caller_may_retry(client: TestClient) -> None:
    response = client.get("/test/dead-database")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(RETRY_AFTER_S)
    body = response.json()
    assert body["code"] == "database_unavailable"
    assert body["detail"] == "the database is unavailable right now; please retry shortly"
    assert body["request_id"]


def test_a_cache_server_that_is_down_is_a_503_where_nothing_tolerates_it(client: TestClient) -> None:
    response = client.get("/test/dead-cache")
    assert response.status_code == 503
    assert response.json()["code"] == "store_unavailable"


def test_a_bad_query_is_still_a_500(client: TestClient) -> None:
    response = client.get("/test/bad-query")
    assert response.status_code == 500
    assert "code" not in response.json()


def test_a_sqlite_database_held_by_another_writer_is_retryable(tmp_path: Path) -> None:
    path = tmp_path / "busy.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN IMMEDIATE")
    waiter = sqlite3.connect(path, timeout=0)
    try:
        with pytest.raises(sqlite3.OperationalError) as locked:
            waiter.execute("INSERT INTO t VALUES (1)")
    finally:
        waiter.close()
        holder.close()
    assert is_database_outage(locked.value)


def test_outage_tells_outages_from_bugs() -> None:
    errors: dict[str, BaseException] = {}
    for name, call in (("dead", dead_database), ("bug", bad_query), ("cache", dead_cache)):
        try:
            call()
        except Exception as exc:
            errors[name] = exc
    assert is_database_outage(errors["dead"])
    assert not is_database_outage(errors["bug"])
    assert [found[0] if found else None for found in map(outage, errors.values())] == [
        "database_unavailable",
        None,
        "store_unavailable",
    ]
    assert outage(ValueError("not a store")) is None
