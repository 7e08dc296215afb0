"""The sensors inside real Airflow: DAGs run with ``dag.test()`` against the test cluster.

The migrated metadata DB is shared; every test gets its own cluster at 20x speed
(a 60 s stability window takes 3 real seconds), and ``kubernetes_default`` points at
it through ``AIRFLOW_CONN_KUBERNETES_DEFAULT``, as a user would configure it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kube_test_cluster.cluster import EmulatedCluster
from tests.airflow.runs import (
    DagResult,
    RequestSpy,
    clock_starts_at_first_look,
    run_dag,
    stored_trigger_kwargs,
)

REPO = Path(__file__).resolve().parents[2]
SPEED = 20
#: Long enough that the first poke, a second or two after the scenario starts, waits.
WINDOW = 60

pytestmark = [
    pytest.mark.usefixtures("airflow_db"),
    # Airflow's in-process execution API (dag.test) warns about its own test client.
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
]


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatedCluster]:
    """A free-running cluster at 20x: for outcomes that do not depend on the first poke."""
    with EmulatedCluster(speed=SPEED) as running:
        monkeypatch.setenv("AIRFLOW_CONN_KUBERNETES_DEFAULT", running.airflow_connection_json())
        yield running


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatedCluster]:
    """A manual-clock cluster, for tests run under ``clock_starts_at_first_look``."""
    with EmulatedCluster(manual_clock=True, faults=RequestSpy()) as running:
        monkeypatch.setenv("AIRFLOW_CONN_KUBERNETES_DEFAULT", running.airflow_connection_json())
        yield running


def run(
    dag_id: str,
    capfd: pytest.CaptureFixture[str],
    name: str,
    *,
    window: int = WINDOW,
    **params: Any,
) -> DagResult:
    return run_dag(dag_id, capfd, name=name, min_stable_seconds=window, **params)


#: A crash loop is caught in either phase: waiting in CrashLoopBackOff, or just
#: terminated (exit 1) between two back-offs; both fail fast, naming the pod.
CRASH_LOOP = ("CrashLoopBackOff", "exit 1")


def assert_failed_fast(result: DagResult, *needles: str | tuple[str, ...]) -> None:
    """Failed by the sensor's own verdict (not its timeout), naming the pod and the reason.

    A tuple among ``needles`` means "any one of these".
    """
    assert result.state == "failed"
    assert result.tasks == {"wait": "failed", "consume": "upstream_failed"}
    errors = result.log_of("is not coming up")
    assert errors, result.output[-4000:]
    text = "\n".join(result.output.splitlines())
    for needle in needles:
        options = needle if isinstance(needle, tuple) else (needle,)
        assert any(option in text for option in options), f"{needle!r} not in the task's error"
    assert "Sensor has timed out" not in text
    assert result.reschedules["wait"] < 20  # decided in a few pokes, far from the 90 s timeout


# --------------------------------------------------------------------------- StatefulSet


def test_healthy_succeeds_after_a_real_reschedule_and_hands_over_the_report(
    held: EmulatedCluster, capfd: pytest.CaptureFixture[str]
) -> None:
    held.apply_scenario("healthy")
    with clock_starts_at_first_look(held):
        result = run("sts_gate", capfd, "healthy")
    assert result.state == "success"
    assert result.tasks == {"wait": "success", "consume": "success"}
    assert result.reschedules["wait"] >= 1  # it went through up_for_reschedule
    report = result.xcom["wait"]
    assert report["state"] == "ready"
    assert (report["ready"], report["desired"]) == (3, 3)
    assert [pod["name"] for pod in report["pods"]] == ["healthy-0", "healthy-1", "healthy-2"]
    assert result.xcom["consume"] == [pod["pod_ip"] for pod in report["pods"]]
    assert result.log_of("StatefulSet default/healthy: WAITING")
    assert result.log_of("StatefulSet default/healthy: READY, 3/3 ready")


@pytest.mark.parametrize(
    ("scenario", "needles"),
    [
        ("crashloop", ("crashloop-1", "exit 1")),
        ("image-pull-error", ("image-pull-error-", "Image")),
        ("evicted", ("evicted-", "Evicted")),
        ("deleted", ("StatefulSet default/deleted", "deleted")),
    ],
    ids=[
        "a crash loop fails fast naming the pod",
        "an image that cannot be pulled fails once its grace is over",
        "an evicted pod fails fast",
        "a StatefulSet being deleted fails fast",
    ],
)
def test_a_broken_rollout_fails_fast_with_the_pod_and_the_reason(
    held: EmulatedCluster,
    capfd: pytest.CaptureFixture[str],
    scenario: str,
    needles: tuple[str, ...],
) -> None:
    held.apply_scenario(scenario)
    with clock_starts_at_first_look(held):
        result = run("sts_gate", capfd, scenario)
    assert_failed_fast(result, *needles)


@pytest.mark.parametrize(
    "scenario",
    ["slow-start", "rolling-update"],
    ids=["a slow start waits then succeeds", "a rolling update waits for every pod, then succeeds"],
)
def test_waits_then_succeeds(
    held: EmulatedCluster, capfd: pytest.CaptureFixture[str], scenario: str
) -> None:
    held.apply_scenario(scenario)
    with clock_starts_at_first_look(held):
        result = run("sts_gate", capfd, scenario)
    assert result.state == "success", result.output[-4000:]
    assert result.reschedules["wait"] >= 1
    report = result.xcom["wait"]
    assert report["state"] == "ready"
    assert {pod["revision"] for pod in report["pods"]} == {report["revision"]}
    workload = held.get("statefulsets", scenario)
    assert workload is not None
    assert report["revision"] == workload["status"]["updateRevision"]  # not an older one


def test_without_fail_fast_a_broken_rollout_waits_until_the_timeout(
    cluster: EmulatedCluster, capfd: pytest.CaptureFixture[str]
) -> None:
    cluster.apply_scenario("crashloop")
    result = run("sts_gate_patient", capfd, "crashloop")
    assert result.tasks == {"wait": "failed", "consume": "upstream_failed"}
    assert result.log_of("Sensor has timed out")
    assert result.log_of("fail_fast=False, so waiting")
    assert not result.log_of("is not coming up")
    assert result.reschedules["wait"] >= 1
    # The final timeout says what it was still waiting for, not only how long it waited.
    assert result.log_of("Sensor has timed out: StatefulSet default/crashloop still FAILED")


def test_soft_fail_turns_a_broken_rollout_into_a_skip(
    cluster: EmulatedCluster, capfd: pytest.CaptureFixture[str]
) -> None:
    cluster.apply_scenario("crashloop")
    result = run("sts_gate_soft_fail", capfd, "crashloop")
    assert result.tasks == {"wait": "skipped", "consume": "skipped"}


def test_a_flaky_api_server_only_delays_success(
    cluster: EmulatedCluster, capfd: pytest.CaptureFixture[str]
) -> None:
    cluster.apply_scenario("healthy")
    cluster.faults.set(fail_rate=0.3, fail_codes=[503, 500, 429], retry_after=0, seed=4)
    result = run("sts_gate", capfd, "healthy")
    assert result.tasks == {"wait": "success", "consume": "success"}
    assert cluster.faults.injected > 0


NO_LIST_PODS = """
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: no-pods, namespace: default}
rules:
  - apiGroups: ["apps"]
    resources: ["statefulsets"]
    verbs: ["get"]
