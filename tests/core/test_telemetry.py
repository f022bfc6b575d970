"""Tracing (core.telemetry) on the real app: one trace per request, API → agent → tools → model
servers; route templates as span names; no personal data in attributes; logs that join traces; off
by default at no cost. Also the Grafana dashboard against the metrics the app exports."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from pydantic import ValidationError

from api.main import create_app
from core import telemetry
from core.config import REPO_ROOT, TelemetrySettings
from core.logging import JsonFormatter
from model_servers.llm.client import LLMClient
from model_servers.speech.client import HttpSynthesizer
from tests.api.conftest import API, Session, receive_until, sign_in
from tests.conftest import TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD, make_settings

pytestmark = [pytest.mark.unit, pytest.mark.timeout(180)]

#: What the person says in the traced turn; it must appear in no span attribute.
SECRET_TEXT = "What size should I order? I am 171.5 cm, waist 83.5"


@pytest.fixture
def traced(tmp_path: Path) -> Iterator[tuple[TestClient, InMemorySpanExporter]]:
    """The real app with tracing on (console exporter) plus an in-memory exporter to inspect."""
    settings = make_settings(tmp_path, telemetry={"traces": "console"})
    app = create_app(settings)
    provider = app.state.tracer_provider
    assert provider is not None
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with TestClient(app) as client:
        yield client, memory
    assert telemetry.current_provider() is None  # the lifespan shut tracing down


def _user(client: TestClient) -> Session:
    admin = sign_in(client, TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD)
    body = {"email": "traced@example.com", "password": "password-123", "role": "user"}
    assert client.post(f"{API}/users", json=body, headers=admin.headers).status_code == 201
    return sign_in(client, "traced@example.com", "password-123")


def _ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    chain = []
    parent = span.parent
    while parent is not None and parent.span_id in by_id:
        chain.append(by_id[parent.span_id])
        parent = by_id[parent.span_id].parent
    return chain


def _attribute_strings(span: ReadableSpan) -> list[str]:
    values: list[str] = []
    for value in (span.attributes or {}).values():
        values.extend(str(v) for v in (value if isinstance(value, tuple) else (value,)))
    return values


def test_a_chat_turn_is_one_trace_from_request_to_tools(
    traced: tuple[TestClient, InMemorySpanExporter],
) -> None:
    client, memory = traced
    user = _user(client)
    memory.clear()
    response = client.post(f"{API}/chat", json={"message": SECRET_TEXT}, headers=user.headers)
    assert response.status_code == 200, response.text
    tools_called = [call["tool"] for m in response.json()["messages"] for call in m["tools"]]
    assert tools_called, "the turn should call at least one tool"

    spans = memory.get_finished_spans()
    by_id = {s.context.span_id: s for s in spans}
    [server] = [s for s in spans if s.kind is SpanKind.SERVER]
    assert server.name == "POST /api/v1/chat"
    assert server.attributes is not None
    assert server.attributes["http.route"] == "/api/v1/chat"
    assert server.attributes["http.response.status_code"] == 200

    [turn] = [s for s in spans if s.name == "agent.turn"]
    assert turn.context.trace_id == server.context.trace_id
    assert server in _ancestors(turn, by_id)
    assert turn.attributes is not None
    assert turn.attributes["chat.session_id"] == response.json()["session_id"]
    assert turn.attributes["chat.intents"]
    assert turn.attributes["chat.reply_sources"] == ("template",)
    assert turn.attributes["chat.tool_calls"] == len(tools_called)

    tool_spans = [s for s in spans if s.name.startswith("tool.")]
    assert sorted(s.name for s in tool_spans) == sorted(f"tool.{name}" for name in tools_called)
    for tool_span in tool_spans:
        assert tool_span.context.trace_id == server.context.trace_id
        assert turn in _ancestors(tool_span, by_id)
        assert tool_span.attributes is not None
        assert isinstance(tool_span.attributes["tool.ok"], bool)

    # Nothing the person said (or its numbers) in any attribute of any span.
    for span in spans:
        for value in _attribute_strings(span):
            assert "171.5" not in value, (span.name, value)
            assert "waist" not in value.lower(), (span.name, value)
            assert "traced@example.com" not in value, (span.name, value)


def test_each_websocket_message_is_a_trace_of_its_own(
    traced: tuple[TestClient, InMemorySpanExporter],
) -> None:
    """A chat socket stays open for hours: its turns are separate traces, each linked back to the
    connection's span, not children piling up under it."""
    client, memory = traced
    me = _user(client)
    with client.websocket_connect(f"{API}/chat/ws?token={me.access_token}") as ws:
        assert ws.receive_json()["event"] == "ready"
        for text in ("hello", "what should I wear to work?"):
            ws.send_json({"type": "message", "text": text})
            receive_until(ws, "done")
    spans = memory.get_finished_spans()
    messages = [s for s in spans if s.name == "WS /api/v1/chat/ws message"]
    assert len(messages) == 2
    assert messages[0].context.trace_id != messages[1].context.trace_id
    [connection] = [
        s for s in spans if s.kind is SpanKind.SERVER and s.name.startswith("WS") and s not in messages
    ]
    for message in messages:
        assert message.parent is None
        # linked to the connection's trace (its endpoint span, where the turn began)
        assert [link.context.trace_id for link in message.links] == [connection.context.trace_id]
        [turn] = [
            s for s in spans if s.name == "agent.turn" and s.context.trace_id == message.context.trace_id
        ]
        assert turn.parent is not None
        assert turn.parent.span_id == message.context.span_id


