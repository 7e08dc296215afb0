"""The Deployment controller, after ``pkg/controller/deployment``.

A Deployment owns ReplicaSets named ``<deployment>-<pod-template-hash>``
(FNV-1a of the pod template, safe-encoded, as ``ComputeHash``); the hash is
also a label on the ReplicaSet, its selector and its pods. Revisions are the
``deployment.kubernetes.io/revision`` annotation on both. One sync follows
``syncDeployment``: paused and scaling events only resize; otherwise
``rolloutRolling`` (scale the new ReplicaSet up within ``maxSurge``, old ones
down within ``maxUnavailable``, both default 25%) or ``rolloutRecreate`` (old
pods gone first). ``syncRolloutStatus`` keeps the ``Available`` and
``Progressing`` conditions with the real reasons and messages, including
``ProgressDeadlineExceeded`` once ``progressDeadlineSeconds`` pass without
progress, and old ReplicaSets beyond ``revisionHistoryLimit`` are deleted.

Not emulated: proportional scaling of several active ReplicaSets during a
rollout (a scaling event mid-rollout resizes the newest one), rollbacks via
``spec.rollbackTo``, and the ``ReplicaFailure`` condition.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterable
from datetime import datetime, timedelta

from kube_test_cluster.clock import rfc3339
from kube_test_cluster.machinery.base import Controller
from kube_test_cluster.machinery.cache import Key, key_of
from kube_test_cluster.machinery.util import (
    canonical_json,
    controller_of,
    fnv32a,
    is_terminating,
    labels_of,
    parse_time,
    phase,
    safe_encode,
    scaled_value,
    selector_of,
)
from kube_test_cluster.registry.store import Change, Obj, StoreError, controller_ref

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"


def template_hash(template: Obj, collision_count: int | None) -> str:
    """``ComputeHash``: FNV-1a of the pod template (plus the collision count), safe-encoded."""
    data = canonical_json(template)
    if collision_count is not None:
        data += collision_count.to_bytes(8, "little")
    return safe_encode(str(fnv32a(data)))


def _revision(rs: Obj) -> int:
    value = (rs["metadata"].get("annotations") or {}).get(REVISION, "0")
    try:
        return int(value)
    except ValueError:
        return 0


def _without_hash(template: Obj) -> Obj:
    clean = copy.deepcopy(template)
    (clean.get("metadata") or {}).get("labels", {}).pop(HASH_LABEL, None)
    return clean


def _replicas(rs: Obj) -> int:
    return int(rs["spec"].get("replicas", 1))


def _status(rs: Obj, field: str) -> int:
    return int((rs.get("status") or {}).get(field) or 0)


class DeploymentController(Controller):
    name = "deployment-controller"

    def watch(self, change: Change, writer: str | None) -> Iterable[Key]:
        if change.resource == "deployments":
            if writer == self.name and change.type == "MODIFIED":
                return ()
            return (key_of("deployments", change.obj),)
        keys = set()
        if change.resource == "replicasets":
            for obj in (change.obj, change.old):
                ref = controller_of(obj) if obj is not None else None
                if ref is not None and ref.get("kind") == "Deployment":
                    keys.add(("deployments", change.obj["metadata"]["namespace"], ref["name"]))
        elif change.resource == "pods" and change.type == "DELETED":
            ref = controller_of(change.obj)
            if ref is not None and ref.get("kind") == "ReplicaSet":
                namespace = change.obj["metadata"]["namespace"]
                rs = self.ctx.cache.get(("replicasets", namespace, ref["name"]))
                owner = controller_of(rs) if rs is not None else None
                if owner is not None and owner.get("kind") == "Deployment":
                    keys.add(("deployments", namespace, owner["name"]))
        return keys

    # -- sync ------------------------------------------------------------------------------
    def sync(self, key: Key, now: datetime) -> datetime | None:
        deployment = self.ctx.cache.get(key)
        if deployment is None:
            return None
        d = copy.deepcopy(deployment)
        d.setdefault("status", {})
        rs_list = self._claim_replicasets(d)
        if is_terminating(d):
            new, old = self._split(d, rs_list)
            self._write_status(deployment, d, self._calculate_status(d, new, old, now))
            return None
        self._paused_conditions(d, now)
        if d["spec"].get("paused") or self._scaling_event(d, rs_list):
            self._sync_scale(deployment, d, rs_list, now)
            return None
        if (d["spec"].get("strategy") or {}).get("type") == "Recreate":
            return self._recreate(deployment, d, rs_list, now)
        return self._rolling(deployment, d, rs_list, now)

    def _claim_replicasets(self, d: Obj) -> list[Obj]:
        meta = d["metadata"]
        selector = selector_of(d["spec"].get("selector"))
        claimed = []
        for rs in self.ctx.cache.controlled_by("replicasets", meta["uid"]):
            claimed.append(rs)
        if not is_terminating(d):
            for rs in self.ctx.cache.orphans("replicasets", meta["namespace"]):
                if selector.matches(labels_of(rs)) and not is_terminating(rs):

                    def adopt(o: Obj) -> None:
                        o["metadata"].setdefault("ownerReferences", []).append(controller_ref(d))

                    claimed.append(
                        self.ctx.store.update(
                            "replicasets", meta["namespace"], rs["metadata"]["name"], adopt
                        )
                    )
        return claimed

    def _split(self, d: Obj, rs_list: list[Obj]) -> tuple[Obj | None, list[Obj]]:
        """``FindNewReplicaSet`` (oldest with an equal template) and the rest."""
        wanted = _without_hash(d["spec"]["template"])
        ordered = sorted(
            rs_list,
            key=lambda r: (r["metadata"].get("creationTimestamp", ""), r["metadata"]["name"]),
        )
        new = next((rs for rs in ordered if _without_hash(rs["spec"]["template"]) == wanted), None)
        return new, [rs for rs in ordered if rs is not new]

    def _max_surge(self, d: Obj) -> int:
        rolling = (d["spec"].get("strategy") or {}).get("rollingUpdate") or {}
        desired = int(d["spec"].get("replicas", 1))
        surge = scaled_value(rolling.get("maxSurge"), desired, round_up=True)
        unavailable = scaled_value(rolling.get("maxUnavailable"), desired, round_up=False)
        return surge if (surge or unavailable) else 0

    def _max_unavailable(self, d: Obj) -> int:
        """``MaxUnavailable``: 0 for Recreate or no replicas; never both fenceposts 0."""
        strategy = d["spec"].get("strategy") or {}
        desired = int(d["spec"].get("replicas", 1))
        if strategy.get("type") == "Recreate" or desired == 0:
            return 0
        rolling = strategy.get("rollingUpdate") or {}
        surge = scaled_value(rolling.get("maxSurge"), desired, round_up=True)
        unavailable = scaled_value(rolling.get("maxUnavailable"), desired, round_up=False)
        if surge == 0 and unavailable == 0:
            unavailable = 1
        return min(unavailable, desired)

    def _sync_revision(
        self, d: Obj, rs_list: list[Obj], create: bool, now: datetime
    ) -> tuple[Obj | None, list[Obj]]:
        """``getAllReplicaSetsAndSyncRevision``: find (or create) the new ReplicaSet."""
        new, old = self._split(d, rs_list)
        revision = str(max((_revision(rs) for rs in old), default=0) + 1)
        if new is not None:
            annotations = new["metadata"].get("annotations") or {}
            wanted = self._rs_annotations(d, annotations, revision)
            min_ready = d["spec"].get("minReadySeconds", 0)
            if wanted != annotations or new["spec"].get("minReadySeconds", 0) != min_ready:

                def annotate(o: Obj) -> None:
                    o["metadata"]["annotations"] = wanted
                    o["spec"]["minReadySeconds"] = min_ready

                meta = new["metadata"]
                new = self.ctx.store.update(
                    "replicasets", meta["namespace"], meta["name"], annotate
                )
            self._set_revision(d, (new["metadata"].get("annotations") or {}).get(REVISION, ""))
            if self._progressing(d) is None and self._has_deadline(d):
                self._set_condition(
                    d,
                    "Progressing",
                    "True",
                    "FoundNewReplicaSet",
                    f'Found new replica set "{new["metadata"]["name"]}"',
                    now=now,
                )
            return new, old
        if not create:
            return None, old
        return self._create_replicaset(d, old, revision, now), old

    def _rs_annotations(self, d: Obj, current: dict[str, str], revision: str) -> dict[str, str]:
        """``SetNewReplicaSetAnnotations`` (revision only moves forward)."""
        annotations = dict(current)
        for k, v in (d["metadata"].get("annotations") or {}).items():
            if k != REVISION and not k.startswith("kubectl.kubernetes.io/"):
                annotations[k] = v
        if int(annotations.get(REVISION, "0") or 0) < int(revision):
            annotations[REVISION] = revision
        desired = int(d["spec"].get("replicas", 1))
        annotations[DESIRED] = str(desired)
        annotations[MAX_REPLICAS] = str(desired + self._max_surge(d))
        return annotations

    def _create_replicaset(self, d: Obj, old: list[Obj], revision: str, now: datetime) -> Obj:
        meta, spec = d["metadata"], d["spec"]
        collisions = d["status"].get("collisionCount")
        while True:
            pod_hash = template_hash(spec["template"], collisions)
            template = copy.deepcopy(spec["template"])
            template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pod_hash
            selector = copy.deepcopy(spec["selector"])
            selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
            rs: Obj = {
                "metadata": {
                    "name": f"{meta['name']}-{pod_hash}",
                    "namespace": meta["namespace"],
                    "labels": dict(template["metadata"]["labels"]),
                    "annotations": self._rs_annotations(d, {}, revision),
                    "ownerReferences": [controller_ref(d)],
                },
                "spec": {
                    "replicas": 0,
                    "minReadySeconds": spec.get("minReadySeconds", 0),
                    "selector": selector,
                    "template": template,
                },
            }
            rs["spec"]["replicas"] = self._new_replicas(d, [*old, rs], rs)
            try:
                created = self.ctx.store.create("replicasets", rs)
            except StoreError as error:
                if error.code != 409:
                    raise
                existing = self.ctx.store.get(
                    "replicasets", meta["namespace"], rs["metadata"]["name"]
                )
                if existing is not None and _without_hash(existing["spec"]["template"]) == (
                    _without_hash(spec["template"])
                ):
                    return existing
                collisions = (collisions or 0) + 1
                d["status"]["collisionCount"] = collisions
                continue
            break
        count = created["spec"]["replicas"]
        if count > 0:
            self._event(d, f"Scaled up replica set {created['metadata']['name']} from 0 to {count}")
        self._set_revision(d, revision)
        if self._has_deadline(d):
            self._set_condition(
                d,
                "Progressing",
                "True",
                "NewReplicaSetCreated",
                f'Created new replica set "{created["metadata"]["name"]}"',
                now=now,
            )
        return created

    def _new_replicas(self, d: Obj, all_rs: list[Obj], new: Obj) -> int:
        """``NewRSNewReplicas``: how far the new ReplicaSet may grow now."""
        desired = int(d["spec"].get("replicas", 1))
        if (d["spec"].get("strategy") or {}).get("type") == "Recreate":
            return desired
        current = sum(_replicas(rs) for rs in all_rs)
        allowed = desired + self._max_surge(d)
        if current >= allowed:
            return _replicas(new)
        return _replicas(new) + min(allowed - current, desired - _replicas(new))

    def _scale(self, d: Obj, rs: Obj, count: int) -> Obj:
        """``scaleReplicaSetAndRecordEvent`` (also stamps the desired/max annotations)."""
        before = _replicas(rs)
        annotations = dict(rs["metadata"].get("annotations") or {})
        desired = int(d["spec"].get("replicas", 1))
        wanted = {
            **annotations,
            DESIRED: str(desired),
            MAX_REPLICAS: str(desired + self._max_surge(d)),
        }
        if before == count and wanted == annotations:
            return rs

        def scale(o: Obj) -> None:
            o["spec"]["replicas"] = count
            o["metadata"]["annotations"] = wanted

        meta = rs["metadata"]
        scaled = self.ctx.store.update("replicasets", meta["namespace"], meta["name"], scale)
        if before != count:
            direction = "up" if count > before else "down"
            self._event(
                d, f"Scaled {direction} replica set {meta['name']} from {before} to {count}"
            )
        return scaled

    def _event(self, d: Obj, message: str) -> None:
        self.ctx.recorder.record(d, "Normal", "ScalingReplicaSet", message, component=self.name)

    # -- strategies ------------------------------------------------------------------------
    def _rolling(self, original: Obj, d: Obj, rs_list: list[Obj], now: datetime) -> datetime | None:
        new, old = self._sync_revision(d, rs_list, True, now)
        assert new is not None
        all_rs = [*old, new]
        desired = int(d["spec"].get("replicas", 1))
        # reconcileNewReplicaSet
        if _replicas(new) != desired:
            count = desired if _replicas(new) > desired else self._new_replicas(d, all_rs, new)
            if count != _replicas(new):
                new = self._scale(d, new, count)
                return self._rollout_status(original, d, new, old, now)
        # reconcileOldReplicaSets
        if self._scale_down_old(d, new, old):
            return self._rollout_status(original, d, new, self._split(d, self._claim(d))[1], now)
        if self._complete(d, self._calculate_status(d, new, old, now)):
            self._cleanup(d, old)
        return self._rollout_status(original, d, new, old, now)

    def _claim(self, d: Obj) -> list[Obj]:
        return list(self.ctx.cache.controlled_by("replicasets", d["metadata"]["uid"]))

    def _scale_down_old(self, d: Obj, new: Obj, old: list[Obj]) -> bool:
        old_count = sum(_replicas(rs) for rs in old)
        if old_count == 0:
            return False
        all_count = old_count + _replicas(new)
        min_available = int(d["spec"].get("replicas", 1)) - self._max_unavailable(d)
        new_unavailable = _replicas(new) - _status(new, "availableReplicas")
        budget = all_count - min_available - new_unavailable
        if budget <= 0:
            return False
        scaled = 0
        by_age = sorted(old, key=lambda r: r["metadata"].get("creationTimestamp", ""))
        # cleanupUnhealthyReplicas: unavailable old pods go first
        for i, rs in enumerate(by_age):
            if scaled >= budget:
                break
            unhealthy = _replicas(rs) - _status(rs, "availableReplicas")
            if _replicas(rs) == 0 or unhealthy <= 0:
                continue
            cut = min(budget - scaled, unhealthy)
            by_age[i] = self._scale(d, rs, _replicas(rs) - cut)
            scaled += cut
        # scaleDownOldReplicaSetsForRollingUpdate
        available = sum(_status(rs, "availableReplicas") for rs in [*by_age, new])
        allowed = available - min_available
        if allowed > 0:
            done = 0
            for rs in by_age:
                if done >= allowed:
                    break
                if _replicas(rs) == 0:
                    continue
                cut = min(_replicas(rs), allowed - done)
                self._scale(d, rs, _replicas(rs) - cut)
                done += cut
            scaled += done
        return scaled > 0

    def _recreate(
        self, original: Obj, d: Obj, rs_list: list[Obj], now: datetime
    ) -> datetime | None:
        new, old = self._sync_revision(d, rs_list, False, now)
        active_old = [rs for rs in old if _replicas(rs) > 0]
        scaled = False
        for rs in active_old:
            self._scale(d, rs, 0)
            scaled = True
        if scaled:
            return self._rollout_status(original, d, new, old, now)
        if self._old_pods_running(new, old):
            return self._rollout_status(original, d, new, old, now)
        if new is None:
            new, old = self._sync_revision(d, rs_list, True, now)
        assert new is not None
        desired = int(d["spec"].get("replicas", 1))
        if _replicas(new) != desired:
            new = self._scale(d, new, desired)
        if self._complete(d, self._calculate_status(d, new, old, now)):
            self._cleanup(d, old)
        return self._rollout_status(original, d, new, old, now)

    def _old_pods_running(self, new: Obj | None, old: list[Obj]) -> bool:
        if sum(_status(rs, "replicas") for rs in old) > 0:
            return True
        for rs in old:
            for pod in self.ctx.cache.controlled_by("pods", rs["metadata"]["uid"]):
                if phase(pod) not in ("Failed", "Succeeded"):
                    return True
        return False

    def _scaling_event(self, d: Obj, rs_list: list[Obj]) -> bool:
        new, old = self._split(d, rs_list)
        desired = str(d["spec"].get("replicas", 1))
        for rs in [r for r in [*old, new] if r is not None and _replicas(r) > 0]:
            annotation = (rs["metadata"].get("annotations") or {}).get(DESIRED)
            if annotation is not None and annotation != desired:
                return True
        return False

    def _sync_scale(self, original: Obj, d: Obj, rs_list: list[Obj], now: datetime) -> None:
        """``sync``: a paused Deployment or a scaling event only resizes."""
        new, old = self._sync_revision(d, rs_list, False, now)
        desired = int(d["spec"].get("replicas", 1))
        active = [rs for rs in [*old, new] if rs is not None and _replicas(rs) > 0]
        target: Obj | None = None
        if len(active) == 1:
            target = active[0]
        elif not active:
            target = new or (max(old, key=_revision) if old else None)
        elif new is not None:  # not emulated: proportional scaling; resize the newest
            target = new
        if target is not None:
            self._scale(d, target, desired)
        if d["spec"].get("paused"):
            self._cleanup(d, old)
        self._write_status(original, d, self._calculate_status(d, new, old, now))

    # -- status ----------------------------------------------------------------------------
    def _calculate_status(self, d: Obj, new: Obj | None, old: list[Obj], now: datetime) -> Obj:
        all_rs = [rs for rs in [*old, new] if rs is not None]
        desired = int(d["spec"].get("replicas", 1))
        available = sum(_status(rs, "availableReplicas") for rs in all_rs)
        total = sum(_replicas(rs) for rs in all_rs)
        status: Obj = {
            "observedGeneration": d["metadata"].get("generation", 1),
            "replicas": sum(_status(rs, "replicas") for rs in all_rs),
            "updatedReplicas": _status(new, "replicas") if new is not None else 0,
            "readyReplicas": sum(_status(rs, "readyReplicas") for rs in all_rs),
            "availableReplicas": available,
            "unavailableReplicas": max(total - available, 0),
            "conditions": copy.deepcopy(d["status"].get("conditions") or []),
        }
        if d["status"].get("collisionCount") is not None:
            status["collisionCount"] = d["status"]["collisionCount"]
        holder = {"status": status}
        if available >= desired - self._max_unavailable(d):
            self._set_condition(
                holder,
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                now=now,
            )
        else:
            self._set_condition(
                holder,
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                now=now,
            )
        return status

    def _complete(self, d: Obj, status: Obj) -> bool:
        desired = int(d["spec"].get("replicas", 1))
        return bool(
            status["updatedReplicas"] == desired
            and status["replicas"] == desired
            and status["availableReplicas"] == desired
            and status["observedGeneration"] >= d["metadata"].get("generation", 1)
        )

    def _rollout_status(
        self, original: Obj, d: Obj, new: Obj | None, old: list[Obj], now: datetime
    ) -> datetime | None:
        """``syncRolloutStatus``: progress, completion or the deadline."""
        status = self._calculate_status(d, new, old, now)
        holder = {"status": status}
        if not self._has_deadline(d):
            status["conditions"] = [c for c in status["conditions"] if c["type"] != "Progressing"]
        current = self._progressing(d)
        complete_before = (
            status["replicas"] == status["updatedReplicas"]
            and current is not None
            and current.get("reason") == "NewReplicaSetAvailable"
        )
        wake = None
        if self._has_deadline(d) and not complete_before:
            name = new["metadata"]["name"] if new is not None else None
            if self._complete(d, status):
                message = (
                    f'ReplicaSet "{name}" has successfully progressed.'
                    if name
                    else f'Deployment "{d["metadata"]["name"]}" has successfully progressed.'
                )
                self._set_condition(
                    holder, "Progressing", "True", "NewReplicaSetAvailable", message, now=now
                )
            elif self._made_progress(d["status"], status):
                message = (
                    f'ReplicaSet "{name}" is progressing.'
                    if name
                    else f'Deployment "{d["metadata"]["name"]}" is progressing.'
                )
                previous = self._progressing(holder)
                since = None
                if previous is not None and previous.get("status") == "True":
                    since = previous.get("lastTransitionTime")
                status["conditions"] = [
                    c for c in status["conditions"] if c["type"] != "Progressing"
                ]
                condition = self._condition(
                    "Progressing", "True", "ReplicaSetUpdated", message, now
                )
                if since:
                    condition["lastTransitionTime"] = since
                status["conditions"].append(condition)
            elif self._timed_out(d, status, now):
                message = (
                    f'ReplicaSet "{name}" has timed out progressing.'
                    if name
                    else f'Deployment "{d["metadata"]["name"]}" has timed out progressing.'
                )
                self._set_condition(
                    holder, "Progressing", "False", "ProgressDeadlineExceeded", message, now=now
                )
            wake = self._deadline(d, status)
        self._write_status(original, d, status)
        return wake

    def _made_progress(self, old: Obj, new: Obj) -> bool:
        """``DeploymentProgressing``."""
        old_left = int(old.get("replicas") or 0) - int(old.get("updatedReplicas") or 0)
        new_left = new["replicas"] - new["updatedReplicas"]
        return bool(
            new["updatedReplicas"] > int(old.get("updatedReplicas") or 0)
            or new_left < old_left
            or new["readyReplicas"] > int(old.get("readyReplicas") or 0)
            or new["availableReplicas"] > int(old.get("availableReplicas") or 0)
        )

    def _timed_out(self, d: Obj, status: Obj, now: datetime) -> bool:
        condition = self._progressing({"status": status})
        if condition is None or condition.get("reason") == "NewReplicaSetAvailable":
            return False
        if condition.get("reason") == "ProgressDeadlineExceeded":
            return True
        since = parse_time(condition.get("lastUpdateTime"))
        deadline = int(d["spec"].get("progressDeadlineSeconds", 600))
        return since is not None and since + timedelta(seconds=deadline) < now

    def _deadline(self, d: Obj, status: Obj) -> datetime | None:
        """``requeueStuckDeployment``: look again when the progress deadline passes."""
        condition = self._progressing({"status": status})
        if condition is None or condition.get("reason") in (
            "NewReplicaSetAvailable",
            "ProgressDeadlineExceeded",
        ):
            return None
        since = parse_time(condition.get("lastUpdateTime"))
        if since is None:
            return None
        deadline = int(d["spec"].get("progressDeadlineSeconds", 600))
        return since + timedelta(seconds=deadline + 1)

    def _has_deadline(self, d: Obj) -> bool:
        return d["spec"].get("progressDeadlineSeconds") not in (None, 2147483647)

    def _progressing(self, obj: Obj) -> Obj | None:
        for condition in (obj.get("status") or {}).get("conditions") or []:
            if condition.get("type") == "Progressing":
                return dict(condition)
        return None

    def _condition(self, kind: str, status: str, reason: str, message: str, now: datetime) -> Obj:
        stamp = rfc3339(now)
        return {
            "type": kind,
            "status": status,
            "lastUpdateTime": stamp,
            "lastTransitionTime": stamp,
            "reason": reason,
            "message": message,
        }

    def _set_condition(
        self, holder: Obj, kind: str, status: str, reason: str, message: str, *, now: datetime
    ) -> None:
        """``SetDeploymentCondition``: same status and reason is a no-op."""
        conditions = holder["status"].setdefault("conditions", [])
        current = next((c for c in conditions if c["type"] == kind), None)
        if current is not None and current["status"] == status and current.get("reason") == reason:
            return
        condition = self._condition(kind, status, reason, message, now)
        if current is not None and current["status"] == status:
            condition["lastTransitionTime"] = current["lastTransitionTime"]
        holder["status"]["conditions"] = [c for c in conditions if c["type"] != kind] + [condition]

    def _paused_conditions(self, d: Obj, now: datetime) -> None:
        """``checkPausedConditions``: Progressing Unknown while paused (no deadline runs)."""
        if not self._has_deadline(d):
            return
        current = self._progressing(d)
        if current is not None and current.get("reason") == "ProgressDeadlineExceeded":
            return
        paused_shown = current is not None and current.get("reason") == "DeploymentPaused"
        if d["spec"].get("paused") and not paused_shown:
            self._set_condition(
                d, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", now=now
            )
        elif not d["spec"].get("paused") and paused_shown:
            self._set_condition(
                d, "Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed", now=now
            )

    def _set_revision(self, d: Obj, revision: str) -> None:
        annotations = d["metadata"].setdefault("annotations", {})
        if revision and annotations.get(REVISION) != revision:
            annotations[REVISION] = revision

    def _write_status(self, original: Obj, d: Obj, status: Obj) -> None:
        """One write of what changed: the revision annotation and the status (omitempty)."""
        body = {k: v for k, v in status.items() if v or k == "conditions"}
        if not body.get("conditions"):
            body.pop("conditions", None)
        annotation = (d["metadata"].get("annotations") or {}).get(REVISION)
        known = (original["metadata"].get("annotations") or {}).get(REVISION)
        if body == original.get("status") and annotation == known:
            return

        def write(o: Obj) -> None:
            o["status"] = body
            if annotation is not None:
                o["metadata"].setdefault("annotations", {})[REVISION] = annotation

        meta = original["metadata"]
        self.ctx.store.update("deployments", meta["namespace"], meta["name"], write)

    def _cleanup(self, d: Obj, old: list[Obj]) -> None:
        """``cleanupDeployment``: delete the oldest empty ReplicaSets beyond the history limit."""
        limit = d["spec"].get("revisionHistoryLimit")
        if limit is None:
            return
        cleanable = sorted(
            [rs for rs in old if not is_terminating(rs)],
            key=lambda r: (_revision(r), r["metadata"].get("creationTimestamp", "")),
        )
        for rs in cleanable[: max(len(cleanable) - int(limit), 0)]:
            if (
                _status(rs, "replicas") != 0
                or _replicas(rs) != 0
                or rs["metadata"].get("generation", 1) > _status(rs, "observedGeneration")
            ):
                continue
            with contextlib.suppress(StoreError):
                self.ctx.delete("replicasets", rs)
