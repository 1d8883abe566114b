"""Request and response bodies of the public API, split by purpose (camelCase on the wire).

The submission body itself is ``intake_core``'s ``SubmissionCreate``: the UI and the API share it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from intake_core.domain.models import Status


class _Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class SubmissionAccepted(_Wire):
    client_id: str = Field(description="CL-XXXX-XXXX-XXXX: keep it to track the request")
    submitted_at: datetime
    status: Literal[Status.RECEIVED] = Status.RECEIVED


class StatusLookupRequest(_Wire):
    model_config = ConfigDict(extra="forbid")

    # No minimum: an empty ID is just another ID that matches nothing (404, like the rest).
    client_id: str = Field(max_length=64, description="The Client ID as typed")
    email: str = Field(max_length=320, description="The contact email given")


class StatusLookupResult(_Wire):
    status: Status
