"""The StatefulSet controller against the store, on a manual clock (no HTTP, no thread)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from kube_test_cluster.controlplane.statefulset import revision_data, revision_hash
from kube_test_cluster.machinery.util import SAFE_ALPHABET, parse_time
from kube_test_cluster_tests.conftest import Sim, is_ready, pod_template, sts_manifest


def revision(pod: dict[str, Any]) -> str:
    return str(pod["metadata"]["labels"]["controller-revision-hash"])


def ready_since(pod: dict[str, Any]) -> Any:
    ready = next(c for c in pod["status"]["conditions"] if c["type"] == "Ready")
    return parse_time(ready["lastTransitionTime"])


def new_image(image: str, behaviour: str | None = None) -> Any:
    def mutate(obj: dict[str, Any]) -> None:
        template = obj["spec"]["template"]
        template["spec"]["containers"][0]["image"] = image
        annotations = template["metadata"].setdefault("annotations", {})
        annotations.pop("sts.emulator/behaviour", None)
        if behaviour:
            annotations["sts.emulator/behaviour"] = behaviour
        if not annotations:
            del template["metadata"]["annotations"]

    return mutate


def all_ready(sim: Sim, prefix: str, count: int) -> bool:
    pods = sim.pods(prefix)
    return len(pods) == count and all(is_ready(p) for p in pods)


# --------------------------------------------------------------------------- creation


def test_ordered_ready_creates_each_pod_only_after_its_predecessor_is_ready(sim: Sim) -> None:
    sim.create("statefulsets", sts_manifest(replicas=3))
    assert sim.names() == ["web-0"]
    sim.advance_until(lambda: all_ready(sim, "web-", 3), step=0.1)
    pods = sim.pods()
    for before, after in itertools.pairwise(pods):
        created = parse_time(after["metadata"]["creationTimestamp"])
        assert created is not None and created >= ready_since(before)


def test_parallel_creates_every_pod_at_once(sim: Sim) -> None:
    sim.create("statefulsets", sts_manifest(replicas=4, podManagementPolicy="Parallel"))
    assert sim.names() == ["web-0", "web-1", "web-2", "web-3"]


def test_pods_carry_the_identity_the_real_controller_gives_them(sim: Sim) -> None:
    created = sim.create("statefulsets", sts_manifest(replicas=1))
    pod = sim.get("pods", "web-0")
    sts = sim.get("statefulsets", "web")
    assert pod["metadata"]["labels"] == {
        "app": "web",
        "controller-revision-hash": sts["status"]["updateRevision"],
        "statefulset.kubernetes.io/pod-name": "web-0",
        "apps.kubernetes.io/pod-index": "0",
    }
    assert pod["metadata"]["generateName"] == "web-"
    assert pod["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "name": "web",
            "uid": created["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert (pod["spec"]["hostname"], pod["spec"]["subdomain"]) == ("web-0", "web")


def test_ordinals_start_shifts_the_pod_names(sim: Sim) -> None:
    sim.create("statefulsets", sts_manifest(replicas=2, ordinals={"start": 5}))
    sim.advance_until(lambda: all_ready(sim, "web-", 2))
    assert sim.names() == ["web-5", "web-6"]


def test_volume_claim_templates_become_pod_volumes(sim: Sim) -> None:
    claim = {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}
    sim.create("statefulsets", sts_manifest(replicas=1, volumeClaimTemplates=[claim]))
    volumes = sim.get("pods", "web-0")["spec"]["volumes"]
    assert volumes == [{"name": "data", "persistentVolumeClaim": {"claimName": "data-web-0"}}]


def test_status_of_a_ready_set_has_every_field_as_a_real_one(sim: Sim) -> None:
    sim.create("statefulsets", sts_manifest(replicas=3))
    sim.advance_until(lambda: all_ready(sim, "web-", 3))
    sim.advance(1)
    sts = sim.get("statefulsets", "web")
    rev = sts["status"]["updateRevision"]
    assert sts["status"] == {
        "observedGeneration": 1,
        "replicas": 3,
        "readyReplicas": 3,
        "currentReplicas": 3,
        "updatedReplicas": 3,
        "currentRevision": rev,
        "updateRevision": rev,
        "collisionCount": 0,
        "availableReplicas": 3,
    }


def test_zero_counts_are_omitted_from_status_as_in_the_go_json(sim: Sim) -> None:
    sim.create("statefulsets", sts_manifest(replicas=1, template=pod_template(behaviour="pull=5")))
    status = sim.get("statefulsets", "web")["status"]
    assert "readyReplicas" not in status
    assert status["availableReplicas"] == 0  # not omitempty in the Go type


def test_revisions_are_controller_revisions_named_after_a_stable_template_hash(sim: Sim) -> None:
    manifest = sts_manifest(replicas=1)
    sim.create("statefulsets", manifest)
    sts = sim.get("statefulsets", "web")
    name = sts["status"]["updateRevision"]
    prefix, _, suffix = name.rpartition("-")
    assert prefix == "web"
    assert 6 <= len(suffix) <= 10 and set(suffix) <= set(SAFE_ALPHABET)
    assert suffix == revision_hash(revision_data(sts), 0)  # the same template hashes the same
    stored = sim.get("controllerrevisions", name)
    assert stored["revision"] == 1
    assert stored["data"]["spec"]["template"]["$patch"] == "replace"
    assert stored["metadata"]["labels"]["controller.kubernetes.io/hash"] == suffix
    assert stored["metadata"]["ownerReferences"][0]["uid"] == sts["metadata"]["uid"]
    other = revision_data(sts)
    other["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"
    assert revision_hash(other, 0) != suffix


def test_a_name_taken_by_another_revision_bumps_the_collision_count(sim: Sim) -> None:
    manifest = sts_manifest(replicas=1)
    sim.create("statefulsets", manifest)
    taken = sim.get("statefulsets", "web")["status"]["updateRevision"]
    sim.delete("statefulsets", "web")
    sim.advance(5)
    sim.store.create(
        "controllerrevisions",
        {"metadata": {"name": taken, "namespace": "default"}, "data": {"x": 1}, "revision": 1},
    )
    sim.create("statefulsets", manifest)
    status = sim.get("statefulsets", "web")["status"]
    assert status["collisionCount"] == 1
    assert status["updateRevision"] != taken


def test_min_ready_seconds_delays_availability_and_the_next_pod(sim: Sim) -> None:
    sim.create("statefulsets", sts_manifest(replicas=2, minReadySeconds=10))
    sim.advance_until(lambda: is_ready(sim.get("pods", "web-0")), step=0.1)
    sim.advance(5)
    status = sim.get("statefulsets", "web")["status"]
    assert (status["readyReplicas"], status["availableReplicas"]) == (1, 0)
    assert sim.names() == ["web-0"]  # not available yet: OrderedReady waits
    sim.advance_until(lambda: len(sim.pods()) == 2, step=0.1)
    created = parse_time(sim.get("pods", "web-1")["metadata"]["creationTimestamp"])
    assert created is not None
    assert (created - ready_since(sim.get("pods", "web-0"))).total_seconds() >= 10
    assert sim.get("statefulsets", "web")["status"]["availableReplicas"] == 1


# --------------------------------------------------------------------------- updates


def test_rolling_update_replaces_pods_from_the_highest_ordinal_one_at_a_time(sim: Sim) -> None:
    sim.create("statefulsets", sts_manifest(replicas=3))
    sim.advance_until(lambda: all_ready(sim, "web-", 3))
    old = sim.get("statefulsets", "web")["status"]["currentRevision"]
    sim.patch("statefulsets", "web", new_image("nginx:1.28"))
    status = sim.get("statefulsets", "web")["status"]
    assert status["observedGeneration"] == 2
    assert status["currentRevision"] == old != status["updateRevision"]
    new = status["updateRevision"]
    assert sim.deletions == ["web-2"]
    sim.advance_until(lambda: sim.deletions == ["web-2", "web-1"], step=0.1)
    assert revision(sim.get("pods", "web-2")) == new and is_ready(sim.get("pods", "web-2"))
    assert sim.get("statefulsets", "web")["status"]["updatedReplicas"] == 1
    sim.advance_until(
        lambda: all_ready(sim, "web-", 3) and {revision(p) for p in sim.pods()} == {new}
    )
    assert sim.deletions == ["web-2", "web-1", "web-0"]
    sim.advance(1)
    status = sim.get("statefulsets", "web")["status"]
    assert status["currentRevision"] == status["updateRevision"] == new
    assert status["currentReplicas"] == status["updatedReplicas"] == 3


def test_a_partition_keeps_lower_ordinals_at_the_current_revision(sim: Sim) -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}
    sim.create("statefulsets", sts_manifest(replicas=3, updateStrategy=strategy))
    sim.advance_until(lambda: all_ready(sim, "web-", 3))
    old = sim.get("statefulsets", "web")["status"]["currentRevision"]
    sim.patch("statefulsets", "web", new_image("nginx:1.28"))
    sim.advance(30)
    status = sim.get("statefulsets", "web")["status"]
    new = status["updateRevision"]
    assert [revision(p) for p in sim.pods()] == [old, old, new]
    assert (status["currentRevision"], status["currentReplicas"], status["updatedReplicas"]) == (
        old,
        2,
        1,
    )

    def no_partition(obj: dict[str, Any]) -> None:
        obj["spec"]["updateStrategy"]["rollingUpdate"]["partition"] = 0

    sim.patch("statefulsets", "web", no_partition)
    sim.advance(30)
    assert [revision(p) for p in sim.pods()] == [new, new, new]
    assert sim.get("statefulsets", "web")["status"]["currentRevision"] == new


def test_max_unavailable_lets_several_pods_roll_at_once(sim: Sim) -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2}}
    manifest = sts_manifest(replicas=4, podManagementPolicy="Parallel", updateStrategy=strategy)
    sim.create("statefulsets", manifest)
    sim.advance_until(lambda: all_ready(sim, "web-", 4))
    sim.patch("statefulsets", "web", new_image("nginx:1.28"))
    assert sim.deletions == ["web-3", "web-2"]


def test_on_delete_only_recreated_pods_get_the_new_revision(sim: Sim) -> None:
    sim.create("statefulsets", sts_manifest(replicas=3, updateStrategy={"type": "OnDelete"}))
    sim.advance_until(lambda: all_ready(sim, "web-", 3))
    old = sim.get("statefulsets", "web")["status"]["currentRevision"]
    sim.patch("statefulsets", "web", new_image("nginx:1.28"))
    sim.advance(30)
    assert sim.deletions == []
    assert {revision(p) for p in sim.pods()} == {old}
    sim.delete("pods", "web-1")
    sim.advance(30)
    status = sim.get("statefulsets", "web")["status"]
    new = status["updateRevision"]
    assert [revision(p) for p in sim.pods()] == [old, new, old]
    assert (status["currentRevision"], status["updatedReplicas"]) == (old, 1)


def test_scale_up_then_down_goes_up_and_down_the_ordinals_one_at_a_time(sim: Sim) -> None:
    sim.create("statefulsets", sts_manifest(replicas=2))
    sim.advance_until(lambda: all_ready(sim, "web-", 2))

    def scale(count: int) -> Any:
        return lambda obj: obj["spec"].update(replicas=count)

    sim.patch("statefulsets", "web", scale(5))
    assert sim.names() == ["web-0", "web-1", "web-2"]
    sim.advance_until(lambda: all_ready(sim, "web-", 5))
    sim.patch("statefulsets", "web", scale(2))
    assert sim.deletions == ["web-4"]
    assert sim.get("pods", "web-3")["metadata"].get("deletionTimestamp") is None
    sim.advance_until(lambda: sim.names() == ["web-0", "web-1"])
    assert sim.deletions == ["web-4", "web-3", "web-2"]


def test_a_deleted_pod_is_recreated_under_the_same_name(sim: Sim) -> None:
    sim.create("statefulsets", sts_manifest(replicas=3))
    sim.advance_until(lambda: all_ready(sim, "web-", 3))
    uid = sim.get("pods", "web-1")["metadata"]["uid"]
    sim.delete("pods", "web-1")
    assert sim.get("pods", "web-1")["metadata"]["deletionTimestamp"]  # graceful: 0.5 s to stop

    def replaced() -> bool:
        pods = sim.pods("web-1")
        return bool(pods) and pods[0]["metadata"]["uid"] != uid and is_ready(pods[0])

    waited = sim.advance_until(replaced, step=0.1)
    assert waited < 3


def test_a_failed_pod_is_deleted_and_recreated_with_an_event(sim: Sim) -> None:
    template = pod_template(ordinals={2: "evict-after=3"})
    sim.create("statefulsets", sts_manifest(replicas=3, template=template))
    sim.advance_until(
        lambda: sim.pods("web-2") and sim.pods("web-2")[0]["status"]["phase"] == "Running"
    )
    first = sim.get("pods", "web-2")["metadata"]["uid"]
    sim.advance(5)
    assert sim.get("pods", "web-2")["metadata"]["uid"] != first
    [event] = sim.events("web", "RecreatingFailedPod")
    assert event["type"] == "Warning"
    assert event["message"] == "StatefulSet default/web is recreating failed Pod web-2"


def test_a_broken_old_pod_blocks_the_rollout_forever_under_ordered_ready(sim: Sim) -> None:
    """kubernetes#67250: fixing the template does not replace the crash-looping pod."""
    sim.create("statefulsets", sts_manifest(replicas=3))
    sim.advance_until(lambda: all_ready(sim, "web-", 3))
    stable = sim.get("statefulsets", "web")["status"]["currentRevision"]
    sim.patch("statefulsets", "web", new_image("nginx:1.28", "crash-after=1, ready=3"))
    broken = sim.get("statefulsets", "web")["status"]["updateRevision"]
    sim.advance(30)
    sim.patch("statefulsets", "web", new_image("nginx:1.28.1"))
    fixed = sim.get("statefulsets", "web")["status"]["updateRevision"]
    sim.advance(600)
    assert [revision(p) for p in sim.pods()] == [stable, stable, broken]
    state = sim.get("pods", "web-2")["status"]["containerStatuses"][0]["state"]
    assert state.get("waiting", {}).get("reason") == "CrashLoopBackOff"
    status = sim.get("statefulsets", "web")["status"]
    assert (status["currentRevision"], status["updateRevision"]) == (stable, fixed)


