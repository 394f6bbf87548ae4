"""The layout is a contract: no import cycle between modules or packages (imports inside
functions included), and the root command group's summaries are the commands' own."""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import click
from helpers import ROOT

from digest.cli import COMMANDS
from digest.settings import STATUSES
from subscribers.models import Status

PACKAGES = ("digest", "subscribers")


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    """Every module of ours that ``name`` imports, at any depth of its code."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        for target in targets:
            if target in known and target != name and not name.startswith(target + "."):
                yield target


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def unit(module: str) -> str:
    """A package of the layout: digest's subpackages and top-level modules, or subscribers."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "digest" else parts[0]


def graphs() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    known = modules()
    edges = {name: set(imports(name, path, known)) for name, path in known.items()}
    units: dict[str, set[str]] = {}
    for name, targets in edges.items():
        for target in targets:
            if unit(name) != unit(target):
                units.setdefault(unit(name), set()).add(unit(target))
    return edges, units


def test_no_module_imports_its_way_back_to_itself() -> None:
    edges, _ = graphs()
    assert len(edges) > 100  # the walk found the code
    assert cycles(edges) == []


def test_no_package_imports_its_way_back_to_itself() -> None:
    _, units = graphs()
    assert "digest.run" in units and "digest.deliver" in units["digest.run"]
    assert cycles(units) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_root_lists_each_command_with_its_own_summary() -> None:
    for name, (module, attribute, summary) in COMMANDS.items():
        command = getattr(importlib.import_module(f"digest.commands.{module}"), attribute)
        assert isinstance(command, click.Command)
        assert command.get_short_help_str(limit=1000) == summary, name


def test_the_statuses_settings_know_are_the_audiences() -> None:
    assert set(STATUSES) == {status.value for status in Status}
