"""Dashboard pieces on their own: filters, figures and charts, views, the staff cookie, PKCE."""

from __future__ import annotations

import base64
import hashlib
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fasthtml import common as fh
from starlette.responses import Response

from intake_core.domain.models import (
    ALLOWED_TRANSITIONS,
    ErasedSubmission,
    ServiceType,
    Status,
    Submission,
)
from intake_ui import admin_views
from intake_ui.admin_api import SubmissionList, SubmissionRow
from intake_ui.admin_figures import figures_of, first_week, service_chart, weekly_chart
from intake_ui.admin_filters import read_query
from intake_ui.entra_sign_in import SignInAttempt
from intake_ui.staff_session import StaffCookies, StaffSession, display_name

HOSTILE = "<script>alert(1)</script>"


def render(component: object) -> BeautifulSoup:
    return BeautifulSoup(fh.to_xml(component), "html.parser")


def staff(*roles: str) -> StaffSession:
    return StaffSession("Dev", frozenset(roles), "token", int(time.time()) + 600)


def submission(status: Status = Status.RECEIVED, **company: Any) -> Submission:
    return Submission.model_validate({
        "clientId": "CL-0000-0000-0000", "submittedAt": "2026-01-05T10:30:00+00:00",
        "status": status,
        "company": {"name": company.get("name", "Acme"), "industry": "retail", "size": 5,
                    "address": {"line1": "1 Road", "city": "Leeds", "postalCode": "LS1 1AA",
                                "country": "GB"},
                    "contact": {"name": "Ada", "email": "ada@example.com",
                                "phone": "+442079460958"}},
        "engagement": {"serviceType": "ci-cd", "scope": "Scope", "timeline": "asap",
                       "budgetRange": "undecided"},
        "consent": {"accepted": True, "privacyNoticeVersion": "2026-01"},
    })  # fmt: skip


LINKS = admin_views.RecordLinks("/admin", "/r", "/r/status", "/r/audit", "/r/erase", "/r/json")


# -- filters -------------------------------------------------------------------------------


def test_filters_pass_through_by_their_admin_api_names() -> None:
    query = read_query({"q": "  ada   lovelace ", "industry": "retail", "serviceType": "ci-cd",
                        "status": "won", "submittedFrom": "2026-01-01",
                        "submittedTo": "2026-01-31", "continuationToken": "abc",
                        "unknown": "x"})  # fmt: skip
    assert query.errors == {}
    assert query.filters == {"q": "ada lovelace", "industry": "retail", "serviceType": "ci-cd",
                             "status": "won", "submittedFrom": "2026-01-01",
                             "submittedTo": "2026-01-31"}  # fmt: skip
    assert query.page(25) == {**query.filters, "limit": "25", "continuationToken": "abc"}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"industry": "nope"}, "industry"), ({"status": "WON"}, "status"),
     ({"submittedTo": "2026-13-01"}, "submittedTo"), ({"submittedFrom": "yesterday"},
     "submittedFrom"), ({"submittedFrom": "2026-02-02", "submittedTo": "2026-02-01"},
     "submittedTo"), ({"q": "a" * 201}, "q")],
)  # fmt: skip
def test_bad_filters_are_named(params: dict[str, str], field: str) -> None:
    assert field in read_query(params).errors


def test_an_oversized_continuation_token_is_dropped() -> None:
    assert read_query({"continuationToken": "x" * 5000}).continuation_token is None


def test_the_filter_form_labels_every_control_and_opens_filters_when_set() -> None:
    closed = render(admin_views.filter_form(read_query({"q": "ada"}), "/admin"))
    assert not closed.find("details").has_attr("open")
    opened = render(admin_views.filter_form(read_query({"status": "won"}), "/admin"))
    assert opened.find("details").has_attr("open")
    for control in opened.find_all(["input", "select"]):
        assert opened.find("label", attrs={"for": control["id"]}).get_text(strip=True)


# -- figures -------------------------------------------------------------------------------


def row(days_ago: int, status: str, service: str, today: date) -> SubmissionRow:
    moment = datetime.combine(today, datetime.min.time(), UTC) - timedelta(days=days_ago)
    return SubmissionRow.model_validate({
        "clientId": "CL-0000-0000-0000", "companyName": "A", "industry": "retail",
        "serviceType": service, "status": status, "submittedAt": moment.isoformat(),
        "contactName": "A", "contactEmail": "a@example.com",
    })  # fmt: skip


def test_figures_count_per_week_and_service_type() -> None:
    today = date(2026, 3, 4)  # a Wednesday
    assert first_week(today) == date(2026, 1, 12)
    rows = [row(0, "received", "ci-cd", today), row(2, "won", "ci-cd", today),
            row(8, "lost", "kubernetes", today), row(60, "received", "training", today)]  # fmt: skip
    figures = figures_of(rows, today, complete=True)
    assert [w.start for w in figures.weeks][-2:] == [date(2026, 2, 23), date(2026, 3, 2)]
    assert figures.weeks[-1].counts == Counter({Status.RECEIVED: 1, Status.WON: 1})
    assert figures.weeks[-2].counts == Counter({Status.LOST: 1})
    assert figures.total == 3  # the one from 60 days ago is outside the 8 weeks
    assert figures.by_service == ((ServiceType.CI_CD, 2), (ServiceType.KUBERNETES, 1))


def test_the_weekly_chart_is_plain_svg_with_classes_titles_and_a_table() -> None:
    today = date(2026, 3, 4)
    rows = [row(0, "received", "ci-cd", today), row(1, "won", "ci-cd", today)]
    html = render(weekly_chart(figures_of(rows, today, complete=True)))
    chart = html.find("svg")
    assert chart["role"] == "img" and chart["aria-labelledby"] == "weekly-caption"
    bars = chart.find_all("rect")
    assert [b["class"] for b in bars] == [["bar", "status-received"], ["bar", "status-won"]]
    assert bars[0].find("title").get_text() == "Week of 2 Mar: 1 Received"
    assert float(bars[0]["height"]) == float(bars[1]["height"]) > 0
    assert not html.find_all(attrs={"style": True})
    table = html.find("table")
    assert [td.get_text() for td in table.find_all("tr")[-1].find_all("td")] == [
        "1", "0", "0", "1", "0", "2"
    ]  # fmt: skip


def test_the_service_chart_scales_bars_to_the_largest() -> None:
    today = date(2026, 3, 4)
    rows = [row(0, "received", "ci-cd", today)] * 4 + [row(0, "won", "site-reliability", today)]
    html = render(service_chart(figures_of(rows, today, complete=True)))
    widths = [float(rect["width"]) for rect in html.find_all("rect")]
    assert widths == [100.0, 25.0]
    assert render(service_chart(figures_of([], today, complete=True))).get_text().startswith("No")


# -- views ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", list(Status))
def test_the_status_form_offers_only_allowed_transitions(status: Status) -> None:
    html = render(admin_views.status_form(submission(status), 'W/"3"', "/s", "tok"))
    offered = {radio["value"] for radio in html.find_all("input", attrs={"type": "radio"})}
    assert offered == {s.value for s in ALLOWED_TRANSITIONS[status]}
    if offered:
        assert html.find("input", attrs={"name": "etag"})["value"] == 'W/"3"'
        assert html.find("input", attrs={"name": "csrf_token"})["value"] == "tok"
    else:
        assert "closed" in html.get_text()


def test_the_record_escapes_text_and_hides_controls_without_roles() -> None:
    record = submission(name=HOSTILE)
    reader = render(admin_views.record(record, "e", staff("Submissions.Read"), LINKS, "t"))
    assert reader.find("script") is None and HOSTILE in reader.find("h1").get_text()
    assert reader.find("form") is None and reader.find("nav", class_="record-actions") is None
    everything = render(admin_views.record(record, "e", staff(
        "Submissions.Read", "Submissions.Manage", "Submissions.Export", "Submissions.Erase",
        "Audit.Read"), LINKS, "t"))  # fmt: skip
    hrefs = {a["href"] for a in everything.select("nav.record-actions a")}
    assert hrefs == {"/r/audit", "/r/erase", "/r/json"}
    assert everything.find("form")["action"] == "/r/status"


