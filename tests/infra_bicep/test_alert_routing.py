"""Alerts reach people by their severity label, as Alertmanager would route them.

Azure Monitor has no Alertmanager: each alert names its action group. monitoring.bicep has two,
page (email and PagerDuty) and ticket (email only), and alerts.bicep sends each alert to the group
of its ``severity`` label, so a slow burn or a dead letter never pages.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from .bicep_values import TemplateValues
from .templates import BICEP_DIR, ENVIRONMENTS, MAIN, load
from .test_alert_parity import AZURE_SEVERITY, alerts_module, azure_rules, chart_alerts

pytestmark = pytest.mark.infra

MONITORING = BICEP_DIR / "modules" / "monitoring.bicep"
PAGERDUTY = "https://events.pagerduty.com/integration/<key>/enqueue"
SEVERITY_OF_AZURE = {number: name for name, number in AZURE_SEVERITY.items()}


def action_groups(pagerduty: str) -> dict[str, Any]:
    """monitoring.bicep's action groups, by symbol, with the PagerDuty webhook ``pagerduty``."""
    template = load(MONITORING)
    params: dict[str, Any] = {p.name: f"<{p.name}>" for p in template.params}
    params["pagerDutyWebhookUrl"] = pagerduty
    values = TemplateValues(template, params)
    symbols = [
        r.symbol
        for r in template.resources
        if r.type.startswith("Microsoft.Insights/actionGroups@")
    ]
    return {symbol: values.resource(symbol) for symbol in symbols}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_chart_labels_every_alert_page_or_ticket(helm: Path, env: str) -> None:
    severities = {rule["labels"]["severity"] for rule in chart_alerts(helm, env).values()}
    assert severities == set(AZURE_SEVERITY), "a severity with no action group, or one unused"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_alert_goes_to_the_action_group_of_its_severity(env: str) -> None:
    for rule in azure_rules(env):
        severity = rule["labels"]["severity"]
        assert rule["actions"] == [{"actionGroupId": f"<{severity}ActionGroupId>"}], rule["alert"]


def test_each_metric_alert_goes_to_the_action_group_of_its_severity() -> None:
    module = alerts_module("prod")
    routed = {}
    for symbol in ("deadLetters", "queueBacklog"):
        properties = module.resource(symbol)["properties"]
        severity = SEVERITY_OF_AZURE[properties["severity"]]
        assert properties["actions"] == [{"actionGroupId": f"<{severity}ActionGroupId>"}], symbol
        routed[symbol] = severity
    # A dead letter waits for working hours; a queue that stops draining does not.
    assert routed == {"deadLetters": "ticket", "queueBacklog": "page"}


@pytest.mark.parametrize("pagerduty", [PAGERDUTY, ""], ids=["pagerduty", "email-only"])
def test_only_the_page_group_pages(pagerduty: str) -> None:
    groups = action_groups(pagerduty)
    assert sorted(groups) == ["pageActionGroup", "ticketActionGroup"]
    page, ticket = (groups[s]["properties"] for s in ("pageActionGroup", "ticketActionGroup"))
    email = [
        {
            "name": "on-call-email",
            "emailAddress": "<alertEmailAddress>",
            "useCommonAlertSchema": True,
        }
    ]
    assert page["emailReceivers"] == ticket["emailReceivers"] == email
    hooks = [{"name": "pagerduty", "serviceUri": pagerduty, "useCommonAlertSchema": True}]
    assert page["webhookReceivers"] == (hooks if pagerduty else [])
    # Nothing but email on the ticket group: no webhook, SMS, voice, push, Logic App, function.
    assert {key for key in ticket if key.endswith("Receivers")} == {"emailReceivers"}
    names = {groups[s]["name"] for s in groups}
    short_names = {p["groupShortName"] for p in (page, ticket)}
    assert len(names) == len(short_names) == 2
    assert all(len(name) <= 12 for name in short_names)


def test_main_gives_alerts_both_groups() -> None:
    main = MAIN.read_text()
    module = main[main.index("module alerts 'modules/alerts.bicep'") :]
    module = module[: module.index("\n}\n")]
    for kind in ("page", "ticket"):
        output = f"{kind}ActionGroupId"
        assert re.search(rf"(?m)^\s+{output}: monitoring\.outputs\.{output}$", module), kind


def test_the_budget_emails_and_never_pages() -> None:
    """A budget crossing its threshold is for working hours: the ticket group, not PagerDuty."""
    main = MAIN.read_text()
    module = main[main.index("module budget 'modules/budget.bicep'") :]
    module = module[: module.index("\n}\n")]
    assert re.search(r"(?m)^\s+actionGroupId: monitoring\.outputs\.ticketActionGroupId$", module)
