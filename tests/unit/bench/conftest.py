"""``bench/run.py`` is a script, not a package module: loaded once from its file for the tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture(scope="session")
def bench_run() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_run", Path(__file__).parents[3] / "bench" / "run.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