def test_a_tombstone_shows_no_personal_data_and_no_erase_link() -> None:
    erased = ErasedSubmission.of(submission(), datetime(2026, 2, 1, tzinfo=UTC))
    html = render(admin_views.record(erased, "e", staff("Submissions.Erase", "Audit.Read"),
                                     LINKS, "t"))  # fmt: skip
    text = html.get_text()
    assert "Acme" not in text and "Ada" not in text and "ada@example.com" not in text
    assert "01 Feb 2026, 00:00 UTC" in text
    assert {a["href"] for a in html.find_all("a")} == {"/admin", "/r/audit"}


def test_results_link_each_row_and_page() -> None:
    found = SubmissionList.model_validate({"items": [{
        "clientId": "CL-0000-0000-0000", "companyName": HOSTILE, "industry": "retail",
        "serviceType": "ci-cd", "status": "qualified", "submittedAt": "2026-01-05T10:30:00Z",
        "contactName": "Ada", "contactEmail": "ada@example.com"}],
        "continuationToken": "next"})  # fmt: skip
    html = render(admin_views.results(
        read_query({"continuationToken": "here", "status": "qualified"}), found,
        record_url=lambda cid: f"/r/{cid}", page_url=lambda p: "/p?" + "&".join(sorted(p)),
        csv_url=None,
    ))  # fmt: skip
    assert html.find("a", class_="client-id-link")["href"] == "/r/CL-0000-0000-0000"
    assert html.find("script") is None
    assert html.find("a", string="Next page")["href"] == "/p?continuationToken&status"
    assert html.find("a", string="Back to first page")["href"] == "/p?status"
    assert html.find("a", string="Download CSV") is None
    cells = [td["data-label"] for td in html.find_all("td")]
    assert cells == ["Client ID", "Company", "Contact", "Service", "Status", "Submitted"]


def test_notices_are_fixed_texts_only() -> None:
    assert admin_views.notice("erased") is not None
    assert admin_views.notice("<script>") is None and admin_views.notice(None) is None


# -- the staff cookie and PKCE ---------------------------------------------------------------


def _cookie_jar(response: Response) -> dict[str, str]:
    jar = {}
    for header in response.headers.getlist("set-cookie"):
        name, _, rest = header.partition("=")
        jar[name] = rest.split(";", 1)[0]
    return jar


def test_the_staff_cookie_round_trips_and_hides_its_content() -> None:
    cookies = StaffCookies("a" * 40, secure=True)
    session = StaffSession("Ada <b>", frozenset({"Audit.Read"}), "eyJ.secret.token",
                           int(time.time()) + 60)  # fmt: skip
    response = Response()
    cookies.write(response, session)
    jar = _cookie_jar(response)
    assert list(jar) == ["intake_ui_staff_0"]
    assert "Ada" not in jar["intake_ui_staff_0"] and "eyJ" not in jar["intake_ui_staff_0"]
    header = response.headers["set-cookie"].lower()
    assert all(part in header for part in ("httponly", "secure", "samesite=lax", "path=/admin"))
    assert cookies.read(jar) == session
    assert StaffCookies("b" * 40, secure=True).read(jar) is None


def test_an_expired_staff_cookie_reads_as_signed_out() -> None:
    cookies = StaffCookies("a" * 40, secure=False)
    response = Response()
    cookies.write(response, StaffSession("A", frozenset(), "t", int(time.time()) - 5))
    assert cookies.read(_cookie_jar(response)) is None


@pytest.mark.parametrize(("raw", "shown"), [("  Grace  ", "Grace"), ("", "Staff member"),
                                            ("a\u0000b\nc", "abc"), ("x" * 300, "x" * 100)])  # fmt: skip
def test_display_names_are_printable_and_short(raw: str, shown: str) -> None:
    assert display_name(raw) == shown


def test_pkce_challenge_is_the_s256_of_a_fresh_verifier() -> None:
    first, second = SignInAttempt.new(), SignInAttempt.new()
    assert first.state != second.state and first.verifier != second.verifier
    assert 43 <= len(first.verifier) <= 128
    digest = hashlib.sha256(first.verifier.encode()).digest()
    assert first.challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert SignInAttempt.from_session(first.as_session()) == first
    assert SignInAttempt.from_session({"s": "x"}) is None
    assert SignInAttempt.from_session("garbage") is None
