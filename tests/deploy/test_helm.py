"""The Helm chart (deploy/helm/innovation-kun) lints, renders and says what production needs.

No cluster is involved: ``helm lint`` and ``helm template`` run locally and every rendered document
is parsed with PyYAML (duplicate keys refused, as the API server refuses them) and checked against
the deployment requirements and a schema-like set of required fields. Skips only when helm is not
installed (``make helm`` installs it into the cache folder).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
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

CHART = repo_path("deploy", "helm", "innovation-kun")
PRODUCTION_VALUES = CHART / "values-production.example.yaml"
#: helm built with `go install` assumes Kubernetes v1.20 unless told otherwise; the chart needs >= 1.25.
KUBE_VERSION = "1.31.0"
RELEASE = "ik"

STATELESS = ("api", "tryon-worker", "image-worker", "llm", "tryon", "imagegen", "vision", "speech")
GPU_SERVERS = ("llm", "tryon", "imagegen")
#: The component, the model_servers package whose router declares its health route.
MODEL_SERVERS = {
    "tryon": "tryon",
    "imagegen": "imagegen",
    "vision": "vision",
    "speech": "speech",
    "llm": "llm",
}
#: What the chart's default Secret must hold for the app to start in production.
REQUIRED_SECRETS = (
    "IK_AUTH__SECRET_KEY",
    "IK_AUTH__FIRST_ADMIN_PASSWORD",
    "IK_CATALOG__WEBHOOK_SECRET",
    "IK_SQL__URL",
    "IK_CACHE__REDIS_URL",
    "IK_OBJECTS__S3_ACCESS_KEY",
    "IK_OBJECTS__S3_SECRET_KEY",
    "IK_GRAPH__NEO4J_PASSWORD",
    "IK_LLM__API_KEY",
)


def _helm() -> str | None:
    cache = Path(os.environ.get("IK_CACHE_DIR", Path.home() / ".cache" / "innovation-kun"))
    candidate = cache / "bin" / "helm"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    return shutil.which("helm")


@pytest.fixture(scope="module")
def helm() -> str:
    path = _helm()
    if path is None:
        pytest.skip("helm is not installed (`make helm` installs it into $IK_CACHE_DIR/bin)")
    return path


class _UniqueKeyLoader(yaml.SafeLoader):  # type: ignore[misc]
    """A SafeLoader that refuses duplicate mapping keys, which the Kubernetes API refuses too."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    keys: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in keys:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        keys.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _run(helm: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - a fixed binary with our own arguments
        [helm, *args], capture_output=True, text=True, timeout=120, check=False
    )


def _render(helm: str, *extra: str) -> list[dict[str, Any]]:
    result = _run(helm, "template", RELEASE, str(CHART), "--kube-version", KUBE_VERSION, *extra)
    assert result.returncode == 0, result.stderr
    docs = [d for d in yaml.load_all(result.stdout, Loader=_UniqueKeyLoader) if d]
    assert docs, "helm template rendered nothing"
    return docs


VALUE_SETS = {"default": (), "production": ("-f", str(PRODUCTION_VALUES))}


@pytest.fixture(scope="module", params=sorted(VALUE_SETS))
def rendered(request: pytest.FixtureRequest, helm: str) -> list[dict[str, Any]]:
    return _render(helm, *VALUE_SETS[request.param])


def _of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def _component(doc: dict[str, Any]) -> str:
    return str(doc["metadata"]["labels"]["app.kubernetes.io/component"])


def _containers(deployment: dict[str, Any]) -> Iterator[dict[str, Any]]:
    spec = deployment["spec"]["template"]["spec"]
    yield from spec["containers"]
    yield from spec.get("initContainers", [])


def _cpu_millis(quantity: str | int | float) -> float:
    text = str(quantity)
    return float(text[:-1]) if text.endswith("m") else float(text) * 1000


def _mem_bytes(quantity: str | int) -> float:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "K": 1e3, "M": 1e6, "G": 1e9}
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(quantity))
    assert match, f"not a memory quantity: {quantity!r}"
    return float(match.group(1)) * units.get(match.group(2), 1)


# ------------------------------------------------------------------------------------------ lint ---


@pytest.mark.parametrize("values", sorted(VALUE_SETS))
def test_helm_lint_passes(helm: str, values: str) -> None:
    result = _run(helm, "lint", str(CHART), "--strict", "--kube-version", KUBE_VERSION, *VALUE_SETS[values])
    assert result.returncode == 0, result.stdout + result.stderr


# ------------------------------------------------------------------------------- schema-like ---


