"""Fault-injection fixtures. ``kit.py`` is loaded as the module ``chaos_kit``: with
--import-mode=importlib test folders are not packages."""

from __future__ import annotations

import copy
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def _load_kit(name: str = "chaos_kit") -> None:
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("kit.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


_load_kit()
from chaos_kit import SmtpSink, Stack  # noqa: E402

from support import VALID_BODY  # noqa: E402


@pytest.fixture
def body() -> dict[str, Any]:
    return copy.deepcopy(VALID_BODY)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """Services a test starts itself; all stopped afterwards, whatever happened."""
    started = Stack(tmp_path)
    yield started
    started.stop_all()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink
