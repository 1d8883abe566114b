"""The staff dashboard over a fake admin-api served in-process through httpx.ASGITransport.

The fake checks the dev-issued tokens with a real TokenVerifier, so roles, 401 and 403 are
admin-api's own decisions; scripted answers stand in for 404/409/412/422/5xx.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup
from intake_ui_admin_testkit import (
    ALL_ROLES,
    HOSTILE,
    FakeAdminApi,
    Scripted,
    csrf_in,
    dev_sign_in,
    sample,
)
from starlette.testclient import TestClient

from intake_core.domain.models import ErasedSubmission, Status
from intake_ui.security import CONTENT_SECURITY_POLICY


def _ids() -> tuple[str, str, str]:
    from intake_core.domain.client_id import new_client_id

    return new_client_id(), new_client_id(), new_client_id()


@pytest.fixture
def ids(fake_admin_api: FakeAdminApi) -> tuple[str, str, str]:
    first, second, third = _ids()
    fake_admin_api.add(
        sample(first, company="Acme Widgets Ltd", days_ago=3),
        sample(second, company="Globex", contact="Hank Scorpio", email="hank@globex.example",
               service="cloud-migration", status="contacted", days_ago=1),
        sample(third, company=HOSTILE, contact='<img src=x onerror="alert(1)">',
               email="evil@example.com", scope="=HYPERLINK(\"http://evil\")\n\n<b>bold</b>",
               notes='"><svg onload=alert(1)>', days_ago=0),
    )  # fmt: skip
    return first, second, third


def soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def search(client: TestClient, htmx: bool = False, csrf: str = "", **fields: str) -> Any:
    """Sends the dashboard's search form, as the browser does: by POST, with its CSRF token
    (read from the list unless given)."""
    csrf = csrf or csrf_in(client.get("/admin").text)
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post("/admin", data={"csrf_token": csrf, **fields}, headers=headers)


def urls_in(response: Any) -> list[str]:
    """Every URL the answer could make the browser request or show: its redirect and htmx
    headers, and each link, form action and hx- attribute in it, percent-decoded."""
    from urllib.parse import unquote_plus

    found = [response.headers.get(name, "") for name in
             ("location", "hx-push-url", "hx-replace-url", "hx-redirect", "hx-location")]  # fmt: skip
    for tag in soup(response).find_all(True):
        found += [str(value) for name, value in tag.attrs.items()
                  if name in {"href", "src", "action", "formaction"} or name.startswith("hx-")]  # fmt: skip
    return [unquote_plus(url) for url in found if url]


def assert_kept_out_of_urls(response: Any, *texts: str) -> None:
    for url in urls_in(response):
        for text in texts:
            assert text.casefold() not in url.casefold(), url


def assert_safe_page(response: Any) -> None:
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    html = response.text
    assert "<script>" not in html and "<style" not in html and " style=" not in html
    assert "onerror=" not in html.replace("onerror=&quot;", "").replace('onerror="alert(1)"&', "")
    document = soup(response)
    assert document.find_all("script", src=False) == []
    for tag in document.find_all(True):
        assert not any(name.startswith("on") for name in tag.attrs), tag


def test_the_list_shows_every_record_newest_first_with_links(
    admin_client: TestClient, ids: tuple[str, str, str]
) -> None:
    dev_sign_in(admin_client)
    page = admin_client.get("/admin")
    assert page.status_code == 200
    assert_safe_page(page)
    links = [a["href"] for a in soup(page).select("table.records a.client-id-link")]
    assert links == [f"/admin/submissions/{ids[2]}", f"/admin/submissions/{ids[1]}",
                     f"/admin/submissions/{ids[0]}"]  # fmt: skip
    assert "Signed in as Dev Staff" in page.text
    # Hostile company and contact names are text, not markup.
    cells = [td.get_text(strip=True) for td in soup(page).select("table.records td")]
    assert HOSTILE in cells
    assert "&lt;script&gt;" in page.text and HOSTILE not in page.text


def test_every_filter_has_a_visible_label(admin_client: TestClient, ids: Any) -> None:
    dev_sign_in(admin_client)
    document = soup(admin_client.get("/admin"))
    form = document.find("form", attrs={"aria-label": "Search submissions"})
    assert form["method"] == "post"
    controls = [c for c in form.find_all(["input", "select"]) if c.get("type") != "hidden"]
    assert {c["name"] for c in controls} == {
        "q", "industry", "serviceType", "status", "submittedFrom", "submittedTo"
    }  # fmt: skip
    for control in controls:
        label = document.find("label", attrs={"for": control["id"]})
        assert label is not None and label.get_text(strip=True)


@pytest.mark.parametrize("htmx", [True, False])
def test_search_and_filters_go_to_admin_api(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: Any, htmx: bool
) -> None:
    dev_sign_in(admin_client)
    query = {"q": "  globex  ", "industry": "manufacturing", "serviceType": "cloud-migration",
             "status": "contacted", "submittedFrom": "2026-01-01", "submittedTo": "2030-01-31"}  # fmt: skip
    page = search(admin_client, htmx, **query)
    assert page.status_code == 200
    sent = fake_admin_api.calls[-1]
    assert sent.path == "/v1/submissions"
    # admin-api's pinned contract is a GET with the text in its query: in-cluster only.
    assert sent.params == {**query, "q": "globex", "limit": "25"}
    assert sent.token and sent.token.count(".") == 2
    assert [a.get_text() for a in soup(page).select("a.client-id-link")] == [ids[1]]
    # The form keeps what was chosen, and "Clear filters" appears.
    document = soup(page)
    assert document.find("input", attrs={"name": "q"})["value"] == "globex"
    assert document.find("option", selected=True, value="contacted")
    assert document.find("a", string="Clear filters")["href"] == "/admin"
    # The CSV of a search with text is a button that posts it again.
    csv = document.find("button", string="Download CSV").find_parent("form")
    assert csv["method"] == "post" and csv["action"] == "/admin/submissions.csv"
    assert csv.find("input", attrs={"name": "q"})["value"] == "globex"
    assert_kept_out_of_urls(page, "globex")
    # With htmx the address bar shows the other filters, so they can be bookmarked.
    pushed = "/admin?" + "&".join(f"{k}={v}" for k, v in query.items() if k != "q")
    assert page.headers.get("hx-push-url") == (pushed if htmx else None)
    assert admin_client.get(pushed).status_code == 200


def test_a_piece_of_a_client_id_read_out_is_searched_as_typed(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: tuple[str, str, str]
) -> None:
    """Staff type a Client ID as the client reads it: no hyphens, O for 0. The dashboard sends
    the text as typed; admin-api finds the record."""
    dev_sign_in(admin_client)
    typed = ids[1][5:14].replace("-", "").replace("0", "o").lower()
    page = search(admin_client, q=typed)
    assert page.status_code == 200
    assert fake_admin_api.calls[-1].params["q"] == typed
    assert [a.get_text() for a in soup(page).select("a.client-id-link")] == [ids[1]]
    hint = soup(page).find(id="filter-q-hint").get_text(" ", strip=True)
    assert "hyphens optional" in hint


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"industry": "crypto"}, "industry"),
        ({"status": "<b>"}, "status"),
        ({"serviceType": "x" * 5000}, "serviceType"),
        ({"submittedFrom": "31/01/2026"}, "submittedFrom"),
        ({"submittedFrom": "2026-02-01", "submittedTo": "2026-01-01"}, "submittedTo"),
    ],
)
@pytest.mark.parametrize("sent", ["address", "form"])
def test_bad_filters_are_explained_next_to_the_field_without_calling_admin_api(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, params: dict[str, str], field: str,
    sent: str,
) -> None:  # fmt: skip
    dev_sign_in(admin_client)
    csrf = csrf_in(admin_client.get("/admin").text)
    before = len(fake_admin_api.calls)
    if sent == "address":
        page = admin_client.get("/admin", params=params)
    else:
        page = search(admin_client, csrf=csrf, **params)
    assert page.status_code == 422
    error = soup(page).find(id=f"filter-{field}-error")
    assert error is not None and error.get_text(strip=True)
    assert len(fake_admin_api.calls) == before


@pytest.mark.parametrize("htmx", [True, False])
@pytest.mark.parametrize("text", ["x" * 201, "ada@example.com " * 400])
def test_an_oversized_search_text_is_explained_without_calling_admin_api(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, htmx: bool, text: str
) -> None:
    dev_sign_in(admin_client)
    csrf = csrf_in(admin_client.get("/admin").text)
    before = len(fake_admin_api.calls)
    page = search(admin_client, htmx, csrf, q=text, status="won")
    assert page.status_code == 422
    document = soup(page)
    assert document.find(id="filter-q-error").get_text(strip=True) == (
        "Search for at most 200 characters."
    )
    field = document.find("input", attrs={"name": "q"})
    assert field["aria-invalid"] == "true" and "filter-q-error" in field["aria-describedby"]
    assert len(fake_admin_api.calls) == before
    assert "hx-push-url" not in page.headers
    assert_kept_out_of_urls(page, "xxxxx", "ada@")
    # The CSV button of an edited form is refused the same way, with no download.
    csrf = csrf_in(page.text)
    refused = admin_client.post("/admin/submissions.csv", data={"csrf_token": csrf, "q": text})
    assert refused.status_code == 422 and "content-disposition" not in refused.headers
    assert "Search for at most 200 characters." in refused.text
    assert len(fake_admin_api.calls) == before


def test_a_search_larger_than_a_form_may_be_is_refused_clearly(
    admin_client: TestClient, fake_admin_api: FakeAdminApi
) -> None:
    dev_sign_in(admin_client)
    csrf = csrf_in(admin_client.get("/admin").text)
    before = len(fake_admin_api.calls)
    page = search(admin_client, csrf=csrf, q="a" * 300_000)
    assert page.status_code == 413 and "Too much text" in page.text
    assert len(fake_admin_api.calls) == before


def test_paging_follows_the_continuation_token_and_returns_to_the_first_page(
    admin_client: TestClient, fake_admin_api: FakeAdminApi
) -> None:
    fake_admin_api.add(*(sample(cid, days_ago=n) for n, cid in enumerate(_ids() + _ids())))
    fake_admin_api.page_size_cap = 4
    dev_sign_in(admin_client)
    first = soup(admin_client.get("/admin", params={"industry": "manufacturing"}))
    assert len(first.select("a.client-id-link")) == 4
    assert first.find("a", string="Back to first page") is None
    following = first.find("a", string="Next page")["href"]
    assert "continuationToken=offset-4" in following and "industry=manufacturing" in following
    second = soup(admin_client.get(following))
    assert len(second.select("a.client-id-link")) == 2
    assert second.find("a", string="Next page") is None
    assert second.find("a", string="Back to first page")["href"] == "/admin?industry=manufacturing"


def test_an_edited_continuation_token_says_start_again(admin_client: TestClient, ids: Any) -> None:
    dev_sign_in(admin_client)
    page = admin_client.get("/admin", params={"continuationToken": "forged"})
    assert page.status_code == 422
    assert "no longer works" in page.text
    assert soup(page).find("a", string="Back to first page")["href"] == "/admin"
    # With search text, no link can take the staff member back: the form, still filled, can.
    page = search(admin_client, q="Acme", continuationToken="forged")
    assert page.status_code == 422 and "Search again to start from the first page" in page.text
    assert soup(page).find("input", attrs={"name": "q"})["value"] == "Acme"
    assert_kept_out_of_urls(page, "acme")


@pytest.mark.parametrize("htmx", [True, False])
def test_paging_through_a_search_keeps_its_text_in_the_form_body(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, htmx: bool
) -> None:
    email = "grace.hopper@navy.example"
    fake_admin_api.add(*(sample(cid, contact="Grace Hopper", email=email, days_ago=n)
                         for n, cid in enumerate(_ids() + _ids())))  # fmt: skip
    fake_admin_api.add(sample(_ids()[0], email="someone@else.example"))
    fake_admin_api.page_size_cap = 4
    dev_sign_in(admin_client)
    first = search(admin_client, htmx, q=email, industry="manufacturing")
    assert len(soup(first).select("a.client-id-link")) == 4
    assert first.headers.get("hx-push-url") == ("/admin?industry=manufacturing" if htmx else None)
    following = soup(first).find("button", string="Next page").find_parent("form")
    assert following["method"] == "post" and following["action"] == "/admin"
    assert ("hx-post" in following.attrs) is True
    body = {i["name"]: i["value"] for i in following.find_all("input")}
    assert body["q"] == email and body["continuationToken"] == "offset-4"
    second = admin_client.post("/admin", data=body,
                               headers={"HX-Request": "true"} if htmx else {})  # fmt: skip
    assert second.status_code == 200
    assert fake_admin_api.calls[-1].params == {"q": email, "industry": "manufacturing",
                                               "limit": "25", "continuationToken": "offset-4"}  # fmt: skip
    assert len(soup(second).select("a.client-id-link")) == 2
    assert soup(second).find(string="Next page") is None
    # Turning a page is no new step in the browser's history: it stays where the search put it.
    assert "hx-push-url" not in second.headers
    assert second.headers.get("hx-replace-url") == (
        "/admin?industry=manufacturing" if htmx else None
    )
    back = soup(second).find("button", string="Back to first page").find_parent("form")
    body = {i["name"]: i["value"] for i in back.find_all("input")}
    assert body["q"] == email and "continuationToken" not in body
    for page in (first, second):
        assert_kept_out_of_urls(page, email, "grace", "navy")


def test_a_search_without_text_and_without_javascript_goes_to_its_own_address(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: Any
) -> None:
    """Post/redirect/get: a bookmarkable address, and Back or reload resend nothing."""
    dev_sign_in(admin_client)
    answer = search(admin_client, q="   ", status="contacted", industry="")
    assert answer.status_code == 303 and answer.headers["location"] == "/admin?status=contacted"
    page = admin_client.get(answer.headers["location"])
    assert [a.get_text() for a in soup(page).select("a.client-id-link")] == [ids[1]]
    assert soup(page).find("a", string="Download CSV")["href"] == (
        "/admin/submissions.csv?status=contacted"
    )


@pytest.mark.parametrize("htmx", [True, False])
def test_an_old_link_with_search_text_goes_to_its_address_without_it(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: Any, htmx: bool
) -> None:
    """A bookmark from before the search moved into POST bodies: the text is neither searched
    for nor shown, the address bar stops showing it, and a notice says why."""
    dev_sign_in(admin_client)
    before = len(fake_admin_api.calls)
    headers = {"HX-Request": "true"} if htmx else {}
    old = {"q": "grace.hopper@navy.example", "status": "received"}
    answer = admin_client.get("/admin", params=old, headers=headers)
    if htmx:
        assert (
            answer.status_code == 204 and answer.headers["hx-redirect"] == "/admin?status=received"
        )
    else:
        assert answer.status_code == 303 and answer.headers["location"] == "/admin?status=received"
    assert len(fake_admin_api.calls) == before  # not searched for
    page = admin_client.get("/admin?status=received")
    assert fake_admin_api.calls[-1].params == {"status": "received", "limit": "25"}
    document = soup(page)
    notice = document.find(class_="alert-info")
    assert notice.h2.get_text() == "Search text is not taken from links"
    assert "grace.hopper" not in page.text
    assert document.find("input", attrs={"name": "q"})["value"] == ""
    # The notice is shown once; the old form's empty "q=" goes without one.
    answer = admin_client.get("/admin", params={"q": " ", "industry": "manufacturing"})
    assert answer.headers["location"] == "/admin?industry=manufacturing"
    assert soup(admin_client.get(answer.headers["location"])).find(class_="alert-info") is None
    # An old CSV link with text downloads nothing (not everything without the text).
    answer = admin_client.get("/admin/submissions.csv", params=old)
    assert answer.status_code == 303 and answer.headers["location"] == "/admin?status=received"
    assert "content-disposition" not in answer.headers
    assert not [c for c in fake_admin_api.calls if c.path == "/v1/submissions.csv"]
    assert not [c for c in fake_admin_api.calls if "q" in c.params]


@pytest.mark.parametrize("path", ["/admin", "/admin/submissions.csv"])
@pytest.mark.parametrize("token", [None, "", "forged-token-forged-token-forged-token"])
def test_a_search_or_its_csv_without_a_valid_csrf_token_is_refused(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: Any, path: str,
    token: str | None,
) -> None:  # fmt: skip
    dev_sign_in(admin_client)
    before = len(fake_admin_api.calls)
    data = {"q": "ada@example.com"} | ({"csrf_token": token} if token is not None else {})
    answer = admin_client.post(path, data=data)
    assert answer.status_code == 403 and "content-disposition" not in answer.headers
    assert len(fake_admin_api.calls) == before


def test_a_search_sent_after_the_sign_in_ended_asks_to_sign_in_again(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: Any
) -> None:
    dev_sign_in(admin_client)
    token = csrf_in(admin_client.get("/admin").text)
    before = len(fake_admin_api.calls)
    for name in [n for n in admin_client.cookies if n.startswith("intake_ui_staff")]:
        admin_client.cookies.delete(name)
    answer = admin_client.post("/admin", data={"csrf_token": token, "q": "Acme"})
    assert answer.status_code == 303 and answer.headers["location"] == "/admin"
    assert len(fake_admin_api.calls) == before


def test_the_csv_of_a_search_with_text_is_posted_and_streams_through(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: tuple[str, str, str]
) -> None:
    dev_sign_in(admin_client)
    page = search(admin_client, q="hank@globex.example", status="contacted")
    form = soup(page).find("button", string="Download CSV").find_parent("form")
    body = {i["name"]: i["value"] for i in form.find_all("input")}
    answer = admin_client.post(form["action"], data=body,
                               headers={"Sec-Fetch-Site": "same-origin"})  # fmt: skip
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == 'attachment; filename="submissions-test.csv"'
    assert answer.text.splitlines() == ["\ufeffclientId,companyName,status",
                                        f"{ids[1]},Globex,contacted"]  # fmt: skip
    assert fake_admin_api.calls[-1].path == "/v1/submissions.csv"
    assert fake_admin_api.calls[-1].params == {"q": "hank@globex.example", "status": "contacted"}

    # Started from another site it is refused, and the refusal offers no link with the text.
    before = len(fake_admin_api.calls)
    refused = admin_client.post(form["action"], data=body, headers={"Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 403 and "content-disposition" not in refused.headers
    assert soup(refused).h1.get_text(strip=True) == "The download was not started"
    assert soup(refused).find("a", string="Download it") is None
    assert [a["href"] for a in soup(refused).main.find_all("a")] == ["/admin"]
    assert len(fake_admin_api.calls) == before

    # Without the Export role: admin-api's 403, explained.
    dev_sign_in(admin_client, ("Submissions.Read",))
    body["csrf_token"] = csrf_in(admin_client.get("/admin").text)
    denied = admin_client.post(form["action"], data=body)
    assert denied.status_code == 403 and "This needs the Submissions.Export role" in denied.text


def test_the_record_shows_everything_escaped_with_the_allowed_transitions(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: tuple[str, str, str]
) -> None:
    dev_sign_in(admin_client)
    page = admin_client.get(f"/admin/submissions/{ids[2]}")
    assert page.status_code == 200
    assert_safe_page(page)
    document = soup(page)
    assert document.find("h1").get_text().strip().startswith(HOSTILE)
    text = document.get_text()
    for expected in ("Manufacturing", "1 High Street", "United Kingdom",
                     "evil@example.com", "+442079460958", "Kubernetes", "In 1 to 3 months",
                     "2026-01", '"><svg onload=alert(1)>', '=HYPERLINK("http://evil")'):  # fmt: skip
        assert expected in text
    assert document.find("svg") is None and document.find("b") is None
    radios = document.select("form.status-form input[type=radio]")
    assert [r["value"] for r in radios] == ["contacted"]
    etag = document.find("input", attrs={"name": "etag"})["value"]
    assert etag == 'W/"1"'
    for radio in radios:
        assert document.find("label", attrs={"for": radio["id"]}).get_text(strip=True)


@pytest.mark.parametrize("lowercase", [False, True])
def test_a_client_id_in_the_address_is_normalised(
    admin_client: TestClient, ids: tuple[str, str, str], lowercase: bool
) -> None:
    dev_sign_in(admin_client)
    typed = ids[0].lower().replace("-", "") if lowercase else ids[0]
    assert admin_client.get(f"/admin/submissions/{typed}").status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/admin/submissions/not-an-id", "/admin/submissions/CL-0000-0000-0001",
     "/admin/submissions/%3Cscript%3E", "/admin/submissions/" + "A" * 3000,
     "/admin/submissions/CL-0000-0000-0001/audit", "/admin/submissions/x/erase"],
)  # fmt: skip
def test_unknown_or_malformed_client_ids_are_a_friendly_404(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, path: str
) -> None:
    dev_sign_in(admin_client)
    page = admin_client.get(path)
    assert page.status_code == 404
    assert "No such submission" in page.text
    assert "Sign out" in page.text  # still in the staff frame
    assert_safe_page(page)


def _status_form(client: TestClient, client_id: str) -> dict[str, str]:
    page = client.get(f"/admin/submissions/{client_id}")
    document = soup(page)
    return {
        "csrf_token": csrf_in(page.text),
        "etag": document.find("input", attrs={"name": "etag"})["value"],
    }


def test_changing_the_status_sends_if_match_and_shows_the_new_status(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: tuple[str, str, str]
) -> None:
    dev_sign_in(admin_client)
    form = _status_form(admin_client, ids[0])
    answer = admin_client.post(f"/admin/submissions/{ids[0]}/status",
                               data={**form, "status": "contacted"})  # fmt: skip
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/admin/submissions/{ids[0]}"
    patch = next(c for c in fake_admin_api.calls if c.method == "PATCH")
    assert patch.if_match == 'W/"1"' and patch.body == {"status": "contacted"}
    page = soup(admin_client.get(answer.headers["location"]))
    assert "Status changed" in page.get_text()
    assert page.select_one(".record-meta .badge").get_text() == "Contacted"
    assert [r["value"] for r in page.select("input[type=radio]")] == ["qualified"]


def test_with_htmx_the_record_is_swapped_in_place(
    admin_client: TestClient, ids: tuple[str, str, str]
) -> None:
    dev_sign_in(admin_client)
    form = _status_form(admin_client, ids[0])
    answer = admin_client.post(f"/admin/submissions/{ids[0]}/status",
                               data={**form, "status": "contacted"},
                               headers={"HX-Request": "true"})  # fmt: skip
    assert answer.status_code == 200
    assert "<html" not in answer.text
    fragment = soup(answer)
    assert fragment.find(id="record") is not None
    assert "Status changed" in fragment.get_text()


def test_a_stale_etag_says_the_record_changed_and_shows_the_fresh_one(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: tuple[str, str, str]
) -> None:
    dev_sign_in(admin_client)
    form = _status_form(admin_client, ids[0])
    # Someone else moves it on meanwhile.
    fake_admin_api.records[ids[0]] = fake_admin_api.records[ids[0]].model_copy(
        update={"status": Status.CONTACTED}
    )
    fake_admin_api.versions[ids[0]] += 1
    answer = admin_client.post(f"/admin/submissions/{ids[0]}/status",
                               data={**form, "status": "contacted"})  # fmt: skip
    assert answer.status_code == 412
    document = soup(answer)
    assert "changed meanwhile" in document.get_text()
    assert document.find("input", attrs={"name": "etag"})["value"] == 'W/"2"'
    assert [r["value"] for r in document.select("input[type=radio]")] == ["qualified"]


def test_a_transition_admin_api_refuses_is_explained(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: tuple[str, str, str]
) -> None:
    dev_sign_in(admin_client)
    form = _status_form(admin_client, ids[0])
    answer = admin_client.post(f"/admin/submissions/{ids[0]}/status",
                               data={**form, "status": "won"})  # fmt: skip
    assert answer.status_code == 409
    assert "not allowed" in answer.text


@pytest.mark.parametrize("status", ["", "archived", "<script>", "x" * 10_000])
def test_an_unknown_status_is_refused_before_admin_api(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: Any, status: str
) -> None:
    dev_sign_in(admin_client)
    form = _status_form(admin_client, ids[0])
    answer = admin_client.post(f"/admin/submissions/{ids[0]}/status",
                               data={**form, "status": status})  # fmt: skip
    assert answer.status_code == 422
    assert "Choose a new status" in answer.text
    assert not [c for c in fake_admin_api.calls if c.method == "PATCH"]


@pytest.mark.parametrize("suffix", ["status", "erase"])
@pytest.mark.parametrize("token", [None, "", "forged-token-forged-token-forged-token"])
def test_posts_without_a_valid_csrf_token_are_refused(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: Any, suffix: str,
    token: str | None,
) -> None:  # fmt: skip
    dev_sign_in(admin_client)
    data = {"status": "contacted", "confirm": ids[0], "etag": 'W/"1"'}
    if token is not None:
        data["csrf_token"] = token
    answer = admin_client.post(f"/admin/submissions/{ids[0]}/{suffix}", data=data)
    assert answer.status_code == 403
    assert not [c for c in fake_admin_api.calls if c.method in {"PATCH", "POST"}]


@pytest.mark.parametrize("suffix", ["status", "erase"])
def test_a_session_and_token_from_an_anonymous_visit_do_not_carry_a_staff_action(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: Any, suffix: str
) -> None:
    """A session cookie planted in a staff browser (a sibling subdomain, plain http) comes with
    a token its planter knows: the staff forms' token is bound to the staff sign-in instead."""
    dev_sign_in(admin_client)
    with TestClient(admin_client.app) as anonymous:
        planted_token = csrf_in(anonymous.get("/").text)
        planted_session = anonymous.cookies["intake_ui_session"]
    admin_client.cookies.delete("intake_ui_session")
    admin_client.cookies.set("intake_ui_session", planted_session)
    data = {"status": "contacted", "confirm": ids[0], "etag": 'W/"1"', "csrf_token": planted_token}
    answer = admin_client.post(f"/admin/submissions/{ids[0]}/{suffix}", data=data)
    assert answer.status_code == 403
    assert not [c for c in fake_admin_api.calls if c.method in {"PATCH", "POST"}]
    # The token shown to the signed-in staff member is another one, and it works.
    staff_token = csrf_in(admin_client.get(f"/admin/submissions/{ids[0]}").text)
    assert staff_token != planted_token
    data["csrf_token"] = staff_token
    assert admin_client.post(f"/admin/submissions/{ids[0]}/status", data=data).status_code == 303


