"""Tracing: one OpenTelemetry trace from the form to the email.

Each process installs a tracer provider once at start-up (:func:`configure_tracing`), exporting
to Azure Monitor, OTLP or nowhere. Context crosses the asynchronous hops as a W3C
``traceparent``: stored with the outbox event, carried as a message property on the bus, and
restored by the notifier, so the relay's and the notifier's spans join the request's trace.

Spans leave the process without query strings (:class:`WithoutQueryStrings`): staff search for
names and email addresses, and Application Insights, where spans end up, is out of erasure's reach.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any, Literal

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk import trace as sdk_trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import Span, SpanKind, Status
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from intake_core.logs import configure_logging
from intake_core.settings import CommonSettings

Exporter = Literal["none", "otlp", "azuremonitor", "console"]
_PROPAGATOR = TraceContextTextMapPropagator()
# Probes and scrapes would drown the traces that matter.
UNTRACED_PATHS = ("healthz", "readyz", "metrics", "static")
EXCLUDED_URLS = ",".join(UNTRACED_PATHS)  # for OpenTelemetry's ASGI middleware (the UI)
SERVICE_NAMESPACE = "onboarding"
# Where the HTTP instrumentations put a request's query string, old and new semantic conventions:
# FastAPI's own telemetry and the ASGI middleware (new) set url.query; the ASGI middleware (old)
# and httpx set the whole URL in http.url (old) or url.full (new); http.target is path + query.
_QUERY_ATTRIBUTES = frozenset({"url.query"})
_URL_ATTRIBUTES = frozenset({"http.url", "url.full", "http.target"})
# An absolute URL quoted in an exception's text (httpx's errors quote the request's URL).
_QUOTED_URL = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s?#'\"<>]*)[?#][^\s'\"<>]*")


def cloud_role_name(service: str) -> str:
    """The role name Application Insights files ``service``'s telemetry under (``AppRoleName``).

    The Azure Monitor exporter joins the resource's ``service.namespace`` and ``service.name``
    with a dot: a query on ``AppRoleName`` must match this, not the bare service name.
    """
    return f"{SERVICE_NAMESPACE}.{service}"


def _exporter(kind: Exporter, connection_string: str | None) -> SpanExporter | None:
    if kind == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()  # OTEL_EXPORTER_OTLP_ENDPOINT and friends configure it
    if kind == "azuremonitor":
        from azure.identity import DefaultAzureCredential
        from azure.monitor.opentelemetry.exporter import AzureMonitorTraceExporter

        # App Insights has local auth off: without an Entra token every export is refused. The
        # credential is the workload's own (workload identity in AKS, AZURE_CLIENT_ID's managed
        # identity in the Function), which holds Monitoring Metrics Publisher on App Insights.
        return AzureMonitorTraceExporter(
            connection_string=connection_string, credential=DefaultAzureCredential()
        )
    if kind == "console":
        return ConsoleSpanExporter()
    return None


def _without_query(url: str) -> str:
    """``https://host/admin?q=ada#top`` → ``https://host/admin``; ``/admin?q=ada`` → ``/admin``."""
    return url.partition("#")[0].partition("?")[0]


def _unquoted(text: str) -> str:
    """``… for url 'http://api/v1/submissions?q=ada'`` → ``… for url 'http://api/v1/submissions'``."""
    return _QUOTED_URL.sub(r"\1", text)


def _exception_texts(span: ReadableSpan) -> Iterator[str]:
    """The texts an exception put into ``span``: its event's message and stack trace, the status."""
    for event in span.events:
        if event.name == "exception":
            yield from (
                value for value in (event.attributes or {}).values() if isinstance(value, str)
            )
    if span.status.description:
        yield span.status.description


def _holds_query(span: ReadableSpan) -> bool:
    attributes = span.attributes or {}
    return (
        any(key in attributes for key in _QUERY_ATTRIBUTES)
        or any(
            isinstance(value, str) and _without_query(value) != value
            for key, value in attributes.items()
            if key in _URL_ATTRIBUTES
        )
        or any(_QUOTED_URL.search(text) for text in _exception_texts(span))
    )


