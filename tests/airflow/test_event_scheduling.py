"""A DAG scheduled by rollouts, under a real scheduler, triggerer, dag-processor and api-server.

``example_dags/example_event_scheduled.py`` is scheduled on
``kubernetes://default/statefulset/web``. One story, because the deployment is the
expensive part (each step waits for a condition, with generous deadlines for a
loaded machine; nothing is asserted after a fixed sleep):

1. the watcher first sees ``web`` READY at revision A: one run (it catches up);
2. a rolling update to B: exactly one more run, fired only after B was stable;
3. a second rollout, to C: one more run;
4. the triggerer restarts: it judges C READY again and fires nothing;
5. a crash-looping rollout, to D: the watcher judges it FAILED and fires nothing.

Each run's task returns the revision it read from its triggering asset event.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from airflow_sts_provider.testing import scenarios
from airflow_sts_provider.testing.cluster import EmulatedCluster
from airflow_sts_provider.testing.nodes.behaviour import ANNOTATION
from tests.airflow.services import AirflowServices, wait_until
from tests.airflow_env import EXAMPLE_DAGS

DAG_ID = "example_event_scheduled"
MIN_STABLE = 3
#: Generous for a loaded 2-core machine: the first event needs every component up.
STARTUP = 180
STEP = 90

pytestmark = pytest.mark.timeout(600)

Obj = dict[str, Any]


def template(image: str, behaviour: str | None = None) -> Obj:
    metadata: Obj = {"labels": {"app": "web"}}
    if behaviour:
        metadata["annotations"] = {ANNOTATION: behaviour}
    container = {
        "name": "app",
        "image": image,
        "ports": [{"name": "http", "containerPort": 80}],
        "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5},
    }
    return {"metadata": metadata, "spec": {"containers": [container]}}


def roll_to(image: str, behaviour: str | None = None) -> Callable[[Obj], None]:
    """A template change, as ``kubectl set image`` (plus the emulator's behaviour) makes it."""

    def mutate(obj: Obj) -> None:
        obj["spec"]["template"] = template(image, behaviour)

    return mutate


class Story:
    """The cluster and the deployment, and what a step waits for."""

    def __init__(self, cluster: EmulatedCluster, airflow: AirflowServices) -> None:
        self.cluster = cluster
        self.airflow = airflow

    def revision(self) -> str | None:
        sts = self.cluster.get("statefulsets", "web") or {}
        return (sts.get("status") or {}).get("updateRevision")

    def rollout(self, image: str, behaviour: str | None = None) -> tuple[str, datetime]:
        """Change the template; the new revision and when it was changed (UTC)."""
        before = self.revision()
        at = datetime.now(UTC)
        self.cluster.patch("statefulsets", "default", "web", roll_to(image, behaviour))
        revision = wait_until(
            "the new updateRevision", lambda: self.revision() != before and self.revision(), 30
        )
        return str(revision), at

    def events(self) -> list[tuple[datetime, Obj]]:
        """The asset events the watcher fired, oldest first: (timestamp, payload)."""
        rows = self.airflow.query("SELECT timestamp, extra FROM asset_event ORDER BY id")
        return [(_utc(ts), json.loads(extra)["payload"]) for ts, extra in rows]

    def runs(self) -> list[tuple[str, str]]:
        return [
            (str(run_id), str(state))
            for run_id, state in self.airflow.query(
                "SELECT run_id, state FROM dag_run WHERE dag_id = ? ORDER BY id", DAG_ID
            )
        ]

    def wait_for_runs(self, count: int, timeout: float = STEP) -> list[tuple[str, str]]:
        def enough() -> list[tuple[str, str]] | None:
            runs = self.runs()
            return runs if len(runs) >= count else None

        return wait_until(f"{count} DAG run(s)", enough, timeout)

    def wait_for_success(self) -> list[tuple[str, str]]:
        def finished() -> list[tuple[str, str]] | None:
            runs = self.runs()
            return runs if all(state == "success" for _, state in runs) else None

        return wait_until("every run to succeed", finished, STEP)

    def returned_revisions(self) -> list[str]:
        rows = self.airflow.query(
            "SELECT x.value FROM xcom x JOIN dag_run r ON x.dag_run_id = r.id "
            "WHERE x.dag_id = ? AND x.task_id = 'smoke_test' AND x.key = 'return_value' "
            "ORDER BY r.id",
            DAG_ID,
        )
        return [json.loads(value)["revision"] for (value,) in rows]

    def triggerer_judged(self, state: str, revision: str, since: int = 0) -> bool:
        """The triggerer logged its one summary line for ``web`` in ``state`` at ``revision``."""
        head = f"StatefulSet default/web: {state}"
        lines = self.airflow.log_of("triggerer")[since:].splitlines()
        return any(head in line and f"revision {revision}:" in line for line in lines)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(str(text)).replace(tzinfo=UTC)


@pytest.fixture
def story(tmp_path: Path) -> Iterator[Story]:
    with EmulatedCluster() as cluster:
        cluster.create(
            "statefulsets", scenarios.statefulset("web", "default", 2, template("nginx:1.27"))
        )
        airflow = AirflowServices(
            tmp_path / "airflow",
            [EXAMPLE_DAGS / f"{DAG_ID}.py"],
            {
                "AIRFLOW_CONN_KUBERNETES_DEFAULT": cluster.airflow_connection_json(),
                "STS_EXAMPLE_MIN_STABLE_SECONDS": str(MIN_STABLE),
                "STS_EXAMPLE_CHECK_INTERVAL": "5",
            },
        )
        airflow.migrate()
        airflow.start()
        try:
            yield Story(cluster, airflow)
        except BaseException:
            for name in ("triggerer", "scheduler", "dag-processor"):
                print(f"----- {name} (tail)\n{airflow.log_of(name)[-6000:]}")
            raise
        finally:
            airflow.stop()


def test_each_new_revision_starts_one_run_once_stable_and_nothing_else_does(story: Story) -> None:
    first = wait_until("web's first revision", story.revision, 30)

    # 1. The watcher catches up with the revision that is running.
    story.wait_for_runs(1, STARTUP)
    ((_, payload),) = story.events()
    assert (payload["status"], payload["revision"]) == ("success", first)

    # 2. A rolling update: one run, fired after the new revision was stable.
    second, patched_at = story.rollout("nginx:1.28")
    story.wait_for_runs(2)
    fired_at, payload = story.events()[-1]
    assert (payload["status"], payload["revision"]) == ("success", second)
    ready_since = max(_utc(pod["ready_since"].rstrip("Z")) for pod in payload["verdict"]["pods"])
    assert {pod["revision"] for pod in payload["verdict"]["pods"]} == {second}
    assert (fired_at - ready_since).total_seconds() >= MIN_STABLE
    assert (fired_at - patched_at).total_seconds() >= MIN_STABLE

    # 3. A second rollout: a second run of its own.
    third, _ = story.rollout("nginx:1.29")
    story.wait_for_runs(3)
    assert story.events()[-1][1]["revision"] == third

    # 4. The triggerer restarts: it sees `third` READY again, remembers it fired, stays quiet.
    story.airflow.stop("triggerer")
    restarted_at = len(story.airflow.log_of("triggerer"))
    story.airflow.start("triggerer")
    wait_until(
        "the restarted triggerer to judge web",
        lambda: story.triggerer_judged("READY", third, restarted_at),
        STEP,
    )

    # 5. A crash-looping rollout: judged FAILED, fires nothing.
    fourth, _ = story.rollout("nginx:1.30", "crash-after=1, exit-code=1")
    wait_until(
        "the triggerer to judge the crash loop",
        lambda: story.triggerer_judged("FAILED", fourth, restarted_at),
        STEP,
    )
    assert "Firing" not in story.airflow.log_of("triggerer")[restarted_at:]
    assert [payload["revision"] for _, payload in story.events()] == [first, second, third]

    # Every run ran the example's task on the revision that started it.
    runs = story.wait_for_success()
    assert len(runs) == 3
    assert story.returned_revisions() == [first, second, third]
