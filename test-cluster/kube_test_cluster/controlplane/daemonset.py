"""The DaemonSet controller, after ``pkg/controller/daemon/daemon_controller.go``.

One sync follows ``syncDaemonSet``: claim the pods and ControllerRevisions the
selector matches, ``constructHistory`` (a ControllerRevision ``<name>-<hash>``
per distinct template, the newest carrying the highest ``revision``; the hash is
also the pods' ``controller-revision-hash`` label), ``manage`` (one pod per node
that should run it, ``podsShouldBeOnNode``: create where none is, delete extra pods
and pods on nodes that should not run one; delete a Succeeded pod, with a
``SucceededDaemonPod`` event, and a Failed one, with a ``FailedDaemonPod`` warning,
unless that node's failed-pod back-off - 1 s doubling to 15 min, per node and
DaemonSet generation - says to wait: the set is synced again when it ends; the
replacement is created by the next sync; at most :data:`BURST` creations and as
many deletions per sync), then the rolling update of ``daemon_update.go``
(``maxUnavailable``, default 1, and ``maxSurge``, default 0, scaled against the
desired count rounding up) or nothing under ``OnDelete``, ``cleanupHistory``, and
``updateDaemonSetStatus`` with the real counts:

* ``desiredNumberScheduled``: nodes that should run the pod (``nodeSelector``,
  required node affinity, taints with ``NoSchedule``/``NoExecute`` not tolerated);
* ``currentNumberScheduled``: such nodes with at least one daemon pod;
* ``numberMisscheduled``: nodes with a daemon pod that should not run one;
* ``numberReady`` / ``numberAvailable``: of the oldest pod on each desired node
  (scheduled first), Ready / Ready for longer than ``minReadySeconds``;
* ``updatedNumberScheduled``: of that pod, the current hash (or the template
  generation) matches;
* ``numberUnavailable`` = desired - available; ``observedGeneration``.

Pods are ``<name>-<5 chars>``, pinned to their node by required node affinity on
``metadata.name`` (the scheduler binds them), with the daemon tolerations
(not-ready, unreachable, disk/memory/pid pressure, unschedulable).
"""

from __future__ import annotations

import contextlib
from collections.abc import Hashable, Iterable
from datetime import datetime, timedelta

from kube_test_cluster.controlplane.deployment import template_hash
from kube_test_cluster.controlplane.nodefit import matches_affinity, untolerated_taint
from kube_test_cluster.machinery.base import Context, Controller
from kube_test_cluster.machinery.cache import Key
from kube_test_cluster.machinery.topology import NODES, Node, as_nodes
from kube_test_cluster.machinery.util import (
    adopt_or_release,
    available_at,
    is_pod_available,
    is_pod_ready,
    is_terminating,
    labels_of,
    new_controller_revision,
    phase,
    random_suffix,
    scaled_value,
    selector_of,
)
from kube_test_cluster.registry.selectors import LabelSelector
from kube_test_cluster.registry.store import (
    TEMPLATE_GENERATION,
    Change,
    Obj,
    StoreError,
    clone,
    controller_ref,
)
from kube_test_cluster.registry.validation import reset_status

#: ``BurstReplicas``: at most this many pod creations, and as many deletions, per sync
BURST = 250
#: ``failedPodsBackoff`` as kube-controller-manager makes it: ``NewBackOff(1s, 15min)``
FAILED_POD_BACKOFF = (timedelta(seconds=1), timedelta(minutes=15))
#: ``BackoffGCInterval``: how often back-off entries idle for long are forgotten
BACKOFF_GC_INTERVAL = timedelta(minutes=1)

REVISION_LABEL = "controller-revision-hash"
#: ``extensions.DaemonSetTemplateGenerationKey``
GENERATION_LABEL = "pod-template-generation"

