"""The ReplicaSet controller, after ``pkg/controller/replicaset/replica_set.go``.

Keeps ``spec.replicas`` active pods (not finished, not being deleted), named
``<replicaset>-<5 random chars>`` from the apiserver's alphabet. Scaling down
deletes the least valuable pods first, ranked as ``ActivePodsWithRanks`` does:
unscheduled before scheduled, Pending before Running, not Ready before Ready,
Ready for less time first, more restarts first, newer first. Status counts
``replicas``, ``fullyLabeledReplicas``, ``readyReplicas`` and
``availableReplicas`` (``minReadySeconds``), with the real JSON omissions.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterable
from datetime import datetime

from kube_test_cluster.machinery.base import Controller
from kube_test_cluster.machinery.cache import Key
from kube_test_cluster.machinery.util import (
    adopt_or_release,
    available_at,
    condition,
    is_active,
    is_pod_available,
    is_pod_ready,
    is_terminating,
    labels_of,
    phase,
    random_suffix,
    selector_of,
)
from kube_test_cluster.registry.store import Change, Obj, StoreError, controller_ref
from kube_test_cluster.registry.validation import reset_status

#: ``burstReplicas``: at most this many creations or deletions per sync
BURST = 500
_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def _deletion_rank(pod: Obj) -> tuple[int, int, int, str, int, str]:
    """Sort key: the pod to delete first sorts first (``ActivePodsWithRanks.Less``)."""
    ready = condition(pod, "Ready") or {}
    restarts = sum(
        int(c.get("restartCount") or 0)
        for c in pod.get("status", {}).get("containerStatuses") or []
    )
    created = pod["metadata"].get("creationTimestamp", "")
    return (
        1 if pod.get("spec", {}).get("nodeName") else 0,
        _PHASE_RANK.get(phase(pod), 0),
        1 if is_pod_ready(pod) else 0,
        # ready for less time first: a later transition sorts first (negated lexically below)
        _invert(ready.get("lastTransitionTime", "")) if is_pod_ready(pod) else "",
        -restarts,
        _invert(created),
    )


def _invert(stamp: str) -> str:
    """Turn an RFC 3339 stamp into a key that sorts newest first."""
    return "".join(chr(0x7F - ord(ch)) for ch in stamp)


class ReplicaSetController(Controller):
    name = "replicaset-controller"

    def watch(self, change: Change, writer: str | None) -> Iterable[Key]:
        def orphan(obj: Obj, namespace: str) -> Iterable[Key]:  # a pod maybe ours to adopt
            return self.selecting("replicasets", obj, namespace) if change.type != "DELETED" else ()

        return self.owner_keys(change, writer, ("replicasets", "ReplicaSet"), ("pods",), orphan)

    def sync(self, key: Key, now: datetime) -> datetime | None:
        rs = self.ctx.cache.get(key)
        if rs is None:
            return None
        pods = [pod for pod in self._claim_pods(rs) if is_active(pod)]
        if not is_terminating(rs):
            self._manage(rs, pods)
        self._write_status(rs, pods, now)
        min_ready = int(rs["spec"].get("minReadySeconds") or 0)
        if min_ready:
            pending = [available_at(p, min_ready) for p in pods if is_pod_ready(p)]
            later = [m for m in pending if m is not None and m > now]
            return min(later) if later else None
        return None

    def _claim_pods(self, rs: Obj) -> list[Obj]:
        meta = rs["metadata"]
        selector = selector_of(rs["spec"].get("selector"))
        claimed = []
        for pod in self.ctx.cache.controlled_by("pods", meta["uid"]):
            if selector.matches(labels_of(pod)):
                claimed.append(pod)
            else:
                adopt_or_release(self.ctx.store, "pods", pod, None, meta["uid"])
        if not is_terminating(rs):
            for pod in self.ctx.cache.orphans("pods", meta["namespace"]):
                if selector.matches(labels_of(pod)) and not is_terminating(pod):
                    claimed.append(adopt_or_release(self.ctx.store, "pods", pod, rs, None))
        return claimed

    def _manage(self, rs: Obj, pods: list[Obj]) -> None:
        """``manageReplicas``."""
        diff = len(pods) - int(rs["spec"].get("replicas", 1))
        if diff < 0:
            for _ in range(min(-diff, BURST)):
                self._create_pod(rs)
        elif diff > 0:
            for pod in sorted(pods, key=_deletion_rank)[: min(diff, BURST)]:
                self._delete_pod(rs, pod)

    def _create_pod(self, rs: Obj) -> None:
        """``GetPodFromTemplate`` + create, with a name as ``generateName`` would make it."""
        meta = rs["metadata"]
        template = rs["spec"]["template"]
        template_meta = template.get("metadata") or {}
        pod: Obj = {
            "metadata": {
                "generateName": f"{meta['name']}-",
                "namespace": meta["namespace"],
                "labels": dict(template_meta.get("labels") or {}),
                "ownerReferences": [controller_ref(rs)],
            },
            "spec": copy.deepcopy(template.get("spec") or {}),
        }
        if template_meta.get("annotations"):
            pod["metadata"]["annotations"] = dict(template_meta["annotations"])
        if template_meta.get("finalizers"):
            pod["metadata"]["finalizers"] = list(template_meta["finalizers"])
        reset_status("pods", pod)
        for _ in range(20):
            pod["metadata"]["name"] = f"{meta['name']}-{random_suffix()}"
            try:
                created = self.ctx.store.create("pods", pod)
            except StoreError as error:
                if error.code == 409:
                    continue
                self.ctx.recorder.record(
                    rs,
                    "Warning",
                    "FailedCreate",
                    f"Error creating: {error.message}",
                    component=self.name,
                )
                raise
            self.ctx.recorder.record(
                rs,
                "Normal",
                "SuccessfulCreate",
                f"Created pod: {created['metadata']['name']}",
                component=self.name,
            )
            return

    def _delete_pod(self, rs: Obj, pod: Obj) -> None:
        with contextlib.suppress(StoreError):
            self.ctx.delete("pods", pod)
            self.ctx.recorder.record(
                rs,
                "Normal",
                "SuccessfulDelete",
                f"Deleted pod: {pod['metadata']['name']}",
                component=self.name,
            )

    def _write_status(self, rs: Obj, pods: list[Obj], now: datetime) -> None:
        """``calculateStatus``; written only when it changed."""
        spec, meta = rs["spec"], rs["metadata"]
        template_labels = (spec.get("template", {}).get("metadata") or {}).get("labels") or {}
        min_ready = int(spec.get("minReadySeconds") or 0)
        ready = [p for p in pods if is_pod_ready(p)]
        status: Obj = {
            "replicas": len(pods),
            "fullyLabeledReplicas": sum(
                1 for p in pods if all(labels_of(p).get(k) == v for k, v in template_labels.items())
            ),
            "readyReplicas": len(ready),
            "availableReplicas": sum(1 for p in ready if is_pod_available(p, min_ready, now)),
            "observedGeneration": meta.get("generation", 1),
        }
        for omitempty in ("fullyLabeledReplicas", "readyReplicas", "availableReplicas"):
            if not status[omitempty]:
                del status[omitempty]
        conditions = (rs.get("status") or {}).get("conditions")
        if conditions:
            status["conditions"] = conditions
        if status == rs.get("status"):
            return
        self.ctx.write_status("replicasets", rs, status)