def test_a_staff_form_sent_after_the_sign_in_ended_asks_to_sign_in_again(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: Any
) -> None:
    dev_sign_in(admin_client)
    token = csrf_in(admin_client.get(f"/admin/submissions/{ids[0]}").text)
    for name in [n for n in admin_client.cookies if n.startswith("intake_ui_staff")]:
        admin_client.cookies.delete(name)
    data = {"status": "contacted", "etag": 'W/"1"', "csrf_token": token}
    answer = admin_client.post(f"/admin/submissions/{ids[0]}/status", data=data)
    assert answer.status_code == 303 and answer.headers["location"] == "/admin"
    assert not [c for c in fake_admin_api.calls if c.method in {"PATCH", "POST"}]


def test_sign_out_needs_the_csrf_token(admin_client: TestClient) -> None:
    dev_sign_in(admin_client)
    assert admin_client.post("/admin/sign-out", data={}).status_code == 403


def test_the_csv_streams_through_with_its_file_name(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: tuple[str, str, str]
) -> None:
    dev_sign_in(admin_client)
    answer = admin_client.get("/admin/submissions.csv", params={"status": "contacted"})
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == 'attachment; filename="submissions-test.csv"'
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["cache-control"] == "no-store"
    assert answer.text.splitlines() == ["\ufeffclientId,companyName,status",
                                        f"{ids[1]},Globex,contacted"]  # fmt: skip
    assert fake_admin_api.calls[-1].params == {"status": "contacted"}


