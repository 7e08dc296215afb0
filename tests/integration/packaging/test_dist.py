"""What `make dist` builds is what a pip user installs: the wheels' contents and metadata.

Two distributions: the provider (what an Airflow image installs) and its test cluster
(``kube-test-cluster``, test-cluster/, which the provider's ``testing`` extra requires).
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.message import Message
from email.parser import Parser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
TEST_CLUSTER = REPO / "test-cluster"


def _build(project: Path, out: Path, pattern: str) -> Path:
    """Build as `make dist` does: the sdist, then the wheel from it (so nothing left in a
    checkout's build/ by an earlier build can slip into the wheel)."""
    result = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(project)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    (built,) = out.glob(pattern)
    return built


def _metadata(archive: zipfile.ZipFile) -> Message:
    (meta_name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    return Parser().parsestr(archive.read(meta_name).decode())


def _entry_points(archive: zipfile.ZipFile) -> str:
    names = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
    return "".join(archive.read(n).decode() for n in names)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(REPO, tmp_path_factory.mktemp("dist"), "airflow_sts_provider-*.whl")


@pytest.fixture(scope="module")
def test_cluster_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(TEST_CLUSTER, tmp_path_factory.mktemp("dist"), "kube_test_cluster-*.whl")


def test_the_wheel_ships_types_license_and_every_layer(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (
        "airflow_sts_provider/py.typed",
        "airflow_sts_provider/kinds.py",
        "airflow_sts_provider/exceptions.py",
        "airflow_sts_provider/readiness/__init__.py",
        "airflow_sts_provider/hooks/workload.py",
        "airflow_sts_provider/testing/__init__.py",  # the shim
    ):
        assert path in names, path
    assert any(name.endswith("/licenses/LICENSE") for name in names)


def test_the_wheel_holds_no_test_cluster_file_and_registers_no_pytest_plugin(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    names = archive.namelist()
    testing = [n for n in names if n.startswith("airflow_sts_provider/testing/")]
    assert testing == ["airflow_sts_provider/testing/__init__.py"]
    assert not [n for n in names if n.startswith("kube_test_cluster")]
    assert "pytest11" not in _entry_points(archive)


def test_a_worker_install_does_not_pull_the_test_cluster(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    meta = _metadata(archive)
    requires = meta.get_all("Requires-Dist") or []
    test_cluster = [line for line in requires if line.lower().startswith("kube-test-cluster")]
    assert test_cluster and all('extra == "testing"' in line for line in test_cluster), requires
    assert not [line for line in requires if line.lower().startswith("trustme")], requires
    assert meta["License-Expression"] == "Apache-2.0"
    assert "airflow_sts_provider:get_provider_info" in _entry_points(archive)


def test_the_test_cluster_wheel_builds_alone_with_its_plugin_and_every_module(
    test_cluster_wheel: Path,
) -> None:
    archive = zipfile.ZipFile(test_cluster_wheel)
    names = set(archive.namelist())
    package = TEST_CLUSTER / "kube_test_cluster"
    sources = {
        str(p.relative_to(TEST_CLUSTER))
        for p in package.rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert len(sources) > 40
    assert {n for n in names if n.endswith(".py")} == sources  # every module, nothing else
    assert "kube_test_cluster/py.typed" in names
    assert "kube_test_cluster/apiserver/tls.py" in names
    assert any(name.endswith("/licenses/LICENSE") for name in names)
    meta = _metadata(archive)
    assert meta["Name"] == "kube-test-cluster"
    assert meta["License-Expression"] == "Apache-2.0"
    requires = [line.lower() for line in meta.get_all("Requires-Dist") or []]
    assert any(line.startswith("trustme") and "extra" not in line for line in requires), requires
    assert not [line for line in requires if "airflow" in line], requires
    entry_points = _entry_points(archive)
    assert "[pytest11]" in entry_points
    assert "kube_test_cluster.pytest_plugin" in entry_points


def test_the_test_clusters_license_is_the_projects() -> None:
    assert (TEST_CLUSTER / "LICENSE").read_bytes() == (REPO / "LICENSE").read_bytes()


def test_the_wheel_carries_the_documentation_link_and_the_pages_the_errors_point_to(
    wheel: Path,
) -> None:
    import airflow_sts_provider
    from airflow_sts_provider.docs import section

    archive = zipfile.ZipFile(wheel)
    (meta_name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    meta = Parser().parsestr(archive.read(meta_name).decode())
    urls = dict(entry.split(", ", 1) for entry in meta.get_all("Project-URL") or [])
    assert urls["Documentation"] == airflow_sts_provider.DOCUMENTATION_URL
    pages = {
        Path(n).name for n in archive.namelist() if n.startswith("airflow_sts_provider/pages/")
    }
    assert {path.name for path in (REPO / "docs").glob("*.md")} <= pages
    operations = archive.read("airflow_sts_provider/pages/operations.md").decode()
    rbac = section(operations, "rbac")  # what `python -m ...docs rbac` prints, offline
    assert rbac is not None and "kind: Role" in rbac
