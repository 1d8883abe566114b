"""Without an exporter spans are not recorded, yet trace context still flows."""

from __future__ import annotations

from intake_core.telemetry import tracer_provider


def test_without_an_exporter_spans_are_dropped_but_keep_their_ids() -> None:
    tracer = tracer_provider("test").get_tracer("test")
    with tracer.start_as_current_span("outer") as outer, tracer.start_span("inner") as inner:
        assert not outer.is_recording()
        assert outer.get_span_context().is_valid  # a traceparent can still be written
        assert inner.get_span_context().trace_id == outer.get_span_context().trace_id
        assert inner.get_span_context().span_id != outer.get_span_context().span_id


def test_with_an_exporter_spans_are_recorded() -> None:
    provider = tracer_provider("test", "console")
    with provider.get_tracer("test").start_as_current_span("recorded") as span:
        assert span.is_recording()
    provider.shutdown()
