"""Dashboard pieces on their own: filters, figures and charts, views, the staff cookie, PKCE."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import time
import zlib
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
from intake_ui.admin_api import Figures, SubmissionList
from intake_ui.admin_figures import daily_chart, service_chart
from intake_ui.admin_filters import read_query
from intake_ui.admin_views.listing import filter_form
from intake_ui.admin_views.record import status_form
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
    closed = render(filter_form(read_query({"q": "ada"}), "/admin", "t"))
    assert not closed.find("details").has_attr("open")
    opened = render(filter_form(read_query({"status": "won"}), "/admin", "t"))
    assert opened.find("details").has_attr("open")
    for control in opened.find_all(["input", "select"]):
        if control.get("type") == "hidden":
            continue
        assert opened.find("label", attrs={"for": control["id"]}).get_text(strip=True)


def test_the_address_filters_are_every_filter_but_the_search_text() -> None:
    query = read_query({"q": "ada@example.com", "status": "won", "continuationToken": "abc"})
    assert query.text == "ada@example.com"
    assert query.address_filters == {"status": "won"}
    assert read_query({"status": "won"}).text == ""


def test_a_file_sent_for_a_filter_counts_as_not_given() -> None:
    from starlette.datastructures import FormData, UploadFile

    upload = UploadFile(file=None, filename="q.txt")  # type: ignore[arg-type]
    query = read_query(FormData([("q", upload), ("status", upload), ("industry", "retail")]))
    assert query.errors == {}
    assert query.filters == {"industry": "retail"}


def test_the_search_form_posts_its_text_with_the_csrf_token_and_pushes_no_url() -> None:
    form = render(filter_form(read_query({"q": "ada"}), "/admin", "t")).form
    assert form["method"] == "post" and form["action"] == form["hx-post"] == "/admin"
    assert "hx-get" not in form.attrs and "hx-push-url" not in form.attrs
    assert form.find("input", attrs={"name": "csrf_token"})["value"] == "t"


# -- figures -------------------------------------------------------------------------------


def figures(per_day: dict[int, dict[str, int]], days: int = 30) -> Figures:
    """What admin-api answers for the ``days`` days to 4 March 2026: ``per_day`` maps days
    ago to counts by status; every service type is there, the requested ones first."""
    last = date(2026, 3, 4)
    listed = []
    for ago in range(days - 1, -1, -1):
        counts = dict.fromkeys((s.value for s in Status), 0) | per_day.get(ago, {})
        listed.append({"date": (last - timedelta(days=ago)).isoformat(), "counts": counts,
                       "total": sum(counts.values())})  # fmt: skip
    return Figures.model_validate({
        "from": (last - timedelta(days=days - 1)).isoformat(), "to": last.isoformat(),
        "days": listed, "total": sum(day["total"] for day in listed),
        "byServiceType": [{"serviceType": "ci-cd", "count": 4},
                          {"serviceType": "site-reliability", "count": 1},
                          *({"serviceType": s.value, "count": 0} for s in ServiceType
                            if s not in {ServiceType.CI_CD, ServiceType.SRE})],
    })  # fmt: skip


def test_the_daily_chart_stacks_each_day_by_status_with_titles_and_a_table() -> None:
    html = render(daily_chart(figures({0: {"received": 1, "won": 1}, 1: {"lost": 2}})))
    chart = html.find("svg")
    assert chart["role"] == "img" and chart["aria-labelledby"] == "daily-caption"
    bars = chart.find_all("rect")
    assert [b["class"] for b in bars] == [
        ["bar", "status-lost"], ["bar", "status-received"], ["bar", "status-won"]
    ]  # fmt: skip
    assert [b.find("title").get_text() for b in bars] == [
        "3 Mar: 2 Lost", "4 Mar: 1 Received", "4 Mar: 1 Won"
    ]  # fmt: skip
    lost, received, won = (float(b["height"]) for b in bars)
    assert lost == received + won and received == won > 0
    assert float(bars[2]["y"]) + won == float(bars[1]["y"])  # stacked: won sits on received
    assert float(bars[0]["x"]) < float(bars[1]["x"]) == float(bars[2]["x"])
    assert not html.find_all(attrs={"style": True})
    assert "4 in 30 days, from 3 Feb to 4 Mar" in html.find(id="daily-caption").get_text()
    rows = html.find("table").find("tbody").find_all("tr")
    assert len(rows) == 30 and rows[0].th.get_text() == "4 Mar"  # newest first
    assert [td.get_text() for td in rows[0].find_all("td")] == ["1", "0", "0", "1", "0", "2"]


def test_every_seventh_day_is_labelled_counting_back_from_the_newest() -> None:
    html = render(daily_chart(figures({})))
    labels = [text.get_text() for text in html.find_all("text", class_="middle")]
    assert labels == ["4 Feb", "11 Feb", "18 Feb", "25 Feb", "4 Mar"]  # 2026 is no leap year
    assert html.find_all("rect") == []  # no submissions, no bars: the axis still reads 0 to 4
    assert [t.get_text() for t in html.find_all("text", class_="end")] == ["0", "2", "4"]
    positions = [float(text["x"]) for text in html.find_all("text", class_="middle")]
    assert positions == sorted(positions) and positions[-1] < 360  # inside the drawing


def test_the_service_chart_lists_requested_types_scaled_to_the_largest() -> None:
    html = render(service_chart(figures({})))
    assert [li.find(class_="bar-label").get_text() for li in html.find_all("li")] == [
        "CI/CD pipelines", "Site reliability engineering"
    ]  # fmt: skip
    widths = [float(rect["width"]) for rect in html.find_all("rect")]
    assert widths == [100.0, 25.0]
    nothing = figures({}).model_copy(update={"by_service_type": []})
    assert render(service_chart(nothing)).get_text().startswith("No")


# -- views ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", list(Status))
def test_the_status_form_offers_only_allowed_transitions(status: Status) -> None:
    html = render(status_form(submission(status), 'W/"3"', "/s", "tok"))
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


FOUND = SubmissionList.model_validate({"items": [{
    "clientId": "CL-0000-0000-0000", "companyName": HOSTILE, "industry": "retail",
    "serviceType": "ci-cd", "status": "qualified", "submittedAt": "2026-01-05T10:30:00Z",
    "contactName": "Ada", "contactEmail": "ada@example.com"}],
    "continuationToken": "next"})  # fmt: skip


def _query_string(path: str) -> Any:
    return lambda params: path + "?" + "&".join(f"{k}={v}" for k, v in sorted(params.items()))


def test_results_link_each_row_and_page() -> None:
    html = render(admin_views.results(
        read_query({"continuationToken": "here", "status": "qualified"}), FOUND,
        record_url=lambda cid: f"/r/{cid}", page_url=_query_string("/p"), csv_url=None,
        csrf="t",
    ))  # fmt: skip
    assert html.find("a", class_="client-id-link")["href"] == "/r/CL-0000-0000-0000"
    assert html.find("script") is None
    assert (
        html.find("a", string="Next page")["href"] == "/p?continuationToken=next&status=qualified"
    )
    assert html.find("a", string="Back to first page")["href"] == "/p?status=qualified"
    assert html.find(string="Download CSV") is None
    assert html.find("form") is None  # without search text every way on is a link
    cells = [td["data-label"] for td in html.find_all("td")]
    assert cells == ["Client ID", "Company", "Contact", "Service", "Status", "Submitted"]


def test_without_search_text_the_csv_is_a_link_with_the_filters() -> None:
    html = render(admin_views.results(
        read_query({"status": "qualified"}), FOUND, record_url=lambda cid: f"/r/{cid}",
        page_url=_query_string("/p"), csv_url=_query_string("/csv"), csrf="t",
    ))  # fmt: skip
    assert html.find("a", string="Download CSV")["href"] == "/csv?status=qualified"


def test_with_search_text_pages_and_csv_are_buttons_that_post_it() -> None:
    """The text is in hidden fields of POST forms, never in an href, action or hx- URL."""
    text = "ada@example.com"
    html = render(admin_views.results(
        read_query({"q": text, "continuationToken": "here", "status": "qualified"}), FOUND,
        record_url=lambda cid: f"/r/{cid}", page_url=_query_string("/p"),
        csv_url=_query_string("/csv"), csrf="t",
    ))  # fmt: skip
    for tag in html.find_all(True):
        for name, value in tag.attrs.items():
            if name != "value":
                assert "ada" not in str(value), (tag.name, name, value)
    forms = {form.button.get_text(): form for form in html.find_all("form")}
    assert set(forms) == {"Next page", "Back to first page", "Download CSV"}

    def sent(form: Any) -> dict[str, str]:
        assert form["method"] == "post"
        return {i["name"]: i["value"] for i in form.find_all("input", type="hidden")}

    assert forms["Next page"]["action"] == forms["Next page"]["hx-post"] == "/p?"
    assert sent(forms["Next page"]) == {"csrf_token": "t", "q": text, "status": "qualified",
                                        "continuationToken": "next"}  # fmt: skip
    assert sent(forms["Back to first page"]) == {"csrf_token": "t", "q": text,
                                                 "status": "qualified"}  # fmt: skip
    # The file is downloaded by the browser itself: htmx must not swap it into the page.
    assert forms["Download CSV"]["action"] == "/csv?"
    assert not [name for name in forms["Download CSV"].attrs if name.startswith("hx-")]
    assert sent(forms["Download CSV"]) == {"csrf_token": "t", "q": text, "status": "qualified"}


def test_every_erasure_reason_has_a_choice_and_words() -> None:
    from intake_core.domain.erasure import NOT_STATED, RETENTION_ENDED, ErasureReason
    from intake_ui.admin_erasure import REASON_CHOICES, REASON_WORDS, reason_words

    assert list(REASON_CHOICES) == list(ErasureReason)
    assert set(REASON_WORDS) == {*ErasureReason, RETENTION_ENDED, NOT_STATED}
    assert reason_words(None) == reason_words(NOT_STATED) == "no reason was given"
    assert reason_words("from-a-later-version") == "from-a-later-version"


@pytest.mark.parametrize(
    ("form", "reason", "note", "errors"),
    [
        ({"reason": "subject-request", "confirm": "cl 0000 0000 0000"}, "subject-request", None, {}),
        ({"reason": "not-needed", "note": "  dup\r\nof X  ", "confirm": "CL-0000-0000-0000"},
         "not-needed", "dup\nof X", {}),
        ({"reason": "other", "note": "n" * 500, "confirm": "CL-0000-0000-0000"}, "other",
         "n" * 500, {}),
        ({"reason": "other", "confirm": "CL-0000-0000-0000"}, "other", None, {"note"}),
        ({"reason": "Other", "note": "x", "confirm": "CL-0000-0000-0000"}, "", "x", {"reason"}),
        ({"note": "\u202eevil", "confirm": "nope"}, "", None, {"reason", "note", "confirm"}),
    ],
)  # fmt: skip
def test_the_erase_form_is_read_with_the_domain_rules(
    form: dict[str, str], reason: str, note: str | None, errors: set[str]
) -> None:
    from intake_ui.admin_erasure import read_erasure

    answers = read_erasure(form, "CL-0000-0000-0000")
    assert set(answers.errors) == set(errors)
    assert answers.reason == reason and answers.note == note
    assert answers.values["confirm"] == form["confirm"]  # shown back as typed


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


def _readable_views(value: str) -> list[str]:
    """``value`` as text, base64-decoded, and base64-decoded then inflated (where those work)."""
    views = [value]
    try:
        decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError:
        return views
    views.append(decoded.decode(errors="replace"))
    with contextlib.suppress(zlib.error):
        views.append(zlib.decompress(decoded).decode(errors="replace"))
    return views


def test_the_staff_cookie_round_trips_and_hides_its_content() -> None:
    cookies = StaffCookies("a" * 40, secure=True)
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZGFAZXhhbXBsZS5jb20ifQ.c2lnbmF0dXJlLWJ5dGVz"
    session = StaffSession("Ada Lovelace <b>", frozenset({"Audit.Read"}), token,
                           int(time.time()) + 60)  # fmt: skip
    response = Response()
    cookies.write(response, session)
    jar = _cookie_jar(response)
    assert list(jar) == ["intake_ui_staff_0"]
    # Not readable as it stands, nor base64-decoded, nor then inflated (the cookie is
    # compressed before it is encrypted). The probes are long: a short one such as "eyJ" can
    # turn up by chance in random ciphertext.
    views = _readable_views(jar["intake_ui_staff_0"])
    assert not any(secret in view for view in views for secret in ("Lovelace", *token.split(".")))
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
