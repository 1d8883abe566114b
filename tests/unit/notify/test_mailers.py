"""The mail service is chosen in ``intake_core.bootstrap`` from ``MAILER``; the notifier's
``SalesTeamMailer`` wraps whichever it is, and closes it on shutdown."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from intake_core.adapters.acs_mailer import AcsMailer
from intake_core.adapters.file_mailer import FileMailer
from intake_core.adapters.smtp_mailer import SmtpMailer
from intake_core.bootstrap import open_mailer
from intake_notify.mailers import SalesTeamMailer, open_sales_team_mailer
from intake_notify.settings import NotifySettings


@pytest.mark.parametrize(
    ("mailer", "extra", "kind"),
    [
        ("file", {}, FileMailer),
        ("smtp", {"smtp_host": "relay.example"}, SmtpMailer),
        (
            "acs",
            {"acs_endpoint": "https://m.communication.azure.com", "acs_key": "a2V5"},
            AcsMailer,
        ),
    ],
)
async def test_bootstrap_opens_the_mailer_named_by_the_settings(
    tmp_path: Path, mailer: str, extra: dict[str, str], kind: type
) -> None:
    settings = NotifySettings(INTAKE_DATA_DIR=tmp_path, mailer=mailer, **extra)
    service = open_mailer(settings)
    assert isinstance(service, kind)
    sales_team = open_sales_team_mailer(settings)
    assert isinstance(sales_team, SalesTeamMailer)
    assert sales_team.accepting
    await sales_team.close()
    close = getattr(service, "close", None)
    if close is not None:
        await close()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"mailer": "smtp"}, "MAILER=smtp needs SMTP_HOST"),
        ({"mailer": "acs"}, "MAILER=acs needs ACS_ENDPOINT"),
        ({"environment": "prod", "secret_key": "x" * 40}, "MAILER=file writes .eml files"),
    ],
)
def test_a_mailer_without_its_settings_is_refused(
    tmp_path: Path, values: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        NotifySettings(INTAKE_DATA_DIR=tmp_path, **values)
