"""Without ``trustme`` the test cluster imports, and says in one line what to add.

The provider's shim, when the test cluster itself is missing, says what to install in
``tests/integration/packaging/test_split.py``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from kube_test_cluster.apiserver.tls import MISSING_TRUSTME, MissingDependencyError
from kube_test_cluster.cluster import EmulatedCluster

MESSAGE = "the test cluster needs trustme to serve HTTPS: pip install trustme"


def test_without_trustme_the_cluster_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "trustme", None)  # what a missing module looks like
    with pytest.raises(MissingDependencyError) as raised:
        EmulatedCluster()
    assert str(raised.value) == MESSAGE == MISSING_TRUSTME
    assert isinstance(raised.value, ImportError)
    assert raised.value.__suppress_context__  # no "during handling of..." second traceback


def test_without_trustme_a_plain_http_cluster_still_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "trustme", None)
    with EmulatedCluster(manual_clock=True, tls=False) as cluster:
        cluster.apply_scenario("healthy")
        assert cluster.url.startswith("http://")


def _without_trustme(code: str) -> subprocess.CompletedProcess[str]:
    script = "import sys\nsys.modules['trustme'] = None\n" + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )


def test_without_trustme_the_package_and_the_plugin_import_silently() -> None:
    result = _without_trustme(
        """
        import kube_test_cluster as testing
        import kube_test_cluster.pytest_plugin
        import kube_test_cluster.cluster
        assert testing.EmulatedCluster and testing.SCENARIOS and testing.Clock
        print("imported")
        """
    )
    assert (result.stdout, result.stderr) == ("imported\n", "")


def test_without_trustme_serve_prints_one_line_and_exits_2() -> None:
    result = _without_trustme(
        """
        from kube_test_cluster.__main__ import main
        sys.exit(main(["serve"]))
        """
    )
    assert result.returncode == 2
    assert result.stderr == f"error: {MESSAGE}\n"
