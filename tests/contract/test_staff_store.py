"""The StaffSubmissionStore contract: hash-chained audit, substring search, retention candidates,
the erasures a restore must make again, dashboard figures."""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from intake_core.domain.audit import AUDIT_GENESIS_HASH, AuditAction, AuditEntry
from intake_core.domain.client_id import check_symbol
from intake_core.domain.erasure import (
    RETENTION_ACTOR,
    RecordedErasure,
    erasure_details,
)
from intake_core.domain.events import submission_created
from intake_core.domain.models import ServiceType, Status, Submission
from intake_core.ports.staff import SearchQuery
from intake_core.ports.store import SubmissionStore
from support import VALID_BODY, make_submission

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def staff_store(store: SubmissionStore) -> SubmissionStore:
    """The whole store: these tests save records and ask after them through its other roles."""
    return store


async def save(
    store: SubmissionStore,
    *,
    name: str = "Contoso Ltd",
    contact: str = "Ada Lovelace",
    email: str = "ada@example.com",
    submitted_at: datetime = T0,
    service_type: ServiceType = ServiceType.CLOUD_MIGRATION,
    client_id: str | None = None,
) -> Submission:
    body: dict[str, Any] = copy.deepcopy(VALID_BODY)
    body["company"]["name"] = name
    body["company"]["contact"].update(name=contact, email=email)
    body["engagement"]["serviceType"] = service_type.value
    submission = make_submission(body, submitted_at=submitted_at, client_id=client_id)
    audit = AuditEntry("submission.created", "client", submitted_at, submission.client_id)
    await store.save_new(submission, submission_created(submission), audit)
    return submission


def staff_entry(action: str, client_id: str | None = None) -> AuditEntry:
    return AuditEntry(action, "staff@example.com", datetime.now(UTC), client_id, {"n": "1"})


async def found(store: SubmissionStore, text: str, **filters: Any) -> set[str]:
    page = await store.search_hits(SearchQuery(text=text, limit=100, **filters))
    return {item.client_id for item in page.items}


async def test_an_empty_trail_is_intact(staff_store: SubmissionStore) -> None:
    report = await staff_store.verify_audit_chain()
    assert report.intact and report.entries == 0 and report.head_hash == AUDIT_GENESIS_HASH


async def test_every_kind_of_write_extends_an_intact_chain(
    staff_store: SubmissionStore,
) -> None:
    first = await save(staff_store)
    second = await save(staff_store, name="Fabrikam")
    heads = [(await staff_store.verify_audit_chain()).head_hash]
    await staff_store.append_audit(staff_entry("submission.search"))
    heads.append((await staff_store.verify_audit_chain()).head_hash)
    stored = await staff_store.get_record(first.client_id)
    assert stored is not None
    await staff_store.update_status(
        first.client_id, Status.CONTACTED, stored.version, staff_entry("s", first.client_id)
    )
    heads.append((await staff_store.verify_audit_chain()).head_hash)
    await staff_store.erase(second.client_id, staff_entry("submission.erase", second.client_id))
    await staff_store.erase(second.client_id, staff_entry("submission.erase", second.client_id))
    report = await staff_store.verify_audit_chain()
    heads.append(report.head_hash)
    assert report.intact, report
    assert report.entries == 6
    assert len(set(heads)) == len(heads)  # each append moved the head


async def test_concurrent_writers_keep_one_intact_chain(
    staff_store: SubmissionStore,
) -> None:
    submissions = await asyncio.gather(*(save(staff_store, name=f"Co {n}") for n in range(20)))
    await asyncio.gather(
        *(staff_store.append_audit(staff_entry("submission.read", s.client_id)) for s in submissions),
        *(save(staff_store, name=f"Late {n}") for n in range(20)),
        *(staff_store.erase(s.client_id, staff_entry("e", s.client_id)) for s in submissions[:5]),
    )  # fmt: skip
    report = await staff_store.verify_audit_chain()
    assert report.intact, report
    assert report.entries == 20 + 20 + 20 + 5


