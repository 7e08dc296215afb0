"""DAGs the provider's end-to-end tests run with ``dag.test()``: one sensor each.

Every DAG reads the workload's name, namespace and stability window from params,
so one DAG serves every scenario of the test cluster; the sensor knobs that
cannot be templated (fail_fast, soft_fail, deferrable, timeout) get a DAG each.
A downstream task consumes the sensor's XCom, as a real pipeline would.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import dag, task

from airflow_sts_provider.sensors.daemonset import DaemonSetRunningSensor
from airflow_sts_provider.sensors.resource import ResourceRunningSensor
from airflow_sts_provider.sensors.statefulset import (
    DeploymentRunningSensor,
    PodRunningSensor,
    StatefulSetRunningSensor,
    _WorkloadRunningSensor,
)
from airflow_sts_provider.sensors.workloads import WorkloadsRunningSensor


def gate(
    dag_id: str,
    sensor: type[_WorkloadRunningSensor],
    *,
    target: dict[str, Any] | None = None,
    **sensor_kwargs: Any,
) -> None:
    """A DAG: ``wait`` (the sensor) >> ``consume`` (reads the readiness report).

    ``target`` replaces ``name=`` for the sensors that wait for something else
    (a release's label selector).
    """

    @dag(
        dag_id=dag_id,
        schedule=None,
        start_date=datetime(2024, 1, 1),
        catchup=False,
        params={"name": "healthy", "namespace": "default", "min_stable_seconds": 10},
        tags=["provider-tests"],
    )
    def _gate() -> None:
        wait = sensor(
            task_id="wait",
            **(target or {"name": "{{ params.name }}"}),
            namespace="{{ params.namespace }}",
            min_stable_seconds="{{ params.min_stable_seconds }}",
            poke_interval=1,
            **sensor_kwargs,
        )

        @task
        def consume(report: dict[str, Any]) -> list[str]:
            reports = report.get("workloads") or [report]  # a release: one report per workload
            return [str(pod["pod_ip"]) for each in reports for pod in each["pods"]]

        consume(wait.output)  # type: ignore[arg-type]

    _gate()


gate("sts_gate", StatefulSetRunningSensor, timeout=90)
gate("sts_gate_patient", StatefulSetRunningSensor, fail_fast=False, timeout=4)
gate("sts_gate_soft_fail", StatefulSetRunningSensor, soft_fail=True, timeout=90)
gate("sts_gate_deferrable", StatefulSetRunningSensor, deferrable=True, timeout=90)
gate("deployment_gate", DeploymentRunningSensor, timeout=90)
gate("deployment_gate_deferrable", DeploymentRunningSensor, deferrable=True, timeout=90)
gate("pod_gate", PodRunningSensor, timeout=90)
gate("daemonset_gate", DaemonSetRunningSensor, timeout=90)
gate("daemonset_gate_deferrable", DaemonSetRunningSensor, deferrable=True, timeout=90)
KAFKA: dict[str, Any] = {
    "api_version": "kafka.strimzi.io/v1beta2",
    "kind": "Kafka",
    "pod_selector": "strimzi.io/cluster={{ params.name }}",
}
gate("kafka_gate", ResourceRunningSensor, timeout=90, **KAFKA)
gate("kafka_gate_deferrable", ResourceRunningSensor, deferrable=True, timeout=90, **KAFKA)
RELEASE = {"label_selector": "app.kubernetes.io/instance={{ params.name }}"}
gate("release_gate", WorkloadsRunningSensor, target=RELEASE, timeout=90)
gate("release_gate_deferrable", WorkloadsRunningSensor, target=RELEASE, deferrable=True, timeout=90)
