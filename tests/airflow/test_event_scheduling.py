"""DAGs scheduled by rollouts, under a real scheduler, triggerer, dag-processor and api-server.

``example_dags/example_event_scheduled.py`` is scheduled on
``kubernetes://default/statefulset/web``; ``tests/airflow/event_dags/`` holds one on
``.../statefulset/api`` with ``on_failure=True`` and ``share_watches=False``, so
``web``'s watcher runs over the triggerer's shared stream and ``api``'s over its own
watches. One story, because the deployment
is the expensive part (each step waits for a condition, with generous deadlines
for a loaded machine; nothing is asserted after a fixed sleep):

1. the watchers first see ``web`` and ``api`` READY at their first revision: one
   run each (they catch up);
2. a rolling update of ``web`` to B: exactly one more run, fired only after B was stable;
3. a second rollout, to C: one more run;
4. the triggerer restarts: it judges ``web`` READY at C again and fires nothing;
5. crash-looping rollouts of both: ``web``'s fires nothing, ``api``'s (``on_failure``)
   starts one run carrying the failing pod.

Meanwhile a third watcher, over a connection whose Role cannot list pods, raises
``AssetWatcherError`` in the triggerer and starts nothing. Each run's task returns
what it read from its triggering asset event.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kube_test_cluster import scenarios
from kube_test_cluster.cluster import EmulatedCluster
from kube_test_cluster.machinery.behaviour import ANNOTATION
from tests.airflow.services import AirflowServices, wait_until
from tests.airflow_env import EXAMPLE_DAGS

EVENT_DAGS = Path(__file__).parent / "event_dags"
MIN_STABLE = 3
#: Generous for a loaded 2-core machine: the first event needs every component up.
STARTUP = 180
STEP = 90
CRASH = "crash-after=1, exit-code=1"

#: What the locked connection may do: read the StatefulSet, not list or watch its pods.
NO_PODS = """
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: no-pods, namespace: default}
rules:
  - apiGroups: ["apps"]
    resources: ["statefulsets"]
    verbs: ["get", "list", "watch"]
"""

pytestmark = pytest.mark.timeout(600)

Obj = dict[str, Any]


def template(app: str, image: str, behaviour: str | None = None) -> Obj:
    metadata: Obj = {"labels": {"app": app}}
    if behaviour:
        metadata["annotations"] = {ANNOTATION: behaviour}
    container = {
        "name": "app",
        "image": image,
        "ports": [{"name": "http", "containerPort": 80}],
        "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5},
    }
    return {"metadata": metadata, "spec": {"containers": [container]}}


_STARTED = [time.monotonic()]


def phase(label: str) -> None:
    """One line per step with the seconds so far: where the wall time goes, on failure too."""
    print(f"[{time.monotonic() - _STARTED[0]:6.1f}s] {label}")


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(str(text).rstrip("Z")).replace(tzinfo=UTC)


class Watched:
    """One StatefulSet, the DAG scheduled on it, and what Airflow recorded for it."""

    def __init__(
        self, cluster: EmulatedCluster, airflow: AirflowServices, name: str, dag_id: str
    ) -> None:
        self.cluster, self.airflow, self.name, self.dag_id = cluster, airflow, name, dag_id
        self.uri = f"kubernetes://default/statefulset/{name}"

    def create(self) -> None:
        manifest = scenarios.statefulset(self.name, "default", 2, template(self.name, "nginx:1.27"))
        self.cluster.create("statefulsets", manifest)

    def revision(self) -> str | None:
        sts = self.cluster.get("statefulsets", self.name) or {}
        return (sts.get("status") or {}).get("updateRevision")

    def rollout(self, image: str, behaviour: str | None = None) -> tuple[str, datetime]:
        """Change the template as ``kubectl set image`` does; the new revision, and when."""
        before, at = self.revision(), datetime.now(UTC)

        def mutate(obj: Obj) -> None:
            obj["spec"]["template"] = template(self.name, image, behaviour)

        self.cluster.patch("statefulsets", "default", self.name, mutate)

        def changed() -> str | None:
            now = self.revision()
            return now if now != before else None

        return wait_until(f"{self.name}'s new updateRevision", changed, 30), at

    def events(self) -> list[tuple[datetime, Obj]]:
        """The asset events its watcher fired, oldest first: (timestamp, payload)."""
        rows = self.airflow.query(
            "SELECT e.timestamp, e.extra FROM asset_event e JOIN asset a ON e.asset_id = a.id "
            "WHERE a.uri = ? ORDER BY e.id",
            self.uri,
        )
        return [(_utc(ts), json.loads(extra)["payload"]) for ts, extra in rows]

    def runs(self) -> list[str]:
        rows = self.airflow.query("SELECT state FROM dag_run WHERE dag_id = ?", self.dag_id)
        return [str(state) for (state,) in rows]

    def wait_for_runs(self, count: int, timeout: float = STEP) -> None:
        wait_until(f"{count} run(s) of {self.dag_id}", lambda: len(self.runs()) >= count, timeout)

    def wait_for_success(self) -> list[str]:
        def finished() -> list[str] | None:
            runs = self.runs()
            return runs if all(state == "success" for state in runs) else None

        return wait_until(f"every run of {self.dag_id} to succeed", finished, STEP)

    def returned(self) -> list[Obj]:
        """What each run's task returned, in run order."""
        rows = self.airflow.query(
            "SELECT x.value FROM xcom x JOIN dag_run r ON x.dag_run_id = r.id "
            "WHERE x.dag_id = ? AND x.key = 'return_value' ORDER BY r.id",
            self.dag_id,
        )
        return [json.loads(value) for (value,) in rows]

    def judged(self, state: str, revision: str) -> bool:
        """The (latest) triggerer logged its summary line for this workload in ``state``."""
        head = f"StatefulSet default/{self.name}: {state}"
        lines = self.airflow.log_of("triggerer").splitlines()
        return any(head in line and f"revision {revision}:" in line for line in lines)

    def fired(self) -> list[str]:
        """The (latest) triggerer's "Firing" lines for this workload."""
        lines = self.airflow.log_of("triggerer").splitlines()
        return [line for line in lines if "Firing" in line and f"default/{self.name} " in line]


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[tuple[Watched, Watched, AirflowServices]]:
    with EmulatedCluster() as cluster, EmulatedCluster(role=NO_PODS) as locked:
        locked.create(
            "statefulsets",
            scenarios.statefulset("locked", "default", 1, template("locked", "nginx:1.27")),
        )
        airflow = AirflowServices(
            tmp_path / "airflow",
            [
                EXAMPLE_DAGS / "example_event_scheduled.py",
                EVENT_DAGS / "event_on_failure.py",
                EVENT_DAGS / "event_forbidden.py",
            ],
            {
                "AIRFLOW_CONN_KUBERNETES_DEFAULT": cluster.airflow_connection_json(),
                "AIRFLOW_CONN_KUBERNETES_LOCKED": locked.airflow_connection_json(),
                "STS_EXAMPLE_MIN_STABLE_SECONDS": str(MIN_STABLE),
                "STS_EXAMPLE_CHECK_INTERVAL": "5",
            },
        )
        web = Watched(cluster, airflow, "web", "example_event_scheduled")
        api = Watched(cluster, airflow, "api", "event_on_failure")
        _STARTED[0] = time.monotonic()
        web.create()
        api.create()
        airflow.migrate()
        phase("metadata DB migrated")
        airflow.start()
        try:
            yield web, api, airflow
        except BaseException:
            print(airflow.logs())
            raise
        finally:
            airflow.stop()


