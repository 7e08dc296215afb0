"""Scheduled on ``kubernetes://default/statefulset/api`` with ``on_failure=True``.

Used only by ``tests/airflow/test_event_scheduling.py``: a run for each revision of
``api`` that becomes READY or turns FAILED; the task hands back what it was told.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import dag, task

from airflow_sts_provider.assets import workload_asset

#: On its own watches, while the example's ``web`` shares: the test runs both paths.
API = workload_asset(
    "StatefulSet",
    "api",
    policy={"min_stable_seconds": 3},
    check_interval=5,
    on_failure=True,
    share_watches=False,
)


@dag(dag_id="event_on_failure", schedule=[API], start_date=datetime(2024, 1, 1), catchup=False)
def event_on_failure() -> None:
    @task
    def report(**context: Any) -> dict[str, Any]:
        payload = context["triggering_asset_events"][API][-1].extra["payload"]
        failing = [pod["name"] for pod in payload["verdict"]["pods"] if pod["state"] == "failed"]
        return {"status": payload["status"], "revision": payload["revision"], "failing": failing}

    report()


event_on_failure()
