"""Three deferrable StatefulSet sensors in one namespace, for the real triggerer.

Used only by ``tests/airflow/test_shared_triggerer.py``: their triggers share one
list+watch per resource in the triggerer; ``consume`` runs once all three are up.
"""

from __future__ import annotations

import os
from datetime import datetime

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
    def consume() -> str:
        return "all up"

    waits >> consume()


shared_deferred()
