"""Distributed tracing (OpenTelemetry): API request → chat turn → tool call → model server.

Off by default (``IK_TELEMETRY__TRACES=off``): no provider, no exporter, no context changes;
``span()`` hands back a shared no-op context manager and the HTTP client transports pass
requests straight through. With ``otlp`` spans go in batches, on a background thread, to an
OTLP/HTTP endpoint (Jaeger, Tempo, an OpenTelemetry Collector); with ``console`` they are
printed to stdout, one JSON object a line.

OTLP is sent JSON-encoded (``opentelemetry-exporter-otlp-json-http``): the protobuf exporter needs
protobuf 5, which mediapipe 0.10.14 (try-on, wardrobe) rules out. Jaeger, Tempo and the Collector
take both encodings on the same ``/v1/traces`` path.

What goes where:

* HTTP server spans come from FastAPI's native telemetry (``FastAPI(telemetry=...)``, see
  :func:`fastapi_telemetry`), named by route template (``POST /api/v1/chat``), never the raw path;
* ``agent.turn`` (``agent.service``) and ``tool.<name>`` (``agent.nodes.turn``) come from
  :func:`span`;
* model-server calls get a client span and a W3C ``traceparent`` header from
  :class:`TracedTransport` / :class:`AsyncTracedTransport` (``httpx`` clients) or
  :func:`outgoing` (one-shot ``httpx.post`` calls), so an instrumented model server continues
  the trace.

Attributes carry identifiers, names, counts and outcomes only: never message text, measurements,
e-mail addresses or query values. Telemetry failures are logged and swallowed; they never fail
a request.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

import httpx
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Span, SpanKind, StatusCode
from opentelemetry.util.types import AttributeValue

if TYPE_CHECKING:
    from fastapi.telemetry import TelemetryConfig

    from core.config import Settings, TelemetrySettings

logger = logging.getLogger(__name__)

#: The instrumentation scope our own spans are recorded under.
TRACER_NAME = "innovation-kun"

_state: dict[str, TracerProvider | None] = {"provider": None}
_NOOP: AbstractContextManager[Span] = nullcontext(trace.INVALID_SPAN)


def current_provider() -> TracerProvider | None:
    """The provider :func:`setup_tracing` installed, or ``None`` while tracing is off."""
    return _state["provider"]


def tracing_enabled() -> bool:
    return _state["provider"] is not None


# --- setup -------------------------------------------------------------------------------------


class _Stdout:
    """Whatever ``sys.stdout`` is when a batch is written (pytest and daemons swap it)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


class _RedactQuery(SpanProcessor):
    """Server spans record ``url.query``; keep the parameter names, drop their values
    (``email_contains``, free-text ``q``, tokens)."""

    def on_start(self, span: SdkSpan, parent_context: Context | None = None) -> None:
        query = (span.attributes or {}).get("url.query")
        if isinstance(query, str) and query:
            pairs = parse_qsl(query, keep_blank_values=True)
            span.set_attribute("url.query", urlencode([(key, "REDACTED") for key, _ in pairs]))

    def on_end(self, span: ReadableSpan) -> None:
        pass

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _exporter(telemetry: TelemetrySettings) -> SpanExporter:
    if telemetry.traces == "console":
        return ConsoleSpanExporter(
            service_name=telemetry.service_name,
            out=_Stdout(),  # type: ignore[arg-type]  # only write() and flush() are used
            formatter=lambda span: span.to_json(indent=None) + "\n",
        )
    from opentelemetry.exporter.otlp.json.http.trace_exporter import OTLPSpanExporter

    assert telemetry.otlp_endpoint is not None  # the settings validator insists
    return OTLPSpanExporter(endpoint=telemetry.otlp_endpoint, timeout=10.0)


def setup_tracing(settings: Settings) -> TracerProvider | None:
    """Build the tracer provider the settings ask for and make it the one :func:`span` and the
    transports use; ``None`` (and nothing built) when ``traces=off``.

    OpenTelemetry's global provider is left alone (it can be set once per process, and tests
    build many apps); FastAPI gets this one explicitly (:func:`fastapi_telemetry`).
    """
    return start_tracing(settings.telemetry, settings.environment)


def start_tracing(telemetry: TelemetrySettings, environment: str) -> TracerProvider | None:
    """:func:`setup_tracing` from the telemetry settings alone: the model servers, which are
    separate processes without the API's other settings, start theirs with this."""
    if telemetry.traces == "off":
        return None
    resource = Resource.create(
        {
            "service.name": telemetry.service_name,
            "service.version": "0.1.0",
            "deployment.environment": environment,
            "deployment.environment.name": environment,
        }
    )
    provider = TracerProvider(
        resource=resource, sampler=ParentBased(TraceIdRatioBased(telemetry.sample_ratio))
    )
    provider.add_span_processor(_RedactQuery())
    provider.add_span_processor(BatchSpanProcessor(_exporter(telemetry)))
    _state["provider"] = provider
    logger.info(
        "tracing on",
        extra={
            "traces": telemetry.traces,
            "otlp_endpoint": telemetry.otlp_endpoint,
            "service_name": telemetry.service_name,
            "sample_ratio": telemetry.sample_ratio,
        },
    )
    return provider


