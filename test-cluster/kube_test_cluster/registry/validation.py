"""Admission and validation: what the apiserver refuses, and what it resets on create.

Only the checks a client may plausibly trip over are emulated (names, selectors
vs. template labels, replicas, immutable fields); the messages use the
apiserver's wording so error handling written against the emulator reads the
same text in production.
"""

from __future__ import annotations

import copy
import re

from kube_test_cluster.registry.status import invalid
from kube_test_cluster.registry.store import Obj

#: kinds with a ``/scale`` subresource (and a pod template and selector)
SCALE_KINDS = frozenset({"statefulsets", "deployments", "replicasets"})

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS_SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


def valid_name(name: str) -> bool:
    return len(name) <= 253 and _DNS_SUBDOMAIN.match(name) is not None


def reset_status(resource: str, obj: Obj) -> None:
    """What a freshly created object's status is, whatever the client sent."""
    if resource == "pods":
        obj["status"] = {"phase": "Pending", "qosClass": _qos_class(obj.get("spec", {}))}
    elif resource == "statefulsets":
        obj["status"] = {"replicas": 0, "availableReplicas": 0}
    elif resource == "deployments":
        obj["status"] = {}
    elif resource == "replicasets":
        obj["status"] = {"replicas": 0}
    elif resource == "daemonsets":
        obj["status"] = {
            "currentNumberScheduled": 0,
            "numberMisscheduled": 0,
            "desiredNumberScheduled": 0,
            "numberReady": 0,
        }


def _qos_class(spec: Obj) -> str:
    containers = (spec.get("initContainers") or []) + (spec.get("containers") or [])
    resources = [c.get("resources") or {} for c in containers]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    for r in resources:
        limits, requests = r.get("limits") or {}, r.get("requests") or {}
        if set(limits) < {"cpu", "memory"} or any(
            requests.get(k, v) != v for k, v in limits.items()
        ):
            return "Burstable"
    return "Guaranteed"


def validate(resource: str, obj: Obj, kind: str) -> None:
    """The handful of validation errors a client may plausibly trip over."""
    name = obj["metadata"].get("name") or obj["metadata"].get("generateName") or ""
    causes: list[str] = []
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else None
    if resource == "pods":
        if not spec or not spec.get("containers"):
            causes.append("spec.containers: Required value")
    elif resource in SCALE_KINDS or resource == "daemonsets":
        template_labels = ((spec or {}).get("template") or {}).get("metadata", {}).get(
            "labels"
        ) or {}
        selector = (spec or {}).get("selector")
        if not selector:
            causes.append("spec.selector: Required value")
        else:
            match_labels = selector.get("matchLabels") or {}
            if any(template_labels.get(k) != v for k, v in match_labels.items()):
                causes.append(
                    f"spec.template.metadata.labels: Invalid value: {template_labels!r}: "
                    "`selector` does not match template `labels`"
                )
        replicas = (spec or {}).get("replicas", 1)
        if resource != "daemonsets" and (not isinstance(replicas, int) or replicas < 0):
            causes.append(
                f"spec.replicas: Invalid value: {replicas}: must be greater than or equal to 0"
            )
    elif resource == "customresourcedefinitions":
        names = (spec or {}).get("names") or {}
        group = (spec or {}).get("group") or ""
        if not names.get("plural") or not names.get("kind"):
            causes.append("spec.names.plural: Required value")
        elif name != f"{names['plural']}.{group}":
            causes.append(
                f'metadata.name: Invalid value: "{name}": must be spec.names.plural+"."+spec.group'
            )
        if not (spec or {}).get("versions"):
            causes.append(
                "spec.versions: Invalid value: null: must have exactly one version marked "
                "as storage version"
            )
    if causes:
        raise invalid(resource, name, kind, causes)


def check_immutable(resource: str, old: Obj, new: Obj, kind: str) -> None:
    name = old["metadata"]["name"]
    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    if resource == "statefulsets":
        mutable = {
            "replicas",
            "ordinals",
            "template",
            "updateStrategy",
            "revisionHistoryLimit",
            "persistentVolumeClaimRetentionPolicy",
            "minReadySeconds",
        }
        frozen = (set(old_spec) | set(new_spec)) - mutable
        if any(old_spec.get(k) != new_spec.get(k) for k in frozen):
            raise invalid(
                resource,
                name,
                kind,
                [
                    "spec: Forbidden: updates to statefulset spec for fields other than "
                    "'replicas', 'ordinals', 'template', 'updateStrategy', "
                    "'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and "
                    "'minReadySeconds' are forbidden"
                ],
            )
    if resource == "pods" and _pod_spec_frozen(old_spec) != _pod_spec_frozen(new_spec):
        raise invalid(
            resource,
            name,
            kind,
            [
                "spec: Forbidden: pod updates may not change fields other than "
                "`spec.containers[*].image`,`spec.initContainers[*].image`,"
                "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
                "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if "
                "it was previously negative)"
            ],
        )
    selector_changed = old_spec.get("selector") != new_spec.get("selector")
    if resource in ("deployments", "replicasets", "daemonsets") and selector_changed:
        raise invalid(
            resource,
            name,
            kind,
            [f"spec.selector: Invalid value: {new_spec.get('selector')!r}: field is immutable"],
        )


def _pod_spec_frozen(spec: Obj) -> Obj:
    """A pod spec without the few fields an update may change."""
    frozen = copy.deepcopy(spec)
    for mutable in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"):
        frozen.pop(mutable, None)
    for key in ("containers", "initContainers"):
        for container in frozen.get(key) or []:
            container.pop("image", None)
    return frozen
