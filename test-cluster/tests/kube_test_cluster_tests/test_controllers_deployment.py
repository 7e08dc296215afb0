"""The Deployment and ReplicaSet controllers against the store, on a manual clock."""

from __future__ import annotations

import re
from typing import Any

from kube_test_cluster.machinery.util import SAFE_ALPHABET
from kube_test_cluster_tests.conftest import Sim, deployment_manifest, is_ready, pod_template

REVISION = "deployment.kubernetes.io/revision"


def replicasets(sim: Sim) -> list[dict[str, Any]]:
    found = sim.store.list("replicasets", "default")
    return sorted(found, key=lambda rs: int(rs["metadata"]["annotations"][REVISION]))


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in obj["status"]["conditions"] if c["type"] == kind)


def complete(sim: Sim, name: str = "api") -> bool:
    d = sim.get("deployments", name)
    progressing = [c for c in d["status"].get("conditions", []) if c["type"] == "Progressing"]
    return bool(progressing) and progressing[0]["reason"] == "NewReplicaSetAvailable"


def set_image(image: str) -> Any:
    return lambda d: d["spec"]["template"]["spec"]["containers"][0].update(image=image)


def test_a_deployment_owns_a_replicaset_named_after_its_template_hash(sim: Sim) -> None:
    created = sim.create("deployments", deployment_manifest(replicas=3))
    [rs] = replicasets(sim)
    name = rs["metadata"]["name"]
    prefix, _, pod_hash = name.rpartition("-")
    assert prefix == "api" and set(pod_hash) <= set(SAFE_ALPHABET)
    assert rs["metadata"]["labels"] == {"app": "api", "pod-template-hash": pod_hash}
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "api", "pod-template-hash": pod_hash}
    assert rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] == pod_hash
    assert rs["metadata"]["ownerReferences"][0]["uid"] == created["metadata"]["uid"]
    assert rs["metadata"]["annotations"] == {
        REVISION: "1",
        "deployment.kubernetes.io/desired-replicas": "3",
        "deployment.kubernetes.io/max-replicas": "4",
    }
    assert sim.get("deployments", "api")["metadata"]["annotations"][REVISION] == "1"
    pods = sim.pods()
    assert len(pods) == 3
    for pod in pods:
        assert re.fullmatch(rf"{name}-[{SAFE_ALPHABET}]{{5}}", pod["metadata"]["name"])
        assert pod["metadata"]["labels"]["pod-template-hash"] == pod_hash
        assert pod["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"


def test_a_finished_rollout_reports_every_status_field_and_both_conditions(sim: Sim) -> None:
    sim.create("deployments", deployment_manifest(replicas=3))
    sim.advance_until(lambda: complete(sim))
    d = sim.get("deployments", "api")
    [rs] = replicasets(sim)
    status = {k: v for k, v in d["status"].items() if k != "conditions"}
    assert status == {
        "observedGeneration": 1,
        "replicas": 3,
        "updatedReplicas": 3,
        "readyReplicas": 3,
        "availableReplicas": 3,
    }
    available, progressing = condition(d, "Available"), condition(d, "Progressing")
    assert (available["status"], available["reason"], available["message"]) == (
        "True",
        "MinimumReplicasAvailable",
        "Deployment has minimum availability.",
    )
    assert (progressing["status"], progressing["message"]) == (
        "True",
        f'ReplicaSet "{rs["metadata"]["name"]}" has successfully progressed.',
    )
    assert rs["status"] == {
        "replicas": 3,
        "fullyLabeledReplicas": 3,
        "readyReplicas": 3,
        "availableReplicas": 3,
        "observedGeneration": 1,
    }


def test_a_rolling_update_stays_within_max_surge_and_max_unavailable(sim: Sim) -> None:
    sim.create("deployments", deployment_manifest(replicas=4))
    sim.advance_until(lambda: complete(sim))
    sim.patch("deployments", "api", set_image("nginx:1.28"))
    seen_max, seen_min = 0, 4
    for _ in range(400):
        live = [p for p in sim.pods() if not p["metadata"].get("deletionTimestamp")]
        seen_max = max(seen_max, len(live))
        seen_min = min(seen_min, sum(1 for p in live if is_ready(p)))
        if complete(sim) and len(sim.pods()) == 4:
            break
        sim.advance(0.1)
    assert complete(sim)
    assert (seen_max, seen_min) == (5, 3)  # 25% of 4: surge rounds up to 1, unavailable down to 1
    old, new = replicasets(sim)
    assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (0, 4)
    assert new["metadata"]["annotations"][REVISION] == "2"
    assert sim.get("deployments", "api")["metadata"]["annotations"][REVISION] == "2"
    scaled = [e["message"] for e in sim.events("api", "ScalingReplicaSet")]
    assert scaled[0] == f"Scaled up replica set {old['metadata']['name']} from 0 to 4"
    assert f"Scaled up replica set {new['metadata']['name']} from 0 to 1" in scaled


def test_recreate_removes_every_old_pod_before_creating_new_ones(sim: Sim) -> None:
    sim.create("deployments", deployment_manifest(replicas=2, strategy={"type": "Recreate"}))
    sim.advance_until(lambda: complete(sim))
    old_names = set(sim.names())
    sim.patch("deployments", "api", set_image("nginx:1.28"))
    overlap = False
    for _ in range(300):
        names = set(sim.names())
        overlap |= bool(names & old_names) and bool(names - old_names)
        if complete(sim) and not names & old_names:
            break
        sim.advance(0.1)
    assert complete(sim) and not overlap


def test_no_progress_for_progress_deadline_seconds_fails_the_rollout(sim: Sim) -> None:
    template = pod_template("api", behaviour="crash-after=1, ready=3")
    sim.create("deployments", deployment_manifest(template=template, progressDeadlineSeconds=30))
    [rs] = replicasets(sim)
    sim.advance(25)
    assert condition(sim.get("deployments", "api"), "Progressing")["status"] == "True"
    sim.advance(10)
    progressing = condition(sim.get("deployments", "api"), "Progressing")
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "False",
        "ProgressDeadlineExceeded",
        f'ReplicaSet "{rs["metadata"]["name"]}" has timed out progressing.',
    )
    available = condition(sim.get("deployments", "api"), "Available")
    assert (available["status"], available["reason"]) == ("False", "MinimumReplicasUnavailable")