def test_the_subject_export_streams_through(
    admin_client: TestClient, ids: tuple[str, str, str]
) -> None:
    dev_sign_in(admin_client)
    answer = admin_client.get(f"/admin/submissions/{ids[1]}/subject-export")
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == f'attachment; filename="subject-{ids[1]}.json"'
    assert answer.json()["company"]["name"] == "Globex"


@pytest.mark.parametrize("export", ["csv", "subject"])
def test_an_export_linked_from_another_site_is_not_started(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: tuple[str, str, str],
    export: str,
) -> None:  # fmt: skip
    dev_sign_in(admin_client)
    path = (
        "/admin/submissions.csv?status=contacted"
        if export == "csv"
        else f"/admin/submissions/{ids[1]}/subject-export"
    )
    before = len(fake_admin_api.calls)
    answer = admin_client.get(path, headers={"Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 403
    assert "content-disposition" not in answer.headers
    assert len(fake_admin_api.calls) == before  # nothing asked of admin-api, nothing audited
    page = BeautifulSoup(answer.text, "html.parser")
    assert page.h1.get_text(strip=True) == "The download was not started"
    assert "another website" in page.main.get_text()
    # Linked from this page, the same download works.
    assert page.find("a", string="Download it")["href"] == path
    for started_here in ("same-origin", "same-site", "none", None):
        headers = {"Sec-Fetch-Site": started_here} if started_here else {}
        answer = admin_client.get(path, headers=headers)
        assert answer.status_code == 200, started_here
        assert answer.headers["content-disposition"].startswith("attachment")


def test_the_audit_trail_lists_who_did_what(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: tuple[str, str, str]
) -> None:
    fake_admin_api.audit[ids[0]] = [
        {"at": "2026-01-02T10:00:00Z", "action": "submission.read", "actor": HOSTILE,
         "details": {"requestId": "<i>r1</i>"}},
        {"at": "2026-01-02T11:00:00Z", "action": "custom.thing", "actor": "b@example.com",
         "details": {}},
    ]  # fmt: skip
    dev_sign_in(admin_client)
    record = soup(admin_client.get(f"/admin/submissions/{ids[0]}"))
    href = record.find("a", string="Audit trail")["href"]
    page = admin_client.get(href)
    assert page.status_code == 200
    assert_safe_page(page)
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")]
            for tr in soup(page).select("tbody tr")]  # fmt: skip
    assert rows[0][1:] == [HOSTILE, "Viewed the record", "Request ID: <i>r1</i>"]
    assert rows[0][0] == "02 Jan 2026, 10:00 UTC"
    assert rows[1][2:] == ["custom.thing", "—"]


def test_erasure_needs_the_client_id_typed_then_shows_the_tombstone(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: tuple[str, str, str]
) -> None:
    dev_sign_in(admin_client)
    record = soup(admin_client.get(f"/admin/submissions/{ids[0]}"))
    confirm_url = record.find("a", string="Erase personal data")["href"]
    confirm = admin_client.get(confirm_url)
    assert confirm.status_code == 200
    form = soup(confirm).select_one("#erase form")
    label = soup(confirm).find("label", attrs={"for": "confirm"})
    assert ids[0] in label.get_text()
    csrf = csrf_in(confirm.text)

    why = {"reason": "subject-request"}
    wrong = admin_client.post(form["action"], data={"csrf_token": csrf, "confirm": ids[1], **why})
    assert wrong.status_code == 422
    assert soup(wrong).find(id="confirm")["value"] == ids[1]
    assert soup(wrong).find(id="confirm-error").get_text(strip=True)
    assert not [c for c in fake_admin_api.calls if c.path.endswith("/erase")]

    typed = ids[0].lower().replace("-", " ")  # case and separators do not matter
    done = admin_client.post(form["action"], data={"csrf_token": csrf, "confirm": typed, **why})
    assert done.status_code == 303
    [sent] = [c for c in fake_admin_api.calls if c.path.endswith("/erase")]
    assert sent.body == {"reason": "subject-request"}
    tombstone = admin_client.get(done.headers["location"])
    text = soup(tombstone).get_text()
    assert "Personal data erased" in text and "Erased submission" in text
    sentence = soup(tombstone).select_one("p.erasure-reason").get_text(" ", strip=True)
    assert sentence.startswith(
        "The personal data of this submission was erased by dev-staff@example.com on "
    )
    assert "UTC \u2014 the person asked for erasure." in sentence
    assert "Acme" not in text and "Ada" not in text
    assert soup(tombstone).find("a", string="Erase personal data") is None
    assert soup(tombstone).find("a", string="Audit trail") is not None


@pytest.mark.parametrize(
    ("roles", "hidden"),
    [
        (("Submissions.Read",), {"Download CSV", "Audit trail", "Erase personal data",
                                 "Download subject data (JSON)", "status-form"}),
        (("Submissions.Read", "Submissions.Manage"), {"Download CSV", "Erase personal data",
                                                      "Audit trail", "Download subject data (JSON)"}),
        (("Submissions.Read", "Audit.Read", "Submissions.Export"), {"Erase personal data",
                                                                    "status-form"}),
        (ALL_ROLES, set()),
    ],
)  # fmt: skip
def test_controls_without_the_role_are_hidden(
    admin_client: TestClient, ids: tuple[str, str, str], roles: tuple[str, ...], hidden: set[str]
) -> None:
    dev_sign_in(admin_client, roles)
    listing = soup(admin_client.get("/admin"))
    record = soup(admin_client.get(f"/admin/submissions/{ids[0]}"))
    shown = {a.get_text() for a in [*listing.find_all("a"), *record.find_all("a")]}
    if record.find("form", class_="status-form"):
        shown.add("status-form")
    expected = {"Download CSV", "Audit trail", "Erase personal data",
                "Download subject data (JSON)", "status-form"}  # fmt: skip
    assert expected - shown == hidden


def test_a_missing_role_still_gets_a_friendly_403(
    admin_client: TestClient, ids: tuple[str, str, str]
) -> None:
    dev_sign_in(admin_client, ("Submissions.Read",))
    for path in (f"/admin/submissions/{ids[0]}/audit", "/admin/submissions.csv",
                 f"/admin/submissions/{ids[0]}/erase"):  # fmt: skip
        page = admin_client.get(path)
        assert page.status_code == 403, path
        assert "do not have access" in page.text
        assert_safe_page(page)
    csrf = csrf_in(admin_client.get(f"/admin/submissions/{ids[0]}").text)
    changed = admin_client.post(f"/admin/submissions/{ids[0]}/status",
                                data={"csrf_token": csrf, "status": "contacted"})  # fmt: skip
    assert changed.status_code == 403 and "do not have access" in changed.text
    via_htmx = admin_client.post(f"/admin/submissions/{ids[0]}/status",
                                 data={"csrf_token": csrf, "status": "contacted"},
                                 headers={"HX-Request": "true"})  # fmt: skip
    assert via_htmx.status_code == 200 and via_htmx.headers["hx-retarget"] == "#main"
    assert "do not have access" in via_htmx.text


def test_a_staff_member_with_no_role_sees_the_403_on_the_list(
    admin_client: TestClient, ids: Any
) -> None:
    dev_sign_in(admin_client, ())
    page = admin_client.get("/admin")
    assert page.status_code == 403 and "do not have access" in page.text


def _headings_and_links(page: Any) -> tuple[list[str], list[str]]:
    main = soup(page).find("main")
    headings = [h.get_text(" ", strip=True) for h in main.find_all(["h1", "h2", "h3"])]
    return headings, [a["href"] for a in main.find_all("a")]


def test_the_no_access_page_names_the_role_and_does_not_loop_back(
    admin_client: TestClient, ids: tuple[str, str, str]
) -> None:
    dev_sign_in(admin_client, ("Submissions.Read",))
    for path, role in ((f"/admin/submissions/{ids[0]}/audit", "Audit.Read"),
                       ("/admin/submissions.csv", "Submissions.Export"),
                       (f"/admin/submissions/{ids[0]}/erase", "Submissions.Erase")):  # fmt: skip
        page = admin_client.get(path)
        headings, links = _headings_and_links(page)
        assert headings == ["You do not have access to this"], path
        assert f"This needs the {role} role" in page.text, path
        assert links == ["/admin"], path  # somewhere else to go, not the same page

    # With no role at all the list itself fails: no link back to it, a way to sign out instead.
    dev_sign_in(admin_client, ())
    page = admin_client.get("/admin")
    headings, links = _headings_and_links(page)
    assert page.status_code == 403 and headings == ["You do not have access to this"]
    assert "This needs the Submissions.Read role" in page.text
    assert links == []
    form = soup(page).find("main").find("form", action="/admin/sign-out")
    assert form is not None and "another account" in form.get_text()


@pytest.mark.parametrize("role", ["<b>Evil.Role</b>", "Submissions.Everything", 42, None])
def test_a_403_naming_no_role_of_ours_names_none(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: Any, role: Any
) -> None:
    dev_sign_in(admin_client)
    fake_admin_api.script(
        Scripted(403, {"detail": "This needs the Audit.Read role.", "role": role})
    )
    page = admin_client.get(f"/admin/submissions/{ids[0]}")
    assert page.status_code == 403 and "do not have access" in page.text
    assert "This needs the" not in page.text and "Evil" not in page.text


def test_the_unavailable_page_offers_to_try_again_not_a_loop(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: Any
) -> None:
    dev_sign_in(admin_client)
    fake_admin_api.script(Scripted(503), Scripted(503))
    page = admin_client.get("/admin", params={"status": "won"})
    headings, links = _headings_and_links(page)
    assert page.status_code == 503 and headings == ["The staff service is not available"]
    try_again = soup(page).find("main").find("a", string="Try again")
    assert try_again is not None and try_again["href"] == "/admin?status=won"
    assert links == ["/admin?status=won"]
    assert "tell the team that runs the platform" in page.text

    # A search with text cannot be tried again by a link: the form keeps it, one press away.
    csrf = csrf_in(admin_client.get("/admin").text)
    for htmx in (False, True):
        fake_admin_api.script(Scripted(503), Scripted(503))
        page = search(admin_client, htmx, csrf, q="Acme", status="won")
        assert page.status_code == 503 and page.headers["retry-after"] == "30"
        document = soup(page)
        assert document.find(role="alert").h2.get_text() == "The staff service is not available"
        assert document.find("input", attrs={"name": "q"})["value"] == "Acme"
        assert document.find("button", string="Search") is not None
        assert "hx-push-url" not in page.headers
        assert_kept_out_of_urls(page, "acme")

    fake_admin_api.script(Scripted(503), Scripted(503))
    page = admin_client.get(f"/admin/submissions/{ids[0]}")
    headings, links = _headings_and_links(page)
    assert headings == ["The staff service is not available"]
    assert links == [f"/admin/submissions/{ids[0]}", "/admin"]


def test_a_rejected_token_signs_the_staff_member_out(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: Any
) -> None:
    dev_sign_in(admin_client)
    fake_admin_api.script(Scripted(401, {"detail": "expired"}))
    answer = admin_client.get("/admin")
    assert answer.status_code == 303 and answer.headers["location"] == "/admin"
    assert 'intake_ui_staff_0=""' in answer.headers["set-cookie"]
    again = admin_client.get("/admin")
    assert "Staff sign-in" in again.text and "Please sign in again" in again.text
    fake_admin_api.script(Scripted(401))
    dev_sign_in(admin_client)
    via_htmx = admin_client.get("/admin", headers={"HX-Request": "true"})
    assert via_htmx.headers["hx-redirect"] == "/admin"


@pytest.mark.parametrize(
    ("answer", "status", "message"),
    [
        (Scripted(404), 404, "No such submission"),
        (Scripted(409, {"detail": "erased"}), 409, "Not possible right now"),
        (Scripted(422), 422, "not valid"),
        (Scripted(500), 503, "not available"),
        (Scripted(502), 503, "not available"),
        (Scripted(503, headers={"Retry-After": "5"}), 503, "not available"),
        (Scripted(418), 503, "not available"),
        (Scripted(200, raw=b"<html>not json"), 503, "not available"),
        (Scripted(200, raw=b'{"clientId": 5}'), 503, "not available"),
    ],
)
def test_admin_api_failures_on_a_record_are_explained(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: Any,
    answer: Scripted, status: int, message: str,
) -> None:  # fmt: skip
    dev_sign_in(admin_client)
    # Two answers: reads are retried once on 5xx.
    fake_admin_api.script(answer, answer)
    page = admin_client.get(f"/admin/submissions/{ids[0]}")
    assert page.status_code == status
    assert message in page.text
    assert_safe_page(page)
    if status == 503:
        assert page.headers["retry-after"] == "30"


def test_an_unreachable_admin_api_is_explained(fake_api: Any, tmp_path: Any) -> None:
    from intake_ui.admin_api import AdminApiClient
    from intake_ui.app import UiDeps, create_app
    from intake_ui.intake_api import IntakeApiClient
    from intake_ui.settings import IntakeUiSettings

    def refuse(_: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    down = AdminApiClient(httpx.AsyncClient(transport=httpx.MockTransport(refuse),
                                            base_url="http://admin-api"), max_wait_seconds=0.01)  # fmt: skip
    deps = UiDeps(intake_api=IntakeApiClient(httpx.AsyncClient()), admin_api=down)
    settings = IntakeUiSettings(environment="test", INTAKE_DATA_DIR=tmp_path)
    with TestClient(create_app(settings, deps=deps), follow_redirects=False) as client:
        dev_sign_in(client)
        for path in ("/admin", "/admin/figures", "/admin/submissions.csv",
                     "/admin/submissions/CL-0000-0000-0000"):  # fmt: skip
            page = client.get(path)
            assert page.status_code == 503, path
            assert "not available" in page.text
        # After five failures the breaker opens: answers stay fast and friendly.
        assert client.get("/admin").status_code == 503


def test_a_failed_csv_download_is_a_page_not_a_broken_file(
    admin_client: TestClient, fake_admin_api: FakeAdminApi
) -> None:
    dev_sign_in(admin_client)
    fake_admin_api.script(Scripted(503))
    page = admin_client.get("/admin/submissions.csv")
    assert page.status_code == 503 and "not available" in page.text
    assert "content-disposition" not in page.headers
    bad = admin_client.get("/admin/submissions.csv", params={"status": "nope"})
    assert bad.status_code == 303 and bad.headers["location"].startswith("/admin?")


def test_figures_come_from_admin_api_as_inline_svg_without_style_attributes(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: tuple[str, str, str]
) -> None:
    dev_sign_in(admin_client)
    page = admin_client.get("/admin/figures")
    assert page.status_code == 200
    assert_safe_page(page)
    [call] = [call for call in fake_admin_api.calls if call.path == "/v1/figures"]
    assert call.params == {"days": "30"} and call.token
    assert not [call for call in fake_admin_api.calls if call.path == "/v1/submissions"]
    document = soup(page)
    chart = document.find("svg", class_="chart")
    assert chart["role"] == "img"
    # One bar per day and status: three days with one submission each.
    titles = [bar.title.get_text() for bar in chart.find_all("rect")]
    assert [re.fullmatch(r"\d{1,2} \w{3}: 1 (\w+)", t).group(1) for t in titles] == [
        "Received", "Contacted", "Received"
    ]  # fmt: skip
    assert len(chart.find_all("text", class_="middle")) == 5  # every seventh of 30 days
    services = [li.get_text(" ", strip=True) for li in document.select("ul.bar-list li")]
    assert services == ["Kubernetes 2", "Cloud migration 1"]
    assert "3 in 30 days" in document.find(id="daily-caption").get_text()
    assert len(document.select("table.figures-table tbody tr")) == 30


def test_an_erased_submission_still_counts_in_the_figures(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: tuple[str, str, str]
) -> None:
    dev_sign_in(admin_client)
    csrf = csrf_in(admin_client.get("/admin").text)
    erased = admin_client.post(f"/admin/submissions/{ids[1]}/erase",
                               data={"csrf_token": csrf, "confirm": ids[1],
                                     "reason": "not-needed"})  # fmt: skip
    assert erased.status_code == 303
    assert isinstance(fake_admin_api.records[ids[1]], ErasedSubmission)
    document = soup(admin_client.get("/admin/figures"))
    assert "3 in 30 days" in document.find(id="daily-caption").get_text()
    assert "Cloud migration 1" in document.select_one("ul.bar-list").get_text(" ", strip=True)


def test_figures_admin_api_cannot_give_are_explained(
    admin_client: TestClient, fake_admin_api: FakeAdminApi
) -> None:
    dev_sign_in(admin_client)
    fake_admin_api.script(Scripted(503), Scripted(503))
    page = admin_client.get("/admin/figures")
    assert page.status_code == 503 and "not available" in page.text
    fake_admin_api.script(Scripted(200, raw=b'{"days": "not figures"}'))
    unreadable = admin_client.get("/admin/figures")
    assert unreadable.status_code == 503 and "Traceback" not in unreadable.text


@pytest.mark.parametrize("path", ["/admin/figures", "/admin/submissions.csv",
                                  "/admin/submissions/CL-0000-0000-0000",
                                  "/admin/submissions/CL-0000-0000-0000/audit"])  # fmt: skip
def test_pages_without_a_session_go_to_sign_in(admin_client: TestClient, path: str) -> None:
    answer = admin_client.get(path)
    assert answer.status_code == 303 and answer.headers["location"] == "/admin"


HOSTILE_TEXT = ["\x00", "\u202e\u0000'; DROP TABLE x;--", "%00", "../../etc/passwd", "😀" * 300,
                "=cmd|' /C calc'!A0", "\r\nSet-Cookie: x=y", "a" * 5_000]  # fmt: skip


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_hostile_input_anywhere_is_never_a_500(
    admin_client: TestClient, ids: tuple[str, str, str], text: str
) -> None:
    dev_sign_in(admin_client)
    csrf = csrf_in(admin_client.get("/admin").text)
    record = f"/admin/submissions/{ids[0]}"
    answers = [
        # The searches first: their text must never come back in a URL.
        admin_client.post("/admin", data={"csrf_token": csrf, "q": text, "submittedFrom": text}),
        admin_client.post("/admin", data={"csrf_token": csrf, "q": text,
                                          "continuationToken": text},
                          headers={"HX-Request": "true"}),
        admin_client.post("/admin/submissions.csv", data={"csrf_token": csrf, "q": text,
                                                          "industry": text}),
        admin_client.get("/admin/submissions.csv", params={"q": text}),
        admin_client.get("/admin", params={"q": text}),
        admin_client.get("/admin", params={"q": text, "submittedFrom": text}),
        admin_client.get("/admin", params={"continuationToken": text}),
        admin_client.get("/admin/submissions.csv", params={"industry": text}),
        admin_client.post(f"{record}/status", data={"csrf_token": csrf, "status": text,
                                                   "etag": text}),
        admin_client.post(f"{record}/erase", data={"csrf_token": csrf, "confirm": text}),
        admin_client.post(f"{record}/erase", data={"csrf_token": csrf, "confirm": ids[0],
                                                   "reason": text, "note": text}),
        admin_client.post(f"{record}/erase", data={"csrf_token": csrf, "confirm": text,
                                                   "reason": "other", "note": text}),
        admin_client.get("/admin/signed-in", params={"code": text, "state": text}),
        admin_client.post("/admin/dev-sign-in", data={"csrf_token": csrf, "name": text,
                                                     "email": text, "roles": text}),
    ]  # fmt: skip
    for answer in answers:
        assert answer.status_code < 500, answer.request.url
        assert "Traceback" not in answer.text
    for answer in answers[:5]:
        assert_kept_out_of_urls(answer, text)
    # Nothing hostile erased or changed the record, and the staff member is still signed in.
    assert ids[0] in admin_client.get("/admin").text


def test_audit_details_have_readable_names_in_a_sensible_order(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: tuple[str, str, str]
) -> None:
    fake_admin_api.audit[ids[0]] = [
        {"at": "2026-01-02T10:00:00Z", "action": "submission.created", "actor": "client",
         "details": {"userAgent": "Mozilla/5.0", "sourceIpHash": "ab12"}},
        {"at": "2026-01-02T11:00:00Z", "action": "submission.status_change",
         "actor": "b@example.com",
         "details": {"requestId": "r2", "to": "contacted", "from": "received", "extra": "x"}},
        {"at": "2026-03-04T03:17:00Z", "action": "submission.dead_letter_purged",
         "actor": "system:retention",
         "details": {"reason": "expired", "eventId": "e-1", "maxAgeDays": "30"}},
        # Written before a dead letter with no record was kept until it is too old.
        {"at": "2026-03-05T03:17:00Z", "action": "submission.dead_letter_purged",
         "actor": "system:retention", "details": {"reason": "no-record", "eventId": "e-2"}},
    ]  # fmt: skip
    dev_sign_in(admin_client)
    page = soup(admin_client.get(f"/admin/submissions/{ids[0]}/audit"))
    details = [[li.get_text(" ", strip=True) for li in td.find_all("li")]
               for td in page.select("td.audit-details")]  # fmt: skip
    assert details == [
        ["Browser: Mozilla/5.0", "Source IP (hashed): ab12"],
        ["From: Received", "To: Contacted", "extra: x", "Request ID: r2"],
        ["Reason: Too old to replay", "Dead letters kept for (days): 30", "Event ID: e-1"],
        ["Reason: No such record", "Event ID: e-2"],
    ]
    assert "Removed its undelivered notification (dead letter)" in page.get_text()


def test_a_record_without_notes_says_so_rather_than_none(
    admin_client: TestClient, ids: tuple[str, str, str]
) -> None:
    dev_sign_in(admin_client)
    page = soup(admin_client.get(f"/admin/submissions/{ids[0]}"))
    notes = page.find("dt", string="Notes").find_next_sibling("dd")
    assert notes.get_text(strip=True) == "No notes given"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "Initech"}, "No submissions match \u201cInitech\u201d. The search looks in"),
        (
            {"q": "Initech", "status": "won"},
            "No submissions match \u201cInitech\u201d with the filters chosen.",
        ),
        ({"industry": "healthcare"}, "No submissions match these filters."),
    ],
)
def test_an_empty_search_says_what_was_searched(
    admin_client: TestClient, ids: Any, params: dict[str, str], message: str
) -> None:
    dev_sign_in(admin_client)
    page = (
        search(admin_client, **params)
        if "q" in params
        else admin_client.get("/admin", params=params)
    )
    assert message in soup(page).find(id="dashboard").get_text(" ", strip=True)


