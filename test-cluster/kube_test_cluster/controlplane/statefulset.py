"""The StatefulSet controller, after ``pkg/controller/statefulset/stateful_set_control.go``.

One sync follows ``updateStatefulSet`` step by step: revisions first (a
ControllerRevision ``<name>-<hash>`` per distinct pod template, the hash an FNV
of the template patch, as ``HashControllerRevision``), then every ordinal in
order (``processReplica``: recreate failed pods, create missing ones, and under
``OrderedReady`` stop at the first pod that is not Running, Ready and
available), then condemned pods from the highest ordinal (``processCondemned``),
then the rolling update from the highest ordinal down to the partition, one
pod at a time. Status fields and their JSON omissions are the real ones, and
``currentRevision`` moves to ``updateRevision`` only once every pod is updated
and Ready (``completeRollingUpdate``).

Work per sync is bounded by the pods that exist, not by ``spec.replicas``: the
replicas still to create are built only when created (the real controller builds
all of them every sync, cheap in Go, 1.8 GB of dicts here for a million), and under
``Parallel`` at most :data:`BURST` are created per sync, the set being synced again
for the rest (the real one creates them all in slow-start batches), so the API
stays responsive while a huge set comes up.

The real controller's quirks are kept on purpose, notably kubernetes#67250:
under ``OrderedReady`` a pod that is not Ready blocks everything after it, so a
broken pod at an old revision is never replaced and a fixed template never
rolls out until someone deletes that pod.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from kube_test_cluster.machinery.base import Context, Controller
from kube_test_cluster.machinery.cache import Key
from kube_test_cluster.machinery.util import (
    adopt_or_release,
    available_at,
    canonical_json,
    fnv32,
    is_pod_available,
    is_running_and_ready,
    is_terminating,
    labels_of,
    new_controller_revision,
    phase,
    safe_encode,
    scaled_value,
    selector_of,
)
from kube_test_cluster.registry.selectors import LabelSelector
from kube_test_cluster.registry.store import (
    Change,
    Obj,
    StoreError,
    clone,
    controller_ref,
)
from kube_test_cluster.registry.validation import reset_status

REVISION_LABEL = "controller-revision-hash"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
HASH_LABEL = "controller.kubernetes.io/hash"

_STATEFUL_POD = re.compile(r"^(.*)-([0-9]+)$")

#: at most this many pod creations per sync under ``Parallel`` (then the set is synced again)
BURST = 500


def parent_and_ordinal(name: str) -> tuple[str, int]:
    """``getParentNameAndOrdinal``: ``web-2`` -> (``web``, 2); (``""``, -1) otherwise."""
    match = _STATEFUL_POD.match(name)
    if match is None:
        return "", -1
    return match.group(1), int(match.group(2))


def ordinal(pod: Obj) -> int:
    return parent_and_ordinal(pod["metadata"]["name"])[1]


def revision_of(pod: Obj) -> str:
    return labels_of(pod).get(REVISION_LABEL, "")


def is_created(pod: Obj) -> bool:
    """``isCreated``: the apiserver gave it a phase (a pod we only built has none)."""
    return bool(phase(pod))


def is_healthy(pod: Obj) -> bool:
    return is_running_and_ready(pod) and not is_terminating(pod)


def revision_data(sts: Obj) -> Obj:
    """``getPatch``: the strategic merge patch that restores this pod template."""
    template = clone(sts["spec"]["template"])
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def revision_hash(data: Obj, collision_count: int) -> str:
    """``HashControllerRevision``: FNV-1 of the patch and the collision count, safe-encoded."""
    return safe_encode(str(fnv32(canonical_json(data) + str(collision_count).encode())))


def template_of(revision: Obj) -> Obj:
    """``ApplyRevision``: the pod template a revision holds."""
    template: Obj = clone(revision["data"]["spec"]["template"])
    template.pop("$patch", None)
    return template


def _indices(existing: dict[int, Obj], count: int, budget: int) -> Iterator[int]:
    """Replica indices in ascending order: every existing one, and the missing ones
    while ``budget`` lasts. Costs O(existing + budget), whatever ``count`` is."""
    present = sorted(existing)
    position, index = 0, 0
    while index < count:
        if position < len(present) and present[position] == index:
            yield index
            position += 1
            index += 1
        elif budget > 0:
            yield index
            budget -= 1
            index += 1
        elif position < len(present):
            index = present[position]  # skip the gap: nothing more to create this sync
        else:
            return


class StatefulSetController(Controller):
    name = "statefulset-controller"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        #: set by a sync that left replicas to create for the next burst
        self._more = False

    # -- wiring --------------------------------------------------------------------------
    def watch(self, change: Change, writer: str | None) -> Iterable[Key]:
        def orphan(obj: Obj, namespace: str) -> Iterable[Key]:  # a pod maybe ours to adopt
            if change.resource != "pods":
                return ()
            parent, _ = parent_and_ordinal(obj["metadata"]["name"])
            if parent and self.ctx.cache.get(("statefulsets", namespace, parent)):
                return (("statefulsets", namespace, parent),)
            return ()

        owner = ("statefulsets", "StatefulSet")
        return self.owner_keys(change, writer, owner, ("pods", "controllerrevisions"), orphan)

    def sync(self, key: Key, now: datetime) -> datetime | None:
        sts = self.ctx.cache.get(key)
        if sts is None:
            return None
        selector = selector_of(sts["spec"].get("selector"))
        pods = self._claim_pods(sts, selector)
        if is_terminating(sts):
            # Deliberately short of the real sync: it would recreate the revisions the garbage
            # collector deletes and race it until the pods are gone; here status only.
            self._write_status(sts, self._terminating_status(sts, pods, now))
            return None
        revisions = self._claim_revisions(sts, selector)
        current, update, collisions = self._revisions(sts, revisions)
        self._more = False
        status = self._update(sts, pods, (current, update), collisions, now)
        self._write_status(sts, status)
        if status["currentRevision"] == update["metadata"]["name"]:
            # the rollout just completed: the real controller's own status write requeues
            # the set and the next sync truncates with this current revision; do it now
            current = update
        self._truncate_history(sts, pods, revisions, current, update)
        if self._more:
            return now  # the next burst, once everything else queued had its turn
        return self._requeue(sts, pods, status, now)

    # -- claiming (ControllerRefManager) ---------------------------------------------------
    def _claim_pods(self, sts: Obj, selector: LabelSelector) -> list[Obj]:
        meta = sts["metadata"]
        claimed = []
        for pod in self.ctx.cache.controlled_by("pods", meta["uid"]):
            if selector.matches(labels_of(pod)) and self._member(sts, pod):
                claimed.append(pod)
            else:
                adopt_or_release(self.ctx.store, "pods", pod, None, meta["uid"])
        if not is_terminating(sts):
            for pod in self.ctx.cache.orphans("pods", meta["namespace"]):
                if (
                    selector.matches(labels_of(pod))
                    and self._member(sts, pod)
                    and not is_terminating(pod)
                ):
                    claimed.append(adopt_or_release(self.ctx.store, "pods", pod, sts, None))
        return claimed

    def _member(self, sts: Obj, pod: Obj) -> bool:
        return bool(parent_and_ordinal(pod["metadata"]["name"])[0] == sts["metadata"]["name"])

    def _claim_revisions(self, sts: Obj, selector: LabelSelector) -> list[Obj]:
        meta = sts["metadata"]
        revisions = list(self.ctx.cache.controlled_by("controllerrevisions", meta["uid"]))
        if not is_terminating(sts):
            for revision in self.ctx.cache.orphans("controllerrevisions", meta["namespace"]):
                if selector.matches(labels_of(revision)):
                    revisions.append(
                        adopt_or_release(self.ctx.store, "controllerrevisions", revision, sts, None)
                    )
        revisions.sort(key=lambda r: (r.get("revision", 0), r["metadata"]["name"]))
        return revisions

    # -- revisions (getStatefulSetRevisions) -----------------------------------------------
    def _revisions(self, sts: Obj, revisions: list[Obj]) -> tuple[Obj, Obj, int]:
        status = sts.get("status") or {}
        collisions = int(status.get("collisionCount") or 0)
        data = revision_data(sts)
        number = (revisions[-1].get("revision", 0) + 1) if revisions else 1
        equal = [r for r in revisions if r.get("data") == data]
        if equal and equal[-1] is revisions[-1]:
            update = revisions[-1]
        elif equal:  # a rollback: the old revision becomes the newest again
            meta = equal[-1]["metadata"]
            update = self.ctx.store.update(
                "controllerrevisions",
                meta["namespace"],
                meta["name"],
                lambda r: r.update(revision=number),
            )
        else:
            update, collisions = self._create_revision(sts, data, number, collisions)
        current = next(
            (r for r in revisions if r["metadata"]["name"] == status.get("currentRevision")),
            update,
        )
        return current, update, collisions

    def _create_revision(
        self, sts: Obj, data: Obj, number: int, collisions: int
    ) -> tuple[Obj, int]:
        """``CreateControllerRevision``: a name taken by other data bumps the collision count."""
        meta = sts["metadata"]
        labels = dict(sts["spec"]["template"].get("metadata", {}).get("labels") or {})
        first_hash = revision_hash(data, collisions)
        labels[HASH_LABEL] = first_hash
        while True:
            name = f"{meta['name'][:223]}-{revision_hash(data, collisions)}"
            revision = new_controller_revision(sts, name, labels, data, number)
            try:
                created = self.ctx.store.create("controllerrevisions", revision)
            except StoreError as error:
                if error.code != 409:
                    raise
                existing = self.ctx.store.get("controllerrevisions", meta["namespace"], name)
                if existing is not None and existing.get("data") == data:
                    return existing, collisions
                collisions += 1
                continue
            return created, collisions

    def _terminating_status(self, sts: Obj, pods: list[Obj], now: datetime) -> Obj:
        old = sts.get("status") or {}
        status: Obj = {
            "observedGeneration": sts["metadata"].get("generation", 1),
            "currentRevision": old.get("currentRevision", ""),
            "updateRevision": old.get("updateRevision", ""),
            "collisionCount": int(old.get("collisionCount") or 0),
        }
        min_ready = int(sts["spec"].get("minReadySeconds") or 0)
        return self._counts(status, min_ready, now, pods)

    # -- the update (updateStatefulSet) ------------------------------------------------------
    def _update(
        self,
        sts: Obj,
        pods: list[Obj],
        revisions: tuple[Obj, Obj],
        collisions: int,
        now: datetime,
    ) -> Obj:
        current, update = revisions
        spec, meta = sts["spec"], sts["metadata"]
        min_ready = int(spec.get("minReadySeconds") or 0)
        status: Obj = {
            "observedGeneration": meta.get("generation", 1),
            "currentRevision": current["metadata"]["name"],
            "updateRevision": update["metadata"]["name"],
            "collisionCount": collisions,
        }
        count = int(spec.get("replicas", 1))
        start = int((spec.get("ordinals") or {}).get("start") or 0)
        # the replicas that exist, by index; a missing one is built only when needed
        slots: dict[int, Obj] = {}
        condemned: list[Obj] = []
        for pod in pods:
            number = ordinal(pod)
            if start <= number < start + count:
                slots[number - start] = pod
            elif number >= 0:
                condemned.append(pod)

        def slot(index: int) -> Obj:
            pod = slots.get(index)
            return pod if pod is not None else self._new_pod(sts, current, update, start + index)

        condemned.sort(key=ordinal, reverse=True)
        first_unavailable = self._first_unavailable(slots, count, condemned, min_ready, now)

        def counted() -> Obj:  # a replica not created yet counts for nothing
            return self._counts(status, min_ready, now, list(slots.values()), condemned)

        monotonic = spec.get("podManagementPolicy", "OrderedReady") != "Parallel"
        budget = 1 if monotonic else BURST
        for index in _indices(slots, count, budget):
            if index not in slots:
                budget -= 1
            stop = self._process_replica(sts, slots, slot, index, monotonic=monotonic, now=now)
            if stop and monotonic:
                return counted()
        if not monotonic and len(slots) < count and budget <= 0:
            self._more = True
        for index in range(len(condemned)):
            stop = self._process_condemned(sts, first_unavailable, monotonic, condemned[index], now)
            if stop and monotonic:
                return counted()
        status = counted()
        strategy = spec.get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") == "OnDelete":
            return status
        rolling = strategy.get("rollingUpdate")
        partition = int((rolling or {}).get("partition") or 0)
        if rolling is not None and rolling.get("maxUnavailable") is not None:
            return self._update_with_max_unavailable(
                sts, slots, slot=slot, count=count, update=update, status=status, now=now
            )
        for target in range(count - 1, partition - 1, -1):
            pod = slot(target)  # a missing replica ends the loop below: built once at most
            if revision_of(pod) != update["metadata"]["name"] and not is_terminating(pod):
                self._delete_pod(sts, pod)
                status["currentReplicas"] = status.get("currentReplicas", 0) - 1
                return status
            if self._unavailable(pod, min_ready, now):
                return status
        return status

    def _update_with_max_unavailable(
        self,
        sts: Obj,
        slots: dict[int, Obj],
        *,
        slot: Callable[[int], Obj],
        count: int,
        update: Obj,
        status: Obj,
        now: datetime,
    ) -> Obj:
        """``updateStatefulSetAfterInvariantEstablished`` (the MaxUnavailableStatefulSet gate)."""
        spec = sts["spec"]
        rolling = spec["updateStrategy"]["rollingUpdate"]
        min_ready = int(spec.get("minReadySeconds") or 0)
        allowed = max(
            scaled_value(rolling.get("maxUnavailable"), count, round_up=False, default=1), 1
        )
        missing = count - len(slots)  # a replica not created yet is unavailable
        unavailable = missing + sum(
            1 for pod in slots.values() if self._unavailable(pod, min_ready, now)
        )
        budget = allowed - unavailable
        partition = int(rolling.get("partition") or 0)
        for target in range(count - 1, partition - 1, -1):
            if budget <= 0:
                break
            pod = slot(target)
            if revision_of(pod) != update["metadata"]["name"] and not is_terminating(pod):
                self._delete_pod(sts, pod)
                status["currentReplicas"] = status.get("currentReplicas", 0) - 1
                budget -= 1
        return status

    def _first_unavailable(
        self, slots: dict[int, Obj], count: int, condemned: list[Obj], min_ready: int, now: datetime
    ) -> Obj | None:
        """The first unavailable pod, replicas by ordinal then condemned ones ascending.

        None when it is a replica still to create (no condemned pod is it then), or none is.
        """
        for index in range(count):  # stops at the first gap: O(existing pods)
            pod = slots.get(index)
            if pod is None:
                return None
            if self._unavailable(pod, min_ready, now):
                return pod
        return next((p for p in reversed(condemned) if self._unavailable(p, min_ready, now)), None)

    def _process_replica(
        self,
        sts: Obj,
        slots: dict[int, Obj],
        slot: Callable[[int], Obj],
        index: int,
        *,
        monotonic: bool,
        now: datetime,
    ) -> bool:
        """``processReplica``: True means "stop here" (honoured under OrderedReady only)."""
        pod = slot(index)
        name = sts["metadata"]["name"]
        if phase(pod) in ("Failed", "Succeeded"):
            if not is_terminating(pod):
                self.ctx.recorder.record(
                    sts,
                    "Warning",
                    "RecreatingFailedPod",
                    f"StatefulSet {sts['metadata']['namespace']}/{name} is recreating "
                    f"{'failed' if phase(pod) == 'Failed' else 'terminated'} Pod "
                    f"{pod['metadata']['name']}",
                    component=self.name,
                    at=now,
                )
                self._delete_pod(sts, pod)
            return True  # the new pod is created on the next sync, once this one is gone
        if not is_created(pod):
            # counted as created in this step's status (status.Replicas++ in processReplica):
            # else the pod's own ADDED event makes a second status write for the same step
            slots[index] = pod = self._create_pod(sts, pod)
            if monotonic:
                return True
        if is_terminating(pod) and monotonic:
            return True
        min_ready = int(sts["spec"].get("minReadySeconds") or 0)
        if monotonic and not (is_running_and_ready(pod) and is_pod_available(pod, min_ready, now)):
            return True
        if is_created(pod) and not self._identity_matches(sts, pod):
            self._fix_identity(pod)
        return False

    def _process_condemned(
        self, sts: Obj, first_unavailable: Obj | None, monotonic: bool, pod: Obj, now: datetime
    ) -> bool:
        """``processCondemned``: scale down, highest ordinal first."""
        if is_terminating(pod):
            return monotonic
        min_ready = int(sts["spec"].get("minReadySeconds") or 0)
        healthy = is_running_and_ready(pod) and is_pod_available(pod, min_ready, now)
        if monotonic and not healthy and pod is not first_unavailable:
            return True
        self._delete_pod(sts, pod)
        return True

    def _unavailable(self, pod: Obj, min_ready: int, now: datetime) -> bool:
        return not is_healthy(pod) or not is_pod_available(pod, min_ready, now)

    # -- pods (StatefulPodControl) -----------------------------------------------------------
    def _new_pod(self, sts: Obj, current: Obj, update: Obj, number: int) -> Obj:
        """``newVersionedStatefulSetPod``: below the partition, pods keep the current revision."""
        spec = sts["spec"]
        strategy = spec.get("updateStrategy") or {}
        rolling = strategy.get("rollingUpdate")
        start = int((spec.get("ordinals") or {}).get("start") or 0)
        current_replicas = int((sts.get("status") or {}).get("currentReplicas") or 0)
        keep_current = (
            strategy.get("type", "RollingUpdate") == "RollingUpdate"
            and rolling is None
            and number < start + current_replicas
        ) or (rolling is not None and number < start + int(rolling.get("partition") or 0))
        revision = current if keep_current else update
        template = template_of(revision)
        meta = sts["metadata"]
        name = f"{meta['name']}-{number}"
        labels = dict(template.get("metadata", {}).get("labels") or {})
        labels[REVISION_LABEL] = revision["metadata"]["name"]
        labels[POD_NAME_LABEL] = name
        labels[POD_INDEX_LABEL] = str(number)
        pod_meta: Obj = {
            "name": name,
            "generateName": f"{meta['name']}-",
            "namespace": meta["namespace"],
            "labels": labels,
            "ownerReferences": [controller_ref(sts)],
        }
        template_meta = template.get("metadata", {})
        if template_meta.get("annotations"):
            pod_meta["annotations"] = dict(template_meta["annotations"])
        if template_meta.get("finalizers"):
            pod_meta["finalizers"] = list(template_meta["finalizers"])
        pod_spec = clone(template.get("spec") or {})
        pod_spec["hostname"] = name
        if spec.get("serviceName"):
            pod_spec["subdomain"] = spec["serviceName"]
        claims = [c["metadata"]["name"] for c in spec.get("volumeClaimTemplates") or []]
        if claims:
            volumes = [
                {
                    "name": claim,
                    "persistentVolumeClaim": {"claimName": f"{claim}-{meta['name']}-{number}"},
                }
                for claim in claims
            ]
            volumes += [v for v in pod_spec.get("volumes") or [] if v.get("name") not in claims]
            pod_spec["volumes"] = volumes
        return {"metadata": pod_meta, "spec": pod_spec}

    def _create_pod(self, sts: Obj, pod: Obj) -> Obj:
        """Create ``pod``; returns the stored pod (read it, never change it)."""
        name, set_name = pod["metadata"]["name"], sts["metadata"]["name"]
        body = clone(pod)
        reset_status("pods", body)
        try:
            self.ctx.store.add("pods", body)
        except StoreError as error:
            self.ctx.recorder.record(
                sts,
                "Warning",
                "FailedCreate",
                f"create Pod {name} in StatefulSet {set_name} failed error: {error.message}",
                component=self.name,
            )
            raise
        self.ctx.recorder.record(
            sts,
            "Normal",
            "SuccessfulCreate",
            f"create Pod {name} in StatefulSet {set_name} successful",
            component=self.name,
        )
        return body

    def _delete_pod(self, sts: Obj, pod: Obj) -> None:
        name, set_name = pod["metadata"]["name"], sts["metadata"]["name"]
        current = self.ctx.store.get("pods", pod["metadata"]["namespace"], name)
        if current is None or current["metadata"]["uid"] != pod["metadata"].get("uid"):
            return  # already gone: IsNotFound is fine
        with contextlib.suppress(StoreError):
            self.ctx.delete("pods", current)
        self.ctx.recorder.record(
            sts,
            "Normal",
            "SuccessfulDelete",
            f"delete Pod {name} in StatefulSet {set_name} successful",
            component=self.name,
        )

    def _identity_matches(self, sts: Obj, pod: Obj) -> bool:
        parent, number = parent_and_ordinal(pod["metadata"]["name"])
        return (
            number >= 0
            and parent == sts["metadata"]["name"]
            and labels_of(pod).get(POD_NAME_LABEL) == pod["metadata"]["name"]
        )

    def _fix_identity(self, pod: Obj) -> None:
        """``updateIdentity``: put back the pod-name and pod-index labels."""
        name = pod["metadata"]["name"]

        def fix(o: Obj) -> None:
            labels = o["metadata"].setdefault("labels", {})
            labels[POD_NAME_LABEL] = name
            labels[POD_INDEX_LABEL] = str(parent_and_ordinal(name)[1])

        self.ctx.store.update("pods", pod["metadata"]["namespace"], name, fix)

    # -- status ------------------------------------------------------------------------------
    def _counts(
        self,
        status: Obj,
        min_ready: int,
        now: datetime,
        *lists: list[Obj],
    ) -> Obj:
        """``updateStatus`` / ``computeReplicaStatus`` (revisions from ``status``)."""
        replicas = ready = available = at_current = at_update = 0
        current_name, update_name = status["currentRevision"], status["updateRevision"]
        for pods in lists:
            for pod in pods:
                created = is_created(pod)
                replicas += created
                if is_running_and_ready(pod):
                    ready += 1
                    available += is_pod_available(pod, min_ready, now)
                if created and not is_terminating(pod):
                    at_current += revision_of(pod) == current_name
                    at_update += revision_of(pod) == update_name
        status.update(
            replicas=replicas,
            readyReplicas=ready,
            availableReplicas=available,
            currentReplicas=at_current,
            updatedReplicas=at_update,
        )
        return status

    def _write_status(self, sts: Obj, status: Obj) -> None:
        spec = sts["spec"]
        strategy = (spec.get("updateStrategy") or {}).get("type", "RollingUpdate")
        replicas = status["replicas"]
        if (
            strategy == "RollingUpdate"
            and status["updatedReplicas"] == replicas
            and status["readyReplicas"] == replicas
        ):  # completeRollingUpdate
            status["currentReplicas"] = status["updatedReplicas"]
            status["currentRevision"] = status["updateRevision"]
        old = sts.get("status") or {}
        fields = (
            "replicas",
            "currentReplicas",
            "readyReplicas",
            "updatedReplicas",
            "currentRevision",
            "availableReplicas",
            "updateRevision",
        )
        consistent = int(status["observedGeneration"]) <= int(
            old.get("observedGeneration") or 0
        ) and all(status.get(f, 0) == old.get(f, 0) for f in fields)
        if consistent:
            return
        body = {
            "observedGeneration": status["observedGeneration"],
            "replicas": status["replicas"],
            "readyReplicas": status["readyReplicas"],
            "currentReplicas": status["currentReplicas"],
            "updatedReplicas": status["updatedReplicas"],
            "currentRevision": status["currentRevision"],
            "updateRevision": status["updateRevision"],
            "collisionCount": status["collisionCount"],
            "availableReplicas": status["availableReplicas"],
        }
        for omitempty in ("readyReplicas", "currentReplicas", "updatedReplicas"):
            if not body[omitempty]:
                del body[omitempty]
        self.ctx.write_status("statefulsets", sts, body)

    def _truncate_history(
        self, sts: Obj, pods: list[Obj], revisions: list[Obj], current: Obj, update: Obj
    ) -> None:
        """``truncateHistory``: keep ``revisionHistoryLimit`` revisions no pod uses."""
        live = {current["metadata"]["name"], update["metadata"]["name"]}
        live.update(revision_of(pod) for pod in pods)
        history = [r for r in revisions if r["metadata"]["name"] not in live]
        limit = int(sts["spec"].get("revisionHistoryLimit", 10))
        if limit < 0 or len(history) <= limit:
            return
        for revision in history[: len(history) - limit]:
            meta = revision["metadata"]
            with contextlib.suppress(StoreError):
                self.ctx.store.delete("controllerrevisions", meta["namespace"], meta["name"])

    def _requeue(self, sts: Obj, pods: list[Obj], status: Obj, now: datetime) -> datetime | None:
        """Look again when a Ready pod becomes available (``minReadySeconds``)."""
        min_ready = int(sts["spec"].get("minReadySeconds") or 0)
        if not min_ready or status["readyReplicas"] == status["availableReplicas"]:
            return None
        moments = [available_at(pod, min_ready) for pod in pods if is_running_and_ready(pod)]
        pending = [m for m in moments if m is not None and m > now]
        return min(pending) if pending else None
