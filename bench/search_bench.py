"""Search latency of the SQLite store at scale: ``uv run python bench/search_bench.py``.

Seeds ``--records`` submissions (default 100,000) through the store's own ``save_new`` (so the
search index, triggers and audit chain do their real work), then times each query shape
``--repeat`` times, in the store (``search_hits``, what admin-api calls) and through admin-api's
HTTP route (in process, with a real token and the audit entry every search writes). Prints
p50/p95/max per query; the target is p95 ≤ 50 ms. Not part of the test suite: it takes a minute
or two.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from starlette.types import Receive, Scope, Send

from admin_api.app import create_app
from admin_api.deps import AdminDeps
from admin_api.filters import PageRequest
from admin_api.settings import AdminApiSettings
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.auth import DevIssuer, TokenVerifier
from intake_core.domain.audit import AuditEntry
from intake_core.domain.client_id import new_client_id
from intake_core.domain.events import submission_created
from intake_core.domain.models import (
    Industry,
    ServiceType,
    Status,
    Submission,
    SubmissionCreate,
)
from intake_core.ports.staff import SearchQuery
from intake_core.settings import ADMIN_AUDIENCE, DEV_ISSUER

TEMPLATE = {
    "company": {
        "name": "Template Ltd",
        "industry": "technology",
        "size": 250,
        "address": {"line1": "1 Main St", "city": "London", "postalCode": "SW1A 1AA",
                    "country": "GB"},
        "contact": {"name": "Ada Lovelace", "email": "ada@example.com",
                    "phone": "+44 20 7946 0958"},
    },
    "engagement": {"serviceType": "cloud-migration", "scope": "Move 40 services to AKS",
                   "timeline": "3-6-months", "budgetRange": "100k-250k"},
    "consent": {"accepted": True, "privacyNoticeVersion": "2026-01"},
}  # fmt: skip
START = datetime(2024, 6, 1, tzinfo=UTC)
SPAN = timedelta(days=730)
FIRST_NAMES = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Linus"]
LAST_NAMES = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton"]


def submissions(count: int, seed: int = 7) -> list[Submission]:
    """Validated once, then copied with changes: validating 100k emails would dominate."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    base = SubmissionCreate.model_validate(TEMPLATE)
    made = []
    for n in range(count):
        contact = base.company.contact.model_copy(
            update={
                "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {n}",
                "email": f"person{n}@seed{n % 97}.example",
            }
        )
        company = base.company.model_copy(
            update={
                "name": f"Seeded Company {n:06d}",
                "industry": rng.choice(list(Industry)),
                "contact": contact,
            }
        )
        engagement = base.engagement.model_copy(
            update={"service_type": rng.choice(list(ServiceType))}
        )
        made.append(
            Submission(
                client_id=new_client_id(),
                submitted_at=START + SPAN * (n / count),
                status=rng.choice(list(Status)),
                company=company,
                engagement=engagement,
                consent=base.consent,
            )
        )
    return made


async def seed(store: SqliteSubmissionStore, records: list[Submission]) -> float:
    started = time.perf_counter()
    for index in range(0, len(records), 500):
        await asyncio.gather(
            *(
                store.save_new(
                    s,
                    submission_created(s),
                    AuditEntry("submission.created", "bench", s.submitted_at, s.client_id),
                )
                for s in records[index : index + 500]
            )
        )
    return time.perf_counter() - started


async def query_shapes(store: SqliteSubmissionStore, count: int) -> dict[str, dict[str, str]]:
    """Query-string parameters per shape, as staff would send them. The data is deterministic
    but for Client IDs, so the probe record is found by its email (``--reuse`` works too)."""
    n = count // 3
    email = f"person{n}@seed{n % 97}.example"
    [probe] = (await store.search_hits(SearchQuery(text=email))).items
    # Seven symbols across two hyphens, typed as read out: no hyphen, o for 0, i for 1.
    piece = probe.client_id[5:14].replace("-", "").lower().replace("0", "o").replace("1", "i")
    return {
        "newest, no filter": {},
        "q=email (one match)": {"q": email},
        "q=company name fragment": {"q": f"company {n:06d}"[-9:]},
        "q=client id": {"q": probe.client_id},
        "q=client id piece, typed": {"q": piece},
        "q=contact surname (~1/7)": {"q": "hopper"},
        "q=domain (~1/97)": {"q": "@seed42.example"},
        "q=common (all match)": {"q": "example"},
        "q=no match": {"q": "zzzz-no-such-text"},
        "q=2 chars, no match": {"q": "#~"},
        "q=2 chars, common": {"q": "e4"},
        "status+industry": {"status": "won", "industry": "energy"},
        "serviceType+date range": {"serviceType": "kubernetes", "submittedFrom": "2025-03-01",
                                   "submittedTo": "2025-03-07"},
        "q+status+industry": {"q": "hopper", "status": "lost", "industry": "retail"},
        "q=domain+serviceType": {"q": "@seed42.example", "serviceType": "training"},
    }  # fmt: skip


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered), p95, ordered[-1]


