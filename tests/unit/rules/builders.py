"""Small builders of Kubernetes objects shaped like real API answers (camelCase JSON).

Each builder returns a healthy object by default, so a scenario only names what
is wrong with it: ``pod(1, waiting="CrashLoopBackOff")`` is a crash-looping
``web-1`` owned by StatefulSet ``web``. All times are relative to :data:`NOW`,
given as "seconds ago", so a table reads in durations rather than dates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from copy import deepcopy
from datetime import UTC, datetime, timedelta
from typing import Any

NOW = datetime(2026, 11, 2, 12, 0, 0, tzinfo=UTC)
NAMESPACE = "shop"

STS_NAME = "web"
STS_UID = "3f1e6c2a-6a0b-4c57-9c1e-5b0d8c1d2a01"
OLD_REV = "web-5d8f7c6b9"
NEW_REV = "web-7b8f75b98"

DEPLOY_NAME = "api"
DEPLOY_UID = "a9d2f4b0-1c3e-4e7a-8f21-6d5c4b3a2f10"
OLD_HASH = "6c9f8d7b5"
NEW_HASH = "75dd4d49d5"

Json = dict[str, Any]


def ts(seconds_ago: float) -> str:
    """RFC 3339 as the API writes it, for the instant ``seconds_ago`` before NOW."""
    moment = NOW - timedelta(seconds=seconds_ago)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}"
    return text + "Z"


def uid_for(name: str) -> str:
    digest = hashlib.sha1(name.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def owner_ref(kind: str, name: str, uid: str, *, controller: bool = True) -> Json:
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "name": name,
        "uid": uid,
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def _terminated(
    exit_code: int, reason: str | None, finished_ago: float, ran_for: float = 5.0
) -> Json:
    if reason is None:
        reason = "Completed" if exit_code == 0 else "Error"
    return {
        "containerID": f"containerd://{uid_for(f'{reason}{finished_ago}').replace('-', '')}",
        "exitCode": exit_code,
        "reason": reason,
        "startedAt": ts(finished_ago + ran_for),
        "finishedAt": ts(finished_ago),
    }


def container_status(
    name: str,
    *,
    ready: bool = True,
    started_ago: float | None = 605.0,
    waiting: str | None = None,
    message: str | None = None,
    terminated: int | None = None,
    terminated_reason: str | None = None,
    terminated_ago: float = 2.0,
    restarts: int = 0,
    last_exit: int | None = None,
    last_reason: str | None = None,
    last_finished_ago: float = 60.0,
    last_state: bool = True,
    done: bool = False,
) -> Json:
    """One entry of ``containerStatuses`` / ``initContainerStatuses``.

    ``done`` makes an ordinary init container that exited 0; ``last_state=False``
    drops ``lastState`` as the kubelet does after a node restart.
    """
    state: Json
    running = False
    if waiting is not None:
        state = {"waiting": {"reason": waiting}}
        if message is not None:
            state["waiting"]["message"] = message
    elif terminated is not None:
        state = {"terminated": _terminated(terminated, terminated_reason, terminated_ago)}
    elif done:
        state = {"terminated": _terminated(0, "Completed", (started_ago or 0.0) + 30.0)}
    elif started_ago is None:
        state = {"running": {}}
        running = True
    else:
        state = {"running": {"startedAt": ts(started_ago)}}
        running = True
    last: Json = {}
    if last_exit is not None and last_state:
        last = {"terminated": _terminated(last_exit, last_reason, last_finished_ago)}
    return {
        "name": name,
        "image": f"registry.example.com/shop/{name}:1.4.2",
        "imageID": f"registry.example.com/shop/{name}@sha256:{_sha(name)}",
        "containerID": f"containerd://{_sha(f'{name}{restarts}')}",
        "ready": bool(ready and running),
        "started": running,
        "restartCount": restarts,
        "state": state,
        "lastState": last,
    }


def _condition(kind: str, status: bool, ago: float, reason: str | None = None) -> Json:
    cond: Json = {
        "type": kind,
        "status": "True" if status else "False",
        "lastProbeTime": None,
        "lastTransitionTime": ts(ago),
    }
    if reason:
        cond["reason"] = reason
    return cond


def pod(
    ordinal: int = 0,
    *,
    owner: str = STS_NAME,
    name: str | None = None,
    namespace: str = NAMESPACE,
    owner_kind: str = "StatefulSet",
    owner_uid: str = STS_UID,
    owner_refs: Sequence[Json] | None = None,
    app: str | None = None,
    revision: str | None = NEW_REV,
    revision_label: str = "controller-revision-hash",
    phase: str = "Running",
    ready: bool = True,
    ready_for: float = 600.0,
    created_ago: float = 3600.0,
    containers: Sequence[str] = ("main",),
    init: Sequence[str] = (),
    sidecars: Sequence[str] = (),
    container: str | None = None,
    waiting: str | None = None,
    message: str | None = None,
    terminated: int | None = None,
    terminated_reason: str | None = None,
    restarts: int = 0,
    last_exit: int | None = None,
    last_reason: str | None = None,
    last_finished_ago: float = 60.0,
    last_state: bool = True,
    container_ready: bool | None = None,
    started_ago: float | None = None,
    init_running: bool = False,
    unschedulable_for: float | None = None,
    scheduler_message: str = "0/3 nodes are available: 3 Insufficient cpu.",
    readiness_gates: Sequence[str] = (),
    gates_true: bool = True,
    deleting: bool = False,
    pod_reason: str | None = None,
    pod_message: str | None = None,
    omit_status: Iterable[str] = (),
) -> Json:
    """A pod of StatefulSet ``owner`` (``web-<ordinal>``), Running and Ready by default.

    The state arguments (``waiting``, ``terminated``, ``restarts``/``last_exit``,
    ``container_ready``, ``started_ago``, ``init_running``) apply to ``container``
    (default: the first app container); it may name an init container or a sidecar.
    """
    pod_name = name or f"{owner}-{ordinal}"
    target = container or containers[0]
    labels: Json = {"app": app or owner}
    if revision is not None:
        labels[revision_label] = revision
    if owner_kind == "StatefulSet":
        labels["apps.kubernetes.io/pod-index"] = str(ordinal)
        labels["statefulset.kubernetes.io/pod-name"] = pod_name
    metadata: Json = {
        "name": pod_name,
        "generateName": f"{owner}-",
        "namespace": namespace,
        "uid": uid_for(f"{namespace}/{pod_name}/{created_ago}"),
        "resourceVersion": str(1000 + ordinal),
        "creationTimestamp": ts(created_ago),
        "labels": labels,
        "ownerReferences": list(owner_refs)
        if owner_refs is not None
        else [owner_ref(owner_kind, owner, owner_uid)],
    }
    if deleting:
        metadata["deletionTimestamp"] = ts(-30.0)
        metadata["deletionGracePeriodSeconds"] = 30
    spec: Json = {
        "containers": [_container_spec(c) for c in containers],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "serviceAccountName": "default",
        "schedulerName": "default-scheduler",
        "hostname": pod_name,
        "subdomain": owner,
        "enableServiceLinks": True,
    }
    if init or sidecars:
        spec["initContainers"] = [_container_spec(c) for c in init] + [
            {**_container_spec(c), "restartPolicy": "Always"} for c in sidecars
        ]
    if readiness_gates:
        spec["readinessGates"] = [{"conditionType": gate} for gate in readiness_gates]

    if unschedulable_for is not None:
        status: Json = {
            "phase": "Pending",
            "qosClass": "Burstable",
            "conditions": [
                {
                    **_condition("PodScheduled", False, unschedulable_for, "Unschedulable"),
                    "message": scheduler_message,
                }
            ],
        }
        return _finish_pod(metadata, spec, status, omit_status)

    spec["nodeName"] = f"node-{ordinal % 3}"
    over = phase in ("Failed", "Succeeded")

    def state_of(cname: str, *, is_plain_init: bool = False) -> Json:
        if cname == target:
            return container_status(
                cname,
                ready=ready if container_ready is None else container_ready,
                started_ago=ready_for + 5.0 if started_ago is None else started_ago,
                waiting=waiting,
                message=message,
                terminated=terminated if not over else (terminated or 0),
                terminated_reason=terminated_reason,
                restarts=restarts,
                last_exit=last_exit,
                last_reason=last_reason,
                last_finished_ago=last_finished_ago,
                last_state=last_state,
                done=is_plain_init and not init_running and waiting is None and terminated is None,
            )
        if is_plain_init:
            return container_status(cname, started_ago=ready_for + 5.0, done=True)
        if over:
            return container_status(cname, terminated=0, started_ago=ready_for + 5.0)
        return container_status(cname, ready=ready, started_ago=ready_for + 5.0)

    init_statuses = [state_of(c, is_plain_init=True) for c in init]
    init_statuses += [state_of(c) for c in sidecars]
    app_statuses = [state_of(c) for c in containers]
    all_ready = all(s["ready"] for s in app_statuses) and all(
        s["ready"] for s in init_statuses[len(init) :]
    )
    inits_done = all("terminated" in s["state"] for s in init_statuses[: len(init)])
    pod_ready = all_ready and inits_done and (gates_true or not readiness_gates) and not over
    since = ready_for if pod_ready else min(created_ago - 2.0, 30.0)
    conditions = [
        _condition("PodReadyToStartContainers", True, created_ago - 2.0),
        _condition("Initialized", inits_done, created_ago - 1.0),
        _condition(
            "Ready",
            pod_ready,
            since,
            None
            if pod_ready
            else ("ContainersNotReady" if not all_ready else "ReadinessGatesNotReady"),
        ),
        _condition(
            "ContainersReady", all_ready, since, None if all_ready else "ContainersNotReady"
        ),
        _condition("PodScheduled", True, created_ago),
    ]
    conditions += [_condition(gate, gates_true, ready_for) for gate in readiness_gates]
    status = {
        "phase": phase,
        "conditions": conditions,
        "hostIP": f"10.0.0.{10 + ordinal % 3}",
        "podIP": f"10.244.{ordinal // 250}.{ordinal % 250 + 2}",
        "podIPs": [{"ip": f"10.244.{ordinal // 250}.{ordinal % 250 + 2}"}],
        "startTime": ts(created_ago - 1.0),
        "containerStatuses": app_statuses,
        "qosClass": "Burstable",
    }
    if init_statuses:
        status["initContainerStatuses"] = init_statuses
    if pod_reason is not None:
        status["reason"] = pod_reason
    if pod_message is not None:
        status["message"] = pod_message
    return _finish_pod(metadata, spec, status, omit_status)


def _container_spec(name: str) -> Json:
    return {
        "name": name,
        "image": f"registry.example.com/shop/{name}:1.4.2",
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
        "readinessProbe": {
            "httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"},
            "periodSeconds": 5,
            "failureThreshold": 3,
            "successThreshold": 1,
            "timeoutSeconds": 1,
        },
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }


def _finish_pod(metadata: Json, spec: Json, status: Json, omit_status: Iterable[str]) -> Json:
    for key in omit_status:
        status.pop(key, None)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": status}


def sts(
    name: str = STS_NAME,
    *,
    replicas: int | None = 3,
    ready: int | None = None,
    available: int | None = None,
    created: int | None = None,
    updated: int | None = None,
    current: int | None = None,
    generation: int = 1,
    observed: int | None = 1,
    strategy: str = "RollingUpdate",
    partition: int | None = None,
    pod_management: str = "OrderedReady",
    current_revision: str = NEW_REV,
    update_revision: str = NEW_REV,
    ordinals_start: int | None = None,
    min_ready_seconds: int | None = None,
    deleting: bool = False,
    uid: str = STS_UID,
    namespace: str = NAMESPACE,
    omit: Iterable[str] = (),
    no_status: bool = False,
) -> Json:
    """A StatefulSet whose status agrees with ``replicas`` unless told otherwise.

    ``replicas=None`` leaves ``spec.replicas`` out (the API default is 1); the
    counts default to the desired number; ``omit`` drops status fields.
    """
    desired = 1 if replicas is None else replicas
    spec: Json = {
        "serviceName": name,
        "podManagementPolicy": pod_management,
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [_container_spec("main")]},
        },
        "updateStrategy": {"type": strategy},
        "revisionHistoryLimit": 10,
        "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
    }
    if replicas is not None:
        spec["replicas"] = replicas
    if strategy == "RollingUpdate":
        spec["updateStrategy"]["rollingUpdate"] = {"partition": partition or 0}
    if ordinals_start is not None:
        spec["ordinals"] = {"start": ordinals_start}
    if min_ready_seconds is not None:
        spec["minReadySeconds"] = min_ready_seconds
    metadata: Json = {
        "name": name,
        "namespace": namespace,
        "uid": uid,
        "resourceVersion": "48211",
        "generation": generation,
        "creationTimestamp": ts(86400.0),
        "labels": {"app": name},
    }
    if deleting:
        metadata["deletionTimestamp"] = ts(-30.0)
        metadata["finalizers"] = ["foregroundDeletion"]
    status: Json = {
        "replicas": desired if created is None else created,
        "readyReplicas": desired if ready is None else ready,
        "currentReplicas": desired if current is None else current,
        "updatedReplicas": desired if updated is None else updated,
        "availableReplicas": (desired if ready is None else ready)
        if available is None
        else available,
        "currentRevision": current_revision,
        "updateRevision": update_revision,
        "collisionCount": 0,
    }
    if observed is not None:
        status["observedGeneration"] = observed
    for key in omit:
        status.pop(key, None)
    obj: Json = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": metadata, "spec": spec}
    if not no_status:
        obj["status"] = status
    return obj


def sts_pods(count: int = 3, *, start: int = 0, **overrides: Any) -> list[Json]:
    """``count`` healthy pods ``web-<start>`` .. of the default StatefulSet."""
    return [pod(start + i, **overrides) for i in range(count)]


def deployment(
    name: str = DEPLOY_NAME,
    *,
    replicas: int | None = 3,
    updated: int | None = None,
    ready: int | None = None,
    available: int | None = None,
    total: int | None = None,
    terminating: int | None = None,
    generation: int = 2,
    observed: int | None = 2,
    revision: str | None = "2",
    paused: bool = False,
    deadline_exceeded: bool = False,
    deleting: bool = False,
    uid: str = DEPLOY_UID,
    namespace: str = NAMESPACE,
    omit: Iterable[str] = (),
) -> Json:
    """A Deployment done rolling out to ``revision`` unless told otherwise."""
    desired = 1 if replicas is None else replicas
    metadata: Json = {
        "name": name,
        "namespace": namespace,
        "uid": uid,
        "resourceVersion": "91822",
        "generation": generation,
        "creationTimestamp": ts(86400.0),
        "labels": {"app": name},
        "annotations": {},
    }
    if revision is not None:
        metadata["annotations"]["deployment.kubernetes.io/revision"] = revision
    if deleting:
        metadata["deletionTimestamp"] = ts(-30.0)
    spec: Json = {
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [_container_spec("main")]},
        },
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
        },
        "progressDeadlineSeconds": 600,
        "revisionHistoryLimit": 10,
    }
    if replicas is not None:
        spec["replicas"] = replicas
    if paused:
        spec["paused"] = True
    progressing = {
        "type": "Progressing",
        "status": "True",
        "reason": "NewReplicaSetAvailable",
        "message": f'ReplicaSet "{name}-{NEW_HASH}" has successfully progressed.',
        "lastUpdateTime": ts(300.0),
        "lastTransitionTime": ts(900.0),
    }
    if deadline_exceeded:
        progressing.update(
            status="False",
            reason="ProgressDeadlineExceeded",
            message=f'ReplicaSet "{name}-{NEW_HASH}" has timed out progressing.',
        )
    status: Json = {
        "replicas": desired if total is None else total,
        "updatedReplicas": desired if updated is None else updated,
        "readyReplicas": desired if ready is None else ready,
        "availableReplicas": desired if available is None else available,
        "conditions": [
            {
                "type": "Available",
                "status": "True",
                "reason": "MinimumReplicasAvailable",
                "message": "Deployment has minimum availability.",
                "lastUpdateTime": ts(600.0),
                "lastTransitionTime": ts(600.0),
            },
            progressing,
        ],
    }
    if observed is not None:
        status["observedGeneration"] = observed
    if terminating is not None:
        status["terminatingReplicas"] = terminating
    for key in omit:
        status.pop(key, None)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": spec,
        "status": status,
    }


def replicaset(
    pod_hash: str = NEW_HASH,
    *,
    revision: str = "2",
    replicas: int = 3,
    owner: str = DEPLOY_NAME,
    owner_uid: str = DEPLOY_UID,
    namespace: str = NAMESPACE,
) -> Json:
    """A ReplicaSet of Deployment ``owner`` for template hash ``pod_hash``."""
    name = f"{owner}-{pod_hash}"
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid_for(f"{namespace}/{name}"),
            "generation": 1,
            "labels": {"app": owner, "pod-template-hash": pod_hash},
            "annotations": {
                "deployment.kubernetes.io/desired-replicas": str(replicas),
                "deployment.kubernetes.io/max-replicas": str(replicas + 1),
                "deployment.kubernetes.io/revision": revision,
            },
            "ownerReferences": [owner_ref("Deployment", owner, owner_uid)],
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": owner, "pod-template-hash": pod_hash}},
        },
        "status": {
            "replicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "fullyLabeledReplicas": replicas,
            "observedGeneration": 1,
        },
    }


_SUFFIXES = ("x7k2p", "m4q9z", "b8w3n", "t5r1c", "h2j6v", "d9f4l")


def _pod_suffix(index: int) -> str:
    """ReplicaSet pods get a random 5-letter suffix; these are fixed and unique per index."""
    return _SUFFIXES[index % len(_SUFFIXES)] + (str(index // len(_SUFFIXES)) if index >= 6 else "")


def rs_pod(
    index: int = 0, *, pod_hash: str = NEW_HASH, owner: str = DEPLOY_NAME, **overrides: Any
) -> Json:
    """Pod ``index`` of the Deployment's ReplicaSet for ``pod_hash`` (new one by default)."""
    rs = replicaset(pod_hash, owner=owner)
    rs_meta: Mapping[str, Any] = rs["metadata"]
    return pod(
        index,
        owner=rs_meta["name"],
        app=owner,
        name=f"{rs_meta['name']}-{_pod_suffix(index)}",
        owner_kind="ReplicaSet",
        owner_uid=rs_meta["uid"],
        revision=pod_hash,
        revision_label="pod-template-hash",
        **overrides,
    )


