"""Small helpers the controllers share, named after the Go functions they mirror.

Pod predicates (``isRunningAndReady``, ``IsPodAvailable``...), int-or-percent
scaling, the apiserver's name alphabet and the FNV hashes behind revision
names: when they behave exactly like the originals, the controllers built on
them make the same decisions as a real control plane.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from kube_test_cluster.registry.selectors import (
    LabelSelector,
    format_label_selector,
    parse_label_selector,
)
from kube_test_cluster.registry.store import Obj, Store, controller_ref

#: ``k8s.io/apimachinery/pkg/util/rand``: no vowels (no words), no 0/1/3 (no look-alikes)
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

_random = random.Random()


def safe_encode(text: str) -> str:
    """``rand.SafeEncodeString``: how revision and template hashes become name suffixes."""
    return "".join(SAFE_ALPHABET[ord(ch) % len(SAFE_ALPHABET)] for ch in text)


def random_suffix(length: int = 5) -> str:
    """The suffix the apiserver's ``generateName`` appends (``utilrand.String(5)``)."""
    return "".join(_random.choice(SAFE_ALPHABET) for _ in range(length))


def fnv32(data: bytes) -> int:
    """FNV-1 (32 bit), the ``fnv.New32`` that ``HashControllerRevision`` uses."""
    value = 0x811C9DC5
    for byte in data:
        value = (value * 0x01000193) & 0xFFFFFFFF
        value ^= byte
    return value


def fnv32a(data: bytes) -> int:
    """FNV-1a (32 bit), the ``fnv.New32a`` behind a Deployment's pod-template-hash."""
    value = 0x811C9DC5
    for byte in data:
        value ^= byte
        value = (value * 0x01000193) & 0xFFFFFFFF
    return value


def canonical_json(obj: Any) -> bytes:
    """Go's ``json.Marshal`` of a map: sorted keys, no spaces."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


# -- ownership ---------------------------------------------------------------------------


def controller_of(obj: Obj) -> Obj | None:
    """``metav1.GetControllerOf``: the ownerReference with ``controller: true``."""
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return dict(ref)
    return None


@lru_cache(maxsize=512)
def _selector(text: str) -> LabelSelector:
    return parse_label_selector(text)


def selector_of(spec_selector: Mapping[str, Any] | None) -> LabelSelector:
    """``metav1.LabelSelectorAsSelector`` (cached: controllers ask on every sync)."""
    return _selector(format_label_selector(spec_selector))


def labels_of(obj: Obj) -> dict[str, str]:
    labels: dict[str, str] = obj.get("metadata", {}).get("labels") or {}
    return labels


# -- pods --------------------------------------------------------------------------------


def phase(pod: Obj) -> str:
    return str(pod.get("status", {}).get("phase") or "")


def condition(obj: Obj, kind: str) -> Obj | None:
    for cond in obj.get("status", {}).get("conditions") or []:
        if cond.get("type") == kind:
            return dict(cond)
    return None


def is_pod_ready(pod: Obj) -> bool:
    """``podutil.IsPodReady``: the Ready condition is True."""
    ready = condition(pod, "Ready")
    return ready is not None and ready.get("status") == "True"


def is_pod_available(pod: Obj, min_ready_seconds: int, now: datetime) -> bool:
    """``podutil.IsPodAvailable``: Ready for strictly longer than ``minReadySeconds``."""
    if not is_pod_ready(pod):
        return False
    if not min_ready_seconds:
        return True
    ready = condition(pod, "Ready") or {}
    since = parse_time(ready.get("lastTransitionTime"))
    return since is not None and since + seconds(min_ready_seconds) < now


def available_at(pod: Obj, min_ready_seconds: int) -> datetime | None:
    """When a Ready pod becomes available (the moment after which it counts)."""
    ready = condition(pod, "Ready") or {}
    since = parse_time(ready.get("lastTransitionTime"))
    if since is None or not is_pod_ready(pod):
        return None
    return since + seconds(min_ready_seconds) + timedelta(milliseconds=1)


def is_terminating(obj: Obj) -> bool:
    return bool(obj.get("metadata", {}).get("deletionTimestamp"))


def is_running_and_ready(pod: Obj) -> bool:
    return phase(pod) == "Running" and is_pod_ready(pod)


def is_active(pod: Obj) -> bool:
    """``controller.IsPodActive``: not finished and not being deleted."""
    return phase(pod) not in ("Succeeded", "Failed") and not is_terminating(pod)


# -- int-or-percent ----------------------------------------------------------------------


def scaled_value(value: int | str | None, total: int, *, round_up: bool, default: int = 0) -> int:
    """``intstr.GetScaledValueFromIntOrPercent`` (25% of 10 is 3 rounding up, 2 down)."""
    if value is None:
        return default
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not text.endswith("%"):
        return int(text)
    percent = int(text[:-1])
    scaled = percent * total
    return -(-scaled // 100) if round_up else scaled // 100


def adopt_or_release(
    store: Store, resource: str, obj: Obj, owner: Obj | None, release_uid: str | None
) -> Obj:
    """Point ``obj``'s controller reference at ``owner`` (adopt) or drop ``release_uid``'s.

    The real controllers' ref managers do this when a selector starts or stops
    matching an object; both the StatefulSet and the ReplicaSet controller need it.
    """

    def patch(o: Obj) -> None:
        refs = [r for r in o["metadata"].get("ownerReferences") or [] if r["uid"] != release_uid]
        if owner is not None:
            refs.append(controller_ref(owner))
        if refs:
            o["metadata"]["ownerReferences"] = refs
        else:
            o["metadata"].pop("ownerReferences", None)

    meta = obj["metadata"]
    return store.update(resource, meta["namespace"], meta["name"], patch)


def new_controller_revision(
    owner: Obj, name: str, labels: dict[str, str], data: Any, number: int
) -> Obj:
    """A ControllerRevision ``owner`` controls, after ``history.NewControllerRevision``.

    The StatefulSet and DaemonSet controllers both keep their templates this way.
    """
    meta = owner["metadata"]
    revision: Obj = {
        "metadata": {
            "name": name,
            "namespace": meta["namespace"],
            "labels": labels,
            "ownerReferences": [controller_ref(owner)],
        },
        "data": data,
        "revision": number,
    }
    if meta.get("annotations"):
        revision["metadata"]["annotations"] = dict(meta["annotations"])
    return revision
