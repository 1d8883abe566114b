"""The engagement codes' labels: every code has one, no two read alike, and every amount names
the currency the consultancy quotes in."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import pytest

from intake_core.domain.labels import (
    BUDGET_RANGE_LABELS,
    INDUSTRY_LABELS,
    SERVICE_TYPE_LABELS,
    TIMELINE_LABELS,
)
from intake_core.domain.models import BudgetRange, Industry, ServiceType, Timeline


@pytest.mark.parametrize(
    ("codes", "labels"),
    [
        (Industry, INDUSTRY_LABELS),
        (ServiceType, SERVICE_TYPE_LABELS),
        (Timeline, TIMELINE_LABELS),
        (BudgetRange, BUDGET_RANGE_LABELS),
    ],
    ids=["industry", "service type", "timeline", "budget range"],
)
def test_every_code_has_its_own_label(codes: type[StrEnum], labels: Mapping[Any, str]) -> None:
    assert list(labels) == list(codes)
    assert len(set(labels.values())) == len(labels)


def test_every_budget_amount_is_in_us_dollars() -> None:
    for label in BUDGET_RANGE_LABELS.values():
        assert not re.search(r"\d", re.sub(r"US\$\d+k\b", "", label)), label
    assert BUDGET_RANGE_LABELS[BudgetRange.UNDER_25K] == "Under US$25k"
    assert BUDGET_RANGE_LABELS[BudgetRange.FROM_25K_TO_100K] == "US$25k to US$100k"
