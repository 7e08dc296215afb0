"""Deploy a release (several workloads sharing a label) and gate the pipeline on all of it.

A Helm chart or a kustomization puts up several workloads at once, labelled
``app.kubernetes.io/instance=<release>``. Instead of one sensor per workload,
``WorkloadsRunningSensor`` lists every StatefulSet, Deployment and DaemonSet with
that label and judges each by its own rules: the pipeline starts when all of them
are really running; the first broken one fails the gate with the workload, the pod
and the reason. The report (one verdict per workload) feeds the next task.

Params: ``release`` (the instance label), ``namespace``, ``min_stable_seconds`` and
``apply_manifests`` (create the manifests of ``k8s/release.yaml`` first).
``STS_EXAMPLE_POKE_INTERVAL`` / ``STS_EXAMPLE_TIMEOUT`` (seconds) tune the sensor.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import Param, dag, task

from airflow_sts_provider.sensors.workloads import WorkloadsRunningSensor

MANIFESTS = Path(__file__).parent / "k8s" / "release.yaml"
POKE_INTERVAL = float(os.environ.get("STS_EXAMPLE_POKE_INTERVAL", "30"))
TIMEOUT = float(os.environ.get("STS_EXAMPLE_TIMEOUT", "1800"))


@dag(
    dag_id="example_release_gate",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["example", "kubernetes", "release"],
    params={
        "release": Param("shop", type="string", description="app.kubernetes.io/instance"),
        "namespace": Param("default", type="string"),
        "min_stable_seconds": Param(60, type="integer", minimum=0),
        "apply_manifests": Param(True, type="boolean", description="create k8s/release.yaml"),
    },
    doc_md=__doc__,
)
def example_release_gate() -> None:
    @task
    def deploy(params: dict[str, Any] | None = None) -> list[str]:
        """Create each manifest of the release (as `helm install` would); keep existing ones."""
        import yaml
        from kubernetes import utils

        from airflow_sts_provider.hooks.statefulset import StatefulSetHook

        assert params is not None
        if not params["apply_manifests"]:
            return []
        client, done = StatefulSetHook().api_client, []
        for body in yaml.safe_load_all(MANIFESTS.read_text()):
            name = f"{body['kind'].lower()} {params['namespace']}/{body['metadata']['name']}"
            try:
                utils.create_from_dict(client, body, namespace=params["namespace"])
                done.append(f"created {name}")
            except utils.FailToCreateError as exc:
                if any(getattr(e, "status", None) != 409 for e in exc.api_exceptions):
                    raise
                done.append(f"kept {name}")
        return done

    gate = WorkloadsRunningSensor(
        task_id="wait_for_release",
        label_selector="app.kubernetes.io/instance={{ params.release }}",
        namespace="{{ params.namespace }}",
        min_stable_seconds="{{ params.min_stable_seconds }}",
        poke_interval=POKE_INTERVAL,
        timeout=TIMEOUT,
    )

    @task
    def start_pipeline(report: dict[str, Any]) -> list[str]:
        """Every workload of the release, as the gate judged it."""
        return [
            f"{w['kind']} {w['name']}: {w['ready']}/{w['desired']}" for w in report["workloads"]
        ]

    deploy() >> gate
    start_pipeline(gate.output)  # type: ignore[arg-type]


example_release_gate()
