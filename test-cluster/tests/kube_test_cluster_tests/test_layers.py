"""The test cluster's layers import only downward, as each sub-package's docstring says.

``registry`` at the bottom; ``apiserver`` and ``machinery`` stand on it; ``controlplane``
and ``nodes`` stand on ``machinery`` and never import each other; ``clock`` is a leaf
every layer may use. On top, the modules of the package itself (``manager``, ``cluster``,
``scenarios``, the CLI, the pytest plugin). Nothing in the package imports the Airflow
provider it was written for, nor Airflow: it is its own distribution.

Read by static scan of every ``import`` (relative ones resolved), so an import inside a
function or under ``TYPE_CHECKING`` counts as much as one at the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import kube_test_cluster

ROOT = Path(kube_test_cluster.__file__).parent
PACKAGE = "kube_test_cluster"

#: layer -> the layers (or leaf modules) it may import besides itself
ALLOWED = {
    "registry": ("clock",),
    "apiserver": ("registry", "clock"),
    "machinery": ("registry", "clock"),
    "controlplane": ("machinery", "registry", "clock"),
    "nodes": ("machinery", "registry", "clock"),
}
#: the modules on top, which may import every layer
TOP = {
    "__init__",
    "__main__",
    "clock",  # the leaf (imports nothing of the package)
    "cluster",
    "faults",  # short path re-exporting apiserver.faults (documented)
    "manager",
    "pytest_plugin",
    "scenarios",
    "store",  # short path re-exporting registry.store (documented)
}
MODULES = sorted(p for p in ROOT.rglob("*.py") if "__pycache__" not in p.parts)
LAYERED = [p for p in MODULES if p.parent != ROOT]


def _dotted(path: Path) -> str:
    parts = [PACKAGE, *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(dotted: str) -> bool:
    relative = dotted.removeprefix(f"{PACKAGE}.").replace(".", "/")
    return dotted.startswith(f"{PACKAGE}.") and (ROOT / f"{relative}.py").is_file()


def _imports(path: Path, source: str | None = None) -> set[str]:
    """Every module ``path`` (or ``source``, read as if at ``path``) imports: absolute
    dotted names; ``from m import x`` as ``m.x`` when ``x`` is a module of the package."""
    found: set[str] = set()
    package = _dotted(path) if path.name == "__init__.py" else _dotted(path).rpartition(".")[0]
    text = path.read_text() if source is None else source
    for node in ast.walk(ast.parse(text, str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, module] if module else base)
            for alias in node.names:
                full = f"{module}.{alias.name}"
                found.add(full if _is_module(full) else module)
    return found


def _internal(path: Path) -> set[str]:
    """What ``path`` imports of the package, relative to it (``registry.store``...)."""
    return {m.removeprefix(f"{PACKAGE}.") for m in _imports(path) if m.startswith(f"{PACKAGE}.")}


def _allowed(layer: str, target: str) -> bool:
    if target.split(".", maxsplit=1)[0] == layer:
        return True
    return any(target == ok or target.startswith(f"{ok}.") for ok in ALLOWED[layer])


@pytest.mark.parametrize("path", LAYERED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_layer_imports_only_the_layers_below_it(path: Path) -> None:
    layer = path.parent.name
    upward = sorted(t for t in _internal(path) if not _allowed(layer, t))
    assert not upward, f"{layer}/{path.name} imports {upward}"


def test_the_control_plane_and_the_nodes_never_import_each_other() -> None:
    crossing = {
        f"{p.parent.name}/{p.name}": sorted(
            t for t in _internal(p) if t.split(".")[0] in {"controlplane", "nodes"} - {layer}
        )
        for p in LAYERED
        if (layer := p.parent.name) in {"controlplane", "nodes"}
    }
    assert not {name: found for name, found in crossing.items() if found}


def test_the_clock_is_a_leaf() -> None:
    assert not _internal(ROOT / "clock.py")


def test_every_module_of_the_test_cluster_is_in_a_layer_or_on_top() -> None:
    assert {p.stem for p in ROOT.glob("*.py")} == TOP
    assert {p.name for p in ROOT.iterdir() if p.is_dir() and p.name != "__pycache__"} == set(
        ALLOWED
    )


def test_the_test_cluster_imports_nothing_of_the_provider_nor_airflow() -> None:
    foreign = {
        str(p.relative_to(ROOT)): sorted(
            m for m in _imports(p) if m.split(".")[0] in {"airflow_sts_provider", "airflow"}
        )
        for p in MODULES
    }
    assert not {name: found for name, found in foreign.items() if found}


def test_the_scan_sees_relative_imports_and_imports_inside_blocks() -> None:
    pod = ROOT / "nodes" / "pod.py"
    relative = "from ..machinery import util\nfrom . import kubelet\nfrom .. import clock\n"
    assert _imports(pod, relative) == {
        f"{PACKAGE}.machinery.util",
        f"{PACKAGE}.nodes.kubelet",
        f"{PACKAGE}.clock",
    }
    assert "nodes.kubelet" in _internal(pod)  # under TYPE_CHECKING
    assert "cluster" in _internal(ROOT / "__main__.py")  # inside a function
