"""Start a pipeline only when every service it needs is really up.

Three sensors run side by side, one per dependency: a Kafka StatefulSet, a Postgres
StatefulSet and a model-server Deployment. The pipeline starts when all three are
ready; the first broken one fails its sensor fast (with the pod and the reason) and
the pipeline does not start. Each sensor runs in reschedule mode, so waiting holds
no worker slot. The reports (pod IPs) feed the pipeline's configuration.

Params name the three workloads (``kafka``, ``postgres``, ``model_server``), their
``namespace`` and the ``min_stable_seconds`` window. ``STS_EXAMPLE_POKE_INTERVAL`` /
``STS_EXAMPLE_TIMEOUT`` (seconds) tune the sensors for demos and tests.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from airflow.sdk import Param, dag, task

from airflow_sts_provider.sensors.statefulset import (
    DeploymentRunningSensor,
    StatefulSetRunningSensor,
)

POKE_INTERVAL = float(os.environ.get("STS_EXAMPLE_POKE_INTERVAL", "30"))
TIMEOUT = float(os.environ.get("STS_EXAMPLE_TIMEOUT", "1800"))


@dag(
    dag_id="example_multi_service_gate",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["example", "kubernetes", "statefulset", "deployment"],
    params={
        "kafka": Param("kafka", type="string", description="Kafka StatefulSet"),
        "postgres": Param("postgres", type="string", description="Postgres StatefulSet"),
        "model_server": Param("model-server", type="string", description="model Deployment"),
        "namespace": Param("default", type="string"),
        "min_stable_seconds": Param(60, type="integer", minimum=0),
    },
    doc_md=__doc__,
)
def example_multi_service_gate() -> None:
    common: dict[str, Any] = {
        "namespace": "{{ params.namespace }}",
        "min_stable_seconds": "{{ params.min_stable_seconds }}",
        "poke_interval": POKE_INTERVAL,
        "timeout": TIMEOUT,
    }
    kafka = StatefulSetRunningSensor(task_id="wait_for_kafka", name="{{ params.kafka }}", **common)
    postgres = StatefulSetRunningSensor(
        task_id="wait_for_postgres", name="{{ params.postgres }}", **common
    )
    model_server = DeploymentRunningSensor(
        task_id="wait_for_model_server", name="{{ params.model_server }}", **common
    )

    @task
    def configure(
        kafka: dict[str, Any], postgres: dict[str, Any], model_server: dict[str, Any]
    ) -> dict[str, Any]:
        """Build the pipeline's endpoints from the three readiness reports."""
        return {
            "bootstrap_servers": [f"{pod['pod_ip']}:9092" for pod in kafka["pods"]],
            "postgres_primary": f"{postgres['pods'][0]['pod_ip']}:5432",
            "model_revision": model_server["revision"],
            "model_replicas": model_server["ready"],
        }

    @task
    def run_pipeline(config: dict[str, Any]) -> str:
        """Stands in for the real work: it only starts once every dependency is up."""
        print(f"pipeline starting with {config}")
        return "done"

    run_pipeline(configure(kafka.output, postgres.output, model_server.output))  # type: ignore[arg-type]


example_multi_service_gate()