async def test_search_matches_substrings_whatever_their_case(
    staff_store: SubmissionStore,
) -> None:
    ada = await save(staff_store, name="Müller Straße GmbH", email="ada.l@contoso.example")
    grace = await save(staff_store, name="Fabrikam", contact="Grace Hopper", email="gh@fab.example")
    assert await found(staff_store, "MÜLLER") == {ada.client_id}
    assert await found(staff_store, "STRASSE") == {ada.client_id}  # casefold: ß is ss
    assert await found(staff_store, "a.l@conto") == {ada.client_id}
    assert await found(staff_store, "ace hop") == {grace.client_id}
    assert await found(staff_store, "rikA") == {grace.client_id}
    assert await found(staff_store, ".example") == {ada.client_id, grace.client_id}
    assert await found(staff_store, grace.client_id[3:9]) == {grace.client_id}
    # Shorter than a trigram; "@" and "#" are never in a Client ID, which are random.
    assert await found(staff_store, "H@") == {grace.client_id}
    assert await found(staff_store, "#") == set()
    assert await found(staff_store, "nobody-here") == set()
    assert await found(staff_store, "fab", status=Status.WON) == set()


def with_check(payload: str) -> str:
    """A Client ID of these eleven symbols (hyphens anywhere) and their check symbol."""
    symbols = payload.replace("-", "")
    symbols += check_symbol(symbols)
    return f"CL-{symbols[:4]}-{symbols[4:8]}-{symbols[8:]}"


@pytest.mark.parametrize(
    "text",
    [
        "7k2m9x0p",  # across a hyphen, without it
        "7K2M-9X0P-1",
        "M9XOP",  # O for 0
        "9x0p-iab",  # I for 1
        "0PLAB",  # L for 1
        "cl7k2m9x0p",  # from the prefix on
        "C17K2M9",  # the prefix's L typed as 1
        "L7K2M9X",
        "CL 7K2M 9X0P",  # spaces, as normalise_client_id takes them
    ],
)
async def test_search_finds_a_piece_of_a_client_id_typed_as_it_is_read(
    staff_store: SubmissionStore, text: str
) -> None:
    """Five symbols or more of a Client ID, in any case, hyphens and spaces optional, I and L
    read as 1 and O as 0 (DESIGN.md's normalisation of Client ID input)."""
    wanted = await save(staff_store, client_id=with_check("7K2M-9X0P-1AB"))
    await save(staff_store, name="Fabrikam", client_id=with_check("7K2M-QQQQ-1AB"))
    assert await found(staff_store, text) == {wanted.client_id}
    assert await found(staff_store, text, status=Status.WON) == set()


async def test_a_whole_client_id_typed_without_hyphens_is_found(
    staff_store: SubmissionStore,
) -> None:
    wanted = await save(staff_store)
    await save(staff_store, name="Fabrikam")
    compact = wanted.client_id.replace("-", "")
    for text in (compact.lower(), compact[2:], compact.replace("0", "o").replace("1", "l")):
        assert await found(staff_store, text) == {wanted.client_id}, text


async def test_the_client_id_reading_is_only_an_extra_way_to_match(
    staff_store: SubmissionStore,
) -> None:
    """Names and emails match the text as typed; an O typed for 0 does not make a name match,
    and fewer than five symbols across a hyphen, or text no Client ID can hold, find no ID."""
    bolton = await save(staff_store, name="Bolton Ltd", client_id=with_check("7K2M-9X0P-1AB"))
    b0lt0n = await save(staff_store, name="Fabrikam", client_id=with_check("QQB0-1T0N-QQQ"))
    assert await found(staff_store, "Bolton") == {bolton.client_id, b0lt0n.client_id}
    assert await found(staff_store, "Bolton Ltd") == {bolton.client_id}
    assert await found(staff_store, "B0LT0N") == {b0lt0n.client_id}
    assert await found(staff_store, "M9X0") == set()  # four symbols across a hyphen
    assert await found(staff_store, "9X0P") == {bolton.client_id}  # four within a group: text
    assert await found(staff_store, "7K2M9X0PU") == set()  # U is no Crockford symbol
    assert await found(staff_store, "7K2M9X0P1ABXY") == set()