def _without_query_strings(span: ReadableSpan) -> ReadableSpan:
    attributes = {
        key: _without_query(value) if key in _URL_ATTRIBUTES and isinstance(value, str) else value
        for key, value in (span.attributes or {}).items()
        if key not in _QUERY_ATTRIBUTES
    }
    events = [
        Event(
            event.name,
            {
                key: _unquoted(value) if isinstance(value, str) else value
                for key, value in (event.attributes or {}).items()
            },
            event.timestamp,
        )
        if event.name == "exception"
        else event
        for event in span.events
    ]
    status = span.status
    if status.description:
        status = Status(status.status_code, _unquoted(status.description))
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes,
        events=events,
        links=span.links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class WithoutQueryStrings(SpanProcessor):
    """Hands ``processor`` each ended span without its request's query string.

    A query string holds what staff searched for (a name, an email address), and what the
    exporter gets is kept in Application Insights, which erasure cannot reach. So ``url.query``
    is left out; ``http.url``, ``url.full`` and ``http.target`` keep their path (``http.route``
    is a template anyway); and an exception's message, stack trace and error status drop the
    query of any URL they quote.

    This happens as the span ends, on a copy handed to the exporting processor, because the
    instrumentations set these attributes at different times: a processor's ``on_start`` sees
    the start attributes, but the ASGI middleware sets them again after that, and ``on_end``
    gets a read-only span. Spans without a query go through untouched. Without an exporter,
    the sampler records no span, so there is nothing to scrub.
    """

    def __init__(self, processor: SpanProcessor) -> None:
        self._processor = processor

    def on_start(
        self, span: sdk_trace.Span, parent_context: otel_context.Context | None = None
    ) -> None:
        self._processor.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        self._processor.on_end(_without_query_strings(span) if _holds_query(span) else span)

    def shutdown(self) -> None:
        self._processor.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._processor.force_flush(timeout_millis)


def tracer_provider(
    service: str, exporter: Exporter = "none", connection_string: str | None = None
) -> TracerProvider:
    """A tracer provider that sends spans to ``exporter``, or records none when there is none.

    Without an exporter nothing could read a span, and recording them cost about a tenth of a
    submission's CPU, so the sampler drops them all. Their context still propagates: each span
    still gets its ids, the events still carry a ``traceparent`` and the logs a trace id, so
    setting an exporter is the only change needed to see the traces. With an exporter, the
    sampler is OpenTelemetry's default (every trace the caller sampled) unless the standard
    ``OTEL_TRACES_SAMPLER`` variables say otherwise. The exporter gets no query strings
    (:class:`WithoutQueryStrings`).
    """
    span_exporter = _exporter(exporter, connection_string)
    provider = TracerProvider(
        resource=Resource.create({"service.name": service, "service.namespace": SERVICE_NAMESPACE}),
        sampler=None if span_exporter is not None else ALWAYS_OFF,
    )
    if span_exporter is not None:
        provider.add_span_processor(WithoutQueryStrings(BatchSpanProcessor(span_exporter)))
    return provider


def configure_tracing(
    service: str, exporter: Exporter = "none", connection_string: str | None = None
) -> TracerProvider:
    """Install this process's tracer provider. Call once, from the entry point."""
    provider = tracer_provider(service, exporter, connection_string)
    trace.set_tracer_provider(provider)
    return provider


def configure_observability(service: str, settings: CommonSettings) -> None:
    """Logs and traces for one process, from its settings: call first in every entry point."""
    configure_logging(service, settings.log_level, settings.log_format)
    secret = settings.applicationinsights_connection_string
    configure_tracing(
        service, settings.otel_exporter, secret.get_secret_value() if secret else None
    )


def is_untraced(scope: MutableMapping[str, Any]) -> bool:
    """True for probes, scrapes and static files: their first path segment is in the list."""
    return str(scope.get("path", "")).lstrip("/").split("/", 1)[0] in UNTRACED_PATHS


def fastapi_telemetry() -> dict[str, Any]:
    """The ``telemetry`` settings of both FastAPI apps: FastAPI's own OpenTelemetry support.

    One server span per request, its parent taken from the caller's ``traceparent``; probes
    and scrapes left out. FastAPI records no metrics (Prometheus does, see
    :mod:`intake_core.http_metrics`) and no logs (ours do), and no span per dependency and
    serialization: those sub-spans would say nothing the server span does not. (FastAPI turns
    this off by itself when it finds the ``opentelemetry-instrumentation-fastapi`` middleware,
    which the APIs therefore no longer use: one instrumentation, not two.)
    """
    return {
        "tracing": True,
        "metrics": False,
        "logs": False,
        "operation_spans": False,
        "exclude": is_untraced,
    }


@functools.cache
def tracer() -> trace.Tracer:
    """The platform's tracer, made once: each ``get_tracer`` call builds a new one.

    Made before ``configure_tracing`` (at import, in tests), it is OpenTelemetry's proxy, which
    hands over to the installed provider's tracer as soon as there is one.
    """
    return trace.get_tracer("intake")


def current_traceparent() -> str | None:
    """The active span as a ``traceparent`` header value, or None outside any span."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


@contextmanager
def span_from(
    name: str, traceparent: str | None, kind: SpanKind = SpanKind.INTERNAL
) -> Iterator[Span]:
    """A span whose parent is the remote context in ``traceparent`` (a fresh trace if None)."""
    parent = _PROPAGATOR.extract({"traceparent": traceparent} if traceparent else {})
    token = otel_context.attach(parent)
    try:
        with tracer().start_as_current_span(name, kind=kind) as span:
            yield span
    finally:
        otel_context.detach(token)
