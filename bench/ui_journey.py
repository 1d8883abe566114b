"""The two-step journey over HTTP, as browsers without JavaScript make it: open the form, send
step 1, send step 2, land on the Client ID page. Several virtual users, each with its own
session cookie, for a fixed time."""

from __future__ import annotations

import asyncio
import re
import time
import uuid

import httpx

COMPANY = {
    "company.name": "Bench Widgets Ltd",
    "company.industry": "manufacturing",
    "company.size": "120",
    "company.address.line1": "1 High Street",
    "company.address.city": "Leeds",
    "company.address.postalCode": "LS1 4AP",
    "company.address.country": "GB",
    "company.contact.name": "Ada Lovelace",
    "company.contact.email": "ada@example.com",
    "company.contact.phone": "020 7946 0958",
}
ENGAGEMENT = {
    "engagement.serviceType": "kubernetes",
    "engagement.scope": "Move our build pipeline to AKS.",
    "engagement.timeline": "1-3-months",
    "engagement.budgetRange": "25k-100k",
    "consent.accepted": "yes",
}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_KEY = re.compile(r'name="idempotencyKey" value="([^"]+)"')


async def _one_journey(client: httpx.AsyncClient) -> bool:
    page = await client.get("/")
    csrf = _CSRF.search(page.text)
    if page.status_code != 200 or csrf is None:
        return False
    step_two = await client.post("/project", data={**COMPANY, "csrf_token": csrf.group(1)})
    key = _KEY.search(step_two.text)
    idempotency_key = key.group(1) if key else str(uuid.uuid4())
    sent = await client.post(
        "/send",
        data={
            **COMPANY,
            **ENGAGEMENT,
            "csrf_token": csrf.group(1),
            "idempotencyKey": idempotency_key,
        },
    )
    return sent.status_code == 303 and "/submitted/" in sent.headers.get("location", "")


async def _user(base_url: str, deadline: float, latencies: list[float], errors: list[int]) -> None:
    while time.monotonic() < deadline:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            started = time.perf_counter()
            try:
                ok = await _one_journey(client)
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                errors.append(1)


async def run_journeys(base_url: str, users: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    errors: list[int] = []
    deadline = time.monotonic() + seconds
    started = time.monotonic()
    await asyncio.gather(*(_user(base_url, deadline, latencies, errors) for _ in range(users)))
    elapsed = time.monotonic() - started
    latencies.sort()

    def at(fraction: float) -> float:
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, round(fraction * (len(latencies) - 1)))] * 1000

    return {
        "users": users,
        "journeys": len(latencies),
        "journeys_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(at(0.5), 1),
        "p95_ms": round(at(0.95), 1),
        "p99_ms": round(at(0.99), 1),
        "errors": len(errors),
    }