def shutdown_tracing(provider: TracerProvider | None) -> None:
    """Flush what is buffered and stop the exporter; a failure is logged, never raised."""
    if provider is None:
        return
    if _state["provider"] is provider:
        _state["provider"] = None
    try:
        provider.shutdown()
    except Exception:
        logger.exception("shutting tracing down failed")


def fastapi_telemetry(provider: TracerProvider | None) -> TelemetryConfig:
    """``FastAPI(telemetry=...)``: HTTP server spans into ``provider``; nothing at all when ``None``.

    FastAPI's own metrics and logs stay off: Prometheus (``/metrics``) and our JSON logs do that.
    """
    if provider is None:
        return {"tracing": False, "metrics": False, "logs": False, "auto_configure": False}
    return {
        "tracer_provider": provider,
        "tracing": True,
        "metrics": False,
        "logs": False,
        "operation_spans": True,
        "auto_configure": False,
    }


# --- spans -------------------------------------------------------------------------------------


def _clean(attributes: Mapping[str, Any]) -> dict[str, AttributeValue]:
    """Drop ``None``; sequences become tuples of strings (OpenTelemetry takes homogeneous lists)."""
    cleaned: dict[str, AttributeValue] = {}
    for key, value in attributes.items():
        if value is None:
            continue
        if isinstance(value, str | bool | int | float):
            cleaned[key] = value
        elif isinstance(value, list | tuple | set | frozenset):
            cleaned[key] = tuple(str(item) for item in value)
        else:
            cleaned[key] = str(value)
    return cleaned


def set_attributes(target: Span, **attributes: Any) -> None:
    """Set attributes on a span (``None`` values skipped); a no-op on the no-op span."""
    if not target.is_recording():
        return
    try:
        target.set_attributes(_clean(attributes))
    except Exception:  # telemetry must never break the work it observes
        logger.debug("setting span attributes failed", exc_info=True)


@contextmanager
def _recording_span(
    provider: TracerProvider,
    name: str,
    kind: SpanKind,
    attributes: Mapping[str, Any],
    *,
    new_trace: bool = False,
) -> Iterator[Span]:
    tracer = provider.get_tracer(TRACER_NAME)
    parent = trace.get_current_span().get_span_context()
    with tracer.start_as_current_span(
        name,
        # A new trace starts from an empty context and links back to where it began.
        context=Context() if new_trace else None,
        links=[trace.Link(parent)] if new_trace and parent.is_valid else None,
        kind=kind,
        attributes=_clean(attributes),
        record_exception=False,
        set_status_on_exception=False,
    ) as current:
        try:
            yield current
        except GeneratorExit:
            raise  # a consumer that stopped reading early: not a failure
        except BaseException as exc:
            # The type only: an exception's message may quote what the person said.
            current.set_attribute("error.type", type(exc).__qualname__)
            current.set_status(StatusCode.ERROR)
            raise


def span(name: str, /, **attributes: Any) -> AbstractContextManager[Span]:
    """A span around the block, current inside it; the no-op span (and no work) when tracing is off.

    ``attributes`` must never hold personal data (message text, measurements, e-mail addresses).
    An exception leaving the block marks the span failed with its type, and propagates.
    """
    provider = _state["provider"]
    if provider is None:
        return _NOOP
    return _recording_span(provider, name, SpanKind.INTERNAL, attributes)


def trace_of_its_own(name: str, /, **attributes: Any) -> AbstractContextManager[Span]:
    """Like :func:`span`, but the block starts a new trace, linked to the current span.

    For work inside a long-lived span: each message on a WebSocket that stays open for an hour is
    a trace of its own (a readable waterfall, sampled on its own), not one more child of the
    connection's span; the link still leads from the turn to its connection.
    """
    provider = _state["provider"]
    if provider is None:
        return _NOOP
    return _recording_span(provider, name, SpanKind.SERVER, attributes, new_trace=True)


def trace_ids() -> tuple[str, str] | None:
    """``(trace_id, span_id)`` in hex of the current span, or ``None`` outside one (for logs)."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


# --- outgoing HTTP (model servers) -------------------------------------------------------------


@dataclass
class OutgoingCall:
    """A client span's handle: the headers to send and where to note the answer."""

    span: Span
    headers: dict[str, str] = field(default_factory=dict)

    def record(self, response: httpx.Response) -> None:
        _record_response(self.span, response.status_code)


def _record_response(target: Span, status_code: int) -> None:
    if not target.is_recording():
        return
    target.set_attribute("http.response.status_code", status_code)
    if status_code >= 400:
        target.set_attribute("error.type", str(status_code))
        target.set_status(StatusCode.ERROR)


