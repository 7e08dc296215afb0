"""Run a DAG with ``dag.test()`` and read back what Airflow recorded about it.

Each call parses the DAG file afresh (a DagBag per run), so no operator object,
and hence no cached hook or client, leaks from one test's cluster into the next.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kube_test_cluster.cluster import EmulatedCluster
from kube_test_cluster.faults import FaultDecision, Faults
from tests.airflow_env import EXAMPLE_DAGS, TEST_DAGS


@dataclass(frozen=True)
class DagResult:
    """What a test asserts on: states, reschedules, XComs and everything the run logged."""

    run_id: str
    state: str
    tasks: dict[str, str]
    reschedules: dict[str, int]
    xcom: dict[str, Any]
    output: str

    def log_of(self, needle: str) -> list[str]:
        """The logged lines that contain ``needle``."""
        return [line for line in self.output.splitlines() if needle in line]


def load_dag(dag_id: str) -> Any:
    """A freshly parsed DAG from ``example_dags/`` or ``tests/airflow/dags/``."""
    from airflow.dag_processing.dagbag import DagBag

    folder: Path = EXAMPLE_DAGS if dag_id.startswith("example_") else TEST_DAGS
    bag = DagBag(dag_folder=str(folder))
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag(dag_id)
    assert dag is not None, f"{dag_id} not found in {folder}"
    return dag


def run_dag(dag_id: str, capfd: pytest.CaptureFixture[str], **params: Any) -> DagResult:
    """``dag.test(run_conf=params)``, then the run's task states, reschedules and XComs."""
    from airflow.models.taskreschedule import TaskReschedule
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    dag = load_dag(dag_id)
    capfd.readouterr()
    dag_run = dag.test(run_conf=params)
    captured = capfd.readouterr()
    tasks: dict[str, str] = {}
    reschedules: dict[str, int] = {}
    xcom: dict[str, Any] = {}
    with create_session() as session:
        for ti in dag_run.get_task_instances(session=session):
            tasks[ti.task_id] = str(ti.state)
            reschedules[ti.task_id] = (
                session.scalar(select(func.count()).where(TaskReschedule.ti_id == ti.id)) or 0
            )
            row = session.scalars(
                XComModel.get_many(
                    run_id=dag_run.run_id,
                    key="return_value",
                    dag_ids=dag_id,
                    task_ids=ti.task_id,
                )
            ).first()
            if row is not None:
                xcom[ti.task_id] = XComModel.deserialize_value(row)
    state = str(dag_run.state)
    return DagResult(
        run_id=dag_run.run_id,
        state=state,
        tasks=tasks,
        reschedules=reschedules,
        xcom=xcom,
        output=captured.out + captured.err,
    )


class RequestSpy(Faults):
    """Fault settings (none by default) that also notice the first read of a named object.

    The emulated API server asks its ``Faults`` about every request, so this is where
    a test can see the sensor's (or trigger's) first GET of the workload it waits on.
    """

    _NAMED_READ = re.compile(r"/(statefulsets|deployments|pods)/[^/?]+(\?|$)")

    def __init__(self) -> None:
        super().__init__()
        self.looked = threading.Event()

    def decide(self, path: str) -> FaultDecision:
        if self._NAMED_READ.search(path):
            self.looked.set()
        return super().decide(path)


@contextmanager
def clock_starts_at_first_look(
    cluster: EmulatedCluster, *, step: float = 1.0, every: float = 0.05
) -> Iterator[None]:
    """Hold a manual-clock cluster still until the sensor first reads its workload.

    How long Airflow takes to reach the first poke varies (the first ``dag.test()``
    of a process starts its in-process API server), so a free-running cluster could
    be ready, or already gone, before the sensor ever looks. Holding the clock makes
    the first poke see the scenario's beginning (WAITING: pods just created), so the
    task is rescheduled or deferred for certain; then the clock runs at
    ``step / every`` times real time (20x by default).
    """
    spy = cluster.faults
    assert isinstance(spy, RequestSpy), "start the cluster with faults=RequestSpy()"
    stop = threading.Event()

    def drive() -> None:
        while not stop.is_set() and not spy.looked.wait(every):
            pass
        while not stop.is_set():
            cluster.advance(step)
            stop.wait(every)

    driver = threading.Thread(target=drive, name="held-clock", daemon=True)
    driver.start()
    try:
        yield
    finally:
        stop.set()
        driver.join(timeout=10)


def stored_trigger_kwargs() -> list[str]:
    """The ``kwargs`` column of every trigger row, exactly as the metadata DB holds it."""
    from airflow.utils.session import create_session
    from sqlalchemy import text

    with create_session() as session:
        rows = session.execute(text("SELECT kwargs FROM trigger")).all()
    return [str(row[0]) for row in rows]
