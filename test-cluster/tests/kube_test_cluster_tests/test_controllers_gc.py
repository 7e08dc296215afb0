"""The garbage collector finishing Foreground, Background and Orphan deletions."""

from __future__ import annotations

from kube_test_cluster_tests.conftest import (
    Sim,
    deployment_manifest,
    is_ready,
    pod_template,
    sts_manifest,
)


def ready_set(sim: Sim, count: int = 2) -> Sim:
    template = pod_template(behaviour="stop-after=20")  # pods take 20 s to stop
    sim.create("statefulsets", sts_manifest(replicas=count, template=template))
    sim.advance_until(lambda: len(sim.pods()) == count and all(is_ready(p) for p in sim.pods()))
    return sim


def test_foreground_keeps_the_owner_until_its_pods_are_gone(sim: Sim) -> None:
    ready_set(sim)
    sim.delete("statefulsets", "web", policy="Foreground")
    sts = sim.get("statefulsets", "web")
    assert sts["metadata"]["deletionTimestamp"]
    assert sts["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert all(p["metadata"].get("deletionTimestamp") for p in sim.pods())
    sim.advance(15)
    assert sim.store.get("statefulsets", "default", "web") is not None  # pods still stopping
    assert len(sim.pods()) == 2
    sim.advance(10)
    assert sim.pods() == []
    assert sim.store.get("statefulsets", "default", "web") is None
    assert sim.store.list("controllerrevisions", "default") == []


def test_background_removes_the_owner_at_once_and_then_its_dependents(sim: Sim) -> None:
    ready_set(sim)
    sim.delete("statefulsets", "web")
    assert sim.store.get("statefulsets", "default", "web") is None
    assert all(p["metadata"].get("deletionTimestamp") for p in sim.pods())  # graceful
    assert sim.store.list("controllerrevisions", "default") == []
    sim.advance(25)
    assert sim.pods() == []


def test_orphan_leaves_the_pods_running_without_an_owner(sim: Sim) -> None:
    ready_set(sim)
    sim.delete("statefulsets", "web", policy="Orphan")
    sim.advance(30)
    pods = sim.pods()
    assert [p["metadata"]["name"] for p in pods] == ["web-0", "web-1"]
    assert all("ownerReferences" not in p["metadata"] for p in pods)
    assert all(not p["metadata"].get("deletionTimestamp") for p in pods)


def test_foreground_cascades_through_replicasets_to_pods(sim: Sim) -> None:
    sim.create("deployments", deployment_manifest(replicas=2))
    sim.advance(5)
    sim.delete("deployments", "api", policy="Foreground")
    [rs] = sim.store.list("replicasets", "default")
    assert rs["metadata"]["finalizers"] == ["foregroundDeletion"]
    sim.advance(5)
    assert sim.pods() == []
    assert sim.store.list("replicasets", "default") == []
    assert sim.store.get("deployments", "default", "api") is None


def test_a_dependent_with_another_live_owner_only_loses_the_dangling_reference(sim: Sim) -> None:
    ready_set(sim, count=1)
    other = sim.create("deployments", deployment_manifest(replicas=0))
    extra = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "api",
        "uid": other["metadata"]["uid"],
    }
    sim.patch("pods", "web-0", lambda p: p["metadata"]["ownerReferences"].append(extra))
    sim.delete("statefulsets", "web", policy="Background")
    pod = sim.get("pods", "web-0")
    assert pod["metadata"]["ownerReferences"] == [extra]
    assert not pod["metadata"].get("deletionTimestamp")
