import json
import logging

import pytest

from intake_core.logs import JsonFormatter, mask_pii, request_id


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("contact ada.lovelace@example.com signed", "contact a***@example.com signed"),
        ("call +44 20 7946 0958 now", "call +44********58 now"),
        ("call 020-7946-0958", "call 02*******58"),
        ("(555) 123-4567", "55******67"),
    ],
)
def test_emails_and_phone_numbers_are_masked(raw: str, masked: str) -> None:
    assert mask_pii(raw) == masked


@pytest.mark.parametrize(
    "kept", ["CL-7Q2M-9XKD-4T1C", "2026-11-25T21:31:52+00:00", "took 1234 ms", "port 8001"]
)
def test_ids_dates_and_small_numbers_are_kept(kept: str) -> None:
    assert mask_pii(kept) == kept


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
