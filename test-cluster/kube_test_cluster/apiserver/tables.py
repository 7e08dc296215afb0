"""``meta.k8s.io/v1`` Tables: the server-side printing behind kubectl's plain ``get``.

kubectl asks for ``application/json;as=Table;v=v1;g=meta.k8s.io`` and prints the
cells it gets back, so the columns and the cell text (``1/1``, ``Running``,
``3 (2m ago)``, ``5m``) are the apiserver's printers, reproduced here for the
kinds the emulator serves. Ages are computed from the emulated clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from kube_test_cluster.registry.selectors import format_label_selector

Obj = dict[str, Any]
Column = tuple[str, str, str, int]  # name, type, description, priority
Printer = Callable[[Obj, datetime], list[Any]]

_NAME: Column = ("Name", "string", "Name must be unique within a namespace.", 0)
_AGE: Column = (
    "Age",
    "string",
    "CreationTimestamp is a timestamp representing the server time when this object was created.",
    0,
)


def accepts_table(accept: str | None) -> bool:
    """Whether an Accept header asks for a Table (``as=Table;g=meta.k8s.io``)."""
    if not accept:
        return False
    for media in accept.split(","):
        params = {
            k.strip().lower(): v.strip()
            for k, _, v in (p.partition("=") for p in media.split(";")[1:])
        }
        if params.get("as") == "Table" and params.get("g", "meta.k8s.io") == "meta.k8s.io":
            return True
    return False


def human_duration(seconds: float) -> str:
    """``k8s.io/apimachinery/pkg/util/duration.HumanDuration``."""
    secs = int(seconds)
    if secs < -1:
        return "<invalid>"
    if secs < 0:
        return "0s"
    if secs < 120:
        return f"{secs}s"
    minutes = secs // 60
    if minutes < 10:
        rest = secs % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = secs // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if rest == 0 else f"{years}y{rest}d"
    return f"{hours // 24 // 365}y"


def _since(timestamp: str | None, now: datetime) -> str:
    if not timestamp:
        return "<unknown>"
    moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return human_duration((now - moment).total_seconds())


def _age(obj: Obj, now: datetime) -> str:
    return _since(obj["metadata"].get("creationTimestamp"), now)


# -- printers (one per kind; mirror pkg/printers/internalversion/printers.go) ----------


def _pod_status(pod: Obj) -> str:
    status = pod.get("status", {})
    reason = status.get("reason") or status.get("phase") or "Unknown"
    init_specs = pod.get("spec", {}).get("initContainers") or []
    initializing = False
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        state = cs.get("state", {})
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated and terminated.get("exitCode") == 0:
            continue
        restart_always = i < len(init_specs) and init_specs[i].get("restartPolicy") == "Always"
        if restart_always and cs.get("started"):
            continue
        if terminated:
            if terminated.get("reason"):
                reason = "Init:" + terminated["reason"]
            elif terminated.get("signal"):
                reason = f"Init:Signal:{terminated['signal']}"
            else:
                reason = f"Init:ExitCode:{terminated.get('exitCode')}"
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break
    if not initializing:
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            state = cs.get("state", {})
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated:
                signal = terminated.get("signal")
                reason = f"Signal:{signal}" if signal else f"ExitCode:{terminated.get('exitCode')}"
            elif cs.get("ready") and "running" in state:
                has_running = True
        if reason == "Completed" and has_running:
            ready = any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in status.get("conditions") or []
            )
            reason = "Running" if ready else "NotReady"
    if pod["metadata"].get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return str(reason)


def _pod_restarts(pod: Obj, now: datetime) -> str:
    total, last = 0, ""
    statuses = (pod.get("status", {}).get("initContainerStatuses") or []) + (
        pod.get("status", {}).get("containerStatuses") or []
    )
    for cs in statuses:
        total += int(cs.get("restartCount") or 0)
        finished = (cs.get("lastState") or {}).get("terminated", {}).get("finishedAt")
        if finished and finished > last:
            last = finished
    if total and last:
        return f"{total} ({_since(last, now)} ago)"
    return str(total)


def _pod(pod: Obj, now: datetime) -> list[Any]:
    spec, status = pod.get("spec", {}), pod.get("status", {})
    containers = len(spec.get("containers") or [])
    ready = sum(1 for cs in status.get("containerStatuses") or [] if cs.get("ready"))
    return [
        pod["metadata"]["name"],
        f"{ready}/{containers}",
        _pod_status(pod),
        _pod_restarts(pod, now),
        _age(pod, now),
        status.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        "<none>",
    ]


def _containers(obj: Obj) -> tuple[str, str]:
    containers = obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or []
    return (
        ",".join(c.get("name", "") for c in containers),
        ",".join(c.get("image", "") for c in containers),
    )


def _statefulset(sts: Obj, now: datetime) -> list[Any]:
    names, images = _containers(sts)
    desired = sts.get("spec", {}).get("replicas", 1)
    ready = sts.get("status", {}).get("readyReplicas", 0)
    return [sts["metadata"]["name"], f"{ready}/{desired}", _age(sts, now), names, images]


def _deployment(dep: Obj, now: datetime) -> list[Any]:
    names, images = _containers(dep)
    spec, status = dep.get("spec", {}), dep.get("status", {})
    return [
        dep["metadata"]["name"],
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        _age(dep, now),
        names,
        images,
        format_label_selector(spec.get("selector")),
    ]


def _replicaset(rs: Obj, now: datetime) -> list[Any]:
    names, images = _containers(rs)
    spec, status = rs.get("spec", {}), rs.get("status", {})
    return [
        rs["metadata"]["name"],
        spec.get("replicas", 1),
        status.get("replicas", 0),
        status.get("readyReplicas", 0),
        _age(rs, now),
        names,
        images,
        format_label_selector(spec.get("selector")),
    ]


def _event(ev: Obj, now: datetime) -> list[Any]:
    first = ev.get("firstTimestamp") or ev.get("eventTime")
    last = ev.get("lastTimestamp") or (ev.get("series") or {}).get("lastObservedTime") or first
    last_seen = _since(last, now)
    count = int(ev.get("count") or (ev.get("series") or {}).get("count") or 1)
    if count > 1:
        last_seen = f"{last_seen} (x{count} over {_since(first, now)})"
    involved = ev.get("involvedObject", {})
    source = ev.get("source", {})
    source_text = source.get("component") or ev.get("reportingComponent") or ""
    if source.get("host"):
        source_text += ", " + source["host"]
    return [
        last_seen,
        ev.get("type", ""),
        ev.get("reason", ""),
        f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}",
        involved.get("fieldPath", ""),
        source_text,
        str(ev.get("message", "")).strip(),
        _since(first, now),
        count,
        ev["metadata"]["name"],
    ]


def _namespace(ns: Obj, now: datetime) -> list[Any]:
    return [ns["metadata"]["name"], ns.get("status", {}).get("phase", ""), _age(ns, now)]


def _controllerrevision(cr: Obj, now: datetime) -> list[Any]:
    owner = next(
        (r for r in cr["metadata"].get("ownerReferences") or [] if r.get("controller")), None
    )
    controller = f"{owner['kind'].lower()}.apps/{owner['name']}" if owner else "<none>"
    return [cr["metadata"]["name"], controller, cr.get("revision", 0), _age(cr, now)]


def _daemonset(ds: Obj, now: datetime) -> list[Any]:
    names, images = _containers(ds)
    status = ds.get("status") or {}
    spec = ds.get("spec") or {}
    node_selector = (spec.get("template") or {}).get("spec", {}).get("nodeSelector") or {}
    return [
        ds["metadata"]["name"],
        int(status.get("desiredNumberScheduled") or 0),
        int(status.get("currentNumberScheduled") or 0),
        int(status.get("numberReady") or 0),
        int(status.get("updatedNumberScheduled") or 0),
        int(status.get("numberAvailable") or 0),
        ",".join(f"{k}={v}" for k, v in sorted(node_selector.items())) or "<none>",
        _age(ds, now),
        names,
        images,
        format_label_selector(spec.get("selector")),
    ]


#: the role labels ``kubectl get nodes`` reads (``findNodeRoles``)
_ROLE_PREFIX = "node-role.kubernetes.io/"
_ROLE_LABEL = "kubernetes.io/role"


def _node_roles(node: Obj) -> str:
    roles = set()
    for key, value in (node["metadata"].get("labels") or {}).items():
        if key.startswith(_ROLE_PREFIX) and key[len(_ROLE_PREFIX) :]:
            roles.add(key[len(_ROLE_PREFIX) :])
        elif key == _ROLE_LABEL and value:
            roles.add(value)
    return ",".join(sorted(roles)) or "<none>"


def _node_address(node: Obj, kind: str) -> str:
    for address in (node.get("status") or {}).get("addresses") or []:
        if address.get("type") == kind:
            return str(address.get("address", ""))
    return "<none>"


def _node(node: Obj, now: datetime) -> list[Any]:
    status = node.get("status") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    words = [
        "Unknown" if ready is None else "Ready" if ready.get("status") == "True" else "NotReady"
    ]
    if (node.get("spec") or {}).get("unschedulable"):
        words.append("SchedulingDisabled")
    info = status.get("nodeInfo") or {}
    return [
        node["metadata"]["name"],
        ",".join(words),
        _node_roles(node),
        _age(node, now),
        info.get("kubeletVersion", ""),
        _node_address(node, "InternalIP"),
        _node_address(node, "ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def _generic(obj: Obj, now: datetime) -> list[Any]:
    return [obj["metadata"]["name"], _age(obj, now)]


_WIDE_CONTAINERS: list[Column] = [
    ("Containers", "string", "Names of each container in the template.", 1),
    ("Images", "string", "Images referenced by each container in the template.", 1),
]

PRINTERS: dict[str, tuple[list[Column], Printer]] = {
    "pods": (
        [
            _NAME,
            (
                "Ready",
                "string",
                "The aggregate readiness state of this pod for accepting traffic.",
                0,
            ),
            ("Status", "string", "The aggregate status of the containers in this pod.", 0),
            (
                "Restarts",
                "string",
                "The number of times the containers in this pod have been "
                "restarted and when the last container in this pod has restarted.",
                0,
            ),
            _AGE,
            ("IP", "string", "IP address allocated to the pod.", 1),
            ("Node", "string", "Name of the node where the pod is scheduled.", 1),
            ("Nominated Node", "string", "Name of the node where the pod is nominated.", 1),
            ("Readiness Gates", "string", "The readiness gates of this pod.", 1),
        ],
        _pod,
    ),
    "statefulsets": (
        [
            _NAME,
            ("Ready", "string", "Number of the pod with ready state", 0),
            _AGE,
            *_WIDE_CONTAINERS,
        ],
        _statefulset,
    ),
    "deployments": (
        [
            _NAME,
            ("Ready", "string", "Number of the pod with ready state", 0),
            (
                "Up-to-date",
                "string",
                "Total number of non-terminated pods targeted by this "
                "deployment that have the desired template spec.",
                0,
            ),
            (
                "Available",
                "string",
                "Total number of available pods (ready for at least "
                "minReadySeconds) targeted by this deployment.",
                0,
            ),
            _AGE,
            *_WIDE_CONTAINERS,
            ("Selector", "string", "Label selector for pods.", 1),
        ],
        _deployment,
    ),
    "replicasets": (
        [
            _NAME,
            ("Desired", "integer", "Number of desired pods.", 0),
            ("Current", "integer", "Number of actual replicas.", 0),
            ("Ready", "integer", "The number of ready replicas for this replica set.", 0),
            _AGE,
            *_WIDE_CONTAINERS,
            ("Selector", "string", "Label selector for pods.", 1),
        ],
        _replicaset,
    ),
    "daemonsets": (
        [
            _NAME,
            ("Desired", "integer", "The desired number of daemon pods", 0),
            ("Current", "integer", "The number of daemon pods currently scheduled", 0),
            ("Ready", "integer", "The number of daemon pods ready", 0),
            ("Up-to-date", "integer", "The number of daemon pods that are up to date", 0),
            ("Available", "integer", "The number of daemon pods available", 0),
            ("Node Selector", "string", "The node selector of the daemon pods", 0),
            _AGE,
            *_WIDE_CONTAINERS,
            ("Selector", "string", "Label selector for pods.", 1),
        ],
        _daemonset,
    ),
    "events": (
        [
            ("Last Seen", "string", "Time when this Event was last seen", 0),
            (
                "Type",
                "string",
                "Type of this event (Normal, Warning), new types could be added in the future.",
                0,
            ),
            ("Reason", "string", "This should be a short, machine understandable string.", 0),
            ("Object", "string", "The object that this event is about.", 0),
            ("Subobject", "string", "The subobject that this event is about.", 1),
            ("Source", "string", "The component reporting this event.", 1),
            (
                "Message",
                "string",
                "A human-readable description of the status of this operation.",
                0,
            ),
            ("First Seen", "string", "Time when this Event was first seen.", 1),
            ("Count", "string", "The number of times this event has occurred.", 1),
            ("Name", "string", "Name of the event.", 1),
        ],
        _event,
    ),
    "namespaces": (
        [_NAME, ("Status", "string", "The status of the namespace", 0), _AGE],
        _namespace,
    ),
    "nodes": (
        [
            _NAME,
            ("Status", "string", "The status of the node", 0),
            ("Roles", "string", "The roles of the node", 0),
            _AGE,
            ("Version", "string", "Kubelet Version reported by the node.", 0),
            ("Internal-IP", "string", "List of addresses reachable to the node.", 1),
            ("External-IP", "string", "List of addresses reachable to the node.", 1),
            (
                "OS-Image",
                "string",
                "OS Image reported by the node from /etc/os-release "
                "(e.g. Debian GNU/Linux 7 (wheezy)).",
                1,
            ),
            (
                "Kernel-Version",
                "string",
                "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
                1,
            ),
            (
                "Container-Runtime",
                "string",
                "ContainerRuntime Version reported by the node through runtime remote API "
                "(e.g. containerd://1.4.2).",
                1,
            ),
        ],
        _node,
    ),
    "controllerrevisions": (
        [
            _NAME,
            ("Controller", "string", "Controller of the object.", 0),
            ("Revision", "integer", "Revision of the ControllerRevision.", 0),
            _AGE,
        ],
        _controllerrevision,
    ),
}


def column_definitions(resource: str) -> list[Obj]:
    columns = PRINTERS.get(resource, ([_NAME, _AGE], _generic))[0]
    return [
        {
            "name": name,
            "type": type_,
            "format": "name" if name == "Name" and priority == 0 else "",
            "description": description,
            "priority": priority,
        }
        for name, type_, description, priority in columns
    ]


def row(resource: str, obj: Obj, now: datetime, include_object: str) -> Obj:
    """One Table row; ``include_object`` is ``Metadata`` (default), ``Object`` or ``None``."""
    printer = PRINTERS.get(resource, ([], _generic))[1]
    entry: Obj = {"cells": printer(obj, now)}
    if include_object == "Object":
        entry["object"] = obj
    elif include_object != "None":
        entry["object"] = {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj["metadata"],
        }
    return entry


def table(
    resource: str,
    objs: list[Obj],
    now: datetime,
    *,
    include_object: str = "Metadata",
    metadata: Obj | None = None,
    headers: bool = True,
) -> Obj:
    """A whole Table; ``headers=False`` omits the column definitions (later watch events)."""
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata or {},
        "columnDefinitions": column_definitions(resource) if headers else [],
        "rows": [row(resource, obj, now, include_object) for obj in objs],
    }
