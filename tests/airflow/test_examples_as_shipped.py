"""Every example DAG runs as shipped: no param overridden, against ``serve --examples``.

Each test gets its own cluster at 20x speed with the example set applied
(:meth:`EmulatedCluster.apply_examples`, the same set ``serve --examples`` applies),
and runs one example DAG with ``dag.test()`` and an empty ``run_conf``: its default
names, namespace and 60 s stability window. Every workload involved is healthy, so
the outcome does not depend on when the first poke happens; ``tests/airflow_env.py``
sets ``STS_EXAMPLE_POKE_INTERVAL`` / ``STS_EXAMPLE_TIMEOUT`` as for the other DAG tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from kube_test_cluster.cluster import EmulatedCluster
from tests.airflow.runs import DagResult, run_dag
from tests.airflow_env import EXAMPLE_DAGS

SPEED = 20

#: example DAG -> its tasks, each expected to succeed
GATES = {
    "example_statefulset_gate": ("deploy", "wait_for_statefulset", "announce_endpoints"),
    "example_multi_service_gate": (
        "wait_for_kafka",
        "wait_for_postgres",
        "wait_for_model_server",
        "configure",
        "run_pipeline",
    ),
    "example_release_gate": ("deploy", "wait_for_release", "start_pipeline"),
}
#: Scheduled on an asset event, so dag.test() cannot run it: it needs a real scheduler
#: and triggerer, and tests/airflow/test_event_scheduling.py runs it with them.
NEEDS_A_SCHEDULER = {"example_event_scheduled"}

pytestmark = [
    pytest.mark.usefixtures("airflow_db"),
    # Airflow's in-process execution API (dag.test) warns about its own test client.
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
]


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatedCluster]:
    """A 20x cluster with the example set applied, behind ``kubernetes_default``."""
    with EmulatedCluster(speed=SPEED) as running:
        running.apply_examples()
        monkeypatch.setenv("AIRFLOW_CONN_KUBERNETES_DEFAULT", running.airflow_connection_json())
        yield running


def test_every_example_dag_is_covered_here_or_skipped_with_a_reason() -> None:
    shipped = {path.stem for path in EXAMPLE_DAGS.glob("example_*.py")}
    assert shipped == set(GATES) | NEEDS_A_SCHEDULER
    assert set(CHECKS) == set(GATES)


def _multi_service_read_the_example_set(result: DagResult) -> None:
    for task, kind, name, ready in (
        ("wait_for_kafka", "StatefulSet", "kafka", 3),
        ("wait_for_postgres", "StatefulSet", "postgres", 1),
        ("wait_for_model_server", "Deployment", "model-server", 2),
    ):
        report = result.xcom[task]
        assert (report["kind"], report["namespace"], report["name"]) == (kind, "default", name)
        assert (report["state"], report["ready"]) == ("ready", ready)
    assert len(result.xcom["configure"]["bootstrap_servers"]) == 3


def _statefulset_gate_created_web(result: DagResult) -> None:
    # The set leaves `web` to the DAG that deploys it.
    assert result.xcom["deploy"] == "created statefulset default/web"
    assert [e.split("=")[0] for e in result.xcom["announce_endpoints"]] == [
        "web-0",
        "web-1",
        "web-2",
    ]


def _release_gate_created_shop(result: DagResult) -> None:
    # The set leaves the `shop` release to the DAG that deploys it.
    assert sorted(result.xcom["deploy"]) == [
        "created daemonset default/shop-agent",
        "created deployment default/shop-api",
        "created statefulset default/shop-db",
    ]


CHECKS: dict[str, Callable[[DagResult], None]] = {
    "example_multi_service_gate": _multi_service_read_the_example_set,
    "example_statefulset_gate": _statefulset_gate_created_web,
    "example_release_gate": _release_gate_created_shop,
}


@pytest.mark.parametrize("dag_id", sorted(GATES))
def test_the_example_dag_succeeds_with_its_default_params(
    cluster: EmulatedCluster, capfd: pytest.CaptureFixture[str], dag_id: str
) -> None:
    result = run_dag(dag_id, capfd)  # no params: the DAG's defaults
    assert result.state == "success", result.output[-4000:]
    assert result.tasks == dict.fromkeys(GATES[dag_id], "success"), result.output[-4000:]
    CHECKS[dag_id](result)
