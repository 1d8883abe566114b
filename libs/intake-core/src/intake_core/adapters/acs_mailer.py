"""Mailer on Azure Communication Services Email.

The event's Message-ID doubles as the ACS ``Operation-Id``, the service's repeatability key, so a
send repeated after a crash is recognised as the same operation rather than a second email.
"""

from __future__ import annotations

import uuid
from typing import Any

from azure.communication.email.aio import EmailClient
from azure.core.credentials import AzureKeyCredential
from azure.core.credentials_async import AsyncTokenCredential

from intake_core.ports.mail import OutgoingEmail

_OPERATION_NAMESPACE = uuid.UUID("6f1c2d0e-8a3b-4c55-9d21-3b7e5f0a9c11")


def operation_id_for(email: OutgoingEmail) -> str:
    return str(uuid.uuid5(_OPERATION_NAMESPACE, email.message_id))


class AcsMailer:
    def __init__(
        self,
        endpoint: str,
        credential: AsyncTokenCredential | AzureKeyCredential,
        *,
        poll_interval_seconds: float = 1.0,
    ) -> None:
        self._client = EmailClient(endpoint, credential, polling_interval=poll_interval_seconds)
        self._credential = credential

    async def send(self, email: OutgoingEmail) -> None:
        message: dict[str, Any] = {
            "senderAddress": email.sender,
            "recipients": {"to": [{"address": address} for address in email.recipients]},
            "content": {"subject": email.subject, "plainText": email.text, "html": email.html},
            "headers": {"X-Intake-Message-Id": email.message_id},
        }
        poller = await self._client.begin_send(message, operation_id=operation_id_for(email))
        result = await poller.result()
        status = str(result.get("status", "")) if isinstance(result, dict) else ""
        if status.lower() != "succeeded":
            raise RuntimeError(f"ACS did not send the email: status {status or 'unknown'}")

    async def close(self) -> None:
        await self._client.close()
        close = getattr(self._credential, "close", None)
        if close is not None:
            await close()
