"""The facade (``EmulatedCluster``), the pytest plugin and the CLI's argument handling."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from kube_test_cluster.cluster import EmulatedCluster
from kube_test_cluster.scenarios import SCENARIOS

#: the test cluster's project directory (test-cluster/: its pyproject, README and package)
PROJECT = Path(__file__).resolve().parents[2]

STATEFULSET_YAML = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 2
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: "postgres:16"}]
"""


@pytest.fixture
def frozen() -> Iterator[EmulatedCluster]:
    """A started cluster whose clock only moves when the test says so."""
    with EmulatedCluster(manual_clock=True) as cluster:
        yield cluster


def ready_count(cluster: EmulatedCluster, name: str) -> int:
    sts = cluster.get("statefulsets", name)
    return int(((sts or {}).get("status") or {}).get("readyReplicas", 0))


def test_start_writes_a_private_kubeconfig_and_stop_removes_it() -> None:
    cluster = EmulatedCluster(manual_clock=True).start()
    try:
        path = cluster.kubeconfig_path
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        written = yaml.safe_load(path.read_text())
        assert written == cluster.kubeconfig
        assert written["clusters"][0]["cluster"]["server"] == cluster.url
        assert cluster.url.startswith("https://127.0.0.1:")
        assert written["users"][0]["user"]["token"] == cluster.token
    finally:
        cluster.stop()
    assert not path.exists() and not path.parent.exists()


def test_a_stopped_cluster_refuses_to_start_again() -> None:
    cluster = EmulatedCluster(manual_clock=True)
    with cluster, pytest.raises(RuntimeError, match="already started"):
        cluster.start()
    with pytest.raises(RuntimeError, match="cannot be restarted"):
        cluster.start()


def test_the_airflow_connection_carries_the_kubeconfig_in_both_forms(
    frozen: EmulatedCluster,
) -> None:
    expected = {"kube_config": frozen.kubeconfig, "namespace": "default"}
    assert json.loads(frozen.airflow_connection_json()) == {
        "conn_type": "kubernetes",
        "extra": expected,
    }
    uri = urlsplit(frozen.airflow_connection_uri())
    assert uri.scheme == "kubernetes"
    assert json.loads(parse_qs(uri.query)["__extra__"][0]) == expected


def test_the_python_client_sees_a_scenario_through_the_kubeconfig(frozen: EmulatedCluster) -> None:
    from kubernetes import client, config

    frozen.apply_scenario("healthy")
    frozen.advance(5)
    api = client.CoreV1Api(config.new_client_from_config(config_file=str(frozen.kubeconfig_path)))
    pods = api.list_namespaced_pod("default", label_selector="app=healthy").items
    assert [p.metadata.name for p in pods] == ["healthy-0", "healthy-1", "healthy-2"]
    assert all(p.status.phase == "Running" for p in pods)


def test_a_manual_clock_stands_still_until_advanced(frozen: EmulatedCluster) -> None:
    frozen.apply_scenario("healthy")
    frozen.wait_for(lambda: frozen.get("pods", "healthy-0"), timeout=5)
    time.sleep(0.3)  # real time passing changes nothing
    assert ready_count(frozen, "healthy") == 0
    frozen.advance(5)
    assert ready_count(frozen, "healthy") == 3


def test_a_scenario_can_run_in_another_namespace_which_is_created(frozen: EmulatedCluster) -> None:
    frozen.apply_scenario("healthy", namespace="shop", replicas=2)
    frozen.advance(5)
    assert frozen.get("namespaces", "shop", namespace="") is not None
    assert ready_count_in(frozen, "shop") == 2


def ready_count_in(cluster: EmulatedCluster, namespace: str) -> int:
    sts = cluster.get("statefulsets", "healthy", namespace=namespace)
    return int(((sts or {}).get("status") or {}).get("readyReplicas", 0))


def test_apply_creates_then_replaces_keeping_the_status(frozen: EmulatedCluster) -> None:
    [created] = frozen.apply(STATEFULSET_YAML)
    assert created["metadata"]["generation"] == 1
    frozen.advance(5)
    assert ready_count(frozen, "db") == 2
    changed = yaml.safe_load(STATEFULSET_YAML)
    changed["spec"]["replicas"] = 3
    [replaced] = frozen.apply(changed)
    assert replaced["metadata"]["uid"] == created["metadata"]["uid"]
    assert replaced["metadata"]["generation"] == 2
    assert replaced["status"]["readyReplicas"] == 2  # kept, as kubectl apply would
    frozen.advance(5)
    assert ready_count(frozen, "db") == 3


def test_apply_reads_yaml_files_with_several_documents(
    frozen: EmulatedCluster, tmp_path: Path
) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "solo", "namespace": "jobs"}}
    pod["spec"] = {"containers": [{"name": "main", "image": "busybox"}]}
    path = tmp_path / "all.yaml"
    path.write_text(STATEFULSET_YAML + "\n---\n" + yaml.safe_dump(pod))
    kinds = [obj["kind"] for obj in frozen.apply(path)]
    assert kinds == ["StatefulSet", "Pod"]
    frozen.advance(3)
    solo = frozen.get("pods", "solo", namespace="jobs")
    assert solo is not None and solo["status"]["phase"] == "Running"


