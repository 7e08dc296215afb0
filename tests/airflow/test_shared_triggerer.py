"""Deferred sensors under a real scheduler and triggerer: their triggers share watches.

``dag.test()`` runs a trigger in line, never through the triggerer's shared streams
(``test_deferred_sharing.py``); this runs the real components (``services.py``), so
the three deferred sensors' triggers reach ``SharedStreamManager`` as in production,
and the API server counts what they hold open.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kube_test_cluster import scenarios
from kube_test_cluster.cluster import EmulatedCluster
from tests.airflow.services import AirflowServices, wait_until
from tests.airflow.test_deferred_sharing import WatchSpy

DAGS = Path(__file__).parent / "shared_dags"
NAMES = ("s0", "s1", "s2")
#: Long enough that the three sensors are all deferred at once on a loaded 2-core machine.
WINDOW = 45
STARTUP = 240

pytestmark = pytest.mark.timeout(600)


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[tuple[EmulatedCluster, AirflowServices]]:
    with EmulatedCluster(faults=WatchSpy()) as cluster:
        airflow = AirflowServices(
            tmp_path / "airflow",
            [DAGS / "shared_deferred.py"],
            {
                "AIRFLOW_CONN_KUBERNETES_DEFAULT": cluster.airflow_connection_json(),
                "STS_SHARED_MIN_STABLE_SECONDS": str(WINDOW),
            },
        )
        airflow.migrate()
        airflow.start()
        try:
            yield cluster, airflow
        except BaseException:
            print(airflow.logs())
            raise
        finally:
            airflow.stop()


def states(airflow: AirflowServices) -> dict[str, str]:
    rows = airflow.query(
        "SELECT task_id, state FROM task_instance WHERE dag_id = 'shared_deferred'"
    )
    return {str(task): str(state) for task, state in rows}


def test_deferred_sensors_share_one_watch_per_resource_in_the_triggerer(
    deployment: tuple[EmulatedCluster, AirflowServices],
) -> None:
    cluster, airflow = deployment
    for name in NAMES:
        template = scenarios._template(name)
        cluster.create("statefulsets", scenarios.statefulset(name, "default", 2, template))
    wait_until(
        "the DAG to be parsed",
        lambda: airflow.query("SELECT dag_id FROM dag WHERE dag_id = 'shared_deferred'"),
        STARTUP,
    )
    trigger = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "trigger", "shared_deferred"],
        env=airflow.env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert trigger.returncode == 0, trigger.stdout + trigger.stderr

    def all_deferred() -> bool:
        found = states(airflow)
        return all(found.get(f"wait_{name}") == "deferred" for name in NAMES)

    wait_until("the three sensors to be deferred", all_deferred, STARTUP)

    def both_watching() -> bool:  # the informer opens them one after the other
        opened = cluster.stats()["watches_open_by_resource"]
        return bool(opened.get("statefulsets") and opened.get("pods"))

    wait_until("the triggerer's shared watches", both_watching, 60)
    held = cluster.stats()["watches_open_by_resource"]
    wait_until("every task to succeed", lambda: set(states(airflow).values()) == {"success"}, 300)
    assert held == {"pods": 1, "statefulsets": 1}  # three triggers, one watch per resource
    spy = cluster.faults
    assert isinstance(spy, WatchSpy)
    workload_watches = [p for p in spy.watches if "/statefulsets?" in p]
    assert workload_watches
    assert not any("fieldSelector" in p for p in workload_watches)  # namespace-wide: shared
    # Each READY ended its task in the triggerer: the verdict still the task's XCom, as
    # a worker pushes it (``consume`` reads it), and no task process started to return it.
    consumed = airflow.query(
        "SELECT value FROM xcom WHERE dag_id = 'shared_deferred' AND task_id = 'consume'"
    )
    assert [json.loads(value) for (value,) in consumed] == [[f"{n}: ready" for n in NAMES]]
    processes = [
        line
        for line in airflow.log_of("scheduler").splitlines()
        if "Worker startup parse complete" in line
    ]
    tries = airflow.query(
        "SELECT task_id, try_number FROM task_instance WHERE dag_id = 'shared_deferred'"
    )
    for name in NAMES:
        started = sum(f"task_id=wait_{name} " in line for line in processes)
        assert started == 1, (name, tries, trigger_logs(airflow, f"wait_{name}"))


def trigger_logs(airflow: AirflowServices, task_id: str) -> list[str]:
    """What the trigger of ``task_id`` logged (its task's ``*.trigger.*`` log files)."""
    files = sorted((airflow.home / "logs").glob(f"dag_id=*/run_id=*/task_id={task_id}/*trigger*"))
    return [line[-300:] for path in files for line in path.read_text().splitlines()]