def _erase_in_fake(fake: FakeAdminApi, client_id: str, actor: str, **details: str) -> None:
    from datetime import UTC, datetime

    record = fake.records[client_id]
    assert not isinstance(record, ErasedSubmission)
    fake.records[client_id] = ErasedSubmission.of(record, datetime(2026, 3, 4, 9, 30, tzinfo=UTC))
    fake.audit[client_id].append({"at": "2026-03-04T09:30:00Z", "action": "submission.erase",
                                  "actor": actor, "details": details})  # fmt: skip


def test_the_tombstone_says_who_erased_it_as_the_trail_records(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: tuple[str, str, str]
) -> None:
    """The tombstone keeps no reason; it once claimed "at the subject's request" for all. An
    erasure from before reasons were recorded gave none, and the page says so."""
    _erase_in_fake(fake_admin_api, ids[0], "ops@example.com", requestId="r1")
    _erase_in_fake(fake_admin_api, ids[1], "system:retention", reason="retention",
                   retentionDays="730")  # fmt: skip
    dev_sign_in(admin_client)
    by_staff = soup(admin_client.get(f"/admin/submissions/{ids[0]}")).find(id="record")
    text = by_staff.get_text(" ", strip=True)
    assert "erased by ops@example.com on 04 Mar 2026, 09:30 UTC \u2014 no reason was given." in text
    assert "subject's request" not in text
    by_retention = soup(admin_client.get(f"/admin/submissions/{ids[1]}")).get_text(" ", strip=True)
    assert "erased automatically on 04 Mar 2026, 09:30 UTC \u2014 the retention period (730 days) ended." in by_retention  # fmt: skip

    # Without Audit.Read the trail is not read: the tombstone says only when.
    dev_sign_in(admin_client, ("Submissions.Read",))
    calls = len(fake_admin_api.calls)
    page = soup(admin_client.get(f"/admin/submissions/{ids[0]}")).get_text(" ", strip=True)
    assert "was erased on 04 Mar 2026, 09:30 UTC" in page and "ops@example.com" not in page
    assert [c.path for c in fake_admin_api.calls[calls:]] == [f"/v1/submissions/{ids[0]}"]