def test_each_new_revision_starts_one_run_once_stable_and_nothing_else_does(
    deployment: tuple[Watched, Watched, AirflowServices],
) -> None:
    web, api, airflow = deployment
    first = wait_until("web's first revision", web.revision, 30)
    api_first = wait_until("api's first revision", api.revision, 30)

    # 1. The watchers catch up with the revisions that are running.
    web.wait_for_runs(1, STARTUP)
    api.wait_for_runs(1, STARTUP)
    assert [(p["status"], p["revision"]) for _, p in web.events()] == [("success", first)]
    assert [(p["status"], p["revision"]) for _, p in api.events()] == [("success", api_first)]

    # The locked watcher cannot list web's pods: it raises, naming the cause, and fires nothing.
    wait_until(
        "the locked watcher to raise",
        lambda: (
            "AssetWatcherError" in airflow.log_of("triggerer")
            and "StatefulSet default/locked" in airflow.log_of("triggerer")
        ),
        STEP,
    )
    assert "cannot list pods" in airflow.log_of("triggerer")

    phase("caught up: one run each")

    # 2. A rolling update: one run, fired after the new revision was stable.
    second, patched_at = web.rollout("nginx:1.28")
    web.wait_for_runs(2)
    fired_at, payload = web.events()[-1]
    assert (payload["status"], payload["revision"]) == ("success", second)
    assert {pod["revision"] for pod in payload["verdict"]["pods"]} == {second}
    ready_since = max(_utc(pod["ready_since"]) for pod in payload["verdict"]["pods"])
    assert (fired_at - ready_since).total_seconds() >= MIN_STABLE
    assert (fired_at - patched_at).total_seconds() >= MIN_STABLE

    phase("web rolled to B: one run")

    # 3. A second rollout: a second run of its own.
    third, _ = web.rollout("nginx:1.29")
    web.wait_for_runs(3)
    assert web.events()[-1][1]["revision"] == third

    phase("web rolled to C: one run")

    # 4. The triggerer restarts: it sees `third` READY again, remembers it fired, stays quiet.
    airflow.restart("triggerer", "Starting the triggerer", STARTUP)
    wait_until("the new triggerer to judge web", lambda: web.judged("READY", third), STEP)

    phase("restarted triggerer judged web READY at C")

    # 5. Crash-looping rollouts: web's fires nothing; api's (on_failure=True) fires once.
    fourth, _ = web.rollout("nginx:1.30", CRASH)
    api_second, _ = api.rollout("nginx:1.30", CRASH)
    api.wait_for_runs(2)
    wait_until(
        "the triggerer to judge web's crash loop",
        lambda: web.judged("FAILED", fourth),
        STEP,
    )
    assert web.fired() == []  # not in the new triggerer
    assert [line for line in api.fired() if "Firing failed" in line]
    assert [payload["revision"] for _, payload in web.events()] == [first, second, third]
    (_, failed) = api.events()[-1]
    assert (failed["status"], failed["revision"]) == ("failed", api_second)
    assert "is not coming up" in failed["message"]

    phase("crash loops judged")

    # Every run ran its task on the event that started it.
    assert web.wait_for_success() == ["success"] * 3
    assert [r["revision"] for r in web.returned()] == [first, second, third]
    assert api.wait_for_success() == ["success"] * 2
    assert [(r["status"], r["revision"]) for r in api.returned()] == [
        ("success", api_first),
        ("failed", api_second),
    ]
    assert api.returned()[-1]["failing"]  # the crashing pod, by name
    locked_events = airflow.query(
        "SELECT count(*) FROM asset_event e JOIN asset a ON e.asset_id = a.id WHERE a.uri = ?",
        "kubernetes://default/statefulset/locked",
    )
    assert locked_events == [(0,)]
    assert airflow.query("SELECT count(*) FROM dag_run WHERE dag_id = 'event_forbidden'") == [(0,)]
    phase("every run succeeded")