def test_every_document_has_the_required_fields(rendered: list[dict[str, Any]]) -> None:
    for doc in rendered:
        assert isinstance(doc.get("apiVersion"), str), doc
        assert isinstance(doc.get("kind"), str), doc
        name = doc.get("metadata", {}).get("name")
        assert isinstance(name, str), doc
        assert name
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name), name
        assert len(name) <= 63, name
    api_versions = {d["kind"]: d["apiVersion"] for d in rendered}
    assert api_versions["Deployment"] == "apps/v1"
    assert api_versions["HorizontalPodAutoscaler"] == "autoscaling/v2"
    assert api_versions["PodDisruptionBudget"] == "policy/v1"
    assert api_versions["Service"] == "v1"
    assert api_versions["ConfigMap"] == "v1"
    assert api_versions["ServiceAccount"] == "v1"
    if "Ingress" in api_versions:
        assert api_versions["Ingress"] == "networking.k8s.io/v1"


def test_containers_have_an_image_and_named_ports(rendered: list[dict[str, Any]]) -> None:
    services = _of_kind(rendered, "Service")
    for name, deployment in _of_kind(rendered, "Deployment").items():
        for container in _containers(deployment):
            assert container.get("name"), name
            assert re.fullmatch(r"[^\s:]+(:[^\s:]+)?", container.get("image", "")), (name, container)
            assert ":" in container["image"], f"{name}: the image has no tag"
            for port in container.get("ports", []):
                assert isinstance(port["containerPort"], int)
                assert 0 < port["containerPort"] < 65536
            if name in services:
                assert container.get("ports"), f"{name} has a Service but its container exposes no port"


# ------------------------------------------------------------------------- scaling, budgets ---


def test_every_stateless_service_runs_two_replicas_with_an_hpa_and_a_pdb(
    rendered: list[dict[str, Any]],
) -> None:
    deployments = _of_kind(rendered, "Deployment")
    hpas = _of_kind(rendered, "HorizontalPodAutoscaler")
    pdbs = _of_kind(rendered, "PodDisruptionBudget")
    assert sorted(_component(d) for d in deployments.values()) == sorted(STATELESS)
    for name, deployment in deployments.items():
        assert deployment["spec"]["replicas"] >= 2, name
        hpa = hpas.get(name)
        assert hpa is not None, f"{name} has no HorizontalPodAutoscaler"
        assert hpa["spec"]["minReplicas"] >= 2, name
        assert hpa["spec"]["maxReplicas"] >= hpa["spec"]["minReplicas"], name
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert hpa["spec"]["metrics"], name
        pdb = pdbs.get(name)
        assert pdb is not None, f"{name} has no PodDisruptionBudget"
        assert ("minAvailable" in pdb["spec"]) != ("maxUnavailable" in pdb["spec"]), name
        if "minAvailable" in pdb["spec"]:
            assert pdb["spec"]["minAvailable"] < deployment["spec"]["replicas"], f"{name}: PDB blocks drains"


