"""The compose stack (deploy/compose) is complete, healthy-by-construction and uses real settings.

Parsed with PyYAML only (no docker daemon): every service is health-checked or waits for healthy
services, every ``IK_*`` variable is a real ``core.config.Settings`` field (a typo is otherwise
silently ignored), the API's environment passes the production validators once the ``.env`` is
filled in, and no secret is written in the file.
"""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from core.config import DEFAULT_SECRET, Settings
from tests.deploy.settings_env import (
    DEFAULT_LITERALS,
    SECRET_NAME,
    health_route,
    python_entry_exists,
    repo_path,
    strong_secret,
    unknown_settings,
)

pytestmark = pytest.mark.unit

COMPOSE = repo_path("deploy", "compose", "docker-compose.yml")
ENV_EXAMPLE = repo_path("deploy", "compose", ".env.example")
DOCKERFILE = repo_path("deploy", "compose", "Dockerfile")

APP_SERVICES = ("api", "tryon-worker", "image-worker", "migrate")
MODEL_SERVERS = {
    "llm": "llm",
    "tryon": "tryon",
    "imagegen": "imagegen",
    "vision": "vision",
    "speech": "speech",
}
GPU_SERVICES = ("llm", "tryon", "imagegen")
STORES = ("postgres", "redis", "minio", "etcd", "milvus", "neo4j", "search", "kafka")
OBSERVABILITY = ("prometheus", "grafana", "jaeger")
#: Names that carry credentials in store containers, besides SECRET_NAME's.
STORE_SECRET = re.compile(r"PASSWORD|SECRET|_AUTH$|ROOT_USER")
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = compose["services"]
    return result


