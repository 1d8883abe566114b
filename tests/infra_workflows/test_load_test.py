"""The load-test gate can pass: Locust runs next to intake-api, each user within the rate limit."""

from __future__ import annotations

import ast
import ipaddress
from typing import Any

import pytest
from infra_workflows import policy

pytestmark = pytest.mark.infra

LOCUSTFILE = policy.ROOT / "bench" / "locustfile.py"


def locustfile() -> ast.Module:
    return ast.parse(LOCUSTFILE.read_text())


def test_each_simulated_user_stays_within_the_rate_limit() -> None:
    from intake_api.settings import IntakeApiSettings

    limit = IntakeApiSettings.model_fields["rate_limit_per_minute"].default
    tree = locustfile()
    wait = next(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "wait_time" for t in node.targets)
    )
    assert isinstance(wait, ast.Call) and getattr(wait.func, "id", "") == "between"
    shortest_wait = ast.literal_eval(wait.args[0])
    weights = {
        node.name: ast.literal_eval(decorator.args[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        for decorator in node.decorator_list
        if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", "") == "task"
    }
    share = weights["submit"] / sum(weights.values())
    # Worst case: every wait the shortest, and all of a user's requests on one replica.
    submissions_per_minute = 60 / shortest_wait * share
    assert submissions_per_minute < limit, (submissions_per_minute, limit)


def test_each_simulated_user_has_its_own_benchmarking_address() -> None:
    namespace: dict[str, Any] = {}
    tree = locustfile()
    source = next(
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name == "source_address"
    )
    namespace["SOURCES"] = ipaddress.ip_network("198.18.0.0/15")
    exec(compile(ast.Module(body=[source], type_ignores=[]), "locustfile", "exec"), namespace)
    addresses = {namespace["source_address"](user) for user in range(1, 501)}
    assert len(addresses) == 500
    assert all(ipaddress.ip_address(a) in namespace["SOURCES"] for a in addresses)
    assert "X-Forwarded-For" in LOCUSTFILE.read_text()


def test_the_gate_starts_locust_in_the_cluster_not_on_the_runner() -> None:
    workflow = policy.load(policy.WORKFLOWS / "load-test.yml")
    text = (policy.WORKFLOWS / "load-test.yml").read_text()
    assert "PUBLIC_API_URL" not in text  # there is no public route to intake-api
    assert "cluster_jobs.py load-test" in text and "aks_run.py" in text
    assert "cluster_jobs.py stats" in text and "load_thresholds.py" in text
    assert policy.direct_cluster_access_violations(workflow) == []
    deploy = policy.load(policy.WORKFLOWS / "deploy.yml")
    assert deploy["jobs"]["load-gate"]["permissions"]["id-token"] == "write"