def set_container(obj: Json, name: str, **status: Any) -> Json:
    """A copy of pod ``obj`` whose container ``name`` has the status ``container_status`` builds.

    For scenarios with two broken containers, which the ``pod`` arguments cannot say.
    """
    copy = deepcopy(obj)
    for key in ("initContainerStatuses", "containerStatuses"):
        for index, entry in enumerate(copy["status"].get(key, [])):
            if entry["name"] == name:
                copy["status"][key][index] = container_status(name, **status)
                return copy
    raise KeyError(f"pod {obj['metadata']['name']} has no container {name}")


# --------------------------------------------------------------------------- DaemonSets

DS_NAME = "agent"
DS_UID = "5c7d9e1f-2b4a-4d6c-8e0f-1a3b5c7d9e20"
DS_OLD_HASH = "5d8f7c6b9"
DS_NEW_HASH = "7b8f75b98"


def daemonset(
    name: str = DS_NAME,
    *,
    desired: int | None = 3,
    scheduled: int | None = None,
    misscheduled: int = 0,
    ready: int | None = None,
    available: int | None = None,
    updated: int | None = None,
    generation: int = 1,
    observed: int | None = 1,
    strategy: str = "RollingUpdate",
    min_ready_seconds: int | None = None,
    deleting: bool = False,
    uid: str = DS_UID,
    namespace: str = NAMESPACE,
    omit: Iterable[str] = (),
    no_status: bool = False,
) -> Json:
    """A DaemonSet whose status (as ``daemon_controller.go`` writes it) agrees with ``desired``.

    ``desired=None`` leaves ``status.desiredNumberScheduled`` out (not yet counted);
    zero counts are left out where the API omits them (``omitempty``).
    """
    count = desired or 0
    spec: Json = {
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [_container_spec("main")]},
        },
        "updateStrategy": {"type": strategy},
        "revisionHistoryLimit": 10,
    }
    if strategy == "RollingUpdate":
        spec["updateStrategy"]["rollingUpdate"] = {"maxSurge": 0, "maxUnavailable": 1}
    if min_ready_seconds is not None:
        spec["minReadySeconds"] = min_ready_seconds
    metadata: Json = {
        "name": name,
        "namespace": namespace,
        "uid": uid,
        "resourceVersion": "77120",
        "generation": generation,
        "creationTimestamp": ts(86400.0),
        "labels": {"app": name},
        "annotations": {"deprecated.daemonset.template.generation": str(generation)},
    }
    if deleting:
        metadata["deletionTimestamp"] = ts(-30.0)
    number_available = (count if ready is None else ready) if available is None else available
    status: Json = {
        "currentNumberScheduled": count if scheduled is None else scheduled,
        "numberMisscheduled": misscheduled,
        "numberReady": count if ready is None else ready,
        "updatedNumberScheduled": count if updated is None else updated,
        "numberAvailable": number_available,
        "numberUnavailable": max(0, count - number_available),
    }
    if desired is not None:
        status["desiredNumberScheduled"] = desired
    if observed is not None:
        status["observedGeneration"] = observed
    for key, value in list(status.items()):
        if value == 0 and key in ("updatedNumberScheduled", "numberAvailable", "numberUnavailable"):
            del status[key]
    for key in omit:
        status.pop(key, None)
    obj: Json = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": metadata, "spec": spec}
    if not no_status:
        obj["status"] = status
    return obj


