"""The product's import graph, read from the source: no circle, and each layer stands on
the ones below it (the rules on nothing, the hooks on no trigger, the triggers on no sensor).

Every import counts, at module level, under ``TYPE_CHECKING`` or inside a function: a
circle hidden in a function is still two modules that must be read together.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import airflow_sts_provider

ROOT = Path(airflow_sts_provider.__file__).parent
PACKAGE = "airflow_sts_provider"
SHIM = f"{PACKAGE}.testing"  # the test cluster's re-export, not product code


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = (PACKAGE, *path.relative_to(ROOT).with_suffix("").parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if not name.startswith(SHIM):
            found[name] = path
    return found


MODULES = _modules()


def _imported(module: str, path: Path) -> Iterator[str]:
    """The provider modules ``module`` imports (a package only when no submodule is named)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            subs = [f"{base}.{alias.name}" for alias in node.names]
            named = [sub for sub in subs if sub in MODULES]
            yield from named if len(named) == len(subs) else [base, *named]


GRAPH = {
    module: {name for name in _imported(module, path) if name in MODULES and name != module}
    for module, path in MODULES.items()
}


def _circles() -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(GRAPH[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group: list[str] = []
            while not group or group[-1] != node:
                group.append(stack.pop())
            if len(group) > 1:
                circles.append(sorted(group))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return circles


def test_no_two_product_modules_import_each_other() -> None:
    assert _circles() == []


@pytest.mark.parametrize(
    ("layer", "below_it_never"),
    [
        ("readiness", ("hooks", "triggers", "sensors", "kinds", "assets")),
        ("hooks", ("triggers", "sensors", "assets")),
        ("triggers", ("sensors",)),
    ],
    ids=[
        "the rules import no other layer",
        "the hooks import no trigger, sensor or asset",
        "the triggers import no sensor",
    ],
)
def test_a_layer_imports_only_the_layers_below(layer: str, below_it_never: tuple[str, ...]) -> None:
    prefix = f"{PACKAGE}.{layer}"
    banned = tuple(f"{PACKAGE}.{name}" for name in below_it_never)
    wrong = {
        (module, name)
        for module, names in GRAPH.items()
        if module == prefix or module.startswith(prefix + ".")
        for name in names
        if name.startswith(banned)
    }
    assert wrong == set()


def test_the_graph_sees_imports_inside_functions() -> None:
    """The scan is real: a trigger imports the hooks only inside its methods (or for types)."""
    hooks = {f"{PACKAGE}.hooks.workload", f"{PACKAGE}.hooks.shared"}
    assert hooks <= GRAPH[f"{PACKAGE}.triggers.base"]
