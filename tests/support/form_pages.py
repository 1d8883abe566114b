"""The two steps of the form filled in a browser (a Playwright page), as a person would."""

from __future__ import annotations

import re
from typing import Any


def fill_company_step(
    page: Any,
    *,
    company: str = "Acme Widgets Ltd",
    contact: str = "Ada Lovelace",
    email: str = "ada@example.com",
) -> None:
    page.get_by_label("Company name").fill(company)
    page.get_by_label("Industry").select_option(label="Manufacturing")
    page.get_by_label("Number of employees").fill("120")
    page.get_by_label("Address line 1").fill("1 High Street")
    page.get_by_label("Town or city").fill("Leeds")
    page.get_by_label("Postal code").fill("LS1 4AP")
    page.get_by_label("Country").select_option(label="United Kingdom")
    page.get_by_label("Contact name").fill(contact)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Phone number").fill("020 7946 0958")


def fill_engagement_step(page: Any, *, scope: str = "Move our build pipeline to AKS.") -> None:
    page.get_by_label("Service you need").select_option(label="Kubernetes")
    page.get_by_label("Scope").fill(scope)
    page.get_by_label("Timeline").select_option(label="In 1 to 3 months")
    page.get_by_label("Budget range").select_option(label="US$25k to US$100k")
    page.get_by_label(re.compile("I have read and accept the privacy notice")).check()
