"""One trace from the form to the email: UI client → intake-api → outbox relay → bus → notify →
mailer, each hop a real component (the UI's IntakeApiClient, the intake-api app, the SQLite store
and queue, the notify worker, the .eml mailer), spans captured by an in-memory exporter."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from intake_api.app import create_app
from intake_api.dependencies import Adapters
from intake_api.relay import OutboxRelay
from intake_api.settings import IntakeApiSettings
from intake_core.adapters.file_mailer import FileMailer
from intake_core.adapters.local_queue import LocalQueue
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.domain.events import CloudEvent
from intake_notify.settings import NotifySettings
from intake_notify.worker import NotifyWorker
from intake_ui.intake_api import IntakeApiClient, Submitted

_EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module")
def spans(tracer_provider: TracerProvider) -> InMemorySpanExporter:
    tracer_provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
    return _EXPORTER


class BusDownOnce:
    """The real queue behind a publisher whose first publish fails, as during a bus outage:
    the request's fast path fails, so the relay must publish from the outbox."""

    def __init__(self, queue: LocalQueue) -> None:
        self.queue = queue
        self.failed = False

    async def publish(self, event: CloudEvent) -> None:
        await self.publish_batch([event])

    async def publish_batch(self, events: list[CloudEvent]) -> None:
        if not self.failed:
            self.failed = True
            raise ConnectionError("bus unavailable")
        await self.queue.publish_batch(events)

    async def ping(self) -> None:
        await self.queue.ping()

    async def close(self) -> None:
        await self.queue.close()


async def test_submit_to_email_is_one_trace(
    tmp_path: Path,
    spans: InMemorySpanExporter,
    sqlite_store: SqliteSubmissionStore,
    local_queue: LocalQueue,
    submission_body: dict,
) -> None:
    spans.clear()
    publisher = BusDownOnce(local_queue)
    settings = IntakeApiSettings(INTAKE_DATA_DIR=tmp_path, relay_enabled=False)
    app = create_app(settings, Adapters(store=sqlite_store, publisher=publisher))
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake-api")
    HTTPXClientInstrumentor.instrument_client(http)
    ui_client = IntakeApiClient(http, attempts=1)

    async with app.router.lifespan_context(app):
        with trace.get_tracer("test").start_as_current_span("ui.form-submit") as ui_span:
            outcome = await ui_client.submit(submission_body, "key-one-trace")
    assert isinstance(outcome, Submitted)
    await http.aclose()

    relay = OutboxRelay(sqlite_store, publisher, owner="test-relay")
    assert await relay.run_once() == 1

    notify_settings = NotifySettings(INTAKE_DATA_DIR=tmp_path)
    worker = NotifyWorker(
        local_queue, sqlite_store, FileMailer(notify_settings.mail_dir), notify_settings
    )
    running = asyncio.create_task(worker.run())
    for _ in range(200):
        if list(notify_settings.mail_dir.glob("*.eml")):
            break
        await asyncio.sleep(0.05)
    worker.stop()
    await asyncio.wait_for(running, timeout=5)
    assert len(list(notify_settings.mail_dir.glob("*.eml"))) == 1

    finished = spans.get_finished_spans()
    names = {span.name for span in finished}
    for expected in (
        "ui.form-submit",
        "POST /v1/submissions",
        "outbox.publish",
        "notify.handle",
        "mailer.send",
    ):
        assert expected in names, (expected, sorted(names))
    trace_id = ui_span.get_span_context().trace_id
    chain = [
        s
        for s in finished
        if s.name in {"POST /v1/submissions", "outbox.publish", "notify.handle", "mailer.send"}
    ]
    assert {span.context.trace_id for span in chain} == {trace_id}
