"""Each service's settings class accepts the environment each rendering gives its container.

The ConfigMap, the container's own ``env`` and its secrets (Key Vault or the emulators, given
placeholder values here) are read exactly as the service reads them at start: a pod whose
settings refuse this environment crash-loops, and no manifest check would see it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from infra.toolbox import CHART, Rendering, helm_args, run
from pydantic import BaseModel

from admin_api.settings import AdminApiSettings
from intake_api.settings import IntakeApiSettings
from intake_core.domain.models import ServiceType
from intake_core.retention import RetentionSettings
from intake_notify.settings import NotifySettings
from intake_ui.settings import IntakeUiSettings

pytestmark = pytest.mark.infra

S = TypeVar("S", bound=BaseModel)

SETTINGS: dict[str, type[BaseModel]] = {
    "intake-ui": IntakeUiSettings,
    "intake-api": IntakeApiSettings,
    "admin-api": AdminApiSettings,
    "notify": NotifySettings,
}
ENVIRONMENTS = ["values-dev", "values-staging", "values-prod", "values-kind"]
# What a secret from Key Vault or the emulators' Secret holds, as far as the settings can tell.
SECRET_PLACEHOLDER = "placeholder-secret-value-of-forty-eight-characters"


def container_env(r: Rendering, pod: dict[str, Any]) -> dict[str, str]:
    """The environment of the first container of ``pod``, as the kubelet would build it."""
    (container, *_) = pod["spec"]["containers"]
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env |= r.named("ConfigMap", source["configMapRef"]["name"])["data"]
    for var in container.get("env", []):
        env[var["name"]] = var.get("value", SECRET_PLACEHOLDER)
    return env


def settings_from(monkeypatch: pytest.MonkeyPatch, cls: type[S], env: dict[str, str]) -> S:
    monkeypatch.setattr(os, "environ", dict(env))
    return cls()


def deployed_settings(
    monkeypatch: pytest.MonkeyPatch, r: Rendering, component: str, cls: type[S]
) -> S:
    """What ``component``'s settings class reads from the environment ``r`` gives its pod."""
    return settings_from(
        monkeypatch, cls, container_env(r, r.deployment(component)["spec"]["template"])
    )


@pytest.mark.parametrize("component", sorted(SETTINGS))
@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_each_service_starts_with_the_environment_it_is_given(
    renderings: dict[str, Rendering],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    component: str,
) -> None:
    deployed_settings(monkeypatch, renderings[name], component, SETTINGS[component])


