"""Submitting an onboarding request: one command, one transaction, then a fast-path publish
(:mod:`intake_api.fast_path`).

The submission, its ``SubmissionCreated`` event (in the outbox) and its audit entry are saved in
one ``save_new`` call, so there is never a record without its event or the other way round.
Publishing straight after the commit only saves the relay a round: it runs in the background,
so the client's answer never waits for the bus, and when it fails the relay publishes the event
later. A bus outage therefore neither fails nor slows a submission.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime

from intake_api.fast_path import FastPath
from intake_core.domain.audit import AuditAction, AuditEntry
from intake_core.domain.client_id import new_client_id
from intake_core.domain.events import submission_created
from intake_core.domain.models import Submission, SubmissionCreate
from intake_core.ports.intake import ClientIdTaken, Idempotency, IntakeStore, SaveResult
from intake_core.ports.queue import EventPublisher

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]

USER_AGENT_MAX_CHARS = 200


@dataclass(frozen=True)
class SubmitOnboarding:
    """A client asks to be onboarded (the command behind ``POST /v1/submissions``)."""

    content: SubmissionCreate
    idempotency_key: str | None = None
    source_ip: str | None = None
    user_agent: str | None = None
    traceparent: str | None = None


@dataclass(frozen=True)
class SubmissionPolicy:
    """The service's rules and knobs for submitting, from its settings."""

    ip_hash_key: bytes
    privacy_notice_versions: Collection[str] = field(default_factory=tuple)
    publish_timeout_seconds: float = 5.0
    max_client_id_attempts: int = 5
    fast_path: FastPath = field(default_factory=FastPath)


class UnknownPrivacyNotice(ValueError):
    """The client consented to a privacy notice version this service does not know."""


def hash_source_ip(source_ip: str | None, key: bytes) -> str:
    """A keyed hash: the same address links audit entries, yet cannot be read back."""
    return hmac.new(key, (source_ip or "unknown").encode(), hashlib.sha256).hexdigest()


def trimmed_user_agent(user_agent: str | None) -> str:
    printable = "".join(char for char in (user_agent or "") if char.isprintable())
    return printable[:USER_AGENT_MAX_CHARS]


def check_consent(content: SubmissionCreate, policy: SubmissionPolicy) -> None:
    versions = policy.privacy_notice_versions
    if versions and content.consent.privacy_notice_version not in versions:
        raise UnknownPrivacyNotice(content.consent.privacy_notice_version)


async def submit(
    command: SubmitOnboarding,
    store: IntakeStore,
    publisher: EventPublisher,
    clock: Clock,
    policy: SubmissionPolicy,
) -> SaveResult:
    check_consent(command.content, policy)
    idempotency = (
        Idempotency(command.idempotency_key, command.content.fingerprint())
        if command.idempotency_key is not None
        else None
    )
    for attempt in range(1, policy.max_client_id_attempts + 1):
        submitted_at = clock()
        submission = Submission(
            client_id=new_client_id(),
            submitted_at=submitted_at,
            company=command.content.company,
            engagement=command.content.engagement,
            consent=command.content.consent,
        )
        event = submission_created(submission, traceparent=command.traceparent)
        audit = AuditEntry(
            action=AuditAction.CREATED,
            actor="client",
            at=submitted_at,
            client_id=submission.client_id,
            details={
                "sourceIpHash": hash_source_ip(command.source_ip, policy.ip_hash_key),
                "userAgent": trimmed_user_agent(command.user_agent),
            },
        )
        try:
            result = await store.save_new(submission, event, audit, idempotency)
        except ClientIdTaken:
            logger.warning("client id collision, drawing another (attempt %d)", attempt)
            if attempt == policy.max_client_id_attempts:
                raise
            continue
        if result.created:
            policy.fast_path.publish_soon(event, store, publisher, policy.publish_timeout_seconds)
        return result
    raise AssertionError("unreachable: the loop returns or raises")