def _client_attributes(service: str, method: str, url: httpx.URL) -> dict[str, Any]:
    return {
        "http.request.method": method,
        "server.address": url.host,
        "server.port": url.port or (443 if url.scheme == "https" else 80),
        "url.full": str(url.copy_with(query=None, fragment=None)),
        "peer.service": service,
    }


@contextmanager
def outgoing(service: str, method: str, url: str | httpx.URL) -> Iterator[OutgoingCall]:
    """A client span for one request to a model server, and the ``traceparent`` headers to send.

    ``with outgoing("tryon", "POST", url) as call: response = httpx.post(url, headers=call.headers)``,
    then ``call.record(response)``. With tracing off the headers are empty and nothing is recorded.
    """
    provider = _state["provider"]
    if provider is None:
        yield OutgoingCall(trace.INVALID_SPAN)
        return
    attributes = _client_attributes(service, method, httpx.URL(str(url)))
    with _recording_span(provider, f"{method} {service}", SpanKind.CLIENT, attributes) as current:
        headers: dict[str, str] = {}
        _inject(headers)
        yield OutgoingCall(current, headers)


def _inject(carrier: MutableMapping[str, str]) -> None:
    try:
        propagate.inject(carrier)
    except Exception:
        logger.debug("trace context propagation failed", exc_info=True)


class _EndingStream(httpx.SyncByteStream):
    """The response body; the client span ends when it is closed (streamed replies included)."""

    def __init__(self, inner: httpx.SyncByteStream, on_close: AbstractContextManager[Span]) -> None:
        self._inner = inner
        self._on_close = on_close

    def __iter__(self) -> Iterator[bytes]:
        yield from self._inner

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._on_close.__exit__(None, None, None)


class _AsyncEndingStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, on_close: AbstractContextManager[Span]) -> None:
        self._inner = inner
        self._on_close = on_close

    async def __aiter__(self) -> Any:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._on_close.__exit__(None, None, None)


def _start_client_span(service: str, request: httpx.Request) -> Span:
    """A client span that is *not* made current (it ends when the body is closed, possibly
    in another context), and the request's ``traceparent`` set from it."""
    provider = _state["provider"]
    assert provider is not None
    tracer = provider.get_tracer(TRACER_NAME)
    client_span = tracer.start_span(
        f"{request.method} {service}",
        kind=SpanKind.CLIENT,
        attributes=_clean(_client_attributes(service, request.method, request.url)),
    )
    carrier: dict[str, str] = {}
    try:
        propagate.inject(carrier, context=trace.set_span_in_context(client_span))
        request.headers.update(carrier)
    except Exception:
        logger.debug("trace context propagation failed", exc_info=True)
    return client_span


def _fail(client_span: Span, exc: BaseException) -> None:
    client_span.set_attribute("error.type", type(exc).__qualname__)
    client_span.set_status(StatusCode.ERROR)
    client_span.end()


class TracedTransport(httpx.BaseTransport):
    """Wraps a transport: each request gets a client span and a ``traceparent`` header.

    ``service`` names the peer in span names (``POST llm``). With tracing off requests go straight
    to ``inner``.
    """

    def __init__(self, inner: httpx.BaseTransport | None, service: str) -> None:
        self.inner = inner or httpx.HTTPTransport()
        self.service = service

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if _state["provider"] is None:
            return self.inner.handle_request(request)
        client_span = _start_client_span(self.service, request)
        try:
            response = self.inner.handle_request(request)
        except BaseException as exc:
            _fail(client_span, exc)
            raise
        _record_response(client_span, response.status_code)
        if response.is_closed:  # a body already read (test transports): nothing more to wait for
            client_span.end()
        else:
            assert isinstance(response.stream, httpx.SyncByteStream)
            response.stream = _EndingStream(response.stream, _SpanEnder(client_span))
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncTracedTransport(httpx.AsyncBaseTransport):
    """:class:`TracedTransport` for ``httpx.AsyncClient``."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None, service: str) -> None:
        self.inner = inner or httpx.AsyncHTTPTransport()
        self.service = service

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if _state["provider"] is None:
            return await self.inner.handle_async_request(request)
        client_span = _start_client_span(self.service, request)
        try:
            response = await self.inner.handle_async_request(request)
        except BaseException as exc:
            _fail(client_span, exc)
            raise
        _record_response(client_span, response.status_code)
        if response.is_closed:  # a body already read (test transports): nothing more to wait for
            client_span.end()
        else:
            assert isinstance(response.stream, httpx.AsyncByteStream)
            response.stream = _AsyncEndingStream(response.stream, _SpanEnder(client_span))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class _SpanEnder(AbstractContextManager[Span]):
    """Ends a span once, however many times the body is closed."""

    def __init__(self, target: Span) -> None:
        self._span = target
        self._ended = False

    def __enter__(self) -> Span:
        return self._span

    def __exit__(self, *exc_info: object) -> None:
        if not self._ended:
            self._ended = True
            self._span.end()