@pytest.mark.parametrize("name", [*ENVIRONMENTS, "values-kind-embedded"])
def test_the_retention_job_starts_with_the_environment_it_is_given(
    renderings: dict[str, Rendering], monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    r = renderings[name]
    (cron,) = r.of_kind("CronJob")
    env = container_env(r, cron["spec"]["jobTemplate"]["spec"]["template"])
    settings = settings_from(monkeypatch, RetentionSettings, env)
    assert isinstance(settings, RetentionSettings)
    assert settings.retention_days == 730


@pytest.mark.parametrize("name", ["values-dev", "values-staging", "values-prod"])
def test_notify_mails_the_sales_team_from_the_acs_sender(
    renderings: dict[str, Rendering], monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """Not the notifier's example defaults: ACS sends only from its own (Azure-managed) domain."""
    settings = deployed_settings(monkeypatch, renderings[name], "notify", NotifySettings)
    assert settings.mailer == "acs"
    assert settings.acs_endpoint and settings.acs_endpoint.startswith("https://")
    assert settings.mail_sender.endswith(".azurecomm.net")
    assert settings.sales_team
    assert settings.sales_team != NotifySettings.model_fields["sales_team"].default


@pytest.mark.parametrize("name", ["values-dev", "values-staging", "values-prod"])
def test_the_privacy_notice_names_a_real_contact_in_azure(
    renderings: dict[str, Rendering], monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    settings = deployed_settings(monkeypatch, renderings[name], "intake-ui", IntakeUiSettings)
    default = IntakeUiSettings.model_fields["privacy_contact_email"].default
    assert settings.privacy_contact_email != default


def test_the_schema_requires_a_privacy_contact_in_prod(helm: Path) -> None:
    prod = str(CHART / "values-prod.yaml")
    result = run(
        [helm, "lint", "--strict", CHART, "-f", prod, "--set", "config.privacyContactEmail="]
    )
    assert result.returncode != 0
    assert "[ERROR] values.yaml" in result.stdout, result.stdout


def test_routes_reach_the_notifier_as_json(
    helm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    routes = {"training": ["academy@example.com"], "kubernetes": ["k8s@example.com"]}
    result = run(
        [helm, "template", "onboarding", CHART, *helm_args("values"),
         "--set-json", f"config.mail.routes={json.dumps(routes)}",
         "--set-json", 'config.mail.salesTeam=["a@example.com","b@example.com"]']
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    docs = [d for d in yaml.safe_load_all(result.stdout) if d]
    r = Rendering("routes", tmp_path / "routes.yaml", docs)
    env = container_env(r, r.deployment("notify")["spec"]["template"])
    settings = settings_from(monkeypatch, NotifySettings, env)
    assert isinstance(settings, NotifySettings)
    assert settings.recipients_for(ServiceType.TRAINING) == (
        "a@example.com",
        "b@example.com",
        "academy@example.com",
    )


BAD_MAIL = {
    "acs without an endpoint": ["--set", "config.mailer=acs", "--set", "config.mail.sender=a@b.net",
                                "--set", "config.mail.salesTeam={s@example.com}"],
    "acs without a sender": ["--set", "config.mailer=acs",
                             "--set", "config.mail.acsEndpoint=https://x.unitedstates.communication.azure.com",
                             "--set", "config.mail.salesTeam={s@example.com}"],
    "acs without a sales team": ["--set", "config.mailer=acs", "--set", "config.mail.sender=a@b.net",
                                 "--set", "config.mail.acsEndpoint=https://x.unitedstates.communication.azure.com"],
    "a route to an unknown service type": ["--set-json", 'config.mail.routes={"yoga":["y@example.com"]}'],
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_MAIL))
def test_the_schema_refuses_incomplete_mail_settings(helm: Path, case: str) -> None:
    result = run([helm, "lint", "--strict", CHART, *BAD_MAIL[case]])
    assert result.returncode != 0, f"{case} was accepted"
    assert "[ERROR] values.yaml" in result.stdout, result.stdout


@pytest.mark.parametrize("name", ["values-dev", "values-staging", "values-prod"])
def test_staff_sign_in_with_entra_is_configured_in_azure(
    renderings: dict[str, Rendering], monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """Without it /admin only says that Entra ID sign-in is not configured here."""
    r = renderings[name]
    pod = r.deployment("intake-ui")["spec"]["template"]
    env = container_env(r, pod)
    settings = settings_from(monkeypatch, IntakeUiSettings, env)
    assert isinstance(settings, IntakeUiSettings)
    assert settings.staff_sign_in_configured
    assert settings.admin_oidc_redirect_url == f"{env['PUBLIC_UI_URL']}/admin/signed-in"
    from_key_vault = {
        var["name"]: var["valueFrom"]["secretKeyRef"]
        for var in pod["spec"]["containers"][0]["env"]
        if "valueFrom" in var
    }
    assert from_key_vault["ADMIN_OIDC_CLIENT_SECRET"]["name"] == "onboarding-intake-ui-keyvault"


@pytest.mark.parametrize("name", ["values-staging", "values-prod"])
def test_the_schema_refuses_staging_or_prod_without_staff_sign_in(helm: Path, name: str) -> None:
    values = CHART / f"{name}.yaml"
    result = run(
        [helm, "lint", "--strict", CHART, "-f", values, "--set", "config.staffSignIn.clientId="]
    )
    assert result.returncode != 0, "a site whose staff cannot sign in was accepted"
    assert "[ERROR] values.yaml" in result.stdout, result.stdout


GUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.mark.parametrize("name", ["values-dev", "values-staging", "values-prod"])
def test_admin_api_expects_the_audience_entra_v2_tokens_carry(
    renderings: dict[str, Rendering], name: str
) -> None:
    """A v2.0 access token's aud is the API's client id, never its App ID URI (api://…)."""
    data = renderings[name].named("ConfigMap", "onboarding-config")["data"]
    assert data["AUTH_ISSUER"].endswith("/v2.0")
    assert re.fullmatch(GUID, data["AUTH_AUDIENCE"]), data["AUTH_AUDIENCE"]


def test_the_schema_refuses_an_app_id_uri_audience_with_the_v2_issuer(helm: Path) -> None:
    values = CHART / "values-prod.yaml"
    result = run(
        [helm, "lint", "--strict", CHART, "-f", values,
         "--set", "config.auth.audience=api://intake-admin"]
    )  # fmt: skip
    assert result.returncode != 0, "every staff token would be a 401"
    assert "[ERROR] values.yaml" in result.stdout, result.stdout


@pytest.mark.parametrize("name", ["values-dev", "values-staging", "values-prod"])
def test_sites_in_azure_keep_the_guards_of_outside_dev(
    renderings: dict[str, Rendering], monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """No dev sign-in form, dev mailbox or cookies without Secure on a site the internet reaches."""
    settings = deployed_settings(monkeypatch, renderings[name], "intake-ui", IntakeUiSettings)
    assert not settings.is_dev and settings.secure_cookies


def test_the_schema_refuses_dev_guards_in_azure(helm: Path) -> None:
    values = CHART / "values-dev.yaml"
    result = run([helm, "lint", "--strict", CHART, "-f", values, "--set", "environment=dev"])
    assert result.returncode != 0, "ENVIRONMENT=dev was accepted with workload identity"
    assert "[ERROR] values.yaml" in result.stdout, result.stdout