"""


def test_a_role_without_list_pods_fails_pointing_to_the_rbac_section(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with EmulatedCluster(speed=SPEED, role=NO_LIST_PODS) as locked:
        monkeypatch.setenv("AIRFLOW_CONN_KUBERNETES_DEFAULT", locked.airflow_connection_json())
        locked.apply_scenario("healthy")
        result = run("sts_gate", capfd, "healthy")
    assert result.tasks == {"wait": "failed", "consume": "upstream_failed"}
    assert result.log_of("cannot list pods in namespace default")
    assert result.log_of("python -m airflow_sts_provider.docs rbac")
    assert result.reschedules["wait"] == 0  # permanent: no second poke


def test_the_documented_role_is_enough_for_the_sensors(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    role = (REPO / "example_dags" / "k8s" / "rbac.yaml").read_text()
    with EmulatedCluster(speed=SPEED, role=role) as locked:
        monkeypatch.setenv("AIRFLOW_CONN_KUBERNETES_DEFAULT", locked.airflow_connection_json())
        locked.apply_scenario("healthy")
        locked.apply_scenario("healthy-deployment")
        assert run("sts_gate_deferrable", capfd, "healthy").state == "success"
        assert run("deployment_gate", capfd, "healthy-deployment").state == "success"
        assert run("pod_gate", capfd, "healthy-0", window=5).state == "success"


# --------------------------------------------------------------------------- Deployment and Pod


def test_deployment_sensor_succeeds_on_a_healthy_rollout(
    held: EmulatedCluster, capfd: pytest.CaptureFixture[str]
) -> None:
    held.apply_scenario("healthy-deployment")
    with clock_starts_at_first_look(held):
        result = run("deployment_gate", capfd, "healthy-deployment")
    assert result.tasks == {"wait": "success", "consume": "success"}
    assert result.xcom["wait"]["kind"] == "Deployment"
    assert result.reschedules["wait"] >= 1


def test_deployment_sensor_fails_fast_on_a_crash_loop(
    cluster: EmulatedCluster, capfd: pytest.CaptureFixture[str]
) -> None:
    cluster.apply_scenario("crashloop-deployment")
    assert_failed_fast(
        run("deployment_gate", capfd, "crashloop-deployment"),
        "crashloop-deployment-",
        CRASH_LOOP,
    )


def test_pod_sensor_succeeds_on_a_healthy_pod_and_fails_on_a_crashing_one(
    cluster: EmulatedCluster, capfd: pytest.CaptureFixture[str]
) -> None:
    cluster.apply_scenario("healthy")
    cluster.apply_scenario("crashloop")
    ok = run("pod_gate", capfd, "healthy-0")
    assert ok.tasks == {"wait": "success", "consume": "success"}
    assert ok.xcom["wait"]["kind"] == "Pod"
    assert_failed_fast(run("pod_gate", capfd, "crashloop-1"), "crashloop-1", CRASH_LOOP)


# --------------------------------------------------------------------------- deferrable


def test_deferrable_succeeds_through_the_trigger(
    held: EmulatedCluster, capfd: pytest.CaptureFixture[str]
) -> None:
    held.apply_scenario("slow-start")
    with clock_starts_at_first_look(held):
        result = run("sts_gate_deferrable", capfd, "slow-start")
    assert result.tasks == {"wait": "success", "consume": "success"}
    assert result.log_of("running trigger in line")
    assert result.xcom["wait"]["state"] == "ready"
    assert result.reschedules["wait"] == 0  # it deferred instead


def test_a_deferred_sensor_stores_no_credential_in_the_metadata_db(
    held: EmulatedCluster, capfd: pytest.CaptureFixture[str]
) -> None:
    """Trigger arguments are stored in clear: the connection must travel by id only."""
    held.apply_scenario("healthy")
    with clock_starts_at_first_look(held):
        result = run("sts_gate_deferrable", capfd, "healthy")
    assert result.tasks == {"wait": "success", "consume": "success"}
    rows = stored_trigger_kwargs()
    assert rows, "the deferral left no trigger row to inspect"
    kubeconfig = held.kubeconfig
    secrets = [held.token, kubeconfig["clusters"][0]["cluster"]["certificate-authority-data"]]
    for row in rows:
        for secret in secrets:
            assert secret and secret not in row
    assert held.token
    assert held.token not in result.output  # nor in any log line of the run


def test_deferrable_fails_fast_through_the_trigger(
    held: EmulatedCluster, capfd: pytest.CaptureFixture[str]
) -> None:
    held.apply_scenario("crashloop")
    with clock_starts_at_first_look(held):
        result = run("sts_gate_deferrable", capfd, "crashloop")
    assert result.log_of("running trigger in line")
    assert_failed_fast(result, "crashloop-1", "exit 1")


def test_deferrable_deployment_succeeds_through_the_trigger(
    held: EmulatedCluster, capfd: pytest.CaptureFixture[str]
) -> None:
    held.apply_scenario("healthy-deployment")
    with clock_starts_at_first_look(held):
        result = run("deployment_gate_deferrable", capfd, "healthy-deployment")
    assert result.tasks == {"wait": "success", "consume": "success"}
    assert result.log_of("running trigger in line")
    assert result.xcom["wait"]["kind"] == "Deployment"


# --------------------------------------------------------------------------- example DAGs


def test_example_statefulset_gate_deploys_the_manifest_waits_and_reports(
    cluster: EmulatedCluster, capfd: pytest.CaptureFixture[str]
) -> None:
    result = run_dag("example_statefulset_gate", capfd, min_stable_seconds=WINDOW)
    assert result.tasks == {
        "deploy": "success",
        "wait_for_statefulset": "success",
        "announce_endpoints": "success",
    }, result.output[-4000:]
    assert result.xcom["deploy"] == "created statefulset default/web"
    endpoints = result.xcom["announce_endpoints"]
    assert [e.split("=")[0] for e in endpoints] == ["web-0", "web-1", "web-2"]
    again = run_dag("example_statefulset_gate", capfd, min_stable_seconds=5)
    assert again.xcom["deploy"] == "patched statefulset default/web"
    assert again.state == "success"


def test_example_multi_service_gate_starts_the_pipeline_when_all_are_up(
    cluster: EmulatedCluster, capfd: pytest.CaptureFixture[str]
) -> None:
    for scenario in ("healthy", "slow-start", "healthy-deployment"):
        cluster.apply_scenario(scenario)
    result = run_dag(
        "example_multi_service_gate",
        capfd,
        kafka="healthy",
        postgres="slow-start",
        model_server="healthy-deployment",
        min_stable_seconds=WINDOW,
    )
    assert result.state == "success", result.output[-4000:]
    config = result.xcom["configure"]
    assert len(config["bootstrap_servers"]) == 3
    assert result.xcom["run_pipeline"] == "done"


def test_example_multi_service_gate_does_not_start_on_a_broken_dependency(
    cluster: EmulatedCluster, capfd: pytest.CaptureFixture[str]
) -> None:
    for scenario in ("healthy", "crashloop", "healthy-deployment"):
        cluster.apply_scenario(scenario)
    result = run_dag(
        "example_multi_service_gate",
        capfd,
        kafka="healthy",
        postgres="crashloop",
        model_server="healthy-deployment",
        min_stable_seconds=WINDOW,
    )
    assert result.tasks["wait_for_postgres"] == "failed"
    assert result.tasks["run_pipeline"] == "upstream_failed"
    assert result.log_of("crashloop-1")


# --------------------------------------------------------------------------- every kind of service


@pytest.mark.parametrize(
    ("dag_id", "scenario", "kind"),
    [
        ("daemonset_gate", "healthy-daemonset", "DaemonSet"),
        ("daemonset_gate_deferrable", "healthy-daemonset", "DaemonSet"),
        ("kafka_gate", "kafka-operator", "Kafka"),
        ("kafka_gate_deferrable", "kafka-operator", "Kafka"),
    ],
    ids=[
        "a DaemonSet on every eligible node passes, reschedule mode",
        "a DaemonSet on every eligible node passes, deferrable mode",
        "a Kafka the operator reports Ready, its brokers running, passes, reschedule mode",
        "a Kafka the operator reports Ready, its brokers running, passes, deferrable mode",
    ],
)
def test_the_new_kinds_pass_when_really_running(
    cluster: EmulatedCluster,
    capfd: pytest.CaptureFixture[str],
    dag_id: str,
    scenario: str,
    kind: str,
) -> None:
    cluster.apply_scenario(scenario)
    result = run(dag_id, capfd, scenario, window=5)
    assert result.tasks == {"wait": "success", "consume": "success"}, result.output[-4000:]
    assert result.xcom["wait"]["kind"] == kind
    assert result.xcom["wait"]["state"] == "ready"


@pytest.mark.parametrize(
    ("dag_id", "scenario", "needles"),
    [
        ("daemonset_gate", "daemonset-crashloop", ("daemonset-crashloop-", CRASH_LOOP)),
        ("daemonset_gate_deferrable", "daemonset-crashloop", ("daemonset-crashloop-", CRASH_LOOP)),
        ("kafka_gate", "kafka-broker-crashloop", ("kafka-broker-crashloop-", CRASH_LOOP)),
        (
            "kafka_gate_deferrable",
            "kafka-broker-crashloop",
            ("kafka-broker-crashloop-", CRASH_LOOP),
        ),
        ("kafka_gate", "stalled-resource", ("Stalled",)),
    ],
    ids=[
        "a crash-looping DaemonSet pod fails fast, reschedule mode",
        "a crash-looping DaemonSet pod fails fast, deferrable mode",
        "a crash-looping broker fails the gate though the operator says Ready, reschedule mode",
        "a crash-looping broker fails the gate though the operator says Ready, deferrable mode",
        "a stalled resource fails fast with the operator's reason",
    ],
)
def test_the_new_kinds_fail_fast_when_broken(
    cluster: EmulatedCluster,
    capfd: pytest.CaptureFixture[str],
    dag_id: str,
    scenario: str,
    needles: tuple[str | tuple[str, ...], ...],
) -> None:
    cluster.apply_scenario(scenario)
    assert_failed_fast(run(dag_id, capfd, scenario, window=5), *needles)


@pytest.mark.parametrize(
    "dag_id", ["release_gate", "release_gate_deferrable"], ids=["reschedule", "deferrable"]
)
def test_a_release_gate_waits_for_every_workload_of_the_release(
    cluster: EmulatedCluster, capfd: pytest.CaptureFixture[str], dag_id: str
) -> None:
    cluster.apply_scenario("release")
    result = run(dag_id, capfd, "release", window=5)
    assert result.tasks == {"wait": "success", "consume": "success"}, result.output[-4000:]
    report = result.xcom["wait"]
    assert report["selector"] == "app.kubernetes.io/instance=release"
    assert {w["kind"] for w in report["workloads"]} == {"StatefulSet", "Deployment", "DaemonSet"}
    assert all(w["state"] == "ready" for w in report["workloads"])


def test_the_example_release_gate_deploys_the_release_and_gates_on_it(
    cluster: EmulatedCluster, capfd: pytest.CaptureFixture[str]
) -> None:
    result = run_dag("example_release_gate", capfd, min_stable_seconds=5)
    assert result.tasks == {
        "deploy": "success",
        "wait_for_release": "success",
        "start_pipeline": "success",
    }, result.output[-4000:]
    assert sorted(result.xcom["deploy"]) == [
        "created daemonset default/shop-agent",
        "created deployment default/shop-api",
        "created statefulset default/shop-db",
    ]
    assert len(result.xcom["start_pipeline"]) == 3


# --------------------------------------------------------------------------- corrupt bodies

#: A seed whose first draw corrupts at 20% and 30% alike: the first read is always hit.
FIRST_CORRUPT = 31


@pytest.mark.parametrize(
    ("dag_id", "scenario", "rate"),
    [
        ("sts_gate", "healthy", 0.3),
        ("deployment_gate", "healthy-deployment", 0.2),
        ("sts_gate_deferrable", "healthy", 0.3),
        ("deployment_gate_deferrable", "healthy-deployment", 0.2),
    ],
    ids=[
        "30% corrupt bodies only delay a healthy StatefulSet, reschedule mode",
        "20% corrupt bodies only delay a healthy Deployment, reschedule mode",
        "30% corrupt bodies only delay a healthy StatefulSet, deferrable mode",
        "20% corrupt bodies only delay a healthy Deployment, deferrable mode",
    ],
)
def test_corrupt_bodies_only_delay_success(
    held: EmulatedCluster,
    capfd: pytest.CaptureFixture[str],
    dag_id: str,
    scenario: str,
    rate: float,
) -> None:
    held.apply_scenario(scenario)
    held.faults.set(corrupt_rate=rate, seed=FIRST_CORRUPT)
    # Corrupt first reads are retried while the clock runs at 20x: a 20 s window could
    # be over before the first poke answers (READY at once, no deferral to check).
    window = 60 if dag_id.endswith("_deferrable") else 20
    with clock_starts_at_first_look(held):
        result = run(dag_id, capfd, scenario, window=window)
    assert result.tasks == {"wait": "success", "consume": "success"}, result.output[-4000:]
    assert result.xcom["wait"]["state"] == "ready"
    assert held.faults.injected > 0
    if dag_id.endswith("_deferrable"):
        assert result.log_of("running trigger in line")


@pytest.mark.parametrize(
    "dag_id",
    ["sts_gate", "sts_gate_deferrable"],
    ids=[
        "30% corrupt bodies still fail a crash loop naming crashloop-1, reschedule mode",
        "30% corrupt bodies still fail a crash loop naming crashloop-1, deferrable mode",
    ],
)
def test_corrupt_bodies_do_not_hide_a_crash_loop(
    held: EmulatedCluster, capfd: pytest.CaptureFixture[str], dag_id: str
) -> None:
    held.apply_scenario("crashloop")
    held.faults.set(corrupt_rate=0.3, seed=FIRST_CORRUPT)
    with clock_starts_at_first_look(held):
        result = run(dag_id, capfd, "crashloop", window=20)
    assert_failed_fast(result, "crashloop-1", CRASH_LOOP)
    assert held.faults.injected > 0