def _env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def _filled_in_env() -> dict[str, str]:
    """The .env an operator writes: the example's values, every <placeholder> replaced."""
    filled: dict[str, str] = {}
    for key, value in _env_example().items():
        if value.startswith("<"):
            value = "admin@example.com" if "EMAIL" in key else strong_secret(key)
        filled[key] = value
    return filled


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}``, ``${VAR:?error}`` against ``env``."""

    def replace(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if env.get(name):
            return env[name]
        if op and op.endswith("-"):
            return arg
        if op and op.endswith("?"):
            raise AssertionError(f"compose requires {name} ({arg}); .env.example does not set it")
        return ""

    return VARIABLE.sub(replace, value).replace("$$", "$")


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command") or []
    return [str(part) for part in (command.split() if isinstance(command, str) else command)]


# --------------------------------------------------------------------------------- the stack ---


def test_the_whole_stack_is_there(services: dict[str, dict[str, Any]]) -> None:
    for name in (*APP_SERVICES, *MODEL_SERVERS, *STORES, *OBSERVABILITY):
        assert name in services, f"no {name} service"
    for name in OBSERVABILITY:
        assert services[name].get("profiles") == ["observability"], f"{name} should be optional"
    for name in (*APP_SERVICES, *MODEL_SERVERS, *STORES):
        assert not services[name].get("profiles"), f"{name} must start by default"


def test_every_service_is_health_checked_or_waits_for_healthy_ones(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions, not a bare list"
        for target, rule in depends.items():
            assert target in services, f"{name} depends on unknown {target}"
            condition = rule.get("condition")
            assert condition in {"service_healthy", "service_completed_successfully"}, (name, target)
            if condition == "service_healthy":
                assert "healthcheck" in services[target], (
                    f"{name} waits for {target}, which has no healthcheck"
                )
        if "healthcheck" not in service:
            assert depends, f"{name} has no healthcheck and waits for nothing healthy"
        else:
            test = service["healthcheck"]["test"]
            assert test[0] in {"CMD", "CMD-SHELL"}, name
            assert len(test) > 1, name


def test_app_services_wait_for_every_store_and_the_migration(services: dict[str, dict[str, Any]]) -> None:
    for name in ("api", "tryon-worker", "image-worker"):
        depends = services[name]["depends_on"]
        for store in ("postgres", "redis", "minio", "kafka", "milvus", "search", "neo4j"):
            assert depends[store]["condition"] == "service_healthy", (name, store)
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
    assert _command(services["migrate"]) == ["python", "-m", "storage.sql", "migrate"]


def test_commands_name_entry_points_that_exist(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        command = _command(service)
        assert python_entry_exists(command), f"{name}: {command} names nothing in the repository"


# ------------------------------------------------------------------------------------ settings ---


def test_app_environment_uses_real_setting_names(services: dict[str, dict[str, Any]]) -> None:
    for name in APP_SERVICES:
        env = _environment(services[name])
        assert env, name
        unknown = unknown_settings(env)
        assert not unknown, f"{name}: not settings of core.config.Settings: {unknown}"
    unknown = unknown_settings(_env_example())
    assert not unknown, f".env.example: not settings of core.config.Settings: {unknown}"


def test_api_environment_passes_the_production_validators(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("IK_"):
            monkeypatch.delenv(name)
    env = _filled_in_env()
    for key, value in _environment(services["api"]).items():
        if key.startswith("IK_"):
            monkeypatch.setenv(key, _interpolate(value, env))
    settings = Settings(_env_file=None)
    assert settings.environment == "production"
    assert settings.sql.backend == "postgresql"
    assert settings.cache.backend == "redis"
    assert settings.objects.backend == "s3"
    assert settings.events.backend == "kafka"
    assert settings.vectors.backend == "milvus"
    assert settings.search.backend == "elasticsearch"
    assert settings.graph.backend == "neo4j"
    assert settings.llm.provider == "openai"
    assert settings.tryon.worker_in_process is False
    assert settings.imagegen.worker_in_process is False


def test_app_urls_point_at_compose_services(services: dict[str, dict[str, Any]]) -> None:
    env = {k: _interpolate(v, _filled_in_env()) for k, v in _environment(services["api"]).items()}
    ports = {"llm": 8000, "tryon": 8092, "imagegen": 8093, "vision": 8091, "speech": 8004}
    for key in (
        "IK_LLM__BASE_URL",
        "IK_TRYON__MODEL_SERVER_URL",
        "IK_IMAGEGEN__MODEL_SERVER_URL",
        "IK_WARDROBE__SEGMENTER_URL",
        "IK_SPEECH__ASR_URL",
        "IK_SPEECH__TTS_URL",
        "IK_SEARCH__ELASTICSEARCH_URL",
        "IK_VECTORS__URI",
        "IK_GRAPH__NEO4J_URL",
        "IK_SQL__URL",
        "IK_CACHE__REDIS_URL",
    ):
        match = re.match(r"[a-z+]+://(?:[^@/]*@)?([a-z0-9-]+):(\d+)", env[key])
        assert match, (key, env[key])
        host, port = match.group(1), int(match.group(2))
        assert host in services, f"{key} points at {host}, which is no service"
        if host in ports:
            assert port == ports[host], (key, port)
            assert str(port) in " ".join(_command(services[host])) or host == "llm", (key, host)
    kafka_host, _, kafka_port = env["IK_EVENTS__BOOTSTRAP_SERVERS"].partition(":")
    assert kafka_host in services
    assert kafka_port == "9092"
    assert env["IK_OBJECTS__S3_ENDPOINT"].split(":")[0] in services


def test_vllm_serves_the_model_the_api_asks_for(services: dict[str, dict[str, Any]]) -> None:
    env = _filled_in_env()
    api_model = _interpolate(_environment(services["api"])["IK_LLM__MODEL"], env)
    served = [
        _interpolate(a.split("=", 1)[1], env)
        for a in _command(services["llm"])
        if a.startswith("--served-model-name=")
    ]
    assert served == [api_model]
    assert _environment(services["llm"])["VLLM_API_KEY"] == _environment(services["api"])["IK_LLM__API_KEY"]


# ------------------------------------------------------------------------------------- secrets ---


def test_no_secret_is_written_in_the_compose_file(services: dict[str, dict[str, Any]]) -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    for literal in (DEFAULT_SECRET, "minioadmin"):
        assert literal not in text
    for name, service in services.items():
        for key, value in _environment(service).items():
            if SECRET_NAME.search(key) or STORE_SECRET.search(key):
                assert value.lower() not in DEFAULT_LITERALS, f"{name}.{key}={value!r}"
                secret_refs = [
                    (var, op, default)
                    for var, op, default in VARIABLE.findall(value)
                    if SECRET_NAME.search(var) or STORE_SECRET.search(var)
                ]
                assert secret_refs, f"{name}.{key} is a literal; take it from .env"
                for var, op, default in secret_refs:
                    assert not (op.endswith("-") and default), f"{name}.{key}: {var} has a default"
            credentials = re.search(r"://([^/@\s]*):([^/@\s]+)@", value)
            if credentials:
                assert credentials.group(2).startswith("${"), f"{name}.{key}: a password in a URL"


def test_env_example_lists_every_required_variable_with_placeholders() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    required = {m.group(1) for m in VARIABLE.finditer(text) if m.group(2) and m.group(2).endswith("?")}
    example = _env_example()
    assert required <= example.keys(), f".env.example lacks {sorted(required - example.keys())}"
    assert DEFAULT_SECRET not in ENV_EXAMPLE.read_text(encoding="utf-8")
    for key, value in example.items():
        if SECRET_NAME.search(key) or STORE_SECRET.search(key):
            assert value.startswith("<"), f".env.example {key} is not a placeholder"
            assert value.endswith(">"), f".env.example {key} is not a placeholder"
    ignored = repo_path(".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".env" in ignored, "the filled-in deploy/compose/.env must stay out of git"


# ---------------------------------------------------------------------- model servers, stores ---


def test_model_servers_are_checked_on_their_health_route(services: dict[str, dict[str, Any]]) -> None:
    for name, package in MODEL_SERVERS.items():
        check = " ".join(services[name]["healthcheck"]["test"])
        assert f"{health_route(package)}'" in check, (name, check)
        if name != "llm":
            command = _command(services[name])
            assert command[:3] == ["python", "-m", f"model_servers.{package}"], name
            assert command[command.index("--host") + 1] == "0.0.0.0", f"{name} must listen beyond loopback"  # noqa: S104
            port = command[command.index("--port") + 1]
            assert f":{port}/" in check, (name, port)


def test_gpu_servers_reserve_a_gpu_and_read_the_models_volume(services: dict[str, dict[str, Any]]) -> None:
    for name in GPU_SERVICES:
        devices = services[name]["deploy"]["resources"]["reservations"]["devices"]
        assert any(d["driver"] == "nvidia" and "gpu" in d["capabilities"] for d in devices), name
        assert any(str(v).endswith(":/models:ro") for v in services[name]["volumes"]), name
    assert "vllm" in services["llm"]["image"]
    assert "--model=/models/llm" in _command(services["llm"])
    for name in ("api", "vision", "speech", *STORES):
        assert "deploy" not in services[name] or "devices" not in str(services[name]["deploy"]), name


def test_stores_are_configured_as_documented(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    kafka = _environment(services["kafka"])
    assert set(kafka["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}  # KRaft, one node
    assert kafka["KAFKA_CONTROLLER_QUORUM_VOTERS"].startswith(f"{kafka['KAFKA_NODE_ID']}@kafka:")
    assert "zookeeper" not in services
    milvus = _environment(services["milvus"])
    assert milvus["ETCD_ENDPOINTS"] == "etcd:2379"
    assert milvus["MINIO_ADDRESS"] == "minio:9000"
    assert set(services["milvus"]["depends_on"]) == {"etcd", "minio"}
    assert _command(services["milvus"]) == ["milvus", "run", "standalone"]
    milvus_config = yaml.safe_load(compose["configs"]["milvus-user"]["content"])
    assert milvus_config["minio"]["accessKeyID"] == "${MINIO_ROOT_USER}"
    for name in STORES:
        assert services[name].get("volumes"), f"{name} keeps its data in the container"
    declared = set(compose["volumes"])
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if not source.startswith(("$", ".", "/")):
                assert source in declared, f"{name} mounts undeclared volume {source}"


# ----------------------------------------------------------------------------------- Dockerfile ---


def test_dockerfile_is_multi_stage_locked_and_non_root() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, flags=re.MULTILINE)
    assert [alias for _, alias in stages] == ["web", "build", "runtime"]
    assert "uv sync --frozen --no-dev" in text
    assert re.search(r"npm ci\b", text)
    assert "npm run build" in text
    assert "COPY --from=web" in text
    assert "COPY --from=build /opt/venv" in text
    users = re.findall(r"^USER\s+(\S+)", text, flags=re.MULTILINE)
    assert users, "the runtime stage must not run as root"
    assert users[-1].split(":")[0] not in {"0", "root"}
    runtime = text.split("AS runtime", 1)[1]
    assert "uv " not in runtime.replace("uv.lock", ""), "the runtime stage must not need uv"
    assert "slim" in text.split("ARG PYTHON_IMAGE=", 1)[1].splitlines()[0]
    ignore = (
        repo_path("deploy", "compose", "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    )
    for entry in (".git", ".env", "web/node_modules"):
        assert entry in ignore, f"the build context should not carry {entry}"