#: ``AddOrUpdateDaemonPodTolerations``
DAEMON_TOLERATIONS: tuple[Obj, ...] = (
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
)
_NETWORK_TOLERATION: Obj = {
    "key": "node.kubernetes.io/network-unavailable",
    "operator": "Exists",
    "effect": "NoSchedule",
}


def revision_data(ds: Obj) -> Obj:
    """``getPatch``: the patch that restores this pod template."""
    template = clone(ds["spec"]["template"])
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def target_node(pod: Obj) -> str | None:
    """``util.GetTargetNodeName``: ``spec.nodeName``, else the node the affinity pins."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    terms = (
        ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution"
        )
        or {}
    ).get("nodeSelectorTerms") or []
    for term in terms:
        for field in term.get("matchFields") or []:
            values = field.get("values") or []
            if field.get("key") == "metadata.name" and field.get("operator") == "In" and values:
                return str(values[0])
    return None


def _oldest_first(pods: list[Obj]) -> list[Obj]:
    """``podByCreationTimestampAndPhase``: scheduled pods first, then the oldest, then name."""
    return sorted(
        pods,
        key=lambda p: (
            not (p.get("spec") or {}).get("nodeName"),
            p["metadata"].get("creationTimestamp") or "",
            p["metadata"]["name"],
        ),
    )


class Backoff:
    """``flowcontrol.Backoff`` (no jitter): a delay per key, doubling up to ``maximum``.

    :meth:`next` starts a key at ``initial`` and doubles it afterwards; an entry left
    alone for more than twice ``maximum`` has expired and starts over (``hasExpired``).
    """

    def __init__(self, initial: timedelta, maximum: timedelta) -> None:
        self.initial = initial
        self.maximum = maximum
        self._entries: dict[Hashable, tuple[timedelta, datetime]] = {}

    def _expired(self, now: datetime, last: datetime) -> bool:
        return now - last > 2 * self.maximum

    def get(self, key: Hashable) -> timedelta:
        """The key's current delay (zero for an unknown key)."""
        entry = self._entries.get(key)
        return entry[0] if entry is not None else timedelta(0)

    def next(self, key: Hashable, now: datetime) -> None:
        """One more failure at ``now``: the delay starts at ``initial``, then doubles."""
        entry = self._entries.get(key)
        if entry is None or self._expired(now, entry[1]):
            delay = self.initial
        else:
            delay = min(entry[0] * 2, self.maximum)
        self._entries[key] = (delay, now)

    def in_backoff_since_update(self, key: Hashable, now: datetime) -> bool:
        """Less than the key's delay has passed since its last :meth:`next`."""
        entry = self._entries.get(key)
        if entry is None or self._expired(now, entry[1]):
            return False
        return now - entry[1] < entry[0]

    def gc(self, now: datetime) -> None:
        """Forget the expired entries."""
        for key, (_, last) in list(self._entries.items()):
            if self._expired(now, last):
                del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)


