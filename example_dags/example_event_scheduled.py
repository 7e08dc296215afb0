"""Run a pipeline each time a new revision of a service is really running.

Scheduled on the asset ``kubernetes://default/statefulset/web``: the triggerer
watches the StatefulSet ``web`` and starts one DAG run each time it becomes READY
(every pod current, Ready, not crashed, stable for ``min_stable_seconds``) at a
revision it has not started a run for: after Argo CD, Flux or a Helm upgrade
rolled it out, not on a timer. A crash-looping rollout starts nothing. The task
reads which revision became ready from the triggering asset event.

``STS_EXAMPLE_MIN_STABLE_SECONDS`` (default 60) and ``STS_EXAMPLE_CHECK_INTERVAL``
(default 30) tune the watcher for demos and tests.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from airflow.sdk import dag, task

from airflow_sts_provider.assets import workload_asset

WEB = workload_asset(
    "StatefulSet",
    "web",
    "default",
    policy={"min_stable_seconds": float(os.environ.get("STS_EXAMPLE_MIN_STABLE_SECONDS", "60"))},
    check_interval=float(os.environ.get("STS_EXAMPLE_CHECK_INTERVAL", "30")),
)


@dag(
    dag_id="example_event_scheduled",
    schedule=[WEB],
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["example", "kubernetes", "statefulset", "event-driven"],
    doc_md=__doc__,
)
def example_event_scheduled() -> None:
    @task
    def smoke_test(**context: Any) -> dict[str, Any]:
        """Stands in for the real work: it knows exactly which revision it follows."""
        # The latest event: two rollouts finished before the run started make one run.
        payload = context["triggering_asset_events"][WEB][-1].extra["payload"]
        print(
            f"revision {payload['revision']} of {payload['kind']} "
            f"{payload['namespace']}/{payload['name']} is ready: {payload['message']}"
        )
        return {"revision": payload["revision"], "uid": payload["uid"]}

    smoke_test()


example_event_scheduled()