def test_searching_an_erased_client_id_points_to_its_tombstone(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: tuple[str, str, str]
) -> None:
    from intake_core.domain.client_id import new_client_id

    _erase_in_fake(fake_admin_api, ids[0], "ops@example.com")
    dev_sign_in(admin_client)
    csrf = csrf_in(admin_client.get("/admin").text)
    page = soup(search(admin_client, csrf=csrf, q=ids[0].lower()))
    note = page.find(id="dashboard").get_text(" ", strip=True)
    assert f"{ids[0]} was erased on 04 Mar 2026, 09:30 UTC" in note
    link = page.find("a", string=f"Open the tombstone of {ids[0]}")
    assert link is not None and link["href"] == f"/admin/submissions/{ids[0]}"
    assert "No submissions match" not in note

    # An ID nobody has, or a plain text search: the usual message, and no record read.
    unknown = soup(search(admin_client, csrf=csrf, q=new_client_id()))
    assert "No submissions match" in unknown.find(id="dashboard").get_text()
    calls = len(fake_admin_api.calls)
    search(admin_client, csrf=csrf, q="nobody")
    assert [c.path for c in fake_admin_api.calls[calls:]] == ["/v1/submissions"]


def _erase_form(client: TestClient, client_id: str) -> tuple[str, str]:
    """The erase page's form action and CSRF token, as a staff member's browser gets them."""
    page = client.get(f"/admin/submissions/{client_id}/erase")
    assert page.status_code == 200
    return soup(page).select_one("#erase form")["action"], csrf_in(page.text)


