"""The list of submissions: the search and its filters, the results and their pages."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fasthtml import common as fh

from intake_core.domain.models import ErasedSubmission
from intake_ui.admin_api import SubmissionList
from intake_ui.admin_filters import (
    FILTER_NAMES,
    PAGE_PARAM,
    STAFF_STATUS_LABELS,
    TEXT,
    DashboardQuery,
)
from intake_ui.admin_views.frame import long_text, status_badge, when
from intake_ui.components import csrf_input
from intake_ui.fields import (
    INDUSTRY_LABELS,
    SERVICE_TYPE_LABELS,
)


def _choice(name: str, label: str, labels: Mapping[Any, str], value: str, error: str | None) -> Any:
    return _labelled(
        name,
        label,
        fh.Select(
            fh.Option("Any", value="", selected=not value),
            *(
                fh.Option(text, value=key.value, selected=key.value == value)
                for key, text in labels.items()
            ),
            id=f"filter-{name}",
            name=name,
            aria_invalid="true" if error else None,
            aria_describedby=f"filter-{name}-error" if error else None,
        ),
        error,
    )


def _labelled(name: str, label: str, control: Any, error: str | None, hint: str = "") -> Any:
    return fh.Div(
        fh.Label(label, fr=f"filter-{name}"),
        control,
        fh.Small(error, id=f"filter-{name}-error", cls="field-error") if error else None,
        fh.Small(hint, id=f"filter-{name}-hint", cls="hint") if hint else None,
        cls="field",
    )


def filter_form(query: DashboardQuery, action: str, csrf: str) -> Any:
    """The search: sent by POST, so its text stays out of the URL (see ``admin_filters``). With
    htmx the answer swaps the list in place and puts the other filters in the address bar."""
    values, errors = query.values, query.errors

    def date_field(name: str, label: str) -> Any:
        return _labelled(
            name,
            label,
            fh.Input(
                type="date",
                id=f"filter-{name}",
                name=name,
                value=values.get(name, ""),
                aria_invalid="true" if name in errors else None,
                aria_describedby=f"filter-{name}-error" if name in errors else None,
            ),
            errors.get(name),
        )

    return fh.Form(
        csrf_input(csrf),
        _labelled(
            TEXT,
            "Search",
            fh.Input(
                type="search",
                id="filter-q",
                name=TEXT,
                value=values.get(TEXT, ""),
                maxlength=200,
                autocomplete="off",
                aria_describedby="filter-q-error filter-q-hint"
                if TEXT in errors
                else "filter-q-hint",
                aria_invalid="true" if TEXT in errors else None,
            ),
            errors.get(TEXT),
            hint="Company, contact name, contact email or Client ID (five symbols of it or "
            "more, hyphens optional). The text is not kept in the page's address: after a "
            "reload, search again.",
        ),
        fh.Details(
            fh.Summary("Filters"),
            fh.Div(
                _choice(
                    "industry",
                    "Industry",
                    INDUSTRY_LABELS,
                    values.get("industry", ""),
                    errors.get("industry"),
                ),
                _choice(
                    "serviceType",
                    "Service type",
                    SERVICE_TYPE_LABELS,
                    values.get("serviceType", ""),
                    errors.get("serviceType"),
                ),
                _choice(
                    "status",
                    "Status",
                    STAFF_STATUS_LABELS,
                    values.get("status", ""),
                    errors.get("status"),
                ),
                cls="filter-grid",
            ),
            fh.Div(
                date_field("submittedFrom", "Submitted from"),
                date_field("submittedTo", "Submitted to"),
                cls="filter-grid",
            ),
            open=any(query.values.get(name) for name in FILTER_NAMES if name != TEXT)
            or any(name != TEXT for name in errors),
            cls="more-filters",
        ),
        fh.Div(
            fh.A("Clear filters", href=action, cls="button-link") if query.is_filtered else None,
            fh.Button("Search", type="submit"),
            cls="actions",
        ),
        method="post",
        enctype="application/x-www-form-urlencoded",
        action=action,
        aria_label="Search submissions",
        cls="filters",
        hx_post=action,
        hx_target="#dashboard",
        hx_swap="outerHTML",
        hx_disabled_elt="find button",
    )


def search_again(
    label: str,
    action: str,
    query: DashboardQuery,
    csrf: str,
    *,
    token: str | None = None,
    swap: bool = True,
) -> Any:
    """A button that sends the search once more, its text in a POST body: paging through a
    search with text, and downloading it, cannot be links (a link's URL would carry the text).
    ``token`` is the page to show; ``swap=False`` for an answer htmx must not swap in (a file)."""
    fields = {**query.filters, **({PAGE_PARAM: token} if token else {})}
    return fh.Form(
        csrf_input(csrf),
        *(fh.Input(type="hidden", name=name, value=value) for name, value in fields.items()),
        fh.Button(label, type="submit", cls="secondary outline"),
        method="post",
        enctype="application/x-www-form-urlencoded",
        action=action,
        hx_post=action if swap else None,
        hx_target="#dashboard" if swap else None,
        hx_swap="outerHTML" if swap else None,
        hx_disabled_elt="find button" if swap else None,
        cls="search-again",
    )


def results(
    query: DashboardQuery,
    found: SubmissionList,
    *,
    record_url: Callable[[str], str],
    page_url: Callable[[dict[str, str]], str],
    csv_url: Callable[[dict[str, str]], str] | None,
    csrf: str,
    erased: ErasedSubmission | None = None,
) -> Any:
    """``record_url(client_id)``, ``page_url(params)`` and ``csv_url(params)`` build the URLs
    (``csv_url`` None: no export for this staff member). ``erased``: the tombstone of the
    Client ID searched for, when the search found nothing because of it.

    Without search text the pages and the CSV are links, which can be bookmarked; with it they
    are buttons that send it again in a POST body (``search_again``)."""
    rows = [
        fh.Tr(
            fh.Td(
                fh.A(row.client_id, href=record_url(row.client_id), cls="client-id-link"),
                data_label="Client ID",
            ),
            fh.Td(long_text(row.company_name), data_label="Company"),
            fh.Td(
                long_text(row.contact_name, fh.Br(), fh.Small(row.contact_email)),
                data_label="Contact",
            ),
            fh.Td(SERVICE_TYPE_LABELS[row.service_type], data_label="Service"),
            fh.Td(status_badge(row.status), data_label="Status"),
            fh.Td(when(row.submitted_at), data_label="Submitted"),
        )
        for row in found.items
    ]
    headings = ("Client ID", "Company", "Contact", "Service", "Status", "Submitted")
    table = (
        fh.Table(
            fh.Caption("Newest first", cls="visually-hidden"),
            fh.Thead(fh.Tr(*(fh.Th(text, scope="col") for text in headings))),
            fh.Tbody(*rows),
            cls="records submissions",
        )
        if rows
        else erased_note(erased, record_url(erased.client_id))
        if erased
        else fh.P(nothing_found(query))
    )
    token = found.continuation_token
    if query.text:
        action = page_url({})
        pager = [
            search_again("Back to first page", action, query, csrf)
            if query.continuation_token
            else None,
            fh.Div(search_again("Next page", action, query, csrf, token=token), cls="next")
            if token
            else None,
        ]
    else:
        pager = [
            fh.A("Back to first page", href=page_url(query.filters))
            if query.continuation_token
            else None,
            fh.A("Next page", href=page_url({**query.filters, PAGE_PARAM: token}), rel="next")
            if token
            else None,
        ]
    download: Any = None
    if csv_url is not None and query.text:
        download = search_again("Download CSV", csv_url({}), query, csrf, swap=False)
    elif csv_url is not None:
        download = fh.A(
            "Download CSV", href=csv_url(query.filters), download=True, cls="button-link"
        )
    shown = len(found.items)
    return fh.Section(
        fh.Div(fh.H2("Results", id="results-title"), download, cls="results-head"),
        fh.P(
            f"{shown} submission{'s' if shown != 1 else ''} on this "
            f"{'page' if query.continuation_token or found.continuation_token else 'list'}, "
            "newest first.",
            cls="muted",
        ),
        table,
        fh.Nav(*(link for link in pager if link is not None), cls="pager", aria_label="Pages")
        if any(pager)
        else None,
        aria_labelledby="results-title",
    )


def erased_note(erased: ErasedSubmission, tombstone_url: str) -> Any:
    return fh.P(
        f"{erased.client_id} was erased on ",
        when(erased.erased_at),
        ": its personal data is gone, so the search cannot find it. ",
        fh.A(f"Open the tombstone of {erased.client_id}", href=tombstone_url),
    )


def nothing_found(query: DashboardQuery) -> str:
    """Says what was searched for, so a typo in it is easy to spot."""
    text = query.text
    if not query.is_filtered:
        return "No submissions yet."
    if not text:
        return "No submissions match these filters."
    others = " with the filters chosen" if len(query.filters) > 1 else ""
    return (
        f"No submissions match \u201c{text}\u201d{others}. The search looks in company names, "
        "contact names, contact emails and Client IDs."
    )


def dashboard(query: DashboardQuery, action: str, csrf: str, body: Any, *, note: Any = None) -> Any:
    return fh.Section(
        fh.H1("Submissions"),
        note,
        filter_form(query, action, csrf),
        body,
        id="dashboard",
    )