def test_span_names_are_route_templates_not_paths(traced: tuple[TestClient, InMemorySpanExporter]) -> None:
    client, memory = traced
    user = _user(client)
    memory.clear()
    client.get(f"{API}/chat/sessions/{'0' * 8}-0000-4000-8000-{'0' * 12}", headers=user.headers)
    client.get(f"{API}/users?email_contains=someone", headers=sign_in(
        client, TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD).headers)  # fmt: skip
    servers = [s for s in memory.get_finished_spans() if s.kind is SpanKind.SERVER]
    names = {s.name for s in servers}
    assert "GET /api/v1/chat/sessions/{session_id}" in names
    assert "GET /api/v1/users" in names
    for span in servers:
        assert "someone" not in json.dumps(dict(span.attributes or {}))  # query values redacted


def test_logs_inside_a_span_carry_the_trace_id(traced: tuple[TestClient, InMemorySpanExporter]) -> None:
    formatter = JsonFormatter()
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "inside", None, None)
    assert "trace_id" not in json.loads(formatter.format(record))
    with telemetry.span("unit.test") as current:
        entry = json.loads(formatter.format(record))
        context = current.get_span_context()
    assert entry["trace_id"] == format(context.trace_id, "032x")
    assert entry["span_id"] == format(context.span_id, "016x")


def test_the_access_log_of_a_traced_request_joins_its_trace(
    traced: tuple[TestClient, InMemorySpanExporter], caplog: pytest.LogCaptureFixture
) -> None:
    client, memory = traced
    memory.clear()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger("api.access")
    access.addHandler(handler)
    try:
        assert client.get("/healthz").status_code == 200
    finally:
        access.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    [server] = [s for s in memory.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert lines[-1]["trace_id"] == format(server.context.trace_id, "032x")


# --- model-server clients --------------------------------------------------------------------------

TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-0[13]$")  # sampled (+ random id)


def _memory_provider(tmp_path: Path) -> tuple[Any, InMemorySpanExporter]:
    provider = telemetry.setup_tracing(make_settings(tmp_path, telemetry={"traces": "console"}))
    assert provider is not None
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    return provider, memory


@pytest.mark.anyio
async def test_the_llm_client_sends_traceparent_under_a_client_span(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"choices": [{"message": {"content": "hi"}}]})

    provider, memory = _memory_provider(tmp_path)
    try:
        client = LLMClient("http://llm.test/v1", "m", transport=httpx.MockTransport(handler))
        with telemetry.span("agent.turn") as parent:
            assert await client.complete([{"role": "user", "content": SECRET_TEXT}]) == "hi"
        await client.aclose()
    finally:
        telemetry.shutdown_tracing(provider)
    match = TRACEPARENT.match(seen[0].headers["traceparent"])
    assert match is not None
    [client_span] = [s for s in memory.get_finished_spans() if s.kind is SpanKind.CLIENT]
    assert client_span.name == "POST llm"
    assert match.group(1) == format(parent.get_span_context().trace_id, "032x")
    assert match.group(2) == format(client_span.context.span_id, "016x")
    assert client_span.parent is not None
    assert client_span.parent.span_id == parent.get_span_context().span_id
    assert client_span.attributes is not None
    assert client_span.attributes["http.response.status_code"] == 200
    assert SECRET_TEXT not in json.dumps(dict(client_span.attributes))


