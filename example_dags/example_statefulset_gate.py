"""Gate a pipeline on a StatefulSet that is really up: deploy, wait, then use the report.

1. ``deploy`` creates the StatefulSet of ``k8s/statefulset.yaml`` (or patches it when
   it exists) through the hook's client, i.e. with the ``kubernetes_default`` connection.
2. ``wait_for_statefulset`` waits until every pod runs the new revision, is Ready and
   has stayed so for ``min_stable_seconds``; a broken rollout (crash loop, bad image,
   evicted pod...) fails it at once with the pod and the reason.
3. ``announce_endpoints`` reads the sensor's XCom report: pod names, IPs and nodes.

Params (set them in the trigger form or with ``airflow dags test -c``):
``statefulset`` (the name to wait for), ``namespace``, ``min_stable_seconds`` and
``apply_manifest`` (``false`` to only wait, e.g. for a StatefulSet that another tool
deploys). ``STS_EXAMPLE_POKE_INTERVAL`` / ``STS_EXAMPLE_TIMEOUT`` (seconds) tune the
sensor for demos and tests.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import Param, dag, task

from airflow_sts_provider.sensors.statefulset import StatefulSetRunningSensor

MANIFEST = Path(__file__).parent / "k8s" / "statefulset.yaml"
POKE_INTERVAL = float(os.environ.get("STS_EXAMPLE_POKE_INTERVAL", "30"))
TIMEOUT = float(os.environ.get("STS_EXAMPLE_TIMEOUT", "1200"))


@dag(
    dag_id="example_statefulset_gate",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["example", "kubernetes", "statefulset"],
    params={
        "statefulset": Param("web", type="string", description="StatefulSet to wait for"),
        "namespace": Param("default", type="string"),
        "min_stable_seconds": Param(60, type="integer", minimum=0),
        "apply_manifest": Param(True, type="boolean", description="create/patch the manifest"),
    },
    doc_md=__doc__,
)
def example_statefulset_gate() -> None:
    @task
    def deploy(params: dict[str, Any] | None = None) -> str:
        """Create the StatefulSet, or patch it in place when it already exists."""
        import yaml
        from kubernetes.client.exceptions import ApiException

        from airflow_sts_provider.hooks.statefulset import StatefulSetHook

        assert params is not None
        if not params["apply_manifest"]:
            return f"manifest not applied; waiting for the existing {params['statefulset']}"
        body = yaml.safe_load(MANIFEST.read_text())
        name, namespace = body["metadata"]["name"], params["namespace"]
        apps = StatefulSetHook().apps_v1_client
        try:
            apps.create_namespaced_stateful_set(namespace, body)
            return f"created statefulset {namespace}/{name}"
        except ApiException as exc:
            if exc.status != 409:
                raise
        apps.patch_namespaced_stateful_set(
            name, namespace, body, _content_type="application/strategic-merge-patch+json"
        )
        return f"patched statefulset {namespace}/{name}"

    wait = StatefulSetRunningSensor(
        task_id="wait_for_statefulset",
        name="{{ params.statefulset }}",
        namespace="{{ params.namespace }}",
        min_stable_seconds="{{ params.min_stable_seconds }}",
        poke_interval=POKE_INTERVAL,
        timeout=TIMEOUT,
    )

    @task
    def announce_endpoints(report: dict[str, Any]) -> list[str]:
        """What a downstream task gets: every pod with its IP, from the sensor's XCom."""
        endpoints = [f"{pod['name']}={pod['pod_ip']} on {pod['node']}" for pod in report["pods"]]
        print(
            f"{report['kind']} {report['namespace']}/{report['name']} is {report['state']} "
            f"({report['ready']}/{report['desired']} at revision {report['revision']}): "
            + ", ".join(endpoints)
        )
        return endpoints

    deploy() >> wait
    announce_endpoints(wait.output)  # type: ignore[arg-type]


example_statefulset_gate()