def test_under_parallel_the_broken_old_pod_is_replaced_and_the_fix_rolls_out(sim: Sim) -> None:
    sim.create("statefulsets", sts_manifest(replicas=3, podManagementPolicy="Parallel"))
    sim.advance_until(lambda: all_ready(sim, "web-", 3))
    sim.patch("statefulsets", "web", new_image("nginx:1.28", "crash-after=1, ready=3"))
    sim.advance(30)
    sim.patch("statefulsets", "web", new_image("nginx:1.28.1"))
    fixed = sim.get("statefulsets", "web")["status"]["updateRevision"]
    sim.advance(60)
    assert [revision(p) for p in sim.pods()] == [fixed, fixed, fixed]
    assert sim.get("statefulsets", "web")["status"]["currentRevision"] == fixed


def test_revision_history_is_truncated_to_the_limit(sim: Sim) -> None:
    sim.create("statefulsets", sts_manifest(replicas=1, revisionHistoryLimit=1))
    for image in ("nginx:1.28", "nginx:1.29", "nginx:1.30"):
        sim.patch("statefulsets", "web", new_image(image))
        sim.advance(10)
    revisions = sorted(r["revision"] for r in sim.store.list("controllerrevisions", "default"))
    assert revisions == [3, 4]  # the live one and one of history