def test_a_real_model_server_receives_traceparent(tmp_path: Path) -> None:
    """The sync speech client against a loopback HTTP server: the header really goes on the wire."""
    headers: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            headers.append({k.lower(): v for k, v in self.headers.items()})
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(500)
            self.send_header("content-type", "application/json")
            body = b'{"detail": "down"}'
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    provider, memory = _memory_provider(tmp_path)
    try:
        synth = HttpSynthesizer(f"http://127.0.0.1:{server.server_port}/v1", "tts-1", voices={"en": "en"})
        with telemetry.span("voice.reply"), pytest.raises(Exception, match="HTTP 500"):
            synth.synthesize("hello", "en")
        synth.close()
    finally:
        telemetry.shutdown_tracing(provider)
        server.shutdown()
        server.server_close()
    assert TRACEPARENT.match(headers[0]["traceparent"])
    [client_span] = [s for s in memory.get_finished_spans() if s.kind is SpanKind.CLIENT]
    assert client_span.name == "POST speech"
    assert client_span.status.status_code.name == "ERROR"
    assert headers[0]["traceparent"].split("-")[2] == format(client_span.context.span_id, "016x")


def test_one_shot_model_server_calls_get_a_client_span(tmp_path: Path) -> None:
    """``outgoing`` (try-on, image generation, segmentation: one ``httpx.post`` each)."""
    provider, memory = _memory_provider(tmp_path)
    try:
        with (
            telemetry.span("job") as parent,
            telemetry.outgoing("tryon", "POST", "http://tryon:8000/v1/tryon?x=1") as call,
        ):
            call.record(httpx.Response(503))
    finally:
        telemetry.shutdown_tracing(provider)
    match = TRACEPARENT.match(call.headers["traceparent"])
    assert match is not None
    assert match.group(1) == format(parent.get_span_context().trace_id, "032x")
    [client_span] = [s for s in memory.get_finished_spans() if s.kind is SpanKind.CLIENT]
    assert client_span.name == "POST tryon"
    assert client_span.attributes is not None
    assert client_span.attributes["url.full"] == "http://tryon:8000/v1/tryon"
    assert client_span.attributes["http.response.status_code"] == 503
    assert client_span.status.status_code.name == "ERROR"


def test_with_tracing_off_clients_send_no_traceparent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": [{"id": "m"}]})

    assert telemetry.current_provider() is None
    synth_transport = telemetry.TracedTransport(httpx.MockTransport(handler), "speech")
    with httpx.Client(transport=synth_transport) as http, telemetry.span("ignored"):
        http.get("http://speech.test/v1/models")
    assert "traceparent" not in seen[0].headers


# --- off by default, and cheap -----------------------------------------------------------------------


def test_tracing_is_off_by_default_and_builds_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert settings.telemetry.traces == "off"
    assert telemetry.setup_tracing(settings) is None
    app = create_app(settings)
    assert app.state.tracer_provider is None
    assert telemetry.current_provider() is None
    # span() hands back one shared no-op context manager: no span object, no context change.
    assert telemetry.span("agent.turn", **{"chat.locale": "en"}) is telemetry.span("tool.x")
    with telemetry.span("agent.turn") as current:
        assert not current.is_recording()
        assert telemetry.trace_ids() is None
    with telemetry.outgoing("tryon", "POST", "http://tryon.test/v1/tryon") as call:
        assert call.headers == {}


def test_a_chat_turn_with_tracing_off_records_nothing(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path))) as client:
        user = _user(client)
        response = client.post(f"{API}/chat", json={"message": SECRET_TEXT}, headers=user.headers)
        assert response.status_code == 200
        assert telemetry.current_provider() is None