class DaemonSetController(Controller):
    name = "daemonset-controller"

    def __init__(self, ctx: Context, nodes: Iterable[str | Node] = NODES) -> None:
        super().__init__(ctx)
        self.nodes = as_nodes(nodes)
        #: failed-pod deletions, per (DaemonSet uid, observed generation, node)
        self.failed_pods_backoff = Backoff(*FAILED_POD_BACKOFF)
        self._backoff_gc_at: datetime | None = None
        #: set by a sync that left creations or deletions for the next burst
        self._more = False

    # -- wiring --------------------------------------------------------------------------
    def watch(self, change: Change, writer: str | None) -> Iterable[Key]:
        def orphan(obj: Obj, namespace: str) -> Iterable[Key]:  # a pod maybe ours to adopt
            return self.selecting("daemonsets", obj, namespace) if change.resource == "pods" else ()

        owner = ("daemonsets", "DaemonSet")
        return self.owner_keys(change, writer, owner, ("pods", "controllerrevisions"), orphan)

    def sync(self, key: Key, now: datetime) -> datetime | None:
        ds = self.ctx.cache.get(key)
        if ds is None or is_terminating(ds):
            return None  # the garbage collector removes what it owned
        selector = selector_of(ds["spec"].get("selector"))
        pods = self._claim("pods", ds, selector)
        revisions = self._claim("controllerrevisions", ds, selector)
        current, old_revisions = self._history(ds, revisions)
        hash_ = labels_of(current).get(REVISION_LABEL, "")
        if self._backoff_gc_at is None or now >= self._backoff_gc_at:
            self.failed_pods_backoff.gc(now)
            self._backoff_gc_at = now + BACKOFF_GC_INTERVAL
        self._more = False
        wakes = [self._manage(ds, pods, hash_, now)]
        pods = self._claim("pods", ds, selector)
        strategy = (ds["spec"].get("updateStrategy") or {}).get("type", "RollingUpdate")
        if strategy == "RollingUpdate":
            self._rolling_update(ds, pods, hash_, now)
            pods = self._claim("pods", ds, selector)
        self._cleanup_history(ds, pods, old_revisions)
        wakes.append(self._update_status(ds, pods, hash_, now))
        if self._more:
            wakes.append(now)  # the next burst, once everything else queued had its turn
        due = [w for w in wakes if w is not None]
        return min(due) if due else None

    # -- claiming (ControllerRefManager) ---------------------------------------------------
    def _claim(self, resource: str, ds: Obj, selector: LabelSelector) -> list[Obj]:
        meta = ds["metadata"]
        claimed = []
        for obj in self.ctx.cache.controlled_by(resource, meta["uid"]):
            if selector.matches(labels_of(obj)):
                claimed.append(obj)
            else:
                adopt_or_release(self.ctx.store, resource, obj, None, meta["uid"])
        for obj in self.ctx.cache.orphans(resource, meta["namespace"]):
            if selector.matches(labels_of(obj)) and not is_terminating(obj):
                claimed.append(adopt_or_release(self.ctx.store, resource, obj, ds, None))
        return claimed

    # -- revisions (constructHistory) ------------------------------------------------------
    def _history(self, ds: Obj, revisions: list[Obj]) -> tuple[Obj, list[Obj]]:
        data = revision_data(ds)
        revisions = sorted(revisions, key=lambda r: (r.get("revision", 0), r["metadata"]["name"]))
        number = (revisions[-1].get("revision", 0) + 1) if revisions else 1
        equal = [r for r in revisions if r.get("data") == data]
        old = [r for r in revisions if r.get("data") != data]
        if equal:
            current = equal[-1]
            old.extend(equal[:-1])  # duplicates: dedupCurHistories keeps one
            if current is not revisions[-1]:  # a rollback: it becomes the newest again
                meta = current["metadata"]
                current = self.ctx.store.update(
                    "controllerrevisions",
                    meta["namespace"],
                    meta["name"],
                    lambda r: r.update(revision=number),
                )
            return current, old
        return self._create_revision(ds, data, number), old

    def _create_revision(self, ds: Obj, data: Obj, number: int) -> Obj:
        meta = ds["metadata"]
        collisions = int((ds.get("status") or {}).get("collisionCount") or 0)
        while True:
            hash_ = template_hash(ds["spec"]["template"], collisions or None)
            labels = dict(ds["spec"]["template"].get("metadata", {}).get("labels") or {})
            labels[REVISION_LABEL] = hash_
            name = f"{meta['name'][:223]}-{hash_}"
            revision = new_controller_revision(ds, name, labels, data, number)
            try:
                return self.ctx.store.create("controllerrevisions", revision)
            except StoreError as error:
                if error.code != 409:
                    raise
                existing = self.ctx.store.get(
                    "controllerrevisions", meta["namespace"], revision["metadata"]["name"]
                )
                if existing is not None and existing.get("data") == data:
                    return existing
                collisions += 1
                count = collisions

                def bump(d: Obj, count: int = count) -> None:
                    d.setdefault("status", {})["collisionCount"] = count

                self.ctx.store.update("daemonsets", meta["namespace"], meta["name"], bump)

    def _cleanup_history(self, ds: Obj, pods: list[Obj], old: list[Obj]) -> None:
        """``cleanupHistory``: keep ``revisionHistoryLimit`` old revisions no pod uses."""
        live = {labels_of(pod).get(REVISION_LABEL) for pod in pods}
        history = [r for r in old if labels_of(r).get(REVISION_LABEL) not in live]
        limit = int(ds["spec"].get("revisionHistoryLimit", 10))
        if len(history) <= limit:
            return
        history.sort(key=lambda r: r.get("revision", 0))
        for revision in history[: len(history) - limit]:
            meta = revision["metadata"]
            with contextlib.suppress(StoreError):
                self.ctx.store.delete("controllerrevisions", meta["namespace"], meta["name"])

    # -- nodes (NodeShouldRunDaemonPod) ------------------------------------------------------
    def _should_run(self, ds: Obj, node: Node) -> tuple[bool, bool]:
        """(shouldRun, shouldContinueRunning) for ``node``."""
        spec = self._pod_spec(ds, node.name)
        if not matches_affinity(spec, node):
            return False, False
        should_run = untolerated_taint(spec, node) is None
        keep_running = untolerated_taint(spec, node, ("NoExecute",)) is None
        return should_run, keep_running

    def _by_node(self, pods: list[Obj]) -> dict[str, list[Obj]]:
        """``getNodesToDaemonPods``: terminal pods already being deleted are left out."""
        found: dict[str, list[Obj]] = {}
        for pod in pods:
            if phase(pod) in ("Succeeded", "Failed") and is_terminating(pod):
                continue
            node = target_node(pod)
            if node is not None:
                found.setdefault(node, []).append(pod)
        return found

    def _max_counts(self, ds: Obj) -> tuple[int, int]:
        """``updatedDesiredNodeCounts``: (maxSurge, maxUnavailable) against the desired count."""
        desired = sum(self._should_run(ds, node)[0] for node in self.nodes)
        rolling = (ds["spec"].get("updateStrategy") or {}).get("rollingUpdate") or {}
        surge = scaled_value(rolling.get("maxSurge", 0), desired, round_up=True)
        unavailable = scaled_value(rolling.get("maxUnavailable", 1), desired, round_up=True)
        if surge == 0 and unavailable == 0:
            unavailable = 1
        return surge, unavailable

    # -- manage ------------------------------------------------------------------------------
    def _allows_surge(self, ds: Obj) -> bool:
        """``util.AllowsSurge``: a RollingUpdate whose ``maxSurge`` is not zero."""
        strategy = ds["spec"].get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return False
        rolling = strategy.get("rollingUpdate") or {}
        return scaled_value(rolling.get("maxSurge", 0), 1, round_up=True) != 0

    def _manage(self, ds: Obj, pods: list[Obj], hash_: str, now: datetime) -> datetime | None:
        """``manage``: ``podsShouldBeOnNode`` for every node, then ``syncNodes``; returns
        when a failed pod's back-off ends, if one is waiting."""
        by_node = self._by_node(pods)
        surge = self._allows_surge(ds)
        min_ready = int(ds["spec"].get("minReadySeconds") or 0)
        to_create: list[str] = []
        to_delete: list[Obj] = []
        wake: datetime | None = None
        for node in self.nodes:
            should_run, keep_running = self._should_run(ds, node)
            daemon_pods = by_node.get(node.name, [])
            if should_run and not daemon_pods:
                to_create.append(node.name)
            elif keep_running:
                running, finished, retry = self._sort_out(ds, node.name, daemon_pods, now)
                to_delete.extend(finished)
                if retry is not None and (wake is None or retry < wake):
                    wake = retry
                if not surge:  # more than one running pod: all but the oldest go
                    to_delete.extend(_oldest_first(running)[1:])
                elif not running and should_run:  # surging: one pod not being deleted at least
                    to_create.append(node.name)
                elif len(running) > 1:
                    to_delete.extend(self._surge_extra(running, hash_, min_ready, now))
            elif daemon_pods:  # may not even keep running here: every pod goes
                to_delete.extend(p for p in daemon_pods if not is_terminating(p))
        self._sync_nodes(ds, to_delete, to_create, hash_)
        return wake

    def _sort_out(
        self, ds: Obj, node: str, daemon_pods: list[Obj], now: datetime
    ) -> tuple[list[Obj], list[Obj], datetime | None]:
        """A node's daemon pods not being deleted: (running, finished ones to delete now,
        when the failed-pod back-off ends for a failed one left in place)."""
        running: list[Obj] = []
        finished: list[Obj] = []
        wake: datetime | None = None
        for pod in daemon_pods:
            if is_terminating(pod):
                continue
            if phase(pod) == "Failed":
                retry = self._failed_pod(ds, node, pod, now)
                if retry is None:
                    finished.append(pod)
                elif wake is None or retry < wake:
                    wake = retry
            elif phase(pod) == "Succeeded":
                self.ctx.recorder.record(
                    ds,
                    "Normal",
                    "SucceededDaemonPod",
                    f"Found succeeded daemon pod {pod['metadata']['namespace']}/"
                    f"{pod['metadata']['name']} on node {node}, will try to delete it",
                    component=self.name,
                    at=now,
                )
                finished.append(pod)
            else:
                running.append(pod)
        return running, finished, wake

    def _failed_pod(self, ds: Obj, node: str, pod: Obj, now: datetime) -> datetime | None:
        """A Failed daemon pod: None to delete it now, else when its node's back-off ends.

        The kubelet and the controller can fight over a node that rejects the pod; the
        back-off (``failedPodsBackoffKey``: set, generation, node) keeps that from looping.
        """
        observed = int((ds.get("status") or {}).get("observedGeneration") or 0)
        key = (ds["metadata"]["uid"], observed, node)
        backoff = self.failed_pods_backoff
        if backoff.in_backoff_since_update(key, now):
            return now + backoff.get(key)  # enqueueDaemonSetAfter(ds, delay)
        backoff.next(key, now)
        self.ctx.recorder.record(
            ds,
            "Warning",
            "FailedDaemonPod",
            f"Found failed daemon pod {pod['metadata']['namespace']}/{pod['metadata']['name']} "
            f"on node {node}, will try to kill it",
            component=self.name,
            at=now,
        )
        return None

    def _surge_extra(
        self, running: list[Obj], hash_: str, min_ready: int, now: datetime
    ) -> list[Obj]:
        """Surging: keep the oldest new and the oldest old pod, and the old one only until
        the new one is available (or while the old one is still Ready)."""
        extra: list[Obj] = []
        oldest_new: Obj | None = None
        oldest_old: Obj | None = None
        for pod in _oldest_first(running):
            if labels_of(pod).get(REVISION_LABEL) == hash_:
                if oldest_new is None:
                    oldest_new = pod
                    continue
            elif oldest_old is None:
                oldest_old = pod
                continue
            extra.append(pod)
        if (
            oldest_new is not None
            and oldest_old is not None
            and (not is_pod_ready(oldest_old) or is_pod_available(oldest_new, min_ready, now))
        ):
            extra.append(oldest_old)
        return extra

    def _sync_nodes(self, ds: Obj, to_delete: list[Obj], to_create: list[str], hash_: str) -> None:
        """``syncNodes``: at most :data:`BURST` creations and deletions, the rest next sync."""
        if len(to_create) > BURST or len(to_delete) > BURST:
            self._more = True
        for node in to_create[:BURST]:
            self._create_pod(ds, node, hash_)
        for pod in to_delete[:BURST]:
            self._delete_pod(ds, pod)

    def _pod_spec(self, ds: Obj, node: str) -> Obj:
        """The template's pod spec as the pod for ``node`` gets it."""
        spec = clone(ds["spec"]["template"].get("spec") or {})
        affinity = spec.setdefault("affinity", {})
        node_affinity = affinity.setdefault("nodeAffinity", {})
        required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
        pin = {"key": "metadata.name", "operator": "In", "values": [node]}
        terms = []
        for given in required.get("nodeSelectorTerms") or [{}]:  # ReplaceDaemonSetPodNodeName...
            term = {k: v for k, v in given.items() if k != "matchFields"}
            term["matchFields"] = [pin]
            terms.append(term)
        node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {
            "nodeSelectorTerms": terms
        }
        tolerations = [t for t in spec.get("tolerations") or []]
        extra = list(DAEMON_TOLERATIONS)
        if spec.get("hostNetwork"):
            extra.append(_NETWORK_TOLERATION)
        for toleration in extra:
            tolerations = [
                t
                for t in tolerations
                if not (
                    t.get("key") == toleration["key"] and t.get("effect") == toleration["effect"]
                )
            ]
            tolerations.append(dict(toleration))
        spec["tolerations"] = tolerations
        return spec

    def _create_pod(self, ds: Obj, node: str, hash_: str) -> None:
        meta = ds["metadata"]
        template = ds["spec"]["template"]
        template_meta = template.get("metadata") or {}
        labels = dict(template_meta.get("labels") or {})
        labels[REVISION_LABEL] = hash_
        generation = (meta.get("annotations") or {}).get(TEMPLATE_GENERATION)
        if generation is not None:
            labels[GENERATION_LABEL] = str(generation)
        pod_meta: Obj = {
            "name": f"{meta['name'][:57]}-{random_suffix()}",
            "generateName": f"{meta['name']}-",
            "namespace": meta["namespace"],
            "labels": labels,
            "ownerReferences": [controller_ref(ds)],
        }
        if template_meta.get("annotations"):
            pod_meta["annotations"] = dict(template_meta["annotations"])
        body: Obj = {"metadata": pod_meta, "spec": self._pod_spec(ds, node)}
        reset_status("pods", body)
        try:
            created = self.ctx.store.create("pods", body)
        except StoreError as error:
            self.ctx.recorder.record(
                ds,
                "Warning",
                "FailedCreate",
                f"Error creating: {error.message}",
                component=self.name,
            )
            raise
        self.ctx.recorder.record(
            ds,
            "Normal",
            "SuccessfulCreate",
            f"Created pod: {created['metadata']['name']}",
            component=self.name,
        )

    def _delete_pod(self, ds: Obj, pod: Obj) -> None:
        name = pod["metadata"]["name"]
        current = self.ctx.store.get("pods", pod["metadata"]["namespace"], name)
        if current is None or current["metadata"]["uid"] != pod["metadata"].get("uid"):
            return
        if is_terminating(current):
            return
        with contextlib.suppress(StoreError):
            self.ctx.delete("pods", current)
        self.ctx.recorder.record(
            ds, "Normal", "SuccessfulDelete", f"Deleted pod: {name}", component=self.name
        )

    # -- rolling update (daemon_update.go) ---------------------------------------------------
    def _updated_on_node(self, pods: list[Obj], hash_: str) -> tuple[Obj | None, Obj | None, bool]:
        """``findUpdatedPodsOnNode``: (new pod, old pod, ok: at most one of each)."""
        new = old = None
        for pod in pods:
            if is_terminating(pod):
                continue
            if labels_of(pod).get(REVISION_LABEL) == hash_:
                if new is not None:
                    return None, None, False
                new = pod
            else:
                if old is not None:
                    return None, None, False
                old = pod
        return new, old, True

    def _rolling_update(  # noqa: PLR0912 - daemon_update.go, branch for branch
        self, ds: Obj, pods: list[Obj], hash_: str, now: datetime
    ) -> None:
        by_node = self._by_node(pods)
        max_surge, max_unavailable = self._max_counts(ds)
        min_ready = int(ds["spec"].get("minReadySeconds") or 0)
        names = sorted(by_node)
        if max_surge == 0:
            unavailable = 0
            allowed: list[Obj] = []
            candidates: list[Obj] = []
            for node in names:
                new, old, ok = self._updated_on_node(by_node[node], hash_)
                if not ok or (new is None) == (old is None):
                    unavailable += 1  # the manage loop creates or deletes here
                elif new is not None:
                    if not is_pod_available(new, min_ready, now):
                        unavailable += 1
                elif old is not None:
                    if not is_pod_available(old, min_ready, now):
                        allowed.append(old)
                    elif unavailable < max_unavailable:
                        candidates.append(old)
            remaining = min(max(max_unavailable - unavailable, 0), len(candidates))
            for pod in allowed + candidates[:remaining]:
                self._delete_pod(ds, pod)
            return
        surged = 0
        allowed_nodes: list[str] = []
        candidate_nodes: list[str] = []
        old_to_delete: list[Obj] = []
        for node in names:
            new, old, ok = self._updated_on_node(by_node[node], hash_)
            if not ok:
                surged += 1
                continue
            if old is None:
                continue
            if new is None:
                if not is_pod_available(old, min_ready, now):
                    allowed_nodes.append(node)
                elif surged < max_surge:
                    candidate_nodes.append(node)
            elif not is_pod_available(new, min_ready, now):
                surged += 1
            else:
                old_to_delete.append(old)
        remaining = min(max(max_surge - surged, 0), len(candidate_nodes))
        self._sync_nodes(ds, old_to_delete, allowed_nodes + candidate_nodes[:remaining], hash_)

    # -- status (updateDaemonSetStatus) ------------------------------------------------------
    def _update_status(  # noqa: PLR0912
        self, ds: Obj, pods: list[Obj], hash_: str, now: datetime
    ) -> datetime | None:
        by_node = self._by_node(pods)
        generation = (ds["metadata"].get("annotations") or {}).get(TEMPLATE_GENERATION)
        min_ready = int(ds["spec"].get("minReadySeconds") or 0)
        desired = current = misscheduled = ready = available = updated = 0
        wake: datetime | None = None
        for node in self.nodes:
            should_run, _ = self._should_run(ds, node)
            on_node = by_node.get(node.name, [])
            if not should_run:
                misscheduled += bool(on_node)
                continue
            desired += 1
            if not on_node:
                continue
            current += 1
            pod = _oldest_first(on_node)[0]
            if is_pod_ready(pod):
                ready += 1
                if is_pod_available(pod, min_ready, now):
                    available += 1
                else:
                    moment = available_at(pod, min_ready)
                    if moment is not None and (wake is None or moment < wake):
                        wake = moment
            labels = labels_of(pod)
            if (hash_ and labels.get(REVISION_LABEL) == hash_) or (
                generation is not None and labels.get(GENERATION_LABEL) == str(generation)
            ):
                updated += 1
        body: Obj = {
            "currentNumberScheduled": current,
            "numberMisscheduled": misscheduled,
            "desiredNumberScheduled": desired,
            "numberReady": ready,
            "observedGeneration": ds["metadata"].get("generation", 1),
            "updatedNumberScheduled": updated,
            "numberAvailable": available,
            "numberUnavailable": desired - available,
        }
        old = ds.get("status") or {}
        if old.get("collisionCount"):
            body["collisionCount"] = old["collisionCount"]
        if old.get("conditions"):
            body["conditions"] = old["conditions"]
        for omitempty in ("updatedNumberScheduled", "numberAvailable", "numberUnavailable"):
            if not body[omitempty]:
                del body[omitempty]
        if body != old:
            self.ctx.write_status("daemonsets", ds, body)
        return wake