def test_a_rollback_reuses_the_old_revision_with_a_new_number(sim: Sim) -> None:
    sim.create("statefulsets", sts_manifest(replicas=1))
    first = sim.get("statefulsets", "web")["status"]["updateRevision"]
    sim.patch("statefulsets", "web", new_image("nginx:1.28"))
    sim.advance(10)
    sim.patch("statefulsets", "web", new_image("nginx:1.27"))
    sim.advance(10)
    assert sim.get("statefulsets", "web")["status"]["updateRevision"] == first
    assert sim.get("controllerrevisions", first)["revision"] == 3


def test_orphaned_pods_are_adopted_by_a_new_statefulset_of_the_same_name(sim: Sim) -> None:
    sim.create("statefulsets", sts_manifest(replicas=2))
    sim.advance_until(lambda: all_ready(sim, "web-", 2))
    uids = [p["metadata"]["uid"] for p in sim.pods()]
    sim.delete("statefulsets", "web", policy="Orphan")
    assert all("ownerReferences" not in p["metadata"] for p in sim.pods())
    created = sim.create("statefulsets", sts_manifest(replicas=2))
    sim.advance(5)
    assert [p["metadata"]["uid"] for p in sim.pods()] == uids
    owners = {p["metadata"]["ownerReferences"][0]["uid"] for p in sim.pods()}
    assert owners == {created["metadata"]["uid"]}


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("OrderedReady", ["web-0"]), ("Parallel", ["web-0", "web-1", "web-2"])],
    ids=["ordered ready stops at a pod that is never ready", "parallel does not wait"],
)
def test_a_pod_that_never_gets_ready(sim: Sim, policy: str, expected: list[str]) -> None:
    template = pod_template(behaviour="image-error=not-found")
    sim.create(
        "statefulsets", sts_manifest(replicas=3, podManagementPolicy=policy, template=template)
    )
    sim.advance(120)
    assert sim.names() == expected
