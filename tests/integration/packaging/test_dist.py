"""What `make dist` builds is what a pip user installs: the wheel's contents and metadata."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    (built,) = out.glob("airflow_sts_provider-*.whl")
    return built


def test_the_wheel_ships_types_license_and_every_layer(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (
        "airflow_sts_provider/py.typed",
        "airflow_sts_provider/kinds.py",
        "airflow_sts_provider/exceptions.py",
        "airflow_sts_provider/readiness/__init__.py",
        "airflow_sts_provider/hooks/workload.py",
        "airflow_sts_provider/testing/apiserver/tls.py",
    ):
        assert path in names, path
    assert any(name.endswith("/licenses/LICENSE") for name in names)


def test_a_worker_install_does_not_pull_the_test_clusters_dependencies(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    (meta_name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    meta = Parser().parsestr(archive.read(meta_name).decode())
    requires = meta.get_all("Requires-Dist") or []
    trustme = [line for line in requires if line.lower().startswith("trustme")]
    assert trustme and all('extra == "testing"' in line for line in trustme), requires
    assert meta["License-Expression"] == "Apache-2.0"
    (entry_points,) = [n for n in archive.namelist() if n.endswith("entry_points.txt")]
    assert "airflow_sts_provider:get_provider_info" in archive.read(entry_points).decode()


def test_the_wheel_carries_the_documentation_link_and_the_readme_the_errors_point_to(
    wheel: Path,
) -> None:
    import airflow_sts_provider
    from airflow_sts_provider.docs import section

    archive = zipfile.ZipFile(wheel)
    (meta_name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    meta = Parser().parsestr(archive.read(meta_name).decode())
    urls = dict(entry.split(", ", 1) for entry in meta.get_all("Project-URL") or [])
    assert urls["Documentation"] == airflow_sts_provider.DOCUMENTATION_URL
    rbac = section(str(meta.get_payload()), "rbac")  # what `python -m ...docs rbac` prints
    assert rbac is not None and "kind: Role" in rbac