# --- settings ----------------------------------------------------------------------------------------


def test_otlp_needs_an_endpoint() -> None:
    with pytest.raises(ValidationError, match="IK_TELEMETRY__OTLP_ENDPOINT is required"):
        TelemetrySettings(traces="otlp")
    with pytest.raises(ValidationError, match="http"):
        TelemetrySettings(traces="otlp", otlp_endpoint="jaeger:4318")
    with pytest.raises(ValidationError):
        TelemetrySettings(sample_ratio=1.5)
    ok = TelemetrySettings(traces="otlp", otlp_endpoint="http://jaeger:4318/v1/traces", sample_ratio=0.1)
    assert ok.service_name == "innovation-kun-api"


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("IK_TELEMETRY__TRACES", "otlp")
    monkeypatch.setenv("IK_TELEMETRY__OTLP_ENDPOINT", "http://jaeger:4318/v1/traces")
    settings = make_settings(tmp_path)
    assert settings.telemetry.traces == "otlp"
    provider = telemetry.setup_tracing(settings)  # builds the exporter; nothing is sent yet
    try:
        assert provider is not None
        assert provider.resource.attributes["service.name"] == "innovation-kun-api"
        assert provider.resource.attributes["deployment.environment"] == "test"
    finally:
        telemetry.shutdown_tracing(provider)
    assert telemetry.current_provider() is None


def test_an_exporter_that_fails_never_fails_the_work(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, telemetry={"traces": "otlp", "otlp_endpoint": "http://127.0.0.1:9/v1/traces"}
    )
    provider = telemetry.setup_tracing(settings)
    try:
        with telemetry.span("work"):
            value = 42
    finally:
        telemetry.shutdown_tracing(provider)  # the export fails (nothing listens): logged, not raised
    assert value == 42


# --- the Grafana dashboard ---------------------------------------------------------------------------

DASHBOARD = REPO_ROOT / "deploy" / "grafana" / "innovation-kun.json"


def _exprs(panels: list[dict[str, Any]]) -> Iterator[str]:
    for panel in panels:
        yield from (target["expr"] for target in panel.get("targets", []) if "expr" in target)
        yield from _exprs(panel.get("panels", []))


def test_the_dashboard_only_queries_metrics_the_app_exports(client: TestClient) -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["panels"]
    assert any(v["type"] == "datasource" for v in dashboard["templating"]["list"])
    assert client.get("/healthz").status_code == 200  # so the labelled metrics have samples
    exported = {
        sample.name
        for metric in client.app.state.metrics.registry.collect()  # type: ignore[attr-defined]
        for sample in metric.samples
    } | {
        f"{metric.name}{suffix}"
        for metric in client.app.state.metrics.registry.collect()  # type: ignore[attr-defined]
        for suffix in ("", "_total", "_bucket", "_count", "_sum", "_created")
    }
    labels = {
        label
        for metric in client.app.state.metrics.registry.collect()  # type: ignore[attr-defined]
        for sample in metric.samples
        for label in sample.labels
    } | {"job", "instance", "le"}
    exprs = list(_exprs(dashboard["panels"]))
    assert exprs
    functions = {"sum", "rate", "histogram_quantile", "irate", "increase", "or", "and"}
    for expr in exprs:
        matchers = re.findall(r"\{([^}]*)\}", expr)
        used_labels = {m for block in matchers for m in re.findall(r"([a-zA-Z_]\w*)\s*[=!]~?", block)}
        grouped = {g.strip() for group in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", expr)
                   for g in group.split(",")}  # fmt: skip
        assert used_labels | grouped <= labels, (expr, (used_labels | grouped) - labels)
        stripped = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
        stripped = re.sub(r"\[[^\]]*\]", "", stripped)  # ranges
        stripped = re.sub(r"\b(?:by|without)\s*\([^)]*\)", "", stripped)  # grouping
        names = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", stripped)) - functions
        assert names, expr
        assert names <= exported, (expr, names - exported)


def test_the_dashboard_panels_use_the_datasource_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    for panel in dashboard["panels"]:
        if panel.get("targets"):
            assert panel["datasource"]["uid"] == "${datasource}"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(tmp_path))) as test_client:
        yield test_client