def test_a_paused_deployment_does_not_roll_out_a_new_template(sim: Sim) -> None:
    sim.create("deployments", deployment_manifest(replicas=2))
    sim.advance_until(lambda: complete(sim))
    sim.patch("deployments", "api", lambda d: d["spec"].update(paused=True))
    sim.patch("deployments", "api", set_image("nginx:1.28"))
    sim.advance(30)
    assert len(replicasets(sim)) == 1
    progressing = condition(sim.get("deployments", "api"), "Progressing")
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "Unknown",
        "DeploymentPaused",
        "Deployment is paused",
    )
    sim.patch("deployments", "api", lambda d: d["spec"].update(paused=False))
    sim.advance_until(lambda: complete(sim) and len(sim.pods()) == 2)
    assert len(replicasets(sim)) == 2


def test_scaling_resizes_the_replicaset_with_an_event(sim: Sim) -> None:
    sim.create("deployments", deployment_manifest(replicas=2))
    sim.advance_until(lambda: complete(sim))
    sim.patch("deployments", "api", lambda d: d["spec"].update(replicas=4))
    sim.advance_until(lambda: len([p for p in sim.pods() if is_ready(p)]) == 4)
    [rs] = replicasets(sim)
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] == "4"
    messages = [e["message"] for e in sim.events("api", "ScalingReplicaSet")]
    assert messages[-1] == f"Scaled up replica set {rs['metadata']['name']} from 2 to 4"


def test_replicaset_scale_down_deletes_pods_that_are_not_ready_first(sim: Sim) -> None:
    sim.create("deployments", deployment_manifest(replicas=2))
    sim.advance_until(lambda: complete(sim))
    ready_before = set(sim.names())
    sim.patch("deployments", "api", lambda d: d["spec"].update(replicas=4))
    sim.advance(0.2)  # the two new pods are still starting
    assert len(sim.pods()) == 4 and sum(is_ready(p) for p in sim.pods()) == 2
    sim.patch("deployments", "api", lambda d: d["spec"].update(replicas=2))
    remaining = {
        p["metadata"]["name"] for p in sim.pods() if not p["metadata"].get("deletionTimestamp")
    }
    assert remaining == ready_before


def test_old_replicasets_beyond_the_history_limit_are_deleted(sim: Sim) -> None:
    sim.create("deployments", deployment_manifest(replicas=1, revisionHistoryLimit=1))
    for image in ("nginx:1.28", "nginx:1.29", "nginx:1.30"):
        sim.patch("deployments", "api", set_image(image))
        sim.advance_until(lambda: complete(sim) and len(sim.pods()) == 1)
        sim.advance(1)
    revisions = [rs["metadata"]["annotations"][REVISION] for rs in replicasets(sim)]
    assert revisions == ["3", "4"]