def ds_pod(
    node: int = 0,
    *,
    revision: str | None = DS_NEW_HASH,
    owner: str = DS_NAME,
    owner_uid: str = DS_UID,
    name: str | None = None,
    node_name: str | None = None,
    **overrides: Any,
) -> Json:
    """The pod of DaemonSet ``owner`` on ``node-<node>`` (pinned by node affinity, as the
    controller does), at template hash ``revision``; ``pod`` arguments change its state."""
    target = node_name or f"node-{node}"
    pod_name = name or f"{owner}-{_sha(f'{target}/{revision}/{owner}')[:5]}"
    obj = pod(
        node,
        owner=owner,
        name=pod_name,
        owner_kind="DaemonSet",
        owner_uid=owner_uid,
        revision=revision,
        **overrides,
    )
    obj["metadata"]["labels"]["pod-template-generation"] = "1"
    obj["spec"].pop("hostname", None)
    obj["spec"].pop("subdomain", None)
    obj["spec"]["affinity"] = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchFields": [
                            {"key": "metadata.name", "operator": "In", "values": [target]}
                        ]
                    }
                ]
            }
        }
    }
    if "nodeName" in obj["spec"]:
        obj["spec"]["nodeName"] = target
    return obj


def ds_pods(count: int = 3, **overrides: Any) -> list[Json]:
    """One healthy pod on each of ``node-0`` .. ``node-<count-1>``."""
    return [ds_pod(node, **overrides) for node in range(count)]


