"""The test cluster runs on its own: ``python -m kube_test_cluster serve`` in a process where
the Airflow provider it was written for (and Airflow) cannot be imported, and kubectl
reads from it.

The static side of the same promise (no module of the package imports the provider) is
``test_layers.py``; this is the running one: serving, TLS, a scenario, the controllers,
the kubelets and kubectl's discovery all work with the provider gone.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kube_test_cluster_tests.kubectl import KUBECTL, kubectl

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed here")

#: ``python -c`` this, then the CLI's arguments: the CLI as ``python -m`` runs it, with the
#: provider and Airflow made unimportable (``None`` in ``sys.modules`` is what a package
#: that is not installed looks like to ``import``)
WITHOUT_THE_PROVIDER = """
import runpy
import sys

for name in ("airflow_sts_provider", "airflow"):
    sys.modules[name] = None
runpy.run_module("kube_test_cluster", run_name="__main__", alter_sys=True)
"""


def test_serve_runs_and_kubectl_reads_it_without_the_provider(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PYTHONUNBUFFERED="1", XDG_CACHE_HOME=str(tmp_path / "cache"))
    command = [sys.executable, "-c", WITHOUT_THE_PROVIDER, "serve", "--scenario", "healthy"]
    command += ["--kubeconfig-out", str(kubeconfig), "--state-dir", str(tmp_path / "state")]
    server = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,  # not a checkout: the installed test cluster, nothing beside it
        env=env,
    )
    try:
        assert server.stdout is not None and server.stderr is not None
        line = server.stdout.readline()  # bounded: the process prints it or dies
        assert line.startswith("Serving https://127.0.0.1:"), line + server.stderr.read()
        assert f"kubeconfig={kubeconfig}" in line
        listed = kubectl(kubeconfig, "get", "statefulsets", "-A")
        assert "healthy" in listed.stdout, listed.stdout
        server.terminate()
        assert server.wait(timeout=15) == 0, server.stderr.read()
        assert "airflow" not in server.stderr.read().lower()  # no traceback naming it either
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
