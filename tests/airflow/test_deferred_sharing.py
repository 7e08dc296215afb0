"""A real deferred DAG run with sharing on (the default): what ``dag.test()`` does with it.

``dag.test()`` runs a deferral in line (``InProcessTestSupervisor.run_trigger_in_process``
awaits ``trigger.run()``): it never asks for ``shared_stream_key``, so the trigger
keeps its own watches there, as on an Airflow without shared streams. Only the
triggerer's ``TriggerRunner`` routes a trigger through ``SharedStreamManager``
(``tests/integration/hooks/test_shared_streams.py`` drives that one).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from airflow_sts_provider.hooks.shared import Store
from kube_test_cluster.cluster import EmulatedCluster
from kube_test_cluster.faults import FaultDecision
from tests.airflow.runs import (
    RequestSpy,
    clock_starts_at_first_look,
    run_dag,
    stored_trigger_kwargs,
)

pytestmark = [
    pytest.mark.usefixtures("airflow_db"),
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
]


class WatchSpy(RequestSpy):
    """The request spy, also keeping the path of every watch request."""

    def __init__(self) -> None:
        super().__init__()
        self.watches: list[str] = []

    def decide(self, path: str) -> FaultDecision:
        if "watch=true" in path:
            self.watches.append(path)
        return super().decide(path)


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatedCluster]:
    with EmulatedCluster(manual_clock=True, faults=WatchSpy()) as running:
        monkeypatch.setenv("AIRFLOW_CONN_KUBERNETES_DEFAULT", running.airflow_connection_json())
        yield running


def test_dag_test_runs_a_deferral_in_line_on_its_own_watches(
    held: EmulatedCluster, capfd: pytest.CaptureFixture[str]
) -> None:
    held.apply_scenario("slow-start")
    with clock_starts_at_first_look(held):
        result = run_dag("sts_gate_deferrable", capfd, name="slow-start", min_stable_seconds=60)
    assert result.tasks == {"wait": "success", "consume": "success"}
    assert result.log_of("running trigger in line")
    spy = held.faults
    assert isinstance(spy, WatchSpy)
    workload_watches = [p for p in spy.watches if "/statefulsets?" in p]
    assert workload_watches
    assert all("fieldSelector=metadata.name" in p for p in workload_watches)  # by name: its own
    assert Store.live == {}
    stored = [json.loads(row) for row in stored_trigger_kwargs() if "slow-start" in row]
    assert stored
    assert all("share_watches" not in row for row in stored)  # the default, as before
