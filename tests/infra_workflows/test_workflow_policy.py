"""Every workflow follows the rules in policy.py; each rule is also shown to catch a bad one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from infra_workflows import policy

pytestmark = pytest.mark.infra

WORKFLOW_FILES = sorted(policy.WORKFLOWS.glob("*.yml"))
EXPECTED = {
    "ci.yml",
    "images.yml",
    "build-image.yml",
    "infra.yml",
    "deploy.yml",
    "deploy-env.yml",
    "kind-e2e.yml",
    "load-test.yml",
    "chaos.yml",
    "cost.yml",
}


def parse(text: str) -> dict[str, Any]:
    document: dict[Any, Any] = yaml.safe_load(text)
    if True in document:
        document["on"] = document.pop(True)
    return document


def test_every_pipeline_of_the_issue_exists() -> None:
    assert {path.name for path in WORKFLOW_FILES} >= EXPECTED


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda path: path.name)
def test_workflow_follows_the_rules(path: Path) -> None:
    assert policy.all_violations(path) == []


def test_a_tag_or_a_short_sha_is_not_a_pin() -> None:
    text = """
      - uses: actions/checkout@v4
      - uses: actions/checkout@11bd719
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
      - uses: docker://alpine:3.20
      - uses: ./.github/workflows/build-image.yml
    """
    found = policy.unpinned_uses(text)
    assert [violation.split(":", 1)[0] for violation in found] == [
        "line 2",
        "line 3",
        "line 4",
        "line 6",
    ]
    assert "without a '# vX.Y.Z' comment" in found[2]


def test_missing_or_broad_permissions_and_timeouts_are_caught() -> None:
    workflow = parse("""
on: push
permissions: write-all
jobs:
  build:
    runs-on: ubuntu-24.04
    steps: [{run: "true"}]
  caller:
    uses: ./.github/workflows/build-image.yml
""")
    assert policy.permission_violations(workflow) == [
        "workflow-level permissions must grant read at most, got 'write-all'",
        "job build: no job-level permissions",
        "job caller: no job-level permissions",
    ]
    assert policy.timeout_violations(workflow) == ["job build: no timeout-minutes"]
    assert policy.concurrency_violations(workflow) == ["no concurrency group"]


def test_write_scopes_need_a_reason_in_the_job() -> None:
    workflow = parse("""
on: push
jobs:
  idle:
    permissions: {id-token: write, security-events: write}
    steps: [{run: "true"}]
  signer:
    permissions: {id-token: write}
    steps: [{uses: "sigstore/cosign-installer@d58896d6a1865668819e1d91763c7751a165e159"}]
""")
    assert policy.write_scope_violations(workflow) == [
        "job idle: id-token: write without an OIDC consumer",
        "job idle: security-events: write without a SARIF upload",
    ]


def test_pull_request_target_must_not_check_out_the_pull_request() -> None:
    workflow = parse("""
on: pull_request_target
jobs:
  label:
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683
        with: {ref: "${{ github.event.pull_request.head.sha }}"}
""")
    assert policy.pull_request_target_violations(workflow) == [
        "job label: pull_request_target checks out the pull request's code"
    ]


def test_secrets_are_neither_inlined_nor_printed() -> None:
    workflow = parse("""
on: push
jobs:
  leak:
    env: {TOKEN: "${{ secrets.TOKEN }}"}
    steps:
      - run: echo "token is $TOKEN"
      - run: 'curl -H "Authorization: ${{ secrets.OTHER }}" https://example.com'
      - env: {KEY: "${{ secrets.KEY }}"}
        run: printf '%s' "${KEY}" > key.txt
""")
    assert policy.secret_echo_violations(workflow) == [
        'job leak: prints a secret: echo "token is $TOKEN"',
        "job leak: a secret expression inside run: (use env)",
        "job leak: prints a secret: printf '%s' \"${KEY}\" > key.txt",
    ]


def test_checkout_keeps_no_token_unless_the_job_pushes() -> None:
    workflow = parse("""
on: push
jobs:
  read:
    permissions: {contents: read}
    steps: [{uses: "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"}]
""")
    assert policy.checkout_credential_violations(workflow) == [
        "job read: checkout without persist-credentials: false"
    ]


def test_latest_is_never_a_tag() -> None:
    assert policy.latest_tag_violations(
        "image: acr.io/intake-api:latest\n# :latest in a comment"
    ) == ["line 1: uses the mutable 'latest' tag"]
