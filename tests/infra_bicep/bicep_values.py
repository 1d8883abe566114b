"""The values of a template's variables, computed from its tree-sitter parse.

No Bicep compiler runs here (``az bicep build`` runs in GitHub Actions), so a test that needs
what a template *builds* (the alert expressions of alerts.bicep, compared with the chart's) asks
this small interpreter. It knows the part of the language those templates use: strings with
interpolation, numbers, booleans, objects, arrays, variables and parameters, member and index
access, ``[for …]`` expressions and resources, integer arithmetic and comparisons, ``?:`` and a few functions
(no lambdas: checkov's Bicep parser cannot read them either). Anything else raises :class:`Unsupported`, so a template
that outgrows it fails loudly instead of being misread.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import tree_sitter

from .templates import Template, text

_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]+\}|.)")
_ESCAPED = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "'": "'", "$": "$"}


class Unsupported(Exception):
    """The template uses Bicep this interpreter does not know."""


def _unescape(literal: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if code.startswith("u{"):
            return chr(int(code[2:-1], 16))
        return _ESCAPED[code]

    return _ESCAPE.sub(one, literal)


def _as_text(value: Any) -> str:
    """How Bicep writes a value into an interpolated string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return str(value)
    raise Unsupported(f"interpolating a {type(value).__name__}")


def _code(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    """The named children that are not comments."""
    return [child for child in node.named_children if child.type != "comment"]


def _union(*values: Any) -> Any:
    """Objects merged (the last one wins), or arrays joined with each value once."""
    if all(isinstance(value, list) for value in values):
        joined: list[Any] = []
        for item in (item for value in values for item in value):
            if item not in joined:
                joined.append(item)
        return joined
    merged: dict[str, Any] = {}
    for each in values:
        merged.update(each)
    return merged


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "concat": lambda *arrays: [item for array in arrays for item in array],
    "empty": lambda value: len(value) == 0,
    "last": lambda array: array[-1],
    "length": len,
    "range": lambda start, count: list(range(start, start + count)),
    "replace": lambda original, old, new: original.replace(old, new),
    "split": lambda original, delimiter: original.split(delimiter),
    "take": lambda original, count: original[:count],
    "union": _union,
}

_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "*": lambda left, right: left * right,
    "+": lambda left, right: left + right,
    "-": lambda left, right: left - right,
    "/": lambda left, right: left // right,  # integers only, as in Bicep
    "%": lambda left, right: left % right,
    ">": lambda left, right: left > right,
    ">=": lambda left, right: left >= right,
    "<": lambda left, right: left < right,
    "<=": lambda left, right: left <= right,
    "==": lambda left, right: left == right,
    "!=": lambda left, right: left != right,
}


class TemplateValues:
    """Variables of ``template`` given its parameters' values."""

    def __init__(self, template: Template, params: Mapping[str, Any]) -> None:
        self._source = template.source.encode()
        self._params = dict(params)
        self._variables: dict[str, tree_sitter.Node] = {}
        self._resources: list[tree_sitter.Node] = []
        for node in template.tree.root_node.named_children:
            if node.type == "variable_declaration":
                name, value = node.named_children[0], node.named_children[-1]
                self._variables[text(name)] = value
            elif node.type == "resource_declaration":
                self._resources.append(node)
        declared = {p.name for p in template.params}
        missing = declared - self._params.keys()
        if missing:
            raise ValueError(f"no value for the parameters {sorted(missing)}")

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self._params)

    def variable(self, name: str) -> Any:
        return self._evaluate(self._variables[name], {})

    def resource(self, symbol: str) -> Any:
        """The body of the resource declared as ``symbol`` (unconditional), or the list of
        bodies of a ``[for …]`` resource."""
        for node in self._resources:
            if text(node.named_children[0]) == symbol:
                body = node.named_children[-1]
                if body.type not in ("object", "for_statement"):
                    raise Unsupported(f"resource {symbol}: {body.type}")
                return self._evaluate(body, {})
        raise KeyError(symbol)

    def _evaluate(self, node: tree_sitter.Node, scope: dict[str, Any]) -> Any:
        match node.type:
            case "string":
                return self._string(node, scope)
            case "number":
                return int(text(node))
            case "boolean":
                return text(node) == "true"
            case "array":
                return [self._evaluate(item, scope) for item in _code(node)]
            case "object":
                return dict(self._property(p, scope) for p in _code(node))
            case "identifier":
                return self._name(text(node), scope)
            case "parenthesized_expression":
                return self._evaluate(node.named_children[0], scope)
            case "member_expression":
                owner, member = node.named_children
                return self._evaluate(owner, scope)[text(member)]
            case "subscript_expression":
                owner, index = node.named_children
                return self._evaluate(owner, scope)[self._evaluate(index, scope)]
            case "call_expression":
                return self._call(node, scope)
            case "binary_expression":
                left, right = node.named_children
                operator = text(node.children[1])
                if operator not in _OPERATORS:
                    raise Unsupported(f"operator {operator}")
                return _OPERATORS[operator](
                    self._evaluate(left, scope), self._evaluate(right, scope)
                )
            case "for_statement":
                return self._for(node, scope)
            case "ternary_expression":
                condition, then, otherwise = _code(node)
                chosen = then if self._evaluate(condition, scope) else otherwise
                return self._evaluate(chosen, scope)
        raise Unsupported(f"{node.type}: {text(node)[:60]}")

    def _name(self, name: str, scope: dict[str, Any]) -> Any:
        if name in scope:
            return scope[name]
        if name in self._params:
            return self._params[name]
        if name in self._variables:
            return self.variable(name)
        raise Unsupported(f"unknown name {name}")

    def _string(self, node: tree_sitter.Node, scope: dict[str, Any]) -> str:
        """Literal text between the quotes, each ``${…}`` replaced by its value. Byte offsets,
        not the literal children, give the literal parts: the grammar folds whitespace before
        an interpolation into the interpolation's first token."""
        if text(node).startswith("'''"):
            raise Unsupported("multi-line strings")
        parts: list[str] = []
        cursor = node.start_byte + 1
        for child in node.named_children:
            if child.type != "interpolation":
                continue
            lead = self._source[child.start_byte : child.end_byte].decode()
            lead = lead[: lead.index("${")]
            parts.append(_unescape(self._source[cursor : child.start_byte].decode() + lead))
            parts.append(_as_text(self._evaluate(child.named_children[0], scope)))
            cursor = child.end_byte
        parts.append(_unescape(self._source[cursor : node.end_byte - 1].decode()))
        return "".join(parts)

    def _property(self, node: tree_sitter.Node, scope: dict[str, Any]) -> tuple[str, Any]:
        key, value = node.named_children[0], node.named_children[-1]
        name = self._string(key, scope) if key.type == "string" else text(key)
        return name, self._evaluate(value, scope)

    def _call(self, node: tree_sitter.Node, scope: dict[str, Any]) -> Any:
        function = text(node.named_children[0])
        if function not in _FUNCTIONS:
            raise Unsupported(f"function {function}")
        arguments = _code(node.named_children[1])
        return _FUNCTIONS[function](*(self._evaluate(a, scope) for a in arguments))

    def _for(self, node: tree_sitter.Node, scope: dict[str, Any]) -> list[Any]:
        item = node.child_by_field_name("initializer")
        body = node.child_by_field_name("body")
        if item is None or body is None or item.type != "identifier":
            raise Unsupported(f"for-expression {text(node)[:60]}")
        items = node.named_children[1]
        return [
            self._evaluate(body, {**scope, text(item): value})
            for value in self._evaluate(items, scope)
        ]