def controller_revision(
    pod_hash: str = DS_NEW_HASH,
    *,
    revision: int = 2,
    owner: str = DS_NAME,
    owner_uid: str = DS_UID,
    owner_kind: str = "DaemonSet",
    namespace: str = NAMESPACE,
    label: bool = True,
) -> Json:
    """A ControllerRevision of DaemonSet ``owner`` named ``<owner>-<hash>``."""
    name = f"{owner}-{pod_hash}"
    labels: Json = {"app": owner}
    if label:
        labels["controller-revision-hash"] = pod_hash
    return {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid_for(f"{namespace}/{name}"),
            "labels": labels,
            "annotations": {"deprecated.daemonset.template.generation": str(revision)},
            "ownerReferences": [owner_ref(owner_kind, owner, owner_uid)],
        },
        "data": {"spec": {"template": {"$patch": "replace", "spec": {"containers": []}}}},
        "revision": revision,
    }


REVISIONS = [controller_revision(DS_OLD_HASH, revision=1), controller_revision(DS_NEW_HASH)]
"""An old and the current ControllerRevision of the default DaemonSet."""


# --------------------------------------------------------------------------- custom resources

CR_NAME = "events"
CR_UID = "8e6f4d2b-0a1c-4e3f-9b7d-5c3a1e9f7d60"


