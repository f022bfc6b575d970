from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from core.config import DEFAULT_SECRET, Settings
from tests.conftest import make_settings

pytestmark = pytest.mark.unit


def build(**values: Any) -> Settings:
    """Settings from these values only, ignoring any .env file."""
    return Settings(_env_file=None, **values)


PROD_SECRETS = {
    "secret_key": "x" * 40,
    "first_admin_email": "ops@example.com",
    "first_admin_password": "a-real-admin-password",
}
PROD_STORES = {
    "sql": {"backend": "postgresql", "url": "postgresql://u:p@db:5432/ik"},
    "cache": {"backend": "redis", "redis_url": "redis://cache:6379/0"},
    "objects": {
        "backend": "s3",
        "s3_endpoint": "s3:9000",
        "s3_access_key": "key",
        "s3_secret_key": "secret",
    },
    "vectors": {"backend": "milvus", "uri": "http://milvus:19530"},
    "catalog": {"webhook_secret": "a-real-webhook-secret"},
}


def test_without_an_environment_the_production_checks_apply() -> None:
    with pytest.raises(ValidationError, match="set IK_ENVIRONMENT=development"):
        build()


def test_development_defaults_start_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="development default"):
        settings = build(environment="development")
    assert settings.environment == "development"
    assert settings.sql_url.startswith("sqlite:///")
    assert settings.cache.ttl.recommendations == 1800
    assert settings.cache.ttl.sessions == 86400
    assert settings.cache.ttl.hot_products == 600
    assert settings.cache.ttl.api_responses == 300


@pytest.mark.parametrize("environment", ["test", "production"])
def test_default_secrets_are_refused_outside_development(environment: str) -> None:
    with pytest.raises(ValidationError, match="refusing to start"):
        build(environment=environment, **PROD_STORES)


def test_production_refuses_embedded_stores() -> None:
    expected = (
        "refusing embedded backends: IK_SQL__BACKEND=sqlite, IK_CACHE__BACKEND=memory, "
        "IK_OBJECTS__BACKEND=local, IK_VECTORS__BACKEND=milvus_lite"
    )
    with pytest.raises(ValidationError, match=expected):
        build(environment="production", auth=PROD_SECRETS, catalog=PROD_STORES["catalog"])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"auth": {**PROD_SECRETS, "first_admin_password": "short-pw"}}, "at least 12 characters"),
        ({"sql": {**PROD_STORES["sql"], "echo": True}}, "IK_SQL__ECHO"),
    ],
)
def test_production_refuses_weak_admin_passwords_and_sql_echo(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        build(environment="production", **{"auth": PROD_SECRETS, **PROD_STORES, **overrides})


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        build(
            environment="production",
            auth={**PROD_SECRETS, "secret_key": "short-but-not-default"},
            **PROD_STORES,
        )


def test_production_profile_is_accepted_with_warnings_about_the_missing_adapters() -> None:
    with pytest.warns(UserWarning, match="in production") as caught:
        settings = build(environment="production", auth=PROD_SECRETS, **PROD_STORES)
    messages = " ".join(str(w.message) for w in caught)
    assert "events stay inside each pod" in messages
    assert "every pod builds its own search index" in messages
    # a plain postgresql:// URL is routed to the psycopg 3 driver
    assert settings.sql_url == "postgresql+psycopg://u:p@db:5432/ik"
    assert DEFAULT_SECRET not in settings.auth.secret_key.get_secret_value()


def test_environment_variables_with_nested_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IK_ENVIRONMENT", "test")
    monkeypatch.setenv("IK_AUTH__SECRET_KEY", "y" * 40)
    monkeypatch.setenv("IK_AUTH__FIRST_ADMIN_PASSWORD", "another-password")
    monkeypatch.setenv("IK_CATALOG__WEBHOOK_SECRET", "a-webhook-secret")
    monkeypatch.setenv("IK_CACHE__BACKEND", "redis")
    monkeypatch.setenv("IK_CACHE__REDIS_URL", "redis://127.0.0.1:6379/1")
    monkeypatch.setenv("IK_CACHE__TTL__RECOMMENDATIONS", "60")
    settings = build()
    assert settings.cache.backend == "redis"
    assert settings.cache.ttl.recommendations == 60


@pytest.mark.parametrize(
    ("section", "values", "message"),
    [
        ("sql", {"backend": "postgresql"}, "IK_SQL__URL is required"),
        ("sql", {"backend": "postgresql", "url": "mysql://x"}, "must be a postgresql"),
        ("cache", {"backend": "redis"}, "IK_CACHE__REDIS_URL is required"),
        ("objects", {"backend": "s3", "s3_endpoint": "x:9000"}, "are required when IK_OBJECTS__BACKEND=s3"),
        ("vectors", {"backend": "milvus", "uri": "milvus.db"}, "must be an http"),
        ("vectors", {"backend": "milvus_lite", "uri": "http://m:19530"}, "must be a local .db file"),
        ("cache", {"backend": "memcached"}, "Input should be 'memory' or 'redis'"),
        ("search", {"backend": "elasticsearch"}, "IK_SEARCH__ELASTICSEARCH_URL is required"),
        ("search", {"backend": "elasticsearch", "elasticsearch_url": "search:9200"}, "must be an http"),
    ],
)
def test_backend_choices_are_validated(
    tmp_path: Path, section: str, values: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        make_settings(tmp_path, **{section: values})


def test_relative_store_paths_live_under_the_data_dir(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert settings.sql_url == f"sqlite:///{tmp_path / 'var' / 'innovation-kun.sqlite3'}"
    assert settings.vectors_uri == str(tmp_path / "var" / "milvus.db")
    assert settings.resolve(Path("/abs/x")) == Path("/abs/x")