def test_the_erase_form_asks_why_with_labelled_choices_and_a_note_without_personal_data(
    admin_client: TestClient, ids: tuple[str, str, str]
) -> None:
    dev_sign_in(admin_client)
    page = admin_client.get(f"/admin/submissions/{ids[0]}/erase")
    assert_safe_page(page)
    document = soup(page)
    group = document.select_one("#erase form fieldset")
    assert group.find("legend").get_text(strip=True) == "Why are you erasing it?"
    radios = group.find_all("input", attrs={"type": "radio"})
    assert [r["value"] for r in radios] == [
        "subject-request", "consent-withdrawn", "not-needed", "other"
    ]  # fmt: skip
    assert all(r["name"] == "reason" and r.has_attr("required") for r in radios)
    assert not any(r.has_attr("checked") for r in radios)  # a choice to make, not a default
    labels = [document.find("label", attrs={"for": r["id"]}).get_text(strip=True) for r in radios]
    assert labels[0] == "The person asked us to erase their data"
    assert all(labels)
    note = document.find("textarea", attrs={"name": "note"})
    assert note["maxlength"] == "500" and not note.has_attr("required")
    assert (
        document.find("label", attrs={"for": note["id"]}).get_text(strip=True) == "Note (optional)"
    )
    hint = document.find(id=note["aria-describedby"]).get_text(" ", strip=True)
    assert "stays in the audit trail" in hint and "no personal data" in hint
    # Reason and note come before the typed confirmation and the button.
    names = [c["name"] for c in document.select("#erase form [name]")]
    assert names.index("reason") < names.index("note") < names.index("confirm")


