"""The ``serve`` CLI across restarts and its authentication switches."""

from __future__ import annotations

import base64
import http.client
import logging
import os
import ssl
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

#: the test cluster's project directory (test-cluster/: its pyproject, README and package)
PROJECT = Path(__file__).resolve().parents[2]


@contextmanager
def serving(*args: str, cache: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Run ``serve`` with ``args``; yields its ``Serving`` line and the process."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "XDG_CACHE_HOME": str(cache)}
    server = subprocess.Popen(
        [sys.executable, "-m", "kube_test_cluster", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT,
        env=env,
    )
    try:
        assert server.stdout is not None and server.stderr is not None
        line = server.stdout.readline()  # bounded: the process prints it or dies
        assert line.startswith("Serving "), line + server.stderr.read()
        yield line, server
        server.terminate()
        assert server.wait(timeout=15) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)


def _port(line: str) -> int:
    url = line.split()[1]
    return int(url.rsplit(":", 1)[1])


def _get_with_ca(ca_pem: bytes, port: int, token: str) -> int:
    context = ssl.create_default_context(cadata=ca_pem.decode())
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    try:
        conn.request("GET", "/api/v1/namespaces", headers={"Authorization": f"Bearer {token}"})
        return conn.getresponse().status
    finally:
        conn.close()


def _ca_of(kubeconfig: Path) -> bytes:
    config = yaml.safe_load(kubeconfig.read_text())
    data = config["clusters"][0]["cluster"]["certificate-authority-data"]
    return base64.b64decode(data)


def test_a_kubeconfig_from_an_earlier_run_verifies_after_a_restart(tmp_path: Path) -> None:
    state, cache = tmp_path / "state", tmp_path / "cache"
    first, second = tmp_path / "kc1", tmp_path / "kc2"
    common = ("--token", "t0ken", "--state-dir", str(state))
    with serving(*common, "--kubeconfig-out", str(first), cache=cache):
        pass
    with serving(*common, "--kubeconfig-out", str(second), cache=cache) as (line, _):
        # the old kubeconfig's CA verifies the new server (ssl raises if it does not)
        assert _get_with_ca(_ca_of(first), _port(line), "t0ken") == 200
    assert _ca_of(first) == _ca_of(second)
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    keys = [p for p in state.iterdir() if "key" in p.name]
    assert keys and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in keys)
    assert not (cache / "airflow-sts-provider").exists()  # --state-dir was used instead


def test_the_default_state_dir_is_under_the_users_cache_dir(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with serving("--token", "t0ken", "--kubeconfig-out", str(tmp_path / "kc1"), cache=cache):
        pass
    state = cache / "airflow-sts-provider"
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    with serving("--token", "t0ken", cache=cache) as (line, _):
        assert _get_with_ca(_ca_of(tmp_path / "kc1"), _port(line), "t0ken") == 200


def test_the_cluster_object_still_makes_a_throwaway_ca_unless_given_one(tmp_path: Path) -> None:
    from kube_test_cluster.apiserver.tls import load_or_create_ca
    from kube_test_cluster.cluster import EmulatedCluster

    ca = load_or_create_ca(tmp_path / "state")
    with EmulatedCluster(manual_clock=True, ca=ca) as given:
        assert given.server.ca_pem == ca.cert_pem.bytes()
        assert _get_with_ca(ca.cert_pem.bytes(), given.server.port, given.token or "") == 200
    with EmulatedCluster(manual_clock=True) as fresh:
        assert fresh.server.ca_pem != ca.cert_pem.bytes()


def test_an_empty_token_is_refused_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    result = subprocess.run(
        [sys.executable, "-m", "kube_test_cluster", "serve", "--token", ""],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT,
        env=env,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: --token")
    assert "--no-auth" in result.stderr


def test_no_auth_serves_without_a_token_and_warns(tmp_path: Path) -> None:
    with serving("--no-auth", cache=tmp_path / "cache") as (line, server):
        ca = (tmp_path / "cache" / "airflow-sts-provider" / "ca.pem").read_bytes()
        assert _get_with_ca(ca, _port(line), "anything") == 200
        context = ssl.create_default_context(cadata=ca.decode())
        conn = http.client.HTTPSConnection("127.0.0.1", _port(line), context=context)
        conn.request("GET", "/api/v1/namespaces")  # no Authorization header at all
        assert conn.getresponse().status == 200
        conn.close()
        server.terminate()
        assert server.wait(timeout=15) == 0
        assert server.stderr is not None
        warnings = [w for w in server.stderr.read().splitlines() if "authentication is off" in w]
        assert len(warnings) == 1, warnings


def test_an_empty_token_keyword_turns_auth_off_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from kube_test_cluster.cluster import EmulatedCluster

    with (
        caplog.at_level(logging.WARNING, logger="kube_test_cluster"),
        EmulatedCluster(manual_clock=True, tls=False, token="") as cluster,
    ):
        assert cluster.token is None
        conn = http.client.HTTPConnection("127.0.0.1", cluster.server.port, timeout=10)
        conn.request("GET", "/api/v1/namespaces")
        assert conn.getresponse().status == 200
        conn.close()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "authentication is off" in warnings[0].getMessage()


def test_examples_applies_what_the_example_dags_wait_for(tmp_path: Path) -> None:
    args = ("--examples", "--insecure-http", "--token", "t0ken")
    with serving(*args, cache=tmp_path / "cache") as (line, _):
        assert line.rstrip().endswith("scenarios=examples")
        conn = http.client.HTTPConnection("127.0.0.1", _port(line), timeout=10)
        try:
            for path in (
                "statefulsets/kafka",
                "statefulsets/postgres",
                "deployments/model-server",
            ):
                conn.request(
                    "GET",
                    f"/apis/apps/v1/namespaces/default/{path}",
                    headers={"Authorization": "Bearer t0ken"},
                )
                response = conn.getresponse()
                response.read()
                assert response.status == 200, path
        finally:
            conn.close()
