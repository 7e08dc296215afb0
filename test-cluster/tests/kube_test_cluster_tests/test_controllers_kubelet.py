"""The scheduler and kubelet: the pod fields and events a real cluster would show.

The scenario table applies each preset and checks, after a fixed stretch of
emulated time, what ``kubectl get pod -o yaml`` would print for the pod that
scenario is about.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from kube_test_cluster import scenarios
from kube_test_cluster.machinery.behaviour import Behaviour, BehaviourError, parse_behaviour
from kube_test_cluster.nodes.messages import go_duration, image_error_message
from kube_test_cluster.registry.deletion import DeleteOptions, Deleter
from kube_test_cluster.registry.validation import reset_status
from kube_test_cluster_tests.conftest import Sim, is_ready, pod_template, sts_manifest

Pod = dict[str, Any]


class SimActions:
    """Scenario steps acting on the bare store, as EmulatedCluster does."""

    def __init__(self, sim: Sim) -> None:
        self.sim = sim
        self.clock = sim.clock

    def get(self, resource: str, name: str, namespace: str = "default") -> Any:
        return self.sim.store.get(resource, namespace, name)

    def create(self, resource: str, manifest: Any) -> Any:
        obj = json.loads(json.dumps(manifest))
        reset_status(resource, obj)
        return self.sim.store.create(resource, obj)

    def patch(self, resource: str, namespace: str, name: str, mutate: Any) -> None:
        self.sim.store.update(resource, namespace, name, mutate)

    def update_status(self, resource: str, namespace: str, name: str, status: Any) -> None:
        def write(obj: Any) -> None:
            obj["status"] = status(json.loads(json.dumps(obj)))

        self.sim.store.update(resource, namespace, name, write)

    def delete(
        self, resource: str, namespace: str, name: str, *, propagation_policy: str | None = None
    ) -> None:
        obj = self.sim.get(resource, name)
        Deleter(self.sim.store, self.sim.clock).delete(
            resource, obj, DeleteOptions(propagation=propagation_policy)
        )


def apply(sim: Sim, name: str, replicas: int | None = None) -> None:
    """Apply a scenario: its objects now, its steps at their emulated times."""
    plan = scenarios.build(name, replicas=replicas)
    start = sim.clock.now()
    actions = SimActions(sim)

    def runner(step: scenarios.Step) -> Callable[[], None]:
        def run() -> None:
            if step.until is not None and not step.until(actions):
                sim.plane.at(sim.clock.now() + timedelta(seconds=step.poll), run)
                return
            step.action(actions)

        return run

    for step in plan.steps:
        sim.plane.at(start + timedelta(seconds=step.after), runner(step))
    for resource, obj in plan.requires:
        if actions.get(resource, obj["metadata"]["name"], "") is None:
            sim.create(resource, obj)
    for resource, obj in plan.objects:
        sim.create(resource, obj)


def container(pod: Pod) -> dict[str, Any]:
    return dict(pod["status"]["containerStatuses"][0])


def conditions(pod: Pod) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in pod["status"].get("conditions") or []}


def warnings(sim: Sim, name: str) -> list[tuple[str, str]]:
    return [(e["reason"], e["message"]) for e in sim.events(name) if e["type"] == "Warning"]


# --------------------------------------------------------------------------- the table


def healthy(sim: Sim) -> None:
    pods = sim.pods("healthy-")
    assert [p["metadata"]["name"] for p in pods] == ["healthy-0", "healthy-1", "healthy-2"]
    for pod in pods:
        status = pod["status"]
        assert status["phase"] == "Running" and is_ready(pod)
        assert list(conditions(pod)) == [
            "PodReadyToStartContainers",
            "Initialized",
            "Ready",
            "ContainersReady",
            "PodScheduled",
        ]
        assert re.fullmatch(r"10\.244\.\d+\.\d+", status["podIP"])
        assert status["podIPs"] == [{"ip": status["podIP"]}]
        assert status["hostIP"].startswith("172.18.0.")
        state = container(pod)
        assert state["ready"] and state["started"] and state["restartCount"] == 0
        assert "startedAt" in state["state"]["running"]
        assert state["image"] == "docker.io/library/nginx:1.27"
        assert state["imageID"].startswith("docker.io/library/nginx@sha256:")
        assert state["containerID"].startswith("containerd://")
    reasons = [(e["reason"], e["source"]["component"]) for e in sim.events("healthy-0")]
    assert reasons == [
        ("Scheduled", "default-scheduler"),
        ("Pulling", "kubelet"),
        ("Pulled", "kubelet"),
        ("Created", "kubelet"),
        ("Started", "kubelet"),
    ]


def slow_start(sim: Sim) -> None:
    assert all(is_ready(p) for p in sim.pods("slow-start-"))
    assert len(sim.pods("slow-start-")) == 3


def crashloop(sim: Sim) -> None:
    assert sim.names("crashloop-") == ["crashloop-0", "crashloop-1"]  # OrderedReady stops at 1
    pod = sim.get("pods", "crashloop-1")
    state = container(pod)
    uid = pod["metadata"]["uid"]
    assert state["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert re.fullmatch(
        rf"back-off (10|20|40)s restarting failed container=app pod=crashloop-1_default\({uid}\)",
        state["state"]["waiting"]["message"],
    )
    last = state["lastState"]["terminated"]
    assert (last["exitCode"], last["reason"]) == (1, "Error")
    assert last["finishedAt"] > last["startedAt"]  # RFC 3339 in UTC sorts as time
    assert state["restartCount"] >= 1 and not state["ready"]
    assert pod["status"]["phase"] == "Running" and not is_ready(pod)
    assert (
        "BackOff",
        f"Back-off restarting failed container app in pod crashloop-1_default({uid})",
    ) in warnings(sim, "crashloop-1")


def image_pull_error(sim: Sim) -> None:
    assert sim.names("image-pull-error-") == ["image-pull-error-0"]
    pod = sim.get("pods", "image-pull-error-0")
    waiting = container(pod)["state"]["waiting"]
    assert waiting["reason"] in ("ErrImagePull", "ImagePullBackOff")
    assert pod["status"]["phase"] == "Pending"
    assert container(pod)["image"] == "nginx:1.27-does-not-exist"
    reasons = warnings(sim, "image-pull-error-0")
    assert ("Failed", "Error: ErrImagePull") in reasons
    assert ("Failed", "Error: ImagePullBackOff") in reasons
    assert any(
        m.startswith('Failed to pull image "nginx:1.27-does-not-exist": ') for _, m in reasons
    )


def bad_config(sim: Sim) -> None:
    pod = sim.get("pods", "bad-config-0")
    waiting = container(pod)["state"]["waiting"]
    assert waiting == {
        "reason": "CreateContainerConfigError",
        "message": 'secret "db-creds" not found',
    }
    assert pod["status"]["phase"] == "Pending"
    [(reason, message)] = set(warnings(sim, "bad-config-0"))
    assert (reason, message) == ("Failed", 'Error: secret "db-creds" not found')
    [event] = [e for e in sim.events("bad-config-0") if e["type"] == "Warning"]
    assert event["count"] >= 2  # retried on every pod sync, folded into one event


def oom(sim: Sim) -> None:
    for pod in sim.pods("oom-"):
        last = container(pod)["lastState"]["terminated"]
        assert (last["exitCode"], last["reason"]) == (137, "OOMKilled")


def unschedulable(sim: Sim) -> None:
    pod = sim.get("pods", "unschedulable-0")
    assert "nodeName" not in pod["spec"] and pod["status"]["phase"] == "Pending"
    scheduled = conditions(pod)["PodScheduled"]
    message = (
        "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: "
        "3 No preemption victims found for incoming pod."
    )
    assert (scheduled["status"], scheduled["reason"], scheduled["message"]) == (
        "False",
        "Unschedulable",
        message,
    )
    [event] = sim.events("unschedulable-0")
    assert (event["type"], event["reason"], event["message"]) == (
        "Warning",
        "FailedScheduling",
        message,
    )
    assert event["source"] == {"component": "default-scheduler"}


def evicted(sim: Sim) -> None:
    pod = sim.get("pods", "evicted-1")
    status = pod["status"]
    assert (status["phase"], status["reason"]) == ("Failed", "Evicted")
    assert status["message"].startswith("The node was low on resource: memory. ")
    target = conditions(pod)["DisruptionTarget"]
    assert (target["status"], target["reason"]) == ("True", "TerminationByKubelet")
    assert container(pod)["state"]["terminated"]["exitCode"] == 137
    assert ("Evicted", status["message"]) in warnings(sim, "evicted-1")
    assert not is_ready(sim.get("pods", "evicted-0"))  # why the controller does not replace it
    assert "Unhealthy" in {reason for reason, _ in warnings(sim, "evicted-0")}


def flapping(sim: Sim) -> None:
    pod = sim.get("pods", "flapping-1")
    state = container(pod)
    assert state["restartCount"] == 1 and is_ready(pod)
    assert state["lastState"]["terminated"]["exitCode"] == 137


def deleted(sim: Sim) -> None:
    sts = sim.get("statefulsets", "deleted")
    assert sts["metadata"]["deletionTimestamp"]
    for pod in sim.pods("deleted-"):
        meta = pod["metadata"]
        assert meta["deletionGracePeriodSeconds"] == 120
        killing = [e["message"] for e in sim.events(meta["name"], "Killing")]
        assert killing == ["Stopping container app"]


def rolling_update(sim: Sim) -> None:
    sts = sim.get("statefulsets", "rolling-update")
    status = sts["status"]
    assert status["currentRevision"] == status["updateRevision"]
    assert {p["spec"]["containers"][0]["image"] for p in sim.pods("rolling-update-")} == {
        "nginx:1.28"
    }


def revisions(sim: Sim, prefix: str) -> list[str]:
    return [p["metadata"]["labels"]["controller-revision-hash"] for p in sim.pods(prefix)]


def partitioned(sim: Sim) -> None:
    status = sim.get("statefulsets", "partitioned")["status"]
    old, new = status["currentRevision"], status["updateRevision"]
    assert old != new
    assert revisions(sim, "partitioned-") == [old, new, new]


def on_delete(sim: Sim) -> None:
    status = sim.get("statefulsets", "on-delete")["status"]
    old, new = status["currentRevision"], status["updateRevision"]
    assert revisions(sim, "on-delete-") == [old, old, new]


def scale_down(sim: Sim) -> None:
    assert sim.names("scale-down-") == ["scale-down-0", "scale-down-1"]
    assert sim.deletions == ["scale-down-4", "scale-down-3", "scale-down-2"]


def stuck_rollout(sim: Sim) -> None:
    status = sim.get("statefulsets", "stuck-rollout")["status"]
    stuck = revisions(sim, "stuck-rollout-")
    assert stuck[0] == stuck[1] == status["currentRevision"]
    assert stuck[2] not in (status["currentRevision"], status["updateRevision"])
    waiting = container(sim.get("pods", "stuck-rollout-2"))["state"]["waiting"]
    assert waiting["reason"] == "CrashLoopBackOff"


def crashloop_deployment(sim: Sim) -> None:
    pods = sim.pods("crashloop-deployment-")
    assert len(pods) == 3
    assert all(container(p)["state"]["waiting"]["reason"] == "CrashLoopBackOff" for p in pods)
    available = conditions(sim.get("deployments", "crashloop-deployment"))["Available"]
    assert available["status"] == "False"


def big(sim: Sim) -> None:
    assert sim.get("statefulsets", "big")["status"]["readyReplicas"] == 50


def healthy_deployment(sim: Sim) -> None:
    d = sim.get("deployments", "healthy-deployment")
    assert d["status"]["availableReplicas"] == 3


CASES: list[tuple[str, float, Callable[[Sim], None]]] = [
    ("healthy", 5, healthy),
    ("slow-start", 40, slow_start),
    ("crashloop", 30, crashloop),
    ("image-pull-error", 30, image_pull_error),
    ("bad-config", 30, bad_config),
    ("oom", 30, oom),
    ("unschedulable", 30, unschedulable),
    ("evicted", 15, evicted),
    ("flapping", 40, flapping),
    ("deleted", 10, deleted),
    ("rolling-update", 30, rolling_update),
    ("partitioned", 30, partitioned),
    ("on-delete", 20, on_delete),
    ("scale-down", 20, scale_down),
    ("stuck-rollout", 40, stuck_rollout),
    ("crashloop-deployment", 20, crashloop_deployment),
    ("big", 5, big),
    ("healthy-deployment", 5, healthy_deployment),
]


@pytest.mark.parametrize(
    ("scenario", "after", "check"),
    CASES,
    ids=[f"{name} shows what a real cluster shows after {t:g} s" for name, t, _ in CASES],
)
def test_scenario_pods(sim: Sim, scenario: str, after: float, check: Callable[[Sim], None]) -> None:
    apply(sim, scenario, replicas=50 if scenario == "big" else None)
    sim.advance(after)
    check(sim)


def test_the_healthy_scenario_is_ready_within_five_seconds(sim: Sim) -> None:
    apply(sim, "healthy")
    waited = sim.advance_until(lambda: sum(is_ready(p) for p in sim.pods()) == 3, step=0.1)
    assert waited <= 5


def test_deleted_pods_are_gone_after_their_grace_and_so_is_the_set(sim: Sim) -> None:
    apply(sim, "deleted")
    sim.advance(10)
    assert len(sim.pods()) == 3
    sim.advance(121)
    assert sim.pods() == []
    assert sim.store.get("statefulsets", "default", "deleted") is None


def test_every_scenario_is_listed_with_a_description() -> None:
    assert set(scenarios.SCENARIOS) >= {
        "healthy",
        "slow-start",
        "crashloop",
        "image-pull-error",
        "bad-config",
        "oom",
        "unschedulable",
        "evicted",
        "rolling-update",
        "partitioned",
        "on-delete",
        "scale-down",
        "flapping",
        "deleted",
        "big",
        "healthy-deployment",
        "crashloop-deployment",
        "healthy-daemonset",
        "daemonset-rollout",
        "daemonset-crashloop",
        "kafka-operator",
        "kafka-broker-crashloop",
        "stalled-resource",
        "release",
    }
    for name, scenario in scenarios.SCENARIOS.items():
        plan = scenarios.build(name, namespace="ns1")
        assert scenario.description and "\n" not in scenario.description
        for resource, definition in plan.requires:
            # a definition several scenarios share: cluster-scoped, named by what it serves
            spec = definition["spec"]
            assert resource == "customresourcedefinitions"
            assert definition["metadata"]["name"] == f"{spec['names']['plural']}.{spec['group']}"
            assert "namespace" not in definition["metadata"]
        assert plan.objects, name
        for _, obj in plan.objects:
            meta = obj["metadata"]
            assert meta["namespace"] == "ns1"
            assert meta["name"] == name or meta["name"].startswith(f"{name}-"), (name, meta)
            assert meta["labels"]["app"] == meta["name"]
        first = plan.objects[0][1]["metadata"]
        if first["name"] == name:  # one workload or custom resource, named after the scenario
            assert first == {"name": name, "namespace": "ns1", "labels": {"app": name}}
        else:  # a release: workloads <name>-<part>, all of the instance <name>
            assert len(plan.objects) > 1
            for _, obj in plan.objects:
                instance = "app.kubernetes.io/instance"
                assert obj["metadata"]["labels"][instance] == name
                assert obj["spec"]["selector"]["matchLabels"][instance] == name
                assert obj["spec"]["template"]["metadata"]["labels"][instance] == name


def test_an_unknown_scenario_names_the_valid_ones() -> None:
    with pytest.raises(KeyError, match="valid scenarios: healthy, slow-start"):
        scenarios.build("nope")


# --------------------------------------------------------------------------- kubelet details


def crash_messages(sim: Sim, name: str, seconds: float) -> list[str]:
    seen: list[str] = []
    for _ in range(int(seconds * 2)):
        pods = sim.pods(name)
        waiting = container(pods[0])["state"].get("waiting", {}) if pods else {}
        message = waiting.get("message", "")
        if waiting.get("reason") == "CrashLoopBackOff" and (not seen or seen[-1] != message):
            seen.append(message)
        sim.advance(0.5)
    return [m.split(" restarting")[0] for m in seen]


def test_crash_loop_back_off_doubles_from_ten_seconds_after_one_free_restart(sim: Sim) -> None:
    template = pod_template(behaviour="crash-after=1, ready=5")
    sim.create("statefulsets", sts_manifest(replicas=1, template=template))
    assert crash_messages(sim, "web-0", 150) == [
        "back-off 10s",
        "back-off 20s",
        "back-off 40s",
        "back-off 1m20s",
    ]
    [event] = sim.events("web-0", "BackOff")
    assert event["count"] == 4  # one event, counted, as the recorder folds them


def test_a_limited_number_of_crashes_then_the_container_keeps_running(sim: Sim) -> None:
    template = pod_template(behaviour="crash-after=2, crashes=2, exit-code=3")
    sim.create("statefulsets", sts_manifest(replicas=1, template=template))
    sim.advance(60)
    state = container(sim.get("pods", "web-0"))
    assert "running" in state["state"] and state["ready"]
    assert state["restartCount"] == 2
    assert state["lastState"]["terminated"]["exitCode"] == 3


def test_init_containers_run_in_order_and_sidecars_keep_running(sim: Sim) -> None:
    inits = [
        {"name": "proxy", "image": "envoy:1.30", "restartPolicy": "Always"},
        {"name": "migrate", "image": "migrate:1"},
    ]
    template = pod_template(behaviour="init=3", initContainers=inits)
    sim.create("statefulsets", sts_manifest(replicas=1, template=template))
    sim.advance(2)
    pod = sim.get("pods", "web-0")
    assert pod["status"]["phase"] == "Pending"
    initialized = conditions(pod)["Initialized"]
    assert (initialized["status"], initialized["message"]) == (
        "False",
        "containers with incomplete status: [migrate]",
    )
    assert container(pod)["state"]["waiting"]["reason"] == "PodInitializing"
    sim.advance(10)
    pod = sim.get("pods", "web-0")
    assert is_ready(pod) and pod["status"]["phase"] == "Running"
    proxy, migrate = pod["status"]["initContainerStatuses"]
    assert "running" in proxy["state"] and proxy["ready"] and proxy["started"]
    assert migrate["state"]["terminated"]["reason"] == "Completed"
    assert migrate["ready"] and not migrate["started"]


@pytest.mark.parametrize(
    ("behaviour", "grace", "gone_after", "exit_code"),
    [("stop-after=5", 30, 5, 0), ("stop-after=600", 10, 10, 137)],
    ids=["a pod that honours SIGTERM goes early", "a pod that ignores it is killed at the grace"],
)
def test_graceful_termination(
    sim: Sim, behaviour: str, grace: int, gone_after: float, exit_code: int
) -> None:
    template = pod_template(behaviour=behaviour, terminationGracePeriodSeconds=grace)
    sim.create("statefulsets", sts_manifest(replicas=1, template=template))
    sim.advance(3)
    uid = sim.get("pods", "web-0")["metadata"]["uid"]
    finals: list[dict[str, Any]] = []

    def last_status(change: Any) -> None:
        if change.resource == "pods" and change.obj["metadata"]["uid"] == uid:
            finals.append(change.obj["status"])

    sim.store.add_listener(last_status)
    sim.delete("pods", "web-0")
    sim.advance(gone_after - 0.5)
    assert sim.get("pods", "web-0")["metadata"]["uid"] == uid
    sim.advance(1)
    assert sim.pods() == [] or sim.get("pods", "web-0")["metadata"]["uid"] != uid
    assert container({"status": finals[-1]})["state"]["terminated"]["exitCode"] == exit_code


def test_an_image_error_that_clears_lets_the_pod_start(sim: Sim) -> None:
    template = pod_template(behaviour="image-error=rate-limit, image-error-for=15")
    sim.create("statefulsets", sts_manifest(replicas=1, template=template))
    sim.advance(5)
    message = container(sim.get("pods", "web-0"))["state"]["waiting"]["message"]
    assert message == 'Back-off pulling image "nginx:1.27"'
    sim.advance(40)
    assert is_ready(sim.get("pods", "web-0"))


def test_a_failing_readiness_probe_makes_the_pod_unready_then_ready_again(sim: Sim) -> None:
    template = pod_template(behaviour="unready-after=3, unready-for=25")
    sim.create("statefulsets", sts_manifest(replicas=1, template=template))
    sim.advance(10)
    pod = sim.get("pods", "web-0")
    assert pod["status"]["phase"] == "Running" and not is_ready(pod)
    [event] = sim.events("web-0", "Unhealthy")
    assert event["message"] == "Readiness probe failed: HTTP probe failed with statuscode: 503"
    sim.advance(20)
    assert is_ready(sim.get("pods", "web-0"))
    assert sim.events("web-0", "Unhealthy")[0]["count"] == 3  # every probe period


@pytest.mark.parametrize(
    ("policy", "code", "phase"),
    [("Never", 0, "Succeeded"), ("Never", 2, "Failed"), ("OnFailure", 0, "Succeeded")],
    ids=["never + exit 0 succeeds", "never + exit 2 fails", "on-failure + exit 0 succeeds"],
)
def test_bare_pods_finish_by_their_restart_policy(
    sim: Sim, policy: str, code: int, phase: str
) -> None:
    pod = {
        "metadata": {
            "name": "job",
            "annotations": {"sts.emulator/behaviour": f"crash-after=2, exit-code={code}"},
        },
        "spec": {"restartPolicy": policy, "containers": [{"name": "main", "image": "busybox"}]},
    }
    sim.create("pods", pod)
    sim.advance(10)
    status = sim.get("pods", "job")["status"]
    assert status["phase"] == phase
    assert status["containerStatuses"][0]["restartCount"] == 0


def test_an_invalid_behaviour_is_reported_and_the_pod_runs_with_defaults(sim: Sim) -> None:
    template = pod_template(behaviour="crash-after=soon")
    sim.create("statefulsets", sts_manifest(replicas=1, template=template))
    sim.advance(3)
    assert is_ready(sim.get("pods", "web-0"))
    [(reason, message)] = warnings(sim, "web-0")
    assert reason == "InvalidBehaviour"
    assert "expected a duration" in message


# --------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {}),
        ("crash-after=3, exit-code=2", {"crash_after": 3.0, "exit_code": 2}),
        ("pull=90s; ready=2m", {"pull": 90.0, "ready": 120.0}),
        ("unschedulable", {"unschedulable": "cpu"}),
        ('{"image-error": "not-found", "crashes": 1}', {"image_error": "not-found", "crashes": 1}),
        ("config-error=secret:db-creds", {"config_error": "secret:db-creds"}),
    ],
    ids=[
        "empty is healthy",
        "key=value pairs",
        "durations with units and semicolons",
        "a bare key means true",
        "JSON",
        "a config error keeps its colon",
    ],
)
def test_behaviour_annotations_parse(text: str, expected: dict[str, Any]) -> None:
    assert parse_behaviour(text) == expected
    Behaviour(**expected)


@pytest.mark.parametrize(
    "text",
    ["explode=1", "crash-after=-1", "image-error=teapot", "crashes=many", "[1, 2]"],
    ids=[
        "unknown key",
        "negative duration",
        "unknown image error",
        "not a number",
        "not an object",
    ],
)
def test_invalid_behaviour_annotations_are_refused(text: str) -> None:
    with pytest.raises(BehaviourError):
        parse_behaviour(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.4, "400ms"), (10, "10s"), (80, "1m20s"), (300, "5m0s"), (1.5, "1.5s")],
    ids=["milliseconds", "seconds", "minutes", "the cap", "fractions"],
)
def test_durations_print_as_go_prints_them(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


def test_image_error_messages_name_the_fully_qualified_reference() -> None:
    reason, message = image_error_message("not-found", "nginx:bad")
    assert reason == "ErrImagePull"
    assert message.endswith("docker.io/library/nginx:bad: not found")
    assert image_error_message("invalid", "Nginx")[0] == "InvalidImageName"


def test_a_late_kubelet_stamps_transitions_when_they_become_visible(sim: Sim) -> None:
    """Under load the kubelet looks late: Ready is stamped when written, never backdated."""
    from kube_test_cluster.clock import rfc3339

    apply(sim, "healthy", replicas=1)
    created = sim.get("pods", "healthy-0")["metadata"]["creationTimestamp"]
    sim.clock.advance(30)  # 30 s pass with no reconcile in between: every timer is late
    sim.step()
    seen = rfc3339(sim.clock.now())
    pod = sim.get("pods", "healthy-0")
    assert conditions(pod)["PodReadyToStartContainers"]["lastTransitionTime"] == seen
    sim.advance(5)
    pod = sim.get("pods", "healthy-0")
    assert is_ready(pod)
    for stamp in (
        conditions(pod)["Ready"]["lastTransitionTime"],
        conditions(pod)["ContainersReady"]["lastTransitionTime"],
        container(pod)["state"]["running"]["startedAt"],
    ):
        assert created < seen <= stamp <= rfc3339(sim.clock.now())
