"""Every .bicep and .bicepparam file parses with the tree-sitter Bicep grammar, no error node."""

from __future__ import annotations

from pathlib import Path

import pytest

from .templates import (
    BICEP_DIR,
    bicep_files,
    bicepparam_as_bicep,
    param_files,
    parse,
    syntax_errors,
)

pytestmark = pytest.mark.infra


def test_there_is_something_to_parse() -> None:
    assert len(bicep_files()) >= 15
    assert len(param_files()) == 3


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: str(p.relative_to(BICEP_DIR)))
def test_bicep_file_has_no_syntax_error(path: Path) -> None:
    assert syntax_errors(parse(path.read_text())) == []


@pytest.mark.parametrize("path", param_files(), ids=lambda p: str(p.relative_to(BICEP_DIR)))
def test_bicepparam_file_has_no_syntax_error(path: Path) -> None:
    source = bicepparam_as_bicep(path.read_text())
    assert len(source) == len(path.read_text())
    assert syntax_errors(parse(source)) == []


@pytest.mark.parametrize(
    "broken",
    [
        "resource r 'Microsoft.Web/sites@2024-04-01' = {\n  name: 'x'\n",
        "param p string = \n",
        "var v = [for x in y: ]\n",
        "output o string = concat('a',\n",
    ],
)
def test_the_check_catches_broken_bicep(broken: str) -> None:
    assert syntax_errors(parse(broken)), "a syntax check that finds nothing here proves nothing"


def test_the_bicepparam_rewrite_keeps_errors_visible() -> None:
    assert syntax_errors(parse(bicepparam_as_bicep("using './main.bicep'\nparam a = {\n")))
    assert not syntax_errors(parse(bicepparam_as_bicep("using './main.bicep'\nparam a = 'b'\n")))