@pytest.mark.parametrize(
    ("answers", "errors"),
    [
        ({}, {"reason"}),
        ({"reason": "retention"}, {"reason"}),
        ({"reason": "<script>"}, {"reason"}),
        ({"reason": "other"}, {"note"}),
        ({"reason": "other", "note": "   \n  "}, {"note"}),
        ({"reason": "not-needed", "note": "x" * 501}, {"note"}),
        ({"reason": "not-needed", "note": "a\x07bell"}, {"note"}),
        ({"reason": "not-needed", "note": "zero\u200bwidth"}, {"note"}),
        ({"reason": "other", "confirm": "CL-0000-0000-0000"}, {"note", "confirm"}),
        ({"reason": "other", "note": "asked by ada@example.com"}, {"note"}),
    ],
)
def test_a_bad_erase_form_is_explained_next_to_each_field_keeping_the_answers(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: tuple[str, str, str],
    answers: dict[str, str], errors: set[str],
) -> None:  # fmt: skip
    dev_sign_in(admin_client)
    action, csrf = _erase_form(admin_client, ids[0])
    sent = {"confirm": ids[0], **answers}
    page = admin_client.post(action, data={"csrf_token": csrf, **sent})
    assert page.status_code == 422
    assert_safe_page(page)
    document = soup(page)
    for name in ("reason", "note", "confirm"):
        error = document.find(id=f"{name}-error")
        assert (error is not None) == (name in errors), name
        if error is not None:
            assert error.get_text(strip=True)
            described = document.find(attrs={"aria-describedby": re.compile(f"{name}-error")})
            assert described is not None, name
    summary = document.select_one("#erase .alert-error[role=alert]")
    assert {a["href"] for a in summary.find_all("a")} == {f"#{name}" for name in errors}
    # What was typed or chosen is still there.
    checked = document.select("input[name=reason][checked]")
    valid_reason = answers.get("reason") in {"other", "not-needed"}
    assert [r["value"] for r in checked] == ([answers["reason"]] if valid_reason else [])
    assert document.find("textarea", attrs={"name": "note"}).get_text() == answers.get("note", "")
    assert document.find(id="confirm")["value"] == sent["confirm"]
    assert not [c for c in fake_admin_api.calls if c.path.endswith("/erase")]
    assert not isinstance(fake_admin_api.records[ids[0]], ErasedSubmission)