@pytest.mark.parametrize(
    "text",
    ['"', '""', 'a"b', "\x00", "ad\x00a", "OR", "ada OR grace", "NEAR(ada grace)", "ada*",
     "^ada", "%", "_", "\\", "a%a", "-ada", "(ada)", "ada:x", "{ada}", "'; DROP TABLE audit;--"],
)  # fmt: skip
async def test_search_text_is_always_literal(staff_store: SubmissionStore, text: str) -> None:
    await save(staff_store)
    literal = await save(staff_store, name=f"X{text}Y Ltd".replace("\x00", ""), email="x@y.example")
    expected = {literal.client_id} if "\x00" not in text else set()
    assert await found(staff_store, text) == expected
    assert (await staff_store.verify_audit_chain()).intact


async def test_a_record_exists_until_it_is_erased(staff_store: SubmissionStore) -> None:
    kept = await save(staff_store)
    erased = await save(staff_store, name="Fabrikam")
    await staff_store.erase(erased.client_id, staff_entry("submission.erase", erased.client_id))
    assert await staff_store.exists(kept.client_id)
    assert not await staff_store.exists(erased.client_id)
    assert not await staff_store.exists("CL-0000-0000-001Y")  # never saved


async def test_erased_records_are_not_found_by_any_text(
    staff_store: SubmissionStore,
) -> None:
    erased = await save(staff_store, email="erase-me@contoso.example")
    kept = await save(staff_store, name="Fabrikam", email="keep@fab.example")
    await staff_store.erase(erased.client_id, staff_entry("submission.erase", erased.client_id))
    await staff_store.forget_erased_remnants()
    for text in ("erase-me", "contoso", "co", erased.client_id, erased.client_id[3:13]):
        assert await found(staff_store, text) == set(), text
    assert await found(staff_store, "fab") == {kept.client_id}


async def test_expired_records_are_the_oldest_live_ones(staff_store: SubmissionStore) -> None:
    old = [await save(staff_store, submitted_at=T0 + timedelta(days=n)) for n in range(5)]
    await save(staff_store, submitted_at=T0 + timedelta(days=30))
    await staff_store.erase(old[1].client_id, staff_entry("e", old[1].client_id))
    cutoff = T0 + timedelta(days=10)
    assert await staff_store.expired_records(cutoff, 2) == [old[0].client_id, old[2].client_id]
    assert await staff_store.expired_records(cutoff, 100) == [
        old[0].client_id,
        *(s.client_id for s in old[2:]),
    ]
    assert await staff_store.expired_records(T0, 100) == []


async def test_erasures_since_lists_every_erasure_from_that_time_oldest_first(
    staff_store: SubmissionStore,
) -> None:
    before, at_since, later, unstated, kept = [await save(staff_store) for _ in range(5)]
    since = T0 + timedelta(hours=2)

    async def erase(submission: Submission, at: datetime, details: dict[str, str]) -> None:
        entry = AuditEntry(AuditAction.ERASE, "dpo@example.com", at, submission.client_id, details)
        await staff_store.erase(submission.client_id, entry)

    await erase(before, since - timedelta(microseconds=1), erasure_details("subject-request"))
    await erase(at_since, since, erasure_details("other", note="ticket 4711"))
    await erase(later, since + timedelta(hours=1), {"reason": "retention", "retentionDays": "730"})
    # An erasure from before reasons were recorded; given in another offset than UTC.
    east = timezone(timedelta(hours=2))
    await erase(unstated, (since + timedelta(minutes=30)).astimezone(east), {})
    await erase(at_since, since + timedelta(hours=2), erasure_details("not-needed"))  # a repeat
    # Other actions, on a record and on none, are not erasures.
    await mark_contacted(staff_store, kept)
    await staff_store.append_audit(staff_entry("submission.search"))
    await staff_store.append_audit(
        AuditEntry("submission.read", RETENTION_ACTOR, since + timedelta(hours=3), kept.client_id)
    )

    assert await staff_store.erasures_since(since) == [
        RecordedErasure(at_since.client_id, since, "other"),
        RecordedErasure(unstated.client_id, since + timedelta(minutes=30), None),
        RecordedErasure(later.client_id, since + timedelta(hours=1), "retention"),
        RecordedErasure(at_since.client_id, since + timedelta(hours=2), "not-needed"),
    ]
    # The same instant in another offset; and a time after the last erasure.
    assert len(await staff_store.erasures_since(since.astimezone(east))) == 4
    assert await staff_store.erasures_since(since + timedelta(hours=2, microseconds=1)) == []
    [first, *_] = await staff_store.erasures_since(T0)
    assert first.client_id == before.client_id


