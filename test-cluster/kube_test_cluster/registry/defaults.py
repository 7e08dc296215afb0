"""The defaults the apiserver fills in on every write (``SetDefaults_*`` plus admission).

They matter to clients: ``kubectl rollout status`` refuses a StatefulSet whose
``spec.updateStrategy.type`` is not ``RollingUpdate``, and a Go client reads a
missing field as its zero value, so an emulator that stores manifests as
written would answer differently from a real cluster. Applied by the store, so
objects created by tests, controllers and HTTP clients all look alike.
Defaulting is idempotent: re-applying it never changes a defaulted object.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

_TOLERATIONS = [
    {
        "key": "node.kubernetes.io/not-ready",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 300,
    },
    {
        "key": "node.kubernetes.io/unreachable",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 300,
    },
]


def apply_defaults(resource: str, obj: Obj, *, creating: bool) -> None:  # noqa: PLR0915
    """Fill the fields the apiserver would default for ``resource``, in place."""
    spec = obj.get("spec")
    if resource == "pods" and isinstance(spec, dict):
        _pod_spec(spec)
        if creating:
            _pod_admission(spec)
    elif resource == "statefulsets" and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        spec.setdefault("podManagementPolicy", "OrderedReady")
        strategy = spec.setdefault("updateStrategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            rolling.setdefault("partition", 0)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault(
            "persistentVolumeClaimRetentionPolicy",
            {"whenDeleted": "Retain", "whenScaled": "Retain"},
        )
        _template(spec)
        # not omitempty in the Go type: a real StatefulSet always shows these, even as 0
        status = obj.setdefault("status", {})
        status.setdefault("replicas", 0)
        status.setdefault("availableReplicas", 0)
    elif resource == "deployments" and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        strategy = spec.setdefault("strategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            rolling.setdefault("maxUnavailable", "25%")
            rolling.setdefault("maxSurge", "25%")
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        _template(spec)
    elif resource == "daemonsets" and isinstance(spec, dict):
        strategy = spec.setdefault("updateStrategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            rolling.setdefault("maxUnavailable", 1)
            rolling.setdefault("maxSurge", 0)
        spec.setdefault("revisionHistoryLimit", 10)
        _template(spec)
        status = obj.setdefault("status", {})
        for count in (
            "currentNumberScheduled",
            "numberMisscheduled",
            "desiredNumberScheduled",
            "numberReady",
        ):
            status.setdefault(count, 0)
    elif resource == "replicasets" and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        _template(spec)
        obj.setdefault("status", {}).setdefault("replicas", 0)
    elif resource == "namespaces":
        name = obj["metadata"]["name"]
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj.setdefault("status", {}).setdefault("phase", "Active")


def _template(spec: Obj) -> None:
    template = spec.get("template")
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        _pod_spec(template["spec"])


def _pod_spec(spec: Obj) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for key in ("initContainers", "containers"):
        for container in spec.get(key) or []:
            _container(container)


def _container(container: Obj) -> None:
    image = str(container.get("image", ""))
    tag = image.rsplit("/", 1)[-1]
    untagged = ":" not in tag and "@" not in tag
    default_policy = "Always" if untagged or tag.endswith(":latest") else "IfNotPresent"
    container.setdefault("imagePullPolicy", default_policy)
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("resources", {})
    for port in container.get("ports") or []:
        port.setdefault("protocol", "TCP")
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = container.get(kind)
        if isinstance(probe, dict):
            _probe(probe)


def _probe(probe: Obj) -> None:
    """``SetDefaults_Probe`` and ``SetDefaults_HTTPGetAction``."""
    probe.setdefault("timeoutSeconds", 1)
    probe.setdefault("periodSeconds", 10)
    probe.setdefault("successThreshold", 1)
    probe.setdefault("failureThreshold", 3)
    http_get = probe.get("httpGet")
    if isinstance(http_get, dict):
        http_get.setdefault("path", "/")
        http_get.setdefault("scheme", "HTTP")


def _pod_admission(spec: Obj) -> None:
    """What the default admission plugins add to a new pod."""
    spec.setdefault("serviceAccountName", "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    tolerations = spec.setdefault("tolerations", [])
    present = {t.get("key") for t in tolerations}
    for toleration in _TOLERATIONS:
        if toleration["key"] not in present:
            tolerations.append(dict(toleration))