def test_a_note_with_contact_details_is_refused_in_words_that_say_why(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: tuple[str, str, str]
) -> None:
    dev_sign_in(admin_client)
    action, csrf = _erase_form(admin_client, ids[0])
    page = admin_client.post(action, data={"csrf_token": csrf, "confirm": ids[0],
                                           "reason": "other", "note": "Call +44 20 7946 0958"})  # fmt: skip
    assert page.status_code == 422
    error = soup(page).find(id="note-error").get_text(" ", strip=True)
    assert "It must not hold an email address or a phone number" in error
    assert not [c for c in fake_admin_api.calls if c.path.endswith("/erase")]


def test_an_erasure_for_another_reason_sends_the_note_and_shows_it_with_the_reason(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: tuple[str, str, str]
) -> None:
    dev_sign_in(admin_client)
    action, csrf = _erase_form(admin_client, ids[0])
    note = "  Ticket 4711: <b>legal</b> hold ended.\nAgreed with the DPO.  "
    done = admin_client.post(action, data={"csrf_token": csrf, "confirm": ids[0],
                                           "reason": "other", "note": note})  # fmt: skip
    assert done.status_code == 303
    [sent] = [c for c in fake_admin_api.calls if c.path.endswith("/erase")]
    assert sent.body == {"reason": "other", "note": note.strip()}

    tombstone = admin_client.get(done.headers["location"])
    assert_safe_page(tombstone)
    record = soup(tombstone).find(id="record")
    sentence = record.select_one("p.erasure-reason").get_text(" ", strip=True)
    assert "\u2014 another reason (see the note)." in sentence
    shown = record.select_one(".erasure-note").get_text()
    assert "Ticket 4711: <b>legal</b> hold ended.\nAgreed with the DPO." in shown
    assert record.find("b") is None  # the note is text, never markup

    trail = soup(admin_client.get(f"/admin/submissions/{ids[0]}/audit"))
    [erase_row] = [tr for tr in trail.select("tbody tr") if "Erased" in tr.get_text()]
    details = [li.get_text(" ", strip=True) for li in erase_row.select("td.audit-details li")]
    assert details == ["Reason: Another reason (see the note)",
                       "Note: Ticket 4711: <b>legal</b> hold ended.\nAgreed with the DPO."]  # fmt: skip


@pytest.mark.parametrize(
    ("details", "words"),
    [
        ({"reason": "subject-request"}, "The person asked for erasure"),
        ({"reason": "consent-withdrawn"}, "The person withdrew their consent"),
        ({"reason": "not-needed"}, "The data was no longer needed"),
        ({"reason": "retention", "retentionDays": "730"}, "The retention period ended"),
        ({"reason": "unstated"}, "No reason was given"),
        ({"reason": "some-future-code"}, "some-future-code"),
    ],
)
def test_the_trail_and_the_tombstone_say_each_reason_in_the_same_words(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: tuple[str, str, str],
    details: dict[str, str], words: str,
) -> None:  # fmt: skip
    actor = "system:retention" if details["reason"] == "retention" else "ops@example.com"
    _erase_in_fake(fake_admin_api, ids[0], actor, **details)
    dev_sign_in(admin_client)
    trail = soup(admin_client.get(f"/admin/submissions/{ids[0]}/audit"))
    cell = trail.select_one("td.audit-details li").get_text(" ", strip=True)
    assert cell == f"Reason: {words}"
    tombstone = soup(admin_client.get(f"/admin/submissions/{ids[0]}"))
    sentence = tombstone.select_one("p.erasure-reason").get_text(" ", strip=True)
    if details["reason"] == "retention":
        words = "the retention period (730 days) ended"
    assert f"on 04 Mar 2026, 09:30 UTC \u2014 {words[:1].lower() + words[1:]}." in sentence


def test_an_erasure_admin_api_refuses_shows_the_form_again_with_the_answers(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, ids: tuple[str, str, str]
) -> None:
    """admin-api checks the same rules; if it still refuses the note, say so by the note."""
    dev_sign_in(admin_client)
    action, csrf = _erase_form(admin_client, ids[0])
    fake_admin_api.script(Scripted(422, {"detail": "Some fields are not valid.", "errors": [
        {"path": "note", "in": "body", "message": "Value error, …"}]}))  # fmt: skip
    answer = admin_client.post(action, data={"csrf_token": csrf, "confirm": ids[0],
                                             "reason": "not-needed", "note": "Sent twice"})  # fmt: skip
    assert answer.status_code == 422
    document = soup(answer)
    assert document.find(id="note-error").get_text(strip=True)
    assert document.find("textarea", attrs={"name": "note"}).get_text() == "Sent twice"
    assert document.select_one("input[name=reason][checked]")["value"] == "not-needed"
    assert not isinstance(fake_admin_api.records[ids[0]], ErasedSubmission)


def test_a_record_saved_before_a_rule_was_tightened_still_opens(
    admin_client: TestClient, fake_admin_api: FakeAdminApi
) -> None:
    """Postal codes were checked against their country only from session 14: records saved
    before then are read as stored, as admin-api reads them, not refused as unreadable."""
    client_id = _ids()[0]
    record = sample(client_id)
    address = record.company.address.model_copy(update={"postal_code": "SW1A-1AA-ZZ9"})
    company = record.company.model_copy(update={"address": address})
    fake_admin_api.add(record.model_copy(update={"company": company}))
    dev_sign_in(admin_client)
    page = admin_client.get(f"/admin/submissions/{client_id}")
    assert page.status_code == 200, page.text
    assert "SW1A-1AA-ZZ9" in page.text


def test_an_answer_the_dashboard_cannot_read_is_logged_without_its_values(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, caplog: pytest.LogCaptureFixture
) -> None:
    client_id = _ids()[0]
    body = sample(client_id).model_dump(mode="json", by_alias=True)
    body["company"]["contact"]["name"] = ["Grace", "Hopper"]  # not text: a shape check fails
    fake_admin_api.script(Scripted(200, body))
    dev_sign_in(admin_client)
    page = admin_client.get(f"/admin/submissions/{client_id}")
    assert page.status_code == 503
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "company.contact.name: string_type" in logged
    assert "Grace" not in logged and "Hopper" not in logged
