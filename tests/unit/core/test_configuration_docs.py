"""docs/configuration.md names every setting every process reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from admin_api.settings import AdminApiSettings
from intake_api.settings import IntakeApiSettings
from intake_core.retention import RetentionSettings
from intake_notify.settings import NotifySettings
from intake_ui.settings import IntakeUiSettings

DOC = (Path(__file__).parents[3] / "docs" / "configuration.md").read_text()


def variables(settings: type[BaseSettings]) -> list[str]:
    names = []
    for name, field in settings.model_fields.items():
        alias = field.validation_alias
        names.append(alias if isinstance(alias, str) else name.upper())
    return names


@pytest.mark.parametrize(
    "settings",
    [IntakeApiSettings, AdminApiSettings, IntakeUiSettings, NotifySettings, RetentionSettings],
)
def test_every_setting_is_documented(settings: type[BaseSettings]) -> None:
    missing = [name for name in variables(settings) if f"`{name}`" not in DOC]
    assert missing == []
