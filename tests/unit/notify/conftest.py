from __future__ import annotations

from pathlib import Path

import pytest

from intake_notify.settings import NotifySettings


@pytest.fixture
def notify_settings(tmp_path: Path) -> NotifySettings:
    return NotifySettings(
        INTAKE_DATA_DIR=tmp_path,
        sales_team=("sales@consultancy.example",),
        routes={"training": ("academy@consultancy.example",)},
        public_ui_url="https://onboarding.example",
    )
