"""Model servers trace too: off unless ``IK_TELEMETRY__*`` says so, named after themselves, and
their server spans continue the trace the API's client started (W3C ``traceparent``)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from core import telemetry
from model_servers.serve import app_telemetry, trace_server
from model_servers.tryon.app import create_app
from tests.model_servers.serving import live_server

pytestmark = pytest.mark.unit


@pytest.fixture
def console_tracing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("IK_TELEMETRY__TRACES", "console")
    monkeypatch.delenv("IK_TELEMETRY__SERVICE_NAME", raising=False)
    yield
    telemetry.shutdown_tracing(telemetry.current_provider())


def test_tracing_is_off_unless_the_environment_asks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IK_TELEMETRY__TRACES", raising=False)
    assert trace_server("innovation-kun-tryon") is None
    assert app_telemetry()["tracing"] is False


@pytest.mark.usefixtures("console_tracing")
def test_a_server_names_itself_unless_the_environment_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    provider = trace_server("innovation-kun-tryon")
    assert provider is not None
    assert provider.resource.attributes["service.name"] == "innovation-kun-tryon"
    assert app_telemetry()["tracing"] is True
    telemetry.shutdown_tracing(provider)

    monkeypatch.setenv("IK_TELEMETRY__SERVICE_NAME", "tryon-gpu-pool-b")
    named = trace_server("innovation-kun-tryon")
    assert named is not None
    assert named.resource.attributes["service.name"] == "tryon-gpu-pool-b"


@pytest.mark.usefixtures("console_tracing")
def test_a_model_server_span_continues_the_callers_trace() -> None:
    provider = trace_server("innovation-kun-tryon")
    assert provider is not None
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with (
        live_server(create_app()) as url,
        httpx.Client(transport=telemetry.TracedTransport(None, "tryon")) as client,
        telemetry.span("tool.try_on"),
    ):
        assert client.get(f"{url}/health").status_code == 200
    spans = memory.get_finished_spans()
    [caller] = [s for s in spans if s.kind is SpanKind.CLIENT and s.name == "GET tryon"]
    [served] = [s for s in spans if s.kind is SpanKind.SERVER]
    assert served.context.trace_id == caller.context.trace_id
    assert served.parent is not None
    assert served.parent.span_id == caller.context.span_id
    assert served.name == "GET /health"
