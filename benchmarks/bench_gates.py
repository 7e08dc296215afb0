"""Healthy gates at a short poke interval under a real scheduler: how many does Airflow lose?

In reschedule mode each poke is a task process. Under a real scheduler a process
sometimes exits after its next poke was already queued, and Airflow then fails the
try ("finished with state success, but the task instance's state attribute is
queued"). The sensors' default ``retries`` (2, every 15 s) exist for exactly that:
a verdict never retries. This runs N healthy gates (``StatefulSetRunningSensor`` in
reschedule mode, ``poke_interval=5``) in one DAG run under a real scheduler,
dag-processor, triggerer and api-server (LocalExecutor, ``tests/airflow/services.py``)
against the test cluster, once with ``retries=0`` and once with the default, and
prints how many gates ended failed, how many tries were spent and how often the
scheduler logged the race.

    python benchmarks/bench_gates.py [--n 20] [--window 30] [--parallelism 8]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kube_test_cluster.cluster import EmulatedCluster  # noqa: E402
from tests.airflow.services import AirflowServices, wait_until  # noqa: E402

RACE = "but the task instance's state attribute is queued"

_DAG = textwrap.dedent(
    """
    from datetime import datetime
    from airflow.sdk import dag
    from airflow_sts_provider.sensors.statefulset import StatefulSetRunningSensor

    @dag(dag_id="gates", schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
    def gates():
        for i in range({n}):
            StatefulSetRunningSensor(
                task_id=f"gate_{{i:02d}}", name="healthy", poke_interval=5,
                min_stable_seconds={window}, **{retries}
            )

    gates()
    """
)


def run(n: int, window: float, parallelism: int, retries: str) -> dict[str, object]:
    """One DAG run of ``n`` gates; what became of them."""
    with tempfile.TemporaryDirectory() as tmp, EmulatedCluster() as cluster:
        dag = Path(tmp) / "gates.py"
        dag.write_text(_DAG.format(n=n, window=window, retries=retries))
        airflow = AirflowServices(
            Path(tmp) / "airflow",
            [dag],
            {
                "AIRFLOW_CONN_KUBERNETES_DEFAULT": cluster.airflow_connection_json(),
                "AIRFLOW__CORE__PARALLELISM": str(parallelism),
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            },
        )
        airflow.migrate()
        airflow.start()
        try:
            wait_until(
                "the DAG", lambda: airflow.query("SELECT 1 FROM dag WHERE dag_id='gates'"), 300
            )
            cluster.apply_scenario("healthy")  # now: every gate waits out its whole window
            started = time.monotonic()
            trigger = airflow._airflow("dags", "trigger", "gates")
            assert trigger.returncode == 0, trigger.stdout + trigger.stderr
            finished = lambda: airflow.query(  # noqa: E731
                "SELECT state FROM dag_run WHERE dag_id='gates' AND state IN ('success','failed')"
            )
            wait_until("the run to finish", finished, 1800, every=1)
            seconds = time.monotonic() - started
            rows = airflow.query("SELECT state, try_number FROM task_instance WHERE dag_id='gates'")
            races = airflow.log_of("scheduler").count(RACE)
        finally:
            airflow.stop()
    states = [str(state) for state, _ in rows]
    return {
        "succeeded": states.count("success"),
        "failed": states.count("failed"),
        "extra tries": sum(max(int(tries or 1) - 1, 0) for _, tries in rows),
        "races logged": races,
        "seconds": round(seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--window", type=float, default=30)
    parser.add_argument("--parallelism", type=int, default=8)
    args = parser.parse_args()
    print(f"{args.n} healthy gates, poke_interval=5, reschedule, window {args.window:g}s")
    for label, retries in (("retries=0", '{"retries": 0}'), ("default retries", "{}")):
        result = run(args.n, args.window, args.parallelism, retries)
        print(f"{label:16} " + ", ".join(f"{key} {value}" for key, value in result.items()))


if __name__ == "__main__":
    main()