def test_selectors_match_between_deployments_services_hpas_and_pdbs(rendered: list[dict[str, Any]]) -> None:
    deployments = _of_kind(rendered, "Deployment")
    for name, deployment in deployments.items():
        selector = deployment["spec"]["selector"]["matchLabels"]
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= pod_labels.items(), f"{name}: the selector does not select its pods"
        assert selector["app.kubernetes.io/component"] == _component(deployment)
        others = [d for n, d in deployments.items() if n != name]
        for other in others:  # no Deployment's selector picks another Deployment's pods
            other_labels = other["spec"]["template"]["metadata"]["labels"]
            assert not selector.items() <= other_labels.items(), (name, other["metadata"]["name"])
    for service in _of_kind(rendered, "Service").values():
        target = deployments[service["metadata"]["name"]]
        pod_labels = target["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= pod_labels.items(), service["metadata"]["name"]
        assert service["spec"]["selector"] == target["spec"]["selector"]["matchLabels"]
        container_ports = {p["name"] for c in _containers(target) for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in container_ports, service["metadata"]["name"]
    for pdb in _of_kind(rendered, "PodDisruptionBudget").values():
        target = deployments[pdb["metadata"]["name"]]
        assert pdb["spec"]["selector"]["matchLabels"] == target["spec"]["selector"]["matchLabels"]
    for hpa in _of_kind(rendered, "HorizontalPodAutoscaler").values():
        assert hpa["spec"]["scaleTargetRef"]["name"] in deployments


# ------------------------------------------------------------------------- probes, resources ---


def test_every_container_has_liveness_and_readiness_probes(rendered: list[dict[str, Any]]) -> None:
    for name, deployment in _of_kind(rendered, "Deployment").items():
        component = _component(deployment)
        for container in _containers(deployment):
            assert "livenessProbe" in container, name
            assert "readinessProbe" in container, name
            live, ready = container["livenessProbe"], container["readinessProbe"]
            if component == "api":
                assert live["httpGet"]["path"] == "/healthz"
                assert ready["httpGet"]["path"] == "/readyz"
            elif component in MODEL_SERVERS:
                route = health_route(MODEL_SERVERS[component])
                assert live["httpGet"]["path"] == route, name
                assert ready["httpGet"]["path"] == route, name
            else:  # workers: no HTTP server, an exec probe
                assert live["exec"]["command"], name
                assert ready["exec"]["command"], name
            for probe in (live, ready, container.get("startupProbe")):
                if probe and "httpGet" in probe:
                    ports = {p["name"] for p in container["ports"]} | {
                        p["containerPort"] for p in container["ports"]
                    }
                    assert probe["httpGet"]["port"] in ports, name


def test_every_container_has_requests_and_limits(rendered: list[dict[str, Any]]) -> None:
    for name, deployment in _of_kind(rendered, "Deployment").items():
        for container in _containers(deployment):
            resources = container.get("resources", {})
            requests, limits = resources.get("requests", {}), resources.get("limits", {})
            for key in ("cpu", "memory"):
                assert key in requests, f"{name}: no {key} request"
                assert key in limits, f"{name}: no {key} limit"
            assert _cpu_millis(requests["cpu"]) <= _cpu_millis(limits["cpu"]), name
            assert _mem_bytes(requests["memory"]) <= _mem_bytes(limits["memory"]), name


def test_gpu_servers_ask_for_gpus_and_land_on_gpu_nodes(rendered: list[dict[str, Any]]) -> None:
    for name, deployment in _of_kind(rendered, "Deployment").items():
        spec = deployment["spec"]["template"]["spec"]
        limits = [c["resources"]["limits"] for c in _containers(deployment)]
        wants_gpu = any("nvidia.com/gpu" in limit for limit in limits)
        if _component(deployment) in GPU_SERVERS:
            assert wants_gpu, f"{name}: no nvidia.com/gpu limit"
        if wants_gpu:
            assert all(int(limit.get("nvidia.com/gpu", 0)) >= 0 for limit in limits)
            assert spec.get("nodeSelector"), f"{name}: a GPU pod without a GPU nodeSelector"
            assert any(t.get("key") == "nvidia.com/gpu" for t in spec.get("tolerations", [])), name
        else:
            assert not spec.get("nodeSelector"), f"{name}: a CPU pod pinned to GPU nodes"


def test_pods_run_as_non_root_with_a_read_only_root_where_possible(rendered: list[dict[str, Any]]) -> None:
    for name, deployment in _of_kind(rendered, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] != 0, name
        assert pod["serviceAccountName"], name
        for container in _containers(deployment):
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            if _component(deployment) != "llm":  # vLLM writes its compile caches beside itself
                assert security["readOnlyRootFilesystem"] is True, name
                mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
                assert "/tmp" in mounts, f"{name}: a read-only root needs a writable /tmp"  # noqa: S108


def test_service_account_exists(rendered: list[dict[str, Any]]) -> None:
    accounts = _of_kind(rendered, "ServiceAccount")
    for deployment in _of_kind(rendered, "Deployment").values():
        assert deployment["spec"]["template"]["spec"]["serviceAccountName"] in accounts


def test_commands_name_entry_points_that_exist(rendered: list[dict[str, Any]]) -> None:
    for name, deployment in _of_kind(rendered, "Deployment").items():
        for container in _containers(deployment):
            command = [*container.get("command", []), *container.get("args", [])]
            assert python_entry_exists(command), f"{name}: {command} names nothing in the repository"


# --------------------------------------------------------------------------- settings, secrets ---


def _configmap(rendered: list[dict[str, Any]]) -> dict[str, str]:
    (configmap,) = _of_kind(rendered, "ConfigMap").values()
    data: dict[str, str] = configmap["data"]
    return data


def test_configmap_holds_only_real_non_secret_settings(rendered: list[dict[str, Any]]) -> None:
    data = _configmap(rendered)
    assert not unknown_settings(data), f"not settings of core.config.Settings: {unknown_settings(data)}"
    secret_like = [k for k in data if SECRET_NAME.search(k)]
    assert not secret_like, f"secrets in the ConfigMap: {secret_like}"
    for key, value in data.items():
        assert not re.search(r"://[^/@\s]+:[^/@\s]+@", value), f"{key} carries credentials"


def test_the_rendered_settings_start_in_production(
    rendered: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ConfigMap + the documented Secret keys pass core.config's production validators."""
    for name in list(os.environ):
        if name.startswith("IK_"):
            monkeypatch.delenv(name)
    for key, value in _configmap(rendered).items():
        monkeypatch.setenv(key, value)
    for key in REQUIRED_SECRETS:
        monkeypatch.setenv(key, strong_secret(key))
    settings = Settings(_env_file=None)
    assert settings.environment == "production"
    assert settings.llm.provider == "openai"
    assert settings.tryon.worker_in_process is False
    assert settings.imagegen.worker_in_process is False


def test_app_pods_read_the_configmap_and_the_secret(rendered: list[dict[str, Any]]) -> None:
    (configmap_name,) = _of_kind(rendered, "ConfigMap")
    for name, deployment in _of_kind(rendered, "Deployment").items():
        if _component(deployment) not in {"api", "tryon-worker", "image-worker"}:
            continue
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        sources = container["envFrom"]
        assert {"configMapRef": {"name": configmap_name}} in sources, name
        assert any("secretRef" in source for source in sources), name
        assert not any(SECRET_NAME.search(e["name"]) and "value" in e for e in container.get("env", [])), name


def test_vllm_serves_the_model_the_api_asks_for(rendered: list[dict[str, Any]]) -> None:
    deployment = next(d for d in _of_kind(rendered, "Deployment").values() if _component(d) == "llm")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    served = [a.split("=", 1)[1] for a in container["args"] if a.startswith("--served-model-name=")]
    assert served == [_configmap(rendered)["IK_LLM__MODEL"]]
    key = next(e for e in container["env"] if e["name"] == "VLLM_API_KEY")
    assert key["valueFrom"]["secretKeyRef"]["key"] == "IK_LLM__API_KEY"


def test_no_secret_is_rendered_by_default(rendered: list[dict[str, Any]]) -> None:
    assert not _of_kind(rendered, "Secret"), "secrets come from an existing Secret by default"


def test_a_rendered_secret_never_holds_a_default(helm: str) -> None:
    values = {key: strong_secret(key) for key in REQUIRED_SECRETS}
    sets = [f"secrets.data.{k}={v}" for k, v in values.items()]
    docs = _render(helm, "--set", "secrets.create=true", *[a for s in sets for a in ("--set-string", s)])
    (secret,) = _of_kind(docs, "Secret").values()
    for key, value in secret["stringData"].items():
        assert value.lower() not in DEFAULT_LITERALS, key
        assert DEFAULT_SECRET not in value, key
    refused = _run(
        helm, "template", RELEASE, str(CHART), "--kube-version", KUBE_VERSION,
        "--set", "secrets.create=true", "--set-string", f"secrets.data.IK_AUTH__SECRET_KEY={DEFAULT_SECRET}",
    )  # fmt: skip
    assert refused.returncode != 0
    assert "development default" in refused.stderr


def test_a_secret_looking_config_value_is_refused(helm: str) -> None:
    refused = _run(
        helm, "template", RELEASE, str(CHART), "--kube-version", KUBE_VERSION,
        "--set-string", "config.IK_SQL__URL=postgresql://ik:pw@db:5432/ik",
    )  # fmt: skip
    assert refused.returncode != 0
    assert "put it in the Secret" in refused.stderr


def test_the_values_files_hold_no_secret_literals() -> None:
    for path in sorted(CHART.glob("values*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert DEFAULT_SECRET not in text, path
        assert "minioadmin" not in text, path
        values = yaml.safe_load(text)
        for key, value in (values.get("secrets", {}).get("data") or {}).items():
            pytest.fail(
                f"{path.name}: secrets.data.{key} is written in a values file ({len(str(value))} chars)"
            )


def test_ingress_routes_to_the_api_service(helm: str) -> None:
    docs = _render(helm, "-f", str(PRODUCTION_VALUES))
    (ingress,) = _of_kind(docs, "Ingress").values()
    services = _of_kind(docs, "Service")
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] in services
            assert _component(services[backend["name"]]) == "api"
    assert not _of_kind(_render(helm), "Ingress"), "the Ingress is off unless asked for"


def test_model_servers_trace_like_the_api(helm: str) -> None:
    """Model servers read no app settings, but the tracing ones reach them, and only those."""
    docs = _render(
        helm,
        "--set-string", "config.IK_TELEMETRY__TRACES=otlp",
        "--set-string", "config.IK_TELEMETRY__OTLP_ENDPOINT=http://jaeger:4318/v1/traces",
    )  # fmt: skip
    servers = [d for d in _of_kind(docs, "Deployment").values() if _component(d) in {"tryon", "vision"}]
    assert servers
    for server in servers:
        (container,) = list(_containers(server))
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["IK_TELEMETRY__TRACES"] == "otlp"
        assert env["IK_TELEMETRY__OTLP_ENDPOINT"] == "http://jaeger:4318/v1/traces"
        others = {n for n in env if n.startswith("IK_") and not n.startswith("IK_TELEMETRY__")}
        assert others <= {"IK_ENVIRONMENT"}, others
