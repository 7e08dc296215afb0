"""The provider and its test cluster are two distributions: neither imports the other's
code, and ``airflow_sts_provider.testing`` is only a shim that re-exports the test
cluster or says in one line what to install.

The test cluster's side (it imports nothing of the provider, its layers import only
downward) is checked by its own suite, ``test-cluster/tests``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import airflow_sts_provider
import airflow_sts_provider.testing as shim

PRODUCT = Path(airflow_sts_provider.__file__).parent
SHIM = PRODUCT / "testing" / "__init__.py"
MESSAGE = "the test cluster is not installed: pip install 'airflow-sts-provider[testing]'"


def _imported_roots(path: Path) -> set[str]:
    """The top-level names of every module ``path`` imports (anywhere in it)."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots.add(node.module.split(".")[0])
    return roots


def test_product_code_never_imports_the_test_cluster() -> None:
    modules = sorted(p for p in PRODUCT.rglob("*.py") if p != SHIM)
    assert len(modules) > 20  # the scan sees the product, not an empty directory
    importing = [
        str(p.relative_to(PRODUCT)) for p in modules if "kube_test_cluster" in _imported_roots(p)
    ]
    assert not importing
    assert "kube_test_cluster" in _imported_roots(SHIM)  # the scan would see one


def test_the_testing_package_is_the_shim_alone() -> None:
    found = {
        str(p.relative_to(SHIM.parent))
        for p in SHIM.parent.rglob("*")
        if "__pycache__" not in p.parts and p.name != "__pycache__"
    }
    assert found == {"__init__.py"}


def test_the_shim_re_exports_the_test_cluster() -> None:
    import kube_test_cluster

    assert shim.EmulatedCluster is kube_test_cluster.EmulatedCluster
    assert shim.SCENARIOS is kube_test_cluster.SCENARIOS
    assert shim.Clock is kube_test_cluster.Clock
    assert sorted(shim.__all__) == sorted(kube_test_cluster.__all__)


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_importing_the_shim_imports_nothing_of_the_test_cluster() -> None:
    result = _python(
        """
        import sys
        import airflow_sts_provider.testing
        print(sorted(m for m in sys.modules if m.split(".")[0] == "kube_test_cluster"))
        """
    )
    assert (result.stdout, result.stderr) == ("[]\n", "")


def test_without_the_test_cluster_the_shim_says_in_one_line_what_to_install() -> None:
    result = _python(
        """
        import sys
        sys.modules["kube_test_cluster"] = None  # what an uninstalled package looks like
        import airflow_sts_provider.testing  # still imports: the names are looked up lazily
        try:
            from airflow_sts_provider.testing import EmulatedCluster
        except ImportError as error:
            print(str(error))
            print(error.__suppress_context__)
        """
    )
    assert result.stderr == ""
    assert result.stdout == f"{MESSAGE}\nTrue\n"


def test_a_broken_test_cluster_is_not_reported_as_a_missing_one() -> None:
    """Installed but missing one of its own modules: that error, not "install the extra"."""
    result = _python(
        """
        import sys
        sys.modules["kube_test_cluster.cluster"] = None
        import airflow_sts_provider.testing as shim
        try:
            shim.EmulatedCluster
        except ImportError as error:
            print(type(error).__name__, error.name)
        """
    )
    assert result.stdout == "ModuleNotFoundError kube_test_cluster.cluster\n", result.stderr
