from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from intake_ui.assets import AssetManifest
from intake_ui.fields import step_one_fields
from intake_ui.intake_api import normalise_path
from intake_ui.settings import DEV_SESSION_SECRET, IntakeUiSettings
from intake_ui.validation import (
    read_values,
    validate_company,
    validate_consent,
    validate_submission,
)

COMPANY = {
    "company.name": "Acme",
    "company.industry": "retail",
    "company.size": "12",
    "company.address.line1": "1 Main St",
    "company.address.city": "Springfield",
    "company.address.postalCode": "12345",
    "company.address.country": "US",
    "company.contact.name": "Jo",
    "company.contact.email": "jo@example.com",
    "company.contact.phone": "+1 202 555 0143",
}


def test_a_complete_company_validates() -> None:
    company, errors = validate_company(COMPANY)
    assert errors == {} and company is not None
    assert company.address.line2 is None


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("company.name", "", "Enter the company name."),
        ("company.name", "   ", "Enter the company name."),
        ("company.name", "x" * 201, "Use at most 200 characters."),
        ("company.name", "a\nb", "It must be a single line without control characters."),
        ("company.name", "Ada\u202eecalevoL", "It must not contain invisible text-direction characters."),
        ("company.name", "Con\u200btoso", "It must not contain invisible characters (such as a zero-width space)."),
        ("company.industry", "", "Choose the industry."),
        ("company.industry", "crime", "Choose one of the options in the list."),
        ("company.size", "many", "Enter a whole number, such as 25."),
        ("company.size", "0", "Enter a number of at least 1."),
        ("company.address.country", "XX", "Choose one of the options in the list."),
        ("company.address.postalCode", "1234A", "It must be in the country's ZIP code format, such as 95014."),
        ("company.contact.email", "jo@", "Enter an email address like name@example.com."),
        ("company.contact.phone", "12", "This is not a valid phone number: check the digits and the country code."),
    ],
)  # fmt: skip
def test_each_problem_is_worded_for_people(name: str, value: str, message: str) -> None:
    _, errors = validate_company({**COMPANY, name: value})
    assert errors == {name: message}


def test_consent_must_be_ticked() -> None:
    consent, errors = validate_consent({}, "2026-01")
    assert consent is None and "tick" in errors["consent.accepted"]
    consent, errors = validate_consent({"consent.accepted": "yes"}, "2026-01")
    assert consent is not None and consent.privacy_notice_version == "2026-01"


def test_the_submission_collects_errors_from_both_steps() -> None:
    submission, errors = validate_submission({**COMPANY, "company.name": ""}, "2026-01")
    assert submission is None
    assert {"company.name", "engagement.scope", "consent.accepted"} <= set(errors)


def test_read_values_ignores_files_unknown_and_repeated_fields() -> None:
    form = {
        "company.name": "Acme",
        "company.size": ["1", "2"],
        "evil": "x",
        "company.city": object(),
    }
    assert read_values(form, step_one_fields()) == {"company.name": "Acme"}


@pytest.mark.parametrize(
    "path", ["company.contact.email", "/company/contact/email", "body.company.contact.email", "#/company/contact/email"]
)  # fmt: skip
def test_api_error_paths_are_normalised(path: str) -> None:
    assert normalise_path(path) == "company.contact.email"


def test_assets_get_content_hashed_urls(tmp_path: Path) -> None:
    (tmp_path / "app.css").write_text("body{}")
    manifest = AssetManifest(tmp_path)
    first = manifest.url("app.css")
    (tmp_path / "app.css").write_text("body{color:red}")
    assert AssetManifest(tmp_path).url("app.css") != first
    assert manifest.get(first).body == b"body{}"
    with pytest.raises(KeyError):
        manifest.url("missing.css")


def test_settings_refuse_the_dev_secret_outside_dev() -> None:
    assert IntakeUiSettings().secret_key == DEV_SESSION_SECRET
    with pytest.raises(ValidationError, match="UI_SESSION_SECRET is required"):
        IntakeUiSettings(environment="prod")
    with pytest.raises(ValidationError, match="at least 32"):
        IntakeUiSettings(environment="prod", UI_SESSION_SECRET="short")
    assert IntakeUiSettings(environment="prod", UI_SESSION_SECRET="s" * 32).secure_cookies


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_API_URL", "http://api.internal:9000")
    assert IntakeUiSettings().intake_api_url == "http://api.internal:9000"


def test_app_from_environment_builds_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    from starlette.testclient import TestClient

    from intake_ui.main import app_from_environment

    monkeypatch.setenv("INTAKE_API_URL", "http://127.0.0.1:9")
    with TestClient(app_from_environment()) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.app.state.settings.intake_api_url == "http://127.0.0.1:9"
