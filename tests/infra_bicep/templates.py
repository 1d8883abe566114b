"""Offline view of infra/bicep: every template parsed with the tree-sitter Bicep grammar.

There is no Bicep compiler on the development machines (``az bicep build`` runs in GitHub
Actions), so these tests read the templates through tree-sitter and assert what the platform
relies on. The grammar on PyPI (tree-sitter-bicep 1.1) predates ``.bicepparam`` assignments:
``param name = value`` is rewritten to ``var   name = value`` (same columns) before parsing, which
still checks every value expression; ``using`` is native to the grammar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
import tree_sitter
import tree_sitter_bicep

REPO = Path(__file__).resolve().parents[2]
BICEP_DIR = REPO / "infra" / "bicep"
MAIN = BICEP_DIR / "main.bicep"
ENVIRONMENTS = ("dev", "staging", "prod")

pytestmark = pytest.mark.infra

_PARAM_ASSIGNMENT = re.compile(r"(?m)^param(\s+\w+\s*=)")


@cache
def parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_bicep.language()))


def bicepparam_as_bicep(source: str) -> str:
    """``param x = v`` -> ``var   x = v``: same length, so reported positions stay true."""
    return _PARAM_ASSIGNMENT.sub(r"var  \1", source)


def parse(source: str) -> tree_sitter.Tree:
    return parser().parse(source.encode())


def syntax_errors(tree: tree_sitter.Tree) -> list[str]:
    """Every ERROR or MISSING node, as 'line:col kind text'."""
    found: list[str] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            text = (node.text or b"").decode(errors="replace")[:60]
            row, col = node.start_point
            found.append(f"{row + 1}:{col + 1} {node.type} {text!r}")
        stack.extend(node.children)
    return found


def text(node: tree_sitter.Node) -> str:
    return (node.text or b"").decode()


def unquote(literal: str) -> str:
    return literal[1:-1] if literal[:1] == "'" else literal


@dataclass
class Param:
    name: str
    type: str
    decorators: dict[str, str] = field(default_factory=dict)


@dataclass
class Resource:
    symbol: str
    type: str
    body: str
    properties: set[str]


@dataclass
class Template:
    path: Path
    source: str
    tree: tree_sitter.Tree
    params: list[Param]
    resources: list[Resource]
    modules: list[str]
    outputs: list[str]


def _decorators(node: tree_sitter.Node) -> dict[str, str]:
    found: dict[str, str] = {}
    for decorator in node.named_children:
        call = decorator.named_children[0] if decorator.named_children else None
        if call is None:
            continue
        function = call.child_by_field_name("function")
        name = text(function) if function is not None else text(call)
        found[name.removeprefix("sys.")] = text(call)
    return found


def _top_level_properties(body: tree_sitter.Node) -> set[str]:
    """Keys of the resource body object (also through `if (...) {}` and `[for ...: {}]`)."""
    stack = [body]
    while stack:
        node = stack.pop()
        if node.type == "object":
            return {
                unquote(text(prop.named_children[0]))
                for prop in node.named_children
                if prop.type == "object_property"
            }
        stack.extend(reversed(node.named_children))
    return set()


@cache
def load(path: Path) -> Template:
    source = path.read_text()
    tree = parse(source)
    params: list[Param] = []
    resources: list[Resource] = []
    modules: list[str] = []
    outputs: list[str] = []
    pending: dict[str, str] = {}
    for node in tree.root_node.named_children:
        if node.type == "decorators":
            pending = _decorators(node)
            continue
        if node.type == "parameter_declaration":
            name, kind = node.named_children[0], node.named_children[1]
            params.append(Param(text(name), text(kind), pending))
        elif node.type == "resource_declaration":
            symbol, kind = node.named_children[0], node.named_children[1]
            resources.append(
                Resource(text(symbol), unquote(text(kind)), text(node), _top_level_properties(node))
            )
        elif node.type == "module_declaration":
            modules.append(unquote(text(node.named_children[1])))
        elif node.type == "output_declaration":
            outputs.append(text(node.named_children[0]))
        if node.type != "comment":
            pending = {}
    return Template(path, source, tree, params, resources, modules, outputs)


def bicep_files() -> list[Path]:
    return sorted(BICEP_DIR.rglob("*.bicep"))


def param_files() -> list[Path]:
    return sorted(BICEP_DIR.rglob("*.bicepparam"))


def assigned_params(path: Path) -> dict[str, str]:
    """name -> value expression (first line) of every `param` in a .bicepparam file."""
    return {
        match.group(1): match.group(2).strip()
        for match in re.finditer(r"(?m)^param\s+(\w+)\s*=\s*(.*)$", path.read_text())
    }


def literal(path: Path, name: str) -> str | bool | int:
    """The literal value of a param in a .bicepparam file (string, bool or int)."""
    raw = assigned_params(path)[name]
    if raw.startswith("'") and raw.endswith("'"):
        return raw[1:-1]
    if raw in ("true", "false"):
        return raw == "true"
    return int(raw)


_READ_WITH_FALLBACK = re.compile(r"readEnvironmentVariable\('(\w+)',\s*'([^']*)'\)")


def environment_fallback(path: Path, name: str) -> tuple[str, str]:
    """(variable, fallback) of a param set to ``readEnvironmentVariable('VARIABLE', 'fallback')``."""
    match = _READ_WITH_FALLBACK.fullmatch(assigned_params(path)[name])
    assert match, f"{path.name}: {name} does not read an environment variable with a fallback"
    return match.group(1), match.group(2)
