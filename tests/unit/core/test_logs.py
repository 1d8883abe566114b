import json
import logging
import sys
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from opentelemetry import trace

from intake_core.logs import JsonFormatter, configure_logging, mask_pii, request_id


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("contact ada.lovelace@example.com signed", "contact a***@example.com signed"),
        # The form accepts internationalised addresses, so the mask reads every script.
        ("contact zoë@example.com", "contact z***@example.com"),
        ("josé.garcía@correo.es", "j***@correo.es"),
        ("ada@exämple.com", "a***@exämple.com"),
        ("山田@例え.jp", "山***@例え.jp"),
        ("call +44 20 7946 0958 now", "call +44********58 now"),
        ("call 020-7946-0958", "call 02*******58"),
        ("(555) 123-4567", "55******67"),
        (
            "GET /v1/submissions?q=ada.lovelace%40example.com",
            "GET /v1/submissions?q=a***@example.com",
        ),
    ],
)
def test_emails_and_phone_numbers_are_masked(raw: str, masked: str) -> None:
    assert mask_pii(raw) == masked


@pytest.mark.parametrize(
    "kept", ["CL-7Q2M-9XKD-4T1C", "2026-11-25T21:31:52+00:00", "took 1234 ms", "port 8001"]
)
def test_ids_dates_and_small_numbers_are_kept(kept: str) -> None:
    assert mask_pii(kept) == kept


def _line(record: logging.LogRecord) -> dict:
    return json.loads(JsonFormatter("intake-api").format(record))


def _record(message: str, *args: object, exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord("intake", logging.INFO, __file__, 1, message, args, exc_info)


def test_extras_in_lists_and_tuples_are_masked_too() -> None:
    record = _record("resent")
    record.recipients = ["bob@corp.io", ("+1 415 555 2671", 3)]
    assert _line(record)["recipients"] == ["b***@corp.io", ["+14*******71", 3]]


def test_extras_json_cannot_hold_are_written_as_masked_text() -> None:
    record = _record("refused")
    record.recipients = {"bob@corp.io"}
    record.error = ValueError("no mailbox for +1 415 555 2671")
    line = _line(record)
    assert line["recipients"] == "{'b***@corp.io'}"
    assert line["error"] == "no mailbox for +14*******71"


def test_an_exceptions_text_is_masked() -> None:
    try:
        raise ValueError("no mailbox for bob@corp.io")
    except ValueError:
        record = _record("sending failed", exc_info=sys.exc_info())
    line = _line(record)
    assert "no mailbox for b***@corp.io" in line["exception"]
    assert "bob@corp.io" not in json.dumps(line)


def test_a_line_holds_our_fields_and_the_callers_extras_only() -> None:
    # Nothing of the LogRecord's own bookkeeping (args, pathname, thread, …) rides along, nor
    # what another handler's formatter left on it (message, asctime).
    record = _record("sent to %s", "bob@corp.io")
    record.event_id = "e-1"
    record._private = "kept out"
    logging.Formatter("%(asctime)s %(message)s").format(record)
    assert set(_line(record)) == {"time", "level", "service", "logger", "message", "event_id"}


def test_a_line_names_the_current_trace_and_span() -> None:
    with trace.get_tracer("test").start_as_current_span("request") as span:
        line = _line(_record("inside"))
    context = span.get_span_context()
    assert line["trace_id"] == f"{context.trace_id:032x}"
    assert line["span_id"] == f"{context.span_id:016x}"
    assert "trace_id" not in _line(_record("outside"))


def test_json_lines_carry_service_request_id_and_masked_extras() -> None:
    record = logging.LogRecord(
        "intake", logging.INFO, __file__, 1, "sent to %s", ("bob@corp.io",), None
    )
    record.contact = {"email": "bob@corp.io", "phone": "+1 415 555 2671"}
    token = request_id.set("req-42")
    try:
        line = json.loads(JsonFormatter("intake-api").format(record))
    finally:
        request_id.reset(token)
    assert line["message"] == "sent to b***@corp.io"
    assert line["service"] == "intake-api"
    assert line["request_id"] == "req-42"
    assert line["contact"] == {"email": "b***@corp.io", "phone": "+14*******71"}
    assert "bob@corp.io" not in json.dumps(line)


@pytest.fixture
def restored_logging() -> Iterator[None]:
    loggers = [
        logging.getLogger(name)
        for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access", "httpx", "httpcore")
    ]
    saved = [(logger, logger.handlers[:], logger.propagate, logger.level) for logger in loggers]
    yield
    for logger, handlers, propagate, level in saved:
        logger.handlers[:], logger.propagate = handlers, propagate
        logger.setLevel(level)


def _uvicorn_loads_a_factory_that_configures_logging(level: str, *, access_log: bool) -> None:
    def factory() -> FastAPI:
        configure_logging("test", level)
        return FastAPI()

    # uvicorn sets its loggers up first, then calls the factory (where our services log set-up runs).
    uvicorn.Config(factory, factory=True, access_log=access_log, log_level="info").load()


@pytest.mark.usefixtures("restored_logging")
def test_no_access_log_stays_off_after_logging_is_configured() -> None:
    _uvicorn_loads_a_factory_that_configures_logging("INFO", access_log=False)
    # uvicorn writes access lines only when this logger has somewhere to send them.
    assert not logging.getLogger("uvicorn.access").hasHandlers()


@pytest.mark.usefixtures("restored_logging")
def test_access_lines_go_through_our_handler_when_enabled() -> None:
    _uvicorn_loads_a_factory_that_configures_logging("INFO", access_log=True)
    access = logging.getLogger("uvicorn.access")
    assert access.hasHandlers()
    assert access.propagate and not access.handlers


@pytest.mark.usefixtures("restored_logging")
def test_log_level_governs_uvicorns_loggers_too() -> None:
    _uvicorn_loads_a_factory_that_configures_logging("WARNING", access_log=True)
    assert not logging.getLogger("uvicorn.access").isEnabledFor(logging.INFO)
    assert not logging.getLogger("uvicorn.error").isEnabledFor(logging.INFO)
    assert logging.getLogger("uvicorn.error").isEnabledFor(logging.WARNING)


@pytest.mark.usefixtures("restored_logging")
def test_outgoing_request_urls_are_not_logged(capsys: pytest.CaptureFixture[str]) -> None:
    # intake-ui asks admin-api with the staff member's search in the query string: a name there
    # is personal data that no mask recognises. (httpx logs each request whatever the transport;
    # the transport here answers in process, as nothing about the server matters.)
    configure_logging("intake-ui", "DEBUG")
    transport = httpx.MockTransport(lambda request: httpx.Response(200))
    with httpx.Client(transport=transport) as client:
        client.get("http://admin-api/v1/submissions", params={"q": "Quentin Privatename"})
    logging.getLogger("intake_ui").info("a line of our own")
    written = capsys.readouterr().out
    assert "a line of our own" in written
    assert "Quentin" not in written and "v1/submissions" not in written


@pytest.mark.usefixtures("restored_logging")
def test_lines_are_json_unless_text_is_asked_for_and_masked_either_way(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("intake-api", "INFO")
    logging.getLogger("intake_api").info("sent to %s at %s", "bob@corp.io", "+1 415 555 2671")
    line = json.loads(capsys.readouterr().out)
    assert line["message"] == "sent to b***@corp.io at +14*******71"

    configure_logging("intake-api", "INFO", fmt="text")
    logging.getLogger("intake_api").info("sent to %s at %s", "bob@corp.io", "+1 415 555 2671")
    assert capsys.readouterr().out == "INFO    intake_api: sent to b***@corp.io at +14*******71\n"
