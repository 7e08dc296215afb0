"""``readiness`` must import with nothing but the standard library on the path.

The rules run inside the hook, the trigger and the emulator's tests, and users may
vendor them; a stray import of Airflow, the kubernetes client or PyYAML would tie
them to a heavy environment. The check runs a fresh interpreter in isolated mode
(``-I -S``: no site-packages, no user site, no environment) with only the
repository root on ``sys.path``, and imports every module of the package, so a
rule module that the package's ``__init__`` does not import is covered too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PACKAGE = REPO / "airflow_sts_provider" / "readiness"

PROBE = """
import importlib, json, pkgutil, sys
sys.path[:0] = [{repo!r}]
import airflow_sts_provider.readiness as readiness
modules = [
    importlib.import_module(info.name)
    for info in pkgutil.walk_packages(readiness.__path__, readiness.__name__ + ".")
]
stdlib = sys.stdlib_module_names
outside = sorted(
    name for name in sys.modules
    if name.split(".")[0] not in stdlib
    and name.split(".")[0] not in ("__main__", "airflow_sts_provider")
)
print(json.dumps({{
    "files": sorted([readiness.__file__, *(module.__file__ for module in modules)]),
    "outside": outside,
    "path": sys.path,
}}))
"""


def test_every_readiness_module_imports_with_only_the_standard_library() -> None:
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", PROBE.format(repo=str(REPO))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["outside"] == []
    imported = {Path(file).resolve() for file in report["files"]}
    assert imported == set(PACKAGE.rglob("*.py")), "every module of the package was imported"
    assert not any("site-packages" in entry for entry in report["path"])