async def test_a_store_with_no_erasures_lists_none(staff_store: SubmissionStore) -> None:
    await save(staff_store)
    assert await staff_store.erasures_since(T0 - timedelta(days=365)) == []


async def mark_contacted(store: SubmissionStore, submission: Submission) -> None:
    stored = await store.get_record(submission.client_id)
    assert stored is not None
    audit = staff_entry("submission.status_change", submission.client_id)
    await store.update_status(submission.client_id, Status.CONTACTED, stored.version, audit)


async def test_figures_count_whole_utc_days_by_status_and_service_type(
    staff_store: SubmissionStore,
) -> None:
    jan_1, jan_2, jan_3 = date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)
    tick = timedelta(microseconds=1)
    kubernetes, sre = ServiceType.KUBERNETES, ServiceType.SRE
    migration = ServiceType.CLOUD_MIGRATION
    await save(staff_store, submitted_at=T0 - tick)  # the last instant before the range
    first = await save(staff_store, submitted_at=T0, service_type=kubernetes)
    # 01:30 on 2 January in UTC+02:00 is 23:30 on 1 January in UTC: it counts for 1 January.
    east = timezone(timedelta(hours=2))
    await save(staff_store, submitted_at=datetime(2026, 1, 2, 1, 30, tzinfo=east))
    second_day = await save(staff_store, submitted_at=T0 + timedelta(days=1, hours=9))
    await save(staff_store, submitted_at=T0 + timedelta(days=3) - tick, service_type=sre)
    await save(staff_store, submitted_at=T0 + timedelta(days=3))  # the first instant after
    await mark_contacted(staff_store, first)
    await mark_contacted(staff_store, second_day)

    figures = await staff_store.submission_figures(jan_1, jan_3)

    assert figures.counts == {
        (jan_1, Status.CONTACTED, kubernetes): 1,
        (jan_1, Status.RECEIVED, migration): 1,
        (jan_2, Status.CONTACTED, migration): 1,
        (jan_3, Status.RECEIVED, sre): 1,
    }
    assert figures.total == 4
    assert figures.per_day() == {
        jan_1: {Status.CONTACTED: 1, Status.RECEIVED: 1},
        jan_2: {Status.CONTACTED: 1},
        jan_3: {Status.RECEIVED: 1},
    }
    assert figures.per_service_type() == {migration: 2, kubernetes: 1, sre: 1}
    one_day = await staff_store.submission_figures(jan_2, jan_2)
    assert one_day.counts == {(jan_2, Status.CONTACTED, migration): 1}
    nothing = await staff_store.submission_figures(date(2025, 6, 1), date(2025, 6, 30))
    assert nothing.counts == {} and nothing.total == 0


async def test_figures_count_erased_records_with_the_status_and_service_type_they_kept(
    staff_store: SubmissionStore,
) -> None:
    """An erased record was still a request received: it keeps counting, as it was."""
    await save(staff_store, service_type=ServiceType.TRAINING)
    erased = await save(staff_store, service_type=ServiceType.DEVSECOPS)
    await mark_contacted(staff_store, erased)
    await staff_store.erase(erased.client_id, staff_entry("submission.erase", erased.client_id))
    await staff_store.forget_erased_remnants()
    day = T0.date()
    figures = await staff_store.submission_figures(day, day)
    assert figures.counts == {
        (day, Status.RECEIVED, ServiceType.TRAINING): 1,
        (day, Status.CONTACTED, ServiceType.DEVSECOPS): 1,
    }
