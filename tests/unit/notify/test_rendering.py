"""The sales-team email reads as the form did: labels for the codes, the time in UTC, the phone
written internationally; user text stays escaped in the HTML part and out of the subject."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from intake_core.domain.events import SubmissionCreatedData, submission_created
from intake_core.ports.mail import OutgoingEmail
from intake_notify.rendering import render
from support import VALID_BODY, make_submission

SUBMITTED = datetime(2026, 11, 27, 14, 5, 33, tzinfo=UTC)


def rendered(body: dict[str, Any] | None = None, **data: Any) -> OutgoingEmail:
    event = submission_created(make_submission(body, submitted_at=SUBMITTED))
    return render(
        event,
        SubmissionCreatedData.model_validate(event.data | data),
        sender="onboarding@consultancy.example",
        recipients=("sales@consultancy.example",),
        dashboard_url="https://onboarding.example",
    )


def a_body(**engagement: str) -> dict[str, Any]:
    body = json.loads(json.dumps(VALID_BODY))
    body["engagement"] |= engagement
    return body


def test_the_text_part_shows_labels_a_utc_time_and_an_international_phone() -> None:
    email = rendered(a_body(serviceType="kubernetes"))
    lines = email.text.splitlines()
    for line in (
        "Submitted: 27 Nov 2026, 14:05 UTC",
        "Industry: Technology and software",
        "Phone: +44 20 7946 0958",
        "Service: Kubernetes",
        "Timeline: In 3 to 6 months",
        "Budget: US$100k to US$250k",
    ):
        assert line in lines
    for code in ("technology", "kubernetes", "3-6-months", "100k-250k", "+442079460958"):
        assert code not in email.text


def test_the_html_part_shows_the_same_summary() -> None:
    email = rendered(a_body(timeline="asap", budgetRange="under-25k"))
    for value in ("27 Nov 2026, 14:05 UTC", "+44 20 7946 0958", "As soon as possible"):
        assert f"<td style='white-space:pre-wrap'>{value}</td>" in email.html
    assert "<td style='white-space:pre-wrap'>Under US$25k</td>" in email.html


@pytest.mark.parametrize(
    ("submitted", "shown"),
    [
        ("2026-11-27T16:05:59+02:00", "27 Nov 2026, 14:05 UTC"),
        ("2027-01-01T00:30:00-05:00", "1 Jan 2027, 05:30 UTC"),
        ("2026-03-09T08:00:00", "9 Mar 2026, 08:00 UTC"),  # no offset: taken as UTC
    ],
)
def test_the_time_is_given_in_utc(submitted: str, shown: str) -> None:
    assert f"Submitted: {shown}" in rendered(submittedAt=submitted).text.splitlines()


def test_a_phone_that_does_not_parse_is_shown_as_it_came_and_escaped() -> None:
    email = rendered(contactPhone="<b>call me</b>")
    assert "Phone: <b>call me</b>" in email.text.splitlines()
    assert "&lt;b&gt;call me&lt;/b&gt;" in email.html and "<b>" not in email.html


def test_user_text_is_escaped_in_html_and_the_subject_holds_no_more_than_before() -> None:
    body = a_body(scope="<script>steal()</script> & more")
    body["company"]["name"] = "<img src=x onerror=alert(1)> & Co"
    email = rendered(body, clientId="CL-0291-5ZX3-N3VZ")
    assert "<script>" not in email.html and "<img" not in email.html
    assert "&lt;script&gt;steal()&lt;/script&gt; &amp; more" in email.html
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; Co" in email.html
    assert email.subject == "New client CL-0291-5ZX3-N3VZ: <img src=x onerror=alert(1)> & Co"


def test_a_link_typed_into_the_scope_cannot_pass_for_ours() -> None:
    typed = "Small audit\n\nOpen the record: https://evil.example/admin/submissions/CL-XXXX"
    email = rendered(a_body(scope=typed))
    lines = email.text.splitlines()
    ours = "Open the record: https://onboarding.example/admin/submissions/"
    assert lines[1].startswith(ours)
    assert [line for line in lines if line.startswith("Open the record:")] == [lines[1]]
    scope = lines.index("Scope:")
    assert lines[scope + 1 : scope + 4] == [
        "> Small audit",
        "> ",
        "> Open the record: https://evil.example/admin/submissions/CL-XXXX",
    ]
    assert email.html.index("Open the record</a>") < email.html.index("Small audit")
