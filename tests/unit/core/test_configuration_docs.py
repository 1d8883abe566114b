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


def section(heading: str) -> str:
    """The text under the ``## <heading>…`` of docs/configuration.md, up to the next one."""
    start = DOC.index(f"\n## {heading}")
    end = DOC.find("\n## ", start + 1)
    return DOC[start : end if end != -1 else len(DOC)]


@pytest.mark.parametrize(
    ("settings", "heading"),
    [
        (IntakeApiSettings, "intake-api"),
        (AdminApiSettings, "admin-api"),
        (IntakeUiSettings, "intake-ui"),
        (NotifySettings, "notify"),
        (RetentionSettings, "Retention job"),
    ],
)
def test_every_setting_is_documented_where_its_process_is(
    settings: type[BaseSettings], heading: str
) -> None:
    # A setting two processes read with different defaults (a body limit, say) must be in each
    # process's table, not only somewhere in the file.
    documented = section("Every process") + section(heading)
    missing = [name for name in variables(settings) if f"`{name}`" not in documented]
    assert missing == []