def test_apply_refuses_kinds_the_cluster_does_not_serve(frozen: EmulatedCluster) -> None:
    with pytest.raises(ValueError, match="cannot apply kind 'Service'"):
        frozen.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}})


def test_wait_for_gives_up_with_a_timeout_error(frozen: EmulatedCluster) -> None:
    with pytest.raises(TimeoutError):
        frozen.wait_for(lambda: False, timeout=0.2)
    assert frozen.wait_for(lambda: "value", timeout=0.2) == "value"


def test_events_are_listed_oldest_first(frozen: EmulatedCluster) -> None:
    frozen.apply_scenario("healthy", replicas=1)
    frozen.advance(3)
    reasons = [e["reason"] for e in frozen.events if e["involvedObject"]["name"] == "healthy-0"]
    assert reasons == ["Scheduled", "Pulling", "Pulled", "Created", "Started"]


def test_a_random_token_by_default_and_none_when_empty() -> None:
    first, second = EmulatedCluster(), EmulatedCluster()
    assert first.token and second.token and first.token != second.token
    assert EmulatedCluster(token="").token is None
    assert EmulatedCluster(token="s3cret").token == "s3cret"


def test_a_role_limits_what_the_token_may_do() -> None:
    from kubernetes import client, config
    from kubernetes.client.rest import ApiException

    role = """
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: sts-only, namespace: default}
    rules:
      - apiGroups: ["apps"]
        resources: ["statefulsets"]
        verbs: ["get"]
    """
    with EmulatedCluster(manual_clock=True, role=textwrap.dedent(role)) as locked:
        locked.apply_scenario("healthy")
        api_client = config.new_client_from_config(config_file=str(locked.kubeconfig_path))
        sts = client.AppsV1Api(api_client).read_namespaced_stateful_set("healthy", "default")
        assert sts.metadata.name == "healthy"
        with pytest.raises(ApiException) as denied:
            client.CoreV1Api(api_client).list_namespaced_pod("default")
    assert denied.value.status == 403


def test_importing_the_package_and_the_plugin_stays_light() -> None:
    script = textwrap.dedent(
        """
        import sys
        import kube_test_cluster as testing
        import kube_test_cluster.pytest_plugin
        heavy = [m for m in ("trustme", "kubernetes", "yaml", "airflow") if m in sys.modules]
        assert not heavy, heavy
        assert testing.SCENARIOS["healthy"].description
        assert testing.Clock(manual=True).now()
        print("light")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout.strip() == "light", result.stderr


def test_the_pytest_plugin_gives_a_users_test_a_configured_cluster(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
            import json
            import os

            import pytest

            @pytest.mark.emulated_cluster(manual_clock=True, scenarios=["healthy"], replicas=2)
            def test_fixtures(emulated_cluster, emulated_kubeconfig, airflow_kubernetes_conn):
                assert airflow_kubernetes_conn == "kubernetes_default"
                conn = json.loads(os.environ["AIRFLOW_CONN_KUBERNETES_DEFAULT"])
                server = conn["extra"]["kube_config"]["clusters"][0]["cluster"]["server"]
                assert server == emulated_cluster.url
                assert emulated_kubeconfig.is_file()
                emulated_cluster.advance(5)
                sts = emulated_cluster.get("statefulsets", "healthy")
                assert sts["status"]["readyReplicas"] == 2

            def test_the_environment_is_restored():
                assert "AIRFLOW_CONN_KUBERNETES_DEFAULT" not in os.environ
            """
        )
    )
    env = {k: v for k, v in os.environ.items() if k != "AIRFLOW_CONN_KUBERNETES_DEFAULT"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "2 passed" in result.stdout, result.stdout + result.stderr
    markers = subprocess.run(
        [sys.executable, "-m", "pytest", "--markers"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "@pytest.mark.emulated_cluster(" in markers.stdout


def test_the_docs_list_every_scenario_and_behaviour_key() -> None:
    from kube_test_cluster.machinery.behaviour import KEYS

    docs = (PROJECT / "README.md").read_text()
    for name in [*SCENARIOS, *KEYS]:
        assert f"| `{name}` |" in docs, name


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kube_test_cluster", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=PROJECT,
    )


def test_the_cli_lists_the_scenarios() -> None:
    result = run_cli("scenarios")
    assert result.returncode == 0
    assert [line.split("\t")[0] for line in result.stdout.splitlines()] == list(SCENARIOS)


def test_the_cli_refuses_an_unknown_scenario_listing_the_valid_ones() -> None:
    result = run_cli("serve", "--scenario", "healthy", "--scenario", "nope")
    assert result.returncode == 2
    assert "unknown scenario 'nope'; valid scenarios: healthy, slow-start" in result.stderr
    assert "Serving" not in result.stdout
