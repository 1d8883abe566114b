"""Strict JSON parsing: what FastAPI would accept (NaN) or choke on (depth) is refused as 400."""

from __future__ import annotations

import pytest

from intake_api.json_guard import Refused, is_json_media_type, parse_json_object


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b'{"size": NaN}',
        b'{"size": Infinity}',
        b'{"size": -Infinity}',
        b'{"size": 1e400}',
        b'{"size": ' + b"9" * 5000 + b"}",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        b"\xff\xfe\x00garbage",
        b'"just a string"',
        b"[1, 2]",
        b"null",
        b"42",
    ],
)
def test_refused_with_400(body: bytes) -> None:
    with pytest.raises(Refused) as refused:
        parse_json_object(body)
    response = refused.value.response
    assert response.status_code == 400
    assert response.media_type == "application/problem+json"


def test_accepts_an_object_with_unicode_escapes() -> None:
    assert parse_json_object(b'{"name": "Caf\\u00e9", "size": 1.5e3}') == {
        "name": "Café",
        "size": 1500.0,
    }


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("Application/JSON", True),
        ("application/merge-patch+json", True),
        ("text/plain", False),
        ("application/x-www-form-urlencoded", False),
        ("multipart/form-data; boundary=x", False),
        ("text/json", False),
        ("", False),
        (None, False),
    ],
)
def test_json_media_types(content_type: str | None, expected: bool) -> None:
    assert is_json_media_type(content_type) is expected
