"""The provider as its users meet the test cluster: the connection ``serve --airflow-env``
writes, used by a hook from a shell; the pytest example of the test cluster's README.

The test cluster's own suite (``test-cluster/tests``) runs without the provider; these
two need both, so they live here.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

#: the test cluster's README (the ``kube-test-cluster`` distribution's, in this repository)
TEST_CLUSTER_README = Path(__file__).resolve().parents[2] / "test-cluster" / "README.md"


def test_airflow_env_writes_a_connection_a_shell_can_source_and_the_hook_can_use(
    tmp_path: Path,
) -> None:
    env_file = tmp_path / "sts.env"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kube_test_cluster",
            "serve",
            "--scenario",
            "healthy",
            "--airflow-env",
            str(env_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None and server.stderr is not None
        line = server.stdout.readline()  # bounded: the process prints it or dies
        assert line.startswith("Serving "), line + server.stderr.read()
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600  # it holds the token
        script = (
            f". {env_file} && {sys.executable} -c "
            "'from airflow_sts_provider.hooks.workload import WorkloadHook; "
            'print(WorkloadHook().get_workload_readiness("StatefulSet", "healthy").kind)\''
        )
        out = subprocess.run(
            ["bash", "-c", script], check=False, capture_output=True, text=True, timeout=120
        )
        server.terminate()
        assert server.wait(timeout=15) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
    assert out.stdout.strip().splitlines()[-1] == "StatefulSet", out.stderr[-2000:]


def test_the_documented_example_test_passes(tmp_path: Path) -> None:
    """The pytest example in the test cluster's README, run as a user would run it."""
    docs = TEST_CLUSTER_README.read_text()
    section = docs.split("## In pytest", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "test_example.py").write_text(example)
    env = {k: v for k, v in os.environ.items() if k != "AIRFLOW_CONN_KUBERNETES_DEFAULT"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_example.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert "1 passed" in result.stdout, result.stdout[-3000:] + result.stderr[-3000:]
