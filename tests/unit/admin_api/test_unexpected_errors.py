"""A bug in admin-api (an exception nothing handles): a bare 500 problem, as on intake-api."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from admin_api.app import create_app
from admin_api.deps import AdminDeps
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.auth import ROLES, DevIssuer, TokenVerifier
from intake_core.logs import JsonFormatter
from intake_core.settings import ADMIN_AUDIENCE, DEV_ISSUER
from intake_core.web import API_SECURITY_HEADERS

SECRET = "hunter" + "2"


class _StoreWithABug:
    """A store whose read fails unexpectedly: its text must reach neither client nor log."""

    def __init__(self, inner: SqliteSubmissionStore) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def get_record(self, client_id: str) -> None:
        # Built when raised, as data in a real message would be: the log's traceback quotes
        # source lines, and the secret must not be one of them.
        raise RuntimeError(f"secret internals: password={SECRET}")


def _get_with_a_bug(tmp_path, settings, issuer_key) -> Response:
    key_path = tmp_path / "dev-issuer" / "private-key.pem"
    key_path.parent.mkdir()
    key_path.write_bytes(issuer_key)
    issuer = DevIssuer(tmp_path)
    store = _StoreWithABug(SqliteSubmissionStore(settings.sqlite_path))
    verifier = TokenVerifier(DEV_ISSUER, ADMIN_AUDIENCE, dev_issuer=issuer)
    app = create_app(settings, AdminDeps(store=store, verifier=verifier))  # type: ignore[arg-type]
    with TestClient(app, raise_server_exceptions=False) as client:
        token = issuer.issue("staff@example.com", ROLES)
        return client.get(
            "/v1/submissions/CL-0000-0000-0000", headers={"Authorization": f"Bearer {token}"}
        )


def test_an_unexpected_error_is_a_bare_500_with_the_security_headers(
    tmp_path, settings, issuer_key, caplog
):
    response = _get_with_a_bug(tmp_path, settings, issuer_key)
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "Something went wrong on our side."
    for name, value in API_SECURITY_HEADERS.items():
        assert response.headers[name] == value, name
    assert "hunter2" not in response.text
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "unhandled RuntimeError on GET /v1/submissions/{clientId}" in logged
    assert "hunter2" not in logged


def test_its_log_line_names_the_request_the_answer_names(tmp_path, settings, issuer_key):
    """Support finds the log of a failed request from the X-Request-ID a caller reports."""
    lines: list[str] = []
    handler = logging.Handler()
    handler.setFormatter(JsonFormatter("admin-api"))
    handler.emit = lambda record: lines.append(handler.format(record))  # type: ignore[method-assign]
    logging.getLogger().addHandler(handler)
    try:
        response = _get_with_a_bug(tmp_path, settings, issuer_key)
    finally:
        logging.getLogger().removeHandler(handler)
    [line] = [json.loads(line) for line in lines if "unhandled" in line]
    assert line["request_id"] == response.headers["x-request-id"]
