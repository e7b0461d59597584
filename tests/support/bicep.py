"""Reading Bicep files with tree-sitter-bicep: declarations, literal values and parse errors.

Enough of the language for structural tests of ``infra/`` where no Bicep compiler is available:
parameters (with decorators and defaults), variables, resources, modules and outputs, and
literal values (strings, numbers, booleans, null, arrays, objects) as Python values.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import tree_sitter_bicep
from tree_sitter import Language, Node, Parser

_ESCAPES = {"\\'": "'", "\\\\": "\\", "\\n": "\n", "\\r": "\r", "\\t": "\t", "\\$": "$"}


class NotLiteral(ValueError):
    """The expression is not a literal (it references symbols, calls functions, ...)."""


@cache
def _parser() -> Parser:
    return Parser(Language(tree_sitter_bicep.language()))


def text(node: Node) -> str:
    """The source text of ``node``."""
    return (node.text or b"").decode("utf-8")


def literal(node: Node) -> Any:
    """The Python value of a literal expression; :class:`NotLiteral` otherwise."""
    kind = node.type
    if kind == "string":
        parts: list[str] = []
        for child in node.named_children:
            if child.type == "string_content":
                parts.append(text(child))
            elif child.type == "escape_sequence":
                parts.append(_ESCAPES.get(text(child), text(child)))
            else:
                raise NotLiteral(text(node))
        return "".join(parts)
    if kind == "multiline_string":
        return text(node)[3:-3].removeprefix("\n")
    if kind == "number":
        return int(text(node))
    if kind == "boolean":
        return text(node) == "true"
    if kind == "null":
        return None
    if kind == "array":
        return [literal(item) for item in _items(node)]
    if kind == "object":
        return {key: literal(value) for key, value in object_properties(node)}
    if kind == "parenthesized_expression" and node.named_child_count == 1:
        return literal(_child(node, 0))
    if kind == "unary_expression" and text(node).startswith("-"):
        return -literal(_child(node, node.named_child_count - 1))
    raise NotLiteral(text(node))


def key_name(node: Node) -> str:
    """An object property key: an identifier or a plain string."""
    if node.type == "string":
        value = literal(node)
        assert isinstance(value, str)
        return value
    return text(node)


def object_properties(node: Node) -> Iterator[tuple[str, Node]]:
    """``(key, value node)`` of each property of an object literal, in order."""
    for prop in node.named_children:
        if prop.type == "object_property":
            key, value = _child(prop, 0), _child(prop, prop.named_child_count - 1)
            yield key_name(key), value


def get(node: Node, *path: str) -> Node | None:
    """The value node at ``path`` inside nested object literals, or None."""
    current: Node | None = node
    for key in path:
        if current is None or current.type != "object":
            return None
        current = dict(object_properties(current)).get(key)
    return current


def at(node: Node, *path: str) -> Node:
    """The value node at ``path`` inside nested object literals; AssertionError when absent."""
    found = get(node, *path)
    assert found is not None, f"no {'.'.join(path)} in {text(node)[:60]!r}"
    return found


def properties(node: Node, *path: str) -> dict[str, Node]:
    """The properties of the object literal at ``path`` as a dict of value nodes."""
    return dict(object_properties(at(node, *path) if path else node))


def walk(node: Node) -> Iterator[Node]:
    """``node`` and every named descendant, depth first."""
    yield node
    for child in node.named_children:
        yield from walk(child)


def _child(node: Node, index: int) -> Node:
    child = node.named_child(index)
    assert child is not None, f"no child {index} in {text(node)!r}"
    return child


def _items(node: Node) -> list[Node]:
    return [item for item in node.named_children if item.type != "comment"]


@dataclass(frozen=True)
class Param:
    """A ``param``: its type, default value node and decorators by name."""

    name: str
    type: str
    default: Node | None
    decorators: dict[str, list[Node]]

    def decorator_value(self, name: str) -> Any:
        """The literal argument of decorator ``name`` (e.g. ``allowed``), or None."""
        args = self.decorators.get(name)
        return literal(args[0]) if args else None

    def default_value(self) -> Any:
        """The literal default value; AssertionError when the parameter has none."""
        assert self.default is not None, f"param {self.name} has no default"
        return literal(self.default)


@dataclass(frozen=True)
class Declaration:
    """A ``resource`` or ``module``: type or path, condition, loop source and body object."""

    symbol: str
    target: str
    condition: str | None
    iterable: str | None
    body: Node
    existing: bool = False


@dataclass(frozen=True)
class Output:
    """An ``output``: its type and value expression."""

    name: str
    type: str
    value: Node


@dataclass
class BicepFile:
    """One parsed ``.bicep`` file."""

    path: Path
    root: Node
    params: dict[str, Param] = field(default_factory=dict)
    variables: dict[str, Node] = field(default_factory=dict)
    resources: dict[str, Declaration] = field(default_factory=dict)
    modules: dict[str, Declaration] = field(default_factory=dict)
    outputs: dict[str, Output] = field(default_factory=dict)
    target_scope: str | None = None

    @classmethod
    def parse(cls, path: Path) -> BicepFile:
        """Parse ``path`` and index its top-level declarations."""
        tree = _parser().parse(path.read_bytes())
        parsed = cls(path=path, root=tree.root_node)
        parsed._index()
        return parsed

    def errors(self) -> list[str]:
        """``line:column: text`` of every syntax error or missing token."""
        found = []
        for node in _all_nodes(self.root):
            if node.is_error or node.is_missing:
                line, column = node.start_point
                found.append(f"{self.path.name}:{line + 1}:{column + 1}: {text(node)[:60]!r}")
        return found

    def calls(self, function: str) -> list[Node]:
        """The argument lists of every call to ``function`` anywhere in the file."""
        found = []
        for node in walk(self.root):
            if node.type == "call_expression" and text(_child(node, 0)) == function:
                found.append(_child(node, 1))
        return found

    def nested_resources(self) -> Iterator[Declaration]:
        """Every resource declaration, top-level or nested in another resource's body."""
        for node in walk(self.root):
            if node.type == "resource_declaration":
                yield _declaration(node)

    def _index(self) -> None:
        pending: dict[str, list[Node]] = {}
        for node in self.root.named_children:
            kind = node.type
            if kind == "decorators":
                pending = _decorators(node)
                continue
            if kind == "target_scope_assignment":
                self.target_scope = literal(_child(node, 0))
            elif kind == "parameter_declaration":
                children = node.named_children
                default = children[2] if len(children) > 2 else None
                name = text(children[0])
                self.params[name] = Param(name, text(children[1]), default, pending)
            elif kind == "variable_declaration":
                self.variables[text(_child(node, 0))] = _child(node, node.named_child_count - 1)
            elif kind == "resource_declaration":
                declaration = _declaration(node)
                self.resources[declaration.symbol] = declaration
            elif kind == "module_declaration":
                declaration = _declaration(node)
                self.modules[declaration.symbol] = declaration
            elif kind == "output_declaration":
                name = text(_child(node, 0))
                self.outputs[name] = Output(
                    name, text(_child(node, 1)), _child(node, node.named_child_count - 1)
                )
            pending = {}


def _all_nodes(node: Node) -> Iterator[Node]:
    yield node
    for child in node.children:
        yield from _all_nodes(child)


def _decorators(node: Node) -> dict[str, list[Node]]:
    found: dict[str, list[Node]] = {}
    for decorator in node.named_children:
        call = _child(decorator, 0)
        if call.type == "call_expression":
            found[text(_child(call, 0))] = _items(_child(call, 1))
        else:
            found[text(call)] = []
    return found


def _declaration(node: Node) -> Declaration:
    symbol = text(_child(node, 0))
    target = literal(_child(node, 1))
    body = _child(node, node.named_child_count - 1)
    existing = any(child.type == "existing" for child in node.children)
    condition: str | None = None
    iterable: str | None = None
    if body.type == "for_statement":
        iterable = text(body.named_children[-2])
        body = _child(body, body.named_child_count - 1)
    if body.type == "if_statement":
        condition = text(_child(body, 0))
        body = _child(body, 1)
    return Declaration(symbol, target, condition, iterable, body, existing)