def condition(
    kind: str = "Ready",
    status: str = "True",
    *,
    ago: float | None = 600.0,
    reason: str | None = None,
    message: str | None = None,
    observed: int | None = None,
) -> Json:
    """One entry of ``status.conditions`` (metav1.Condition); ``ago=None`` leaves out
    ``lastTransitionTime``."""
    cond: Json = {"type": kind, "status": status}
    if ago is not None:
        cond["lastTransitionTime"] = ts(ago)
    if reason is not None:
        cond["reason"] = reason
    if message is not None:
        cond["message"] = message
    if observed is not None:
        cond["observedGeneration"] = observed
    return cond


def resource(
    kind: str = "Kafka",
    name: str = CR_NAME,
    *,
    api_version: str = "kafka.strimzi.io/v1beta2",
    conditions: Sequence[Any] | Any | None = None,
    generation: int | None = 1,
    observed: int | None = 1,
    deleting: bool = False,
    no_status: bool = False,
    namespace: str = NAMESPACE,
) -> Json:
    """A custom resource of an operator, Ready=True for 10 minutes unless told otherwise.

    ``conditions`` replaces ``status.conditions`` as given (any JSON, for malformed ones).
    """
    metadata: Json = {
        "name": name,
        "namespace": namespace,
        "uid": CR_UID,
        "resourceVersion": "30411",
        "creationTimestamp": ts(86400.0),
    }
    if generation is not None:
        metadata["generation"] = generation
    if deleting:
        metadata["deletionTimestamp"] = ts(-30.0)
        metadata["finalizers"] = ["strimzi.io/finalizer"]
    status: Json = {
        "conditions": [condition("Ready", reason="Ready")] if conditions is None else conditions
    }
    if observed is not None:
        status["observedGeneration"] = observed
    obj: Json = {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": {}}
    if not no_status:
        obj["status"] = status
    return obj


def broker(index: int = 0, *, owner: str = f"{CR_NAME}-kafka", **overrides: Any) -> Json:
    """Broker pod ``events-kafka-<index>`` of the Kafka (owned by a StrimziPodSet)."""
    return pod(
        index,
        owner=owner,
        owner_kind="StrimziPodSet",
        owner_uid=uid_for(owner),
        revision=None,
        **overrides,
    )
