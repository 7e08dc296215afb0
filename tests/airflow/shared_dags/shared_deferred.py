"""Three deferrable StatefulSet sensors in one namespace, for the real triggerer.

Used only by ``tests/airflow/test_shared_triggerer.py``: their triggers share one
list+watch per resource in the triggerer, and each READY ends its task there
(``end_from_trigger``); ``consume`` runs once all three are up, on their verdicts.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from airflow.sdk import dag, task

from airflow_sts_provider.sensors.statefulset import StatefulSetRunningSensor

NAMES = ("s0", "s1", "s2")
WINDOW = float(os.environ.get("STS_SHARED_MIN_STABLE_SECONDS", "30"))


@dag(dag_id="shared_deferred", schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def shared_deferred() -> None:
    waits = [
        StatefulSetRunningSensor(
            task_id=f"wait_{name}",
            name=name,
            namespace="default",
            min_stable_seconds=WINDOW,
            deferrable=True,
            poke_interval=5,
            timeout=600,
        )
        for name in NAMES
    ]

    @task
    def consume(ti: Any = None) -> list[str]:
        """The verdicts the sensors handed over (ended in the triggerer: pushed by it)."""
        reports = [ti.xcom_pull(task_ids=f"wait_{name}") for name in NAMES]
        return [f"{report['name']}: {report['state']}" for report in reports]

    waits >> consume()


shared_deferred()
