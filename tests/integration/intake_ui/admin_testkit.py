"""For the dashboard tests: a fake admin-api, a fake Entra ID (OIDC provider), sample records.

Loaded as the module ``intake_ui_admin_testkit`` (see conftest.py).

``FakeAdminApi`` follows the pinned admin-api contract closely enough for the dashboard:
bearer tokens checked by a real ``TokenVerifier`` (roles → 403), search with filters and
continuation tokens, ETag / If-Match (412), allowed transitions (409), unknown status (422),
CSV with Content-Disposition, audit trail, erasure to a tombstone (its reason and note in the
trail; an unknown reason 422), subject export, figures per UTC day and service type (erased
records counted). Tests can script the next answers and read
what arrived.

``FakeEntraId`` is an OIDC provider on a real socket: discovery under
``/<tenant>/v2.0/.well-known/openid-configuration``, an authorize endpoint that signs the user
in at once and redirects back with a code, a token endpoint that checks the PKCE verifier,
and a JWKS. Tests can rotate its key or make it misbehave.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from intake_core.auth import InvalidToken, Staff, TokenVerifier
from intake_core.domain.client_id import client_id_forms
from intake_core.domain.erasure import ErasureReason
from intake_core.domain.models import (
    ALLOWED_TRANSITIONS,
    ErasedSubmission,
    ServiceType,
    Status,
    Submission,
)

HOSTILE = '<script>alert("x")</script>'
REASONS = {reason.value for reason in ErasureReason}


def sample(
    client_id: str,
    *,
    company: str = "Acme Widgets Ltd",
    contact: str = "Ada Lovelace",
    email: str = "ada@example.com",
    status: str = "received",
    days_ago: int = 0,
    service: str = "kubernetes",
    industry: str = "manufacturing",
    scope: str = "Move our build pipeline to AKS.",
    notes: str | None = None,
) -> Submission:
    return Submission.model_validate(
        {
            "clientId": client_id,
            "submittedAt": (datetime.now(UTC) - timedelta(days=days_ago)).isoformat(),
            "status": status,
            "company": {
                "name": company,
                "industry": industry,
                "size": 120,
                "address": {
                    "line1": "1 High Street",
                    "city": "Leeds",
                    "postalCode": "LS1 4AP",
                    "country": "GB",
                },
                "contact": {"name": contact, "email": email, "phone": "+442079460958"},
            },
            "engagement": {
                "serviceType": service,
                "scope": scope,
                "timeline": "1-3-months",
                "budgetRange": "25k-100k",
                "notes": notes,
            },
            "consent": {"accepted": True, "privacyNoticeVersion": "2026-01"},
        }
    )


@dataclass
class Scripted:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, str]
    token: str | None
    if_match: str | None = None
    body: Any = None


@dataclass
class FakeAdminApi:
    verifier: TokenVerifier
    records: dict[str, Submission | ErasedSubmission] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    audit: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    scripted: deque[Scripted] = field(default_factory=deque)
    page_size_cap: int = 100

    def add(self, *submissions: Submission) -> None:
        for submission in submissions:
            self.records[submission.client_id] = submission
            self.versions[submission.client_id] = 1
            self.audit[submission.client_id] = []

    def script(self, *answers: Scripted) -> None:
        self.scripted.extend(answers)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/submissions", self._search, methods=["GET"]),
                Route("/v1/submissions.csv", self._csv, methods=["GET"]),
                Route("/v1/submissions/{client_id}", self._get, methods=["GET"]),
                Route("/v1/submissions/{client_id}", self._patch, methods=["PATCH"]),
                Route("/v1/submissions/{client_id}/audit", self._audit, methods=["GET"]),
                Route("/v1/submissions/{client_id}/erase", self._erase, methods=["POST"]),
                Route("/v1/submissions/{client_id}/subject-export", self._subject, methods=["GET"]),
                Route("/v1/figures", self._figures, methods=["GET"]),
            ]
        )

    # -- plumbing --

    async def _enter(self, request: Request, role: str) -> tuple[Staff | None, Response | None]:
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ") if header.startswith("Bearer ") else None
        body = None
        if request.method in {"PATCH", "POST"}:
            raw = await request.body()
            body = json.loads(raw) if raw else None
        self.calls.append(
            Call(request.method, request.url.path, dict(request.query_params), token,
                 request.headers.get("if-match"), body)
        )  # fmt: skip
        if self.scripted:
            answer = self.scripted.popleft()
            if answer.raw is not None:
                return None, Response(answer.raw, answer.status, headers=answer.headers)
            return None, _problem(answer.status, answer.body, answer.headers)
        if token is None:
            return None, _problem(401)
        try:
            staff = self.verifier.verify(token)
        except InvalidToken:
            return None, _problem(401)
        if not staff.has(role):
            return None, _problem(403, {"detail": f"This needs the {role} role.", "role": role})
        return staff, None

    def _record(self, request: Request) -> Submission | ErasedSubmission | None:
        return self.records.get(request.path_params["client_id"])

    def _log(self, client_id: str, action: str, staff: Staff, **details: str) -> None:
        entry = {"at": datetime.now(UTC).isoformat(), "action": action, "actor": staff.subject,
                 "details": details}  # fmt: skip
        self.audit.setdefault(client_id, []).append(entry)

    def _with_etag(self, record: Submission | ErasedSubmission, status: int = 200) -> Response:
        etag = f'W/"{self.versions[record.client_id]}"'
        return JSONResponse(
            record.model_dump(mode="json", by_alias=True), status, headers={"ETag": etag}
        )

    # -- routes --

    def _matching(self, params: dict[str, str]) -> list[Submission]:
        found = [r for r in self.records.values() if isinstance(r, Submission)]
        q = params.get("q", "").casefold()
        if q:
            # admin-api's rule: a substring of these, or a piece of the Client ID as it is read.
            forms = client_id_forms(q)
            found = [
                r for r in found
                if any(q in text.casefold() for text in (r.client_id, r.company.name,
                       r.company.contact.name, r.company.contact.email))
                or any(form in r.client_id for form in forms)
            ]  # fmt: skip
        for name, read in (
            ("industry", lambda r: r.company.industry.value),
            ("serviceType", lambda r: r.engagement.service_type.value),
            ("status", lambda r: r.status.value),
        ):
            if params.get(name):
                found = [r for r in found if read(r) == params[name]]
        return sorted(found, key=lambda r: r.submitted_at, reverse=True)

    async def _search(self, request: Request) -> Response:
        _, refused = await self._enter(request, "Submissions.Read")
        if refused:
            return refused
        params = dict(request.query_params)
        token = params.get("continuationToken")
        if token is not None and not token.startswith("offset-"):
            return _problem(422, {"detail": "The continuation token is not valid."})
        start = int(token.removeprefix("offset-")) if token else 0
        limit = min(int(params.get("limit", "25")), self.page_size_cap)
        found = self._matching(params)
        page = found[start : start + limit]
        following = f"offset-{start + limit}" if start + limit < len(found) else None
        items = [
            {"clientId": r.client_id, "companyName": r.company.name,
             "industry": r.company.industry.value, "serviceType": r.engagement.service_type.value,
             "status": r.status.value, "submittedAt": r.submitted_at.isoformat(),
             "contactName": r.company.contact.name, "contactEmail": r.company.contact.email}
            for r in page
        ]  # fmt: skip
        return JSONResponse({"items": items, "continuationToken": following})

    async def _csv(self, request: Request) -> Response:
        _, refused = await self._enter(request, "Submissions.Export")
        if refused:
            return refused
        lines = ["clientId,companyName,status"] + [
            f"{r.client_id},{r.company.name.replace(',', ' ')},{r.status.value}"
            for r in self._matching(dict(request.query_params))
        ]
        return Response(
            "\ufeff" + "\r\n".join(lines) + "\r\n",
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="submissions-test.csv"'},
        )

    async def _get(self, request: Request) -> Response:
        _, refused = await self._enter(request, "Submissions.Read")
        if refused:
            return refused
        record = self._record(request)
        if record is None:
            return _problem(404)
        return self._with_etag(record)

    async def _patch(self, request: Request) -> Response:
        staff, refused = await self._enter(request, "Submissions.Manage")
        if refused or staff is None:
            return refused or _problem(401)
        record = self._record(request)
        if record is None:
            return _problem(404)
        body = self.calls[-1].body or {}
        try:
            new = Status(body.get("status"))
        except ValueError:
            return _problem(422, {"detail": "Unknown status."})
        if_match = request.headers.get("if-match")
        if if_match and if_match != f'W/"{self.versions[record.client_id]}"':
            return _problem(412, {"detail": "The record changed."})
        if isinstance(record, ErasedSubmission) or new not in ALLOWED_TRANSITIONS[record.status]:
            return _problem(409, {"detail": "Not allowed."})
        changed = record.model_copy(update={"status": new})
        self.records[record.client_id] = changed
        self.versions[record.client_id] += 1
        self._log(record.client_id, "submission.status_change", staff, to=new.value)
        etag = f'W/"{self.versions[record.client_id]}"'
        answer = {"clientId": record.client_id, "status": new.value}
        return JSONResponse(answer, headers={"ETag": etag})

    async def _audit(self, request: Request) -> Response:
        _, refused = await self._enter(request, "Audit.Read")
        if refused:
            return refused
        client_id = request.path_params["client_id"]
        if client_id not in self.records:
            return _problem(404)
        return JSONResponse(self.audit.get(client_id, []))

    async def _erase(self, request: Request) -> Response:
        staff, refused = await self._enter(request, "Submissions.Erase")
        if refused or staff is None:
            return refused or _problem(401)
        record = self._record(request)
        if record is None:
            return _problem(404)
        body = self.calls[-1].body
        if body is not None and (not isinstance(body, dict) or body.get("reason") not in REASONS):
            return _problem(422, {"detail": "Some fields are not valid.", "errors": [
                {"path": "reason", "in": "body", "message": "Input should be …"}]})  # fmt: skip
        why = {key: str(body[key]) for key in ("reason", "note") if body.get(key)} if body else {}
        if isinstance(record, Submission):
            record = ErasedSubmission.of(record, datetime.now(UTC))
            self.records[record.client_id] = record
            self.versions[record.client_id] += 1
        self._log(record.client_id, "submission.erase", staff, **(why or {"reason": "unstated"}))
        return self._with_etag(record)

    async def _subject(self, request: Request) -> Response:
        _, refused = await self._enter(request, "Submissions.Export")
        if refused:
            return refused
        record = self._record(request)
        if record is None:
            return _problem(404)
        return JSONResponse(
            record.model_dump(mode="json", by_alias=True),
            headers={
                "Content-Disposition": f'attachment; filename="subject-{record.client_id}.json"'
            },
        )

    async def _figures(self, request: Request) -> Response:
        _, refused = await self._enter(request, "Submissions.Read")
        if refused:
            return refused
        days = request.query_params.get("days", "30")
        if not days.isdigit() or not 1 <= int(days) <= 366:
            return _problem(422, {"detail": "Some fields are not valid.",
                                  "errors": [{"path": "days", "in": "query", "message": "1-366"}]})  # fmt: skip
        last = datetime.now(UTC).date()
        window = [last - timedelta(days=ago) for ago in range(int(days) - 1, -1, -1)]
        counts: dict[date, dict[str, int]] = {
            day: dict.fromkeys((status.value for status in Status), 0) for day in window
        }
        services = dict.fromkeys((service.value for service in ServiceType), 0)
        for record in self.records.values():  # erased ones too: their tombstones keep both
            day = record.submitted_at.astimezone(UTC).date()
            if day in counts:
                counts[day][record.status.value] += 1
                service = (record.engagement.service_type if isinstance(record, Submission)
                           else record.service_type)  # fmt: skip
                services[service.value] += 1
        ranked = sorted(services.items(), key=lambda item: -item[1])
        return JSONResponse({
            "from": window[0].isoformat(), "to": last.isoformat(),
            "days": [{"date": day.isoformat(), "counts": by_status,
                      "total": sum(by_status.values())} for day, by_status in counts.items()],
            "byServiceType": [{"serviceType": name, "count": n} for name, n in ranked],
            "total": sum(services.values()),
        })  # fmt: skip


def _problem(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Response:
    content = {"type": "about:blank", "status": status, **(body or {})}
    return JSONResponse(content, status, headers=headers, media_type="application/problem+json")


# -- Entra ID stand-in ---------------------------------------------------------------------


def _rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str
    scope: str


@dataclass
class FakeEntraId:
    """Serve ``app()`` on a real socket, then set ``base_url``."""

    client_id: str = "ui-client-id"
    tenant: str = "tenant-1"
    base_url: str = ""
    name: str = "Grace Hopper"
    roles: tuple[str, ...] = ("Submissions.Read", "Submissions.Manage")
    key: rsa.RSAPrivateKey = field(default_factory=_rsa)
    kid: str = "key-1"
    grants: dict[str, Grant] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    jwks_requests: int = 0
    # Misbehaviour switches for the tests.
    id_token_claims: dict[str, Any] = field(default_factory=dict)
    sign_with: rsa.RSAPrivateKey | None = None
    token_status: int = 200

    @property
    def authority(self) -> str:
        return f"{self.base_url}/{self.tenant}"

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/{self.tenant}/v2.0"

    def rotate_key(self) -> None:
        self.key, self.kid = _rsa(), f"key-{uuid.uuid4().hex[:8]}"

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(
                    "/{tenant}/v2.0/.well-known/openid-configuration", self._discovery,
                    methods=["GET"],
                ),
                Route("/{tenant}/oauth2/v2.0/authorize", self._authorize, methods=["GET"]),
                Route("/{tenant}/oauth2/v2.0/token", self._token, methods=["POST"]),
                Route("/{tenant}/discovery/v2.0/keys", self._keys, methods=["GET"]),
            ]
        )  # fmt: skip

    async def _discovery(self, _: Request) -> Response:
        base = f"{self.base_url}/{self.tenant}"
        return JSONResponse({
            "issuer": self.issuer,
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
        })  # fmt: skip

    async def _authorize(self, request: Request) -> Response:
        q = request.query_params
        if (
            q.get("client_id") != self.client_id
            or q.get("response_type") != "code"
            or q.get("code_challenge_method") != "S256"
            or not q.get("code_challenge")
            or not q.get("nonce")
        ):
            return JSONResponse({"error": "invalid_request"}, 400)
        code = secrets.token_urlsafe(24)
        self.grants[code] = Grant(q["client_id"], q["redirect_uri"], q["code_challenge"],
                                  q["nonce"], q.get("scope", ""))  # fmt: skip
        answer = urlencode({"code": code, "state": q.get("state", "")})
        return RedirectResponse(f"{q['redirect_uri']}?{answer}", status_code=302)

    async def _token(self, request: Request) -> Response:
        form = {key: str(value) for key, value in (await request.form()).items()}
        self.token_requests.append(form)
        grant = self.grants.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if (
            self.token_status != 200
            or grant is None
            or form.get("grant_type") != "authorization_code"
            or form.get("client_id") != grant.client_id
            or form.get("redirect_uri") != grant.redirect_uri
            or challenge != grant.challenge
        ):
            return JSONResponse({"error": "invalid_grant"}, 400)
        now = int(time.time())
        key = self.sign_with or self.key
        id_claims = {
            "iss": self.issuer, "aud": self.client_id, "sub": "staff-object-id", "iat": now,
            "nbf": now, "exp": now + 3600, "nonce": grant.nonce, "name": self.name,
            "preferred_username": "grace@example.com", **self.id_token_claims,
        }  # fmt: skip
        access_claims = {
            "iss": self.issuer, "aud": "api://intake-admin", "sub": "grace@example.com",
            "iat": now, "exp": now + 3600, "roles": list(self.roles),
        }  # fmt: skip
        headers = {"kid": self.kid}
        return JSONResponse({
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": grant.scope,
            "id_token": jwt.encode(id_claims, key, algorithm="RS256", headers=headers),
            "access_token": jwt.encode(access_claims, key, algorithm="RS256", headers=headers),
        })  # fmt: skip

    async def _keys(self, _: Request) -> Response:
        self.jwks_requests += 1
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return JSONResponse({"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]})


class AccessTokenVerifier(TokenVerifier):
    """What admin-api would do with Entra ID tokens, keyed by the fake provider's current key."""

    def __init__(self, entra: FakeEntraId) -> None:
        self._entra = entra

    def verify(self, token: str) -> Staff:
        try:
            claims = jwt.decode(
                token, self._entra.key.public_key(), algorithms=["RS256"],
                audience="api://intake-admin", issuer=self._entra.issuer,
            )  # fmt: skip
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from error
        return Staff(subject=claims["sub"], roles=frozenset(claims.get("roles", [])))


def csrf_in(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


ALL_ROLES = ("Submissions.Read", "Submissions.Manage", "Submissions.Export",
             "Submissions.Erase", "Audit.Read")  # fmt: skip


def dev_sign_in(
    client: Any,
    roles: tuple[str, ...] = ALL_ROLES,
    *,
    name: str = "Dev Staff",
    email: str = "dev-staff@example.com",
) -> None:
    """Signs ``client`` in through the dev sign-in form, as a browser would."""
    csrf = csrf_in(client.get("/admin").text)
    data = {"csrf_token": csrf, "name": name, "email": email, "roles": list(roles)}
    answer = client.post("/admin/dev-sign-in", data=data)
    assert answer.status_code == 303, answer.text