async def timed(call: Callable[[], Awaitable[object]], repeat: int) -> list[float]:
    await call()  # warm the page cache for this shape
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def store_query(params: dict[str, str]) -> SearchQuery:
    return PageRequest.model_validate(params).search_query(25)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--data-dir", type=Path, default=None, help="default: a temporary one")
    parser.add_argument(
        "--reuse", action="store_true", help="--data-dir already holds --records seeded records"
    )
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="search-bench-") as temporary:
        data_dir = arguments.data_dir or Path(temporary)
        store = SqliteSubmissionStore(data_dir / "intake.db")
        await store.open()
        if not arguments.reuse:
            seconds = await seed(store, submissions(arguments.records))
            print(f"seeded {arguments.records:,} records in {seconds:.1f} s "
                  f"({arguments.records / seconds:,.0f}/s)")  # fmt: skip
        size_mb = sum(p.stat().st_size for p in data_dir.glob("intake.db*")) / 1e6
        print(f"database files: {size_mb:.0f} MB; load average {os.getloadavg()[0]:.1f}"
              f" on {os.cpu_count()} cores (other work skews the numbers)")  # fmt: skip
        shapes = await query_shapes(store, arguments.records)

        settings = AdminApiSettings(environment="test", INTAKE_DATA_DIR=data_dir)
        issuer = DevIssuer(data_dir)
        verifier = TokenVerifier(DEV_ISSUER, ADMIN_AUDIENCE, dev_issuer=issuer)
        app = create_app(settings, AdminDeps(store=store, verifier=verifier))
        headers = {"Authorization": f"Bearer {issuer.issue('bench', ['Submissions.Read'])}"}
        worst = 0.0
        print(f"\n{'query':34} {'store p50':>9} {'p95':>7} {'max':>7}   "
              f"{'http p50':>8} {'p95':>7} {'max':>7}  results")  # fmt: skip
        async with app.router.lifespan_context(app) as state:

            async def served(scope: Scope, receive: Receive, send: Send) -> None:
                scope["state"] = dict(state)  # what uvicorn does with the lifespan's state
                await app(scope, receive, send)

            transport = httpx.ASGITransport(app=served)
            client = httpx.AsyncClient(
                transport=transport, base_url="http://bench", headers=headers
            )

            async def get(params: dict[str, str]) -> httpx.Response:
                response = await client.get("/v1/submissions", params=params)
                response.raise_for_status()
                return response

            for name, params in shapes.items():
                query = store_query(params)
                in_store = await timed(lambda q=query: store.search_hits(q), arguments.repeat)
                over_http = await timed(lambda p=params: get(p), arguments.repeat)
                results = len((await get(params)).json()["items"])
                s50, s95, smax = percentiles(in_store)
                h50, h95, hmax = percentiles(over_http)
                worst = max(worst, h95)
                print(f"{name:34} {s50:9.2f} {s95:7.2f} {smax:7.2f}   "
                      f"{h50:8.2f} {h95:7.2f} {hmax:7.2f}  {results}")  # fmt: skip

            deep, token = {"q": "example"}, None
            pages: list[float] = []
            for _ in range(20):
                started = time.perf_counter()
                page = (
                    await get({**deep, **({"continuationToken": token} if token else {})})
                ).json()
                pages.append((time.perf_counter() - started) * 1000)
                token = page["continuationToken"]
            p50, p95, pmax = percentiles(pages)
            print(f"{'paging 20 pages of q=example':34} {'':9} {'':7} {'':7}   "
                  f"{p50:8.2f} {p95:7.2f} {pmax:7.2f}")  # fmt: skip

            started = time.perf_counter()
            # The oldest live record: no query shape relies on it, so --reuse runs stay alike.
            [victim] = await store.expired_records(datetime.now(UTC), 1)
            await store.erase(
                victim, AuditEntry("submission.erase", "bench", datetime.now(UTC), victim)
            )
            erase_ms = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            await store.forget_erased_remnants()
            forget_ms = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            report = await store.verify_audit_chain()
            verify_ms = (time.perf_counter() - started) * 1000
            await client.aclose()
        print(f"\nerase one record: {erase_ms:.1f} ms; rewrite the search index after it: "
              f"{forget_ms:.0f} ms; verify the audit chain ({report.entries:,} entries, "
              f"intact={report.intact}): {verify_ms:.0f} ms")  # fmt: skip
        print(f"worst HTTP p95: {worst:.1f} ms (target ≤ 50 ms); "
              f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        await store.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
