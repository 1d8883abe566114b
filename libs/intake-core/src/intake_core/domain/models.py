"""The submission: what a client sends, and the record the platform keeps.

Pure domain: no I/O. JSON is camelCase on the wire; Python attributes are snake_case.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from intake_core.domain.postal_codes import checked_postal_code
from intake_core.domain.stored import is_stored, unless_stored
from intake_core.domain.text import (
    LongText,
    OptionalLongText,
    OptionalShortText,
    PostalCode,
    ShortText,
)

MAX_COMPANY_SIZE = 10_000_000


def _not_a_boolean(value: Any) -> Any:
    """Lax integer validation reads JSON's ``true`` as 1 and ``false`` as 0: not a head count.
    (A number in a string stays accepted: a form posts the field as text.)"""
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


# The bounds before the validator: after it, pydantic cannot fold them into the integer's schema
# and publishes them as "ge"/"le", which are not JSON Schema, instead of minimum/maximum.
EmployeeCount = Annotated[
    int,
    Field(ge=1, le=MAX_COMPANY_SIZE, description="Number of employees"),
    BeforeValidator(_not_a_boolean),
]


class Industry(StrEnum):
    TECHNOLOGY = "technology"
    FINANCIAL_SERVICES = "financial-services"
    HEALTHCARE = "healthcare"
    RETAIL = "retail"
    MANUFACTURING = "manufacturing"
    PUBLIC_SECTOR = "public-sector"
    EDUCATION = "education"
    MEDIA = "media"
    ENERGY = "energy"
    TELECOMMUNICATIONS = "telecommunications"
    TRANSPORT = "transport-logistics"
    OTHER = "other"


class ServiceType(StrEnum):
    DEVOPS_CONSULTING = "devops-consulting"
    CLOUD_MIGRATION = "cloud-migration"
    PLATFORM_ENGINEERING = "platform-engineering"
    CI_CD = "ci-cd"
    SRE = "site-reliability"
    KUBERNETES = "kubernetes"
    DEVSECOPS = "devsecops"
    TRAINING = "training"
    OTHER = "other"


class Timeline(StrEnum):
    ASAP = "asap"
    WITHIN_3_MONTHS = "1-3-months"
    WITHIN_6_MONTHS = "3-6-months"
    WITHIN_12_MONTHS = "6-12-months"
    FLEXIBLE = "flexible"


class BudgetRange(StrEnum):
    UNDER_25K = "under-25k"
    FROM_25K_TO_100K = "25k-100k"
    FROM_100K_TO_250K = "100k-250k"
    FROM_250K_TO_500K = "250k-500k"
    OVER_500K = "over-500k"
    UNDECIDED = "undecided"


class Status(StrEnum):
    RECEIVED = "received"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    WON = "won"
    LOST = "lost"


ALLOWED_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.RECEIVED: frozenset({Status.CONTACTED}),
    Status.CONTACTED: frozenset({Status.QUALIFIED}),
    Status.QUALIFIED: frozenset({Status.WON, Status.LOST}),
    Status.WON: frozenset(),
    Status.LOST: frozenset(),
}


def can_transition(current: Status, new: Status) -> bool:
    return new in ALLOWED_TRANSITIONS[current]


def _country_code(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError("must be an ISO 3166-1 alpha-2 country code, such as GB or US")
    return code


def _email(value: str) -> str:
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(f"is not a valid email address: {error}") from None
    return result.normalized


def _phone(value: str) -> str:
    """Parse an international number and store it in E.164 form."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValueError(
            "must be a phone number with its country code, such as +44 20 7946 0958"
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


CountryCode = Annotated[str, Field(min_length=2, max_length=2), unless_stored(_country_code)]
Email = Annotated[str, Field(min_length=3, max_length=254), unless_stored(_email)]
Phone = Annotated[str, Field(min_length=3, max_length=32), unless_stored(_phone)]


class CamelModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        str_max_length=10_000,
    )


class Address(CamelModel):
    line1: ShortText
    line2: OptionalShortText | None = None
    city: Annotated[ShortText, Field(max_length=100)]
    region: OptionalShortText | None = None
    # Before the postal code, which is checked against its format (fields validate in order).
    country: CountryCode
    postal_code: PostalCode

    @field_validator("postal_code")
    @classmethod
    def _postal_code_of_country(cls, value: str, info: ValidationInfo) -> str:
        country = info.data.get("country")
        if is_stored(info) or country is None:
            return value  # stored codes were checked on the way in; a bad country says so
        return checked_postal_code(value, country)


class Contact(CamelModel):
    name: ShortText
    email: Email
    phone: Phone


class Company(CamelModel):
    name: ShortText
    industry: Industry
    size: EmployeeCount
    address: Address
    contact: Contact

    @model_validator(mode="before")
    @classmethod
    def _phone_in_address_country(cls, data: Any, info: ValidationInfo) -> Any:
        """Let people type a national number: read it in the country of the address."""
        if is_stored(info):
            return data  # stored numbers are already international
        try:
            phone = data["contact"]["phone"]
            country = str(data["address"]["country"]).strip().upper()
        except (KeyError, TypeError, AttributeError):
            return data
        if not isinstance(phone, str) or phone.strip().startswith("+"):
            return data
        try:
            number = phonenumbers.parse(phone, country)
        except phonenumbers.NumberParseException:
            return data
        international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return {**data, "contact": {**data["contact"], "phone": international}}


class Engagement(CamelModel):
    service_type: ServiceType
    scope: LongText
    timeline: Timeline
    budget_range: BudgetRange
    notes: OptionalLongText | None = None


class Consent(CamelModel):
    accepted: Literal[True] = Field(description="The client accepted the privacy notice")
    privacy_notice_version: Annotated[ShortText, Field(max_length=32)]


class SubmissionCreate(CamelModel):
    """What a client submits (the body of ``POST /v1/submissions``)."""

    company: Company
    engagement: Engagement
    consent: Consent

    def fingerprint(self) -> str:
        """A stable hash of the content, to tell a retry from a different request."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


class Submission(CamelModel):
    """The record kept for a client: their submission plus what the platform adds."""

    client_id: str
    submitted_at: datetime
    status: Status = Status.RECEIVED
    company: Company
    engagement: Engagement
    consent: Consent
    erased_at: datetime | None = None

    @field_validator("submitted_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must carry a time zone")
        return value


class ErasedSubmission(CamelModel):
    """What remains of a submission after its subject asked to be forgotten: a tombstone.

    A separate type rather than a ``Submission`` with optional personal parts, so that code which
    holds a ``Submission`` can always rely on company, contact and engagement being there, and
    code that may meet a tombstone has to say so in its types. It keeps only what identifies the
    record and feeds aggregate figures (industry, service type, status), never personal data.
    """

    client_id: str
    submitted_at: datetime
    status: Status
    industry: Industry
    service_type: ServiceType
    erased_at: datetime

    @classmethod
    def of(cls, submission: Submission, erased_at: datetime) -> ErasedSubmission:
        return cls(
            client_id=submission.client_id,
            submitted_at=submission.submitted_at,
            status=submission.status,
            industry=submission.company.industry,
            service_type=submission.engagement.service_type,
            erased_at=erased_at,
        )
