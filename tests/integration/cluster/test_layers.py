"""The test cluster's layers import only downward, as each sub-package's docstring says.

top (cluster, CLI, plugin) -> apiserver -> registry, and top -> controlplane/nodes ->
registry; ``clock`` is a leaf every layer may use. Nodes build on the control plane's
component base only, and nothing below the top imports the API server.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from airflow_sts_provider import testing

ROOT = Path(testing.__file__).parent
PACKAGE = "airflow_sts_provider.testing"

#: layer -> what it may import besides itself (layers, or single modules of one)
ALLOWED = {
    "registry": ("clock",),
    "apiserver": ("registry", "clock"),
    "controlplane": ("nodes", "registry", "clock"),
    "nodes": ("controlplane.base", "controlplane.cache", "controlplane.util", "registry", "clock"),
}
LAYERED = sorted(path for layer in ALLOWED for path in (ROOT / layer).glob("*.py"))


def _is_module(dotted: str) -> bool:
    relative = dotted.removeprefix(f"{PACKAGE}.").replace(".", "/")
    return dotted.startswith(f"{PACKAGE}.") and (ROOT / f"{relative}.py").is_file()


def _imported(path: Path) -> set[str]:
    """Every ``airflow_sts_provider.testing`` module ``path`` imports, relative to the package."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            module = node.module
            modules = [
                f"{module}.{a.name}" if _is_module(f"{module}.{a.name}") else module
                for a in node.names
            ]
        else:
            continue
        found.update(m.removeprefix(f"{PACKAGE}.") for m in modules if m.startswith(PACKAGE))
    return found


def _allowed(layer: str, target: str) -> bool:
    if target.split(".", maxsplit=1)[0] == layer:
        return True
    return any(target == ok or target.startswith(f"{ok}.") for ok in ALLOWED[layer])


@pytest.mark.parametrize("path", LAYERED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_layer_imports_only_the_layers_below_it(path: Path) -> None:
    layer = path.parent.name
    upward = sorted(t for t in _imported(path) if not _allowed(layer, t))
    assert not upward, f"{layer}/{path.name} imports {upward}"


def test_every_module_of_the_test_cluster_is_in_a_layer_or_on_top() -> None:
    top = {p.stem for p in ROOT.glob("*.py")}
    assert top == {
        "__init__",
        "__main__",
        "clock",
        "cluster",
        "faults",  # re-export of apiserver.faults (a documented path)
        "pytest_plugin",
        "scenarios",
        "store",  # re-export of registry.store (a documented path)
    }
    assert {p.name for p in ROOT.iterdir() if p.is_dir() and p.name != "__pycache__"} == set(
        ALLOWED
    )
