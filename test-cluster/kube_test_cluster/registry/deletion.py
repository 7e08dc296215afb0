"""DELETE semantics: graceful pods, propagation policies, finalizers, namespaces.

The controllers and the kubelet build on these rules, as on a real cluster:

* pods: ``gracePeriodSeconds`` (default: the pod's
  ``terminationGracePeriodSeconds``, else 30). A pod no kubelet runs (no
  ``spec.nodeName``, or already finished) or a grace of 0 goes at once;
  otherwise it is marked (``deletionTimestamp`` = now + grace,
  ``deletionGracePeriodSeconds``) and the kubelet removes it later. A second
  delete may only shorten the grace.
* other kinds: ``Foreground`` marks the object and adds the ``foregroundDeletion``
  finalizer (the garbage collector removes the dependents, then the owner);
  ``Orphan`` strips the ownerReferences to the object from its dependents, then
  removes it; ``Background`` (default) removes it now and leaves dependents to
  the garbage collector. Objects with finalizers are only marked; the store
  removes them when an update clears the last finalizer.
* namespaces: marked Terminating, emptied, removed (synchronously here).

The API server reads the options from the body when there is one, else from the
query string (``apiserver.handlers``); here they arrive as :class:`DeleteOptions`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta

from kube_test_cluster.clock import Clock, rfc3339
from kube_test_cluster.registry.status import (
    ApiError,
    details,
    success_body,
)
from kube_test_cluster.registry.store import Obj, Store, StoreError

POLICIES = ("Foreground", "Background", "Orphan")
DEFAULT_GRACE = 30


@dataclass(frozen=True)
class DeleteOptions:
    grace_period: int | None = None
    propagation: str | None = None
    preconditions: Obj | None = None
    dry_run: bool = False


class Deleter:
    """Applies a DELETE to one stored object; returns what the apiserver answers with."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def delete(self, resource: str, obj: Obj, options: DeleteOptions) -> Obj:
        meta = obj["metadata"]
        name, ns = meta["name"], meta.get("namespace", "")
        _check_preconditions(resource, obj, options.preconditions or {})
        if resource == "pods":
            return self._delete_pod(obj, options)
        if resource == "namespaces":
            return obj if options.dry_run else self._delete_namespace(name)
        if options.dry_run:
            return success_body(resource, name, meta["uid"])
        policy = options.propagation or "Background"
        if policy == "Foreground":

            def mark(o: Obj) -> None:
                m = o["metadata"]
                m.setdefault("deletionTimestamp", rfc3339(self.clock.now()))
                m.setdefault("deletionGracePeriodSeconds", 0)
                finalizers = m.setdefault("finalizers", [])
                if "foregroundDeletion" not in finalizers:
                    finalizers.append("foregroundDeletion")

            return self.store.update(resource, ns, name, mark)
        if policy == "Orphan":
            self._orphan_dependents(meta["uid"])
        if meta.get("finalizers"):
            return self._mark(resource, ns, name, grace=0)
        removed = self.store.delete(resource, ns, name)
        return success_body(resource, name, removed["metadata"]["uid"])

    def _mark(self, resource: str, ns: str, name: str, *, grace: int) -> Obj:
        when = rfc3339(self.clock.now() + timedelta(seconds=grace))

        def mark(o: Obj) -> None:
            o["metadata"]["deletionTimestamp"] = when
            o["metadata"]["deletionGracePeriodSeconds"] = grace

        return self.store.update(resource, ns, name, mark)

    def _delete_pod(self, pod: Obj, options: DeleteOptions) -> Obj:
        meta, spec = pod["metadata"], pod.get("spec", {})
        grace = options.grace_period
        if grace is None:
            grace = int(spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE))
        grace = max(grace, 0)
        if not spec.get("nodeName") or pod.get("status", {}).get("phase") in (
            "Succeeded",
            "Failed",
        ):
            grace = 0  # no kubelet would ever finish a graceful deletion of this pod
        if options.dry_run:
            return pod
        name, ns = meta["name"], meta.get("namespace", "")
        if grace == 0 and not meta.get("finalizers"):
            return self.store.delete("pods", ns, name)
        existing = meta.get("deletionGracePeriodSeconds")
        if existing is not None and existing <= grace:
            return pod  # a deletion in progress is only ever shortened
        return self._mark("pods", ns, name, grace=grace)

    def _delete_namespace(self, name: str) -> Obj:
        def terminate(o: Obj) -> None:
            o["metadata"].setdefault("deletionTimestamp", rfc3339(self.clock.now()))
            o["metadata"]["deletionGracePeriodSeconds"] = 0
            o.setdefault("status", {})["phase"] = "Terminating"

        terminating = self.store.update("namespaces", "", name, terminate)
        for resource, (_, _, namespaced) in list(self.store.resources.items()):
            if not namespaced:
                continue
            for obj in self.store.list(resource, name):
                with contextlib.suppress(StoreError):  # already gone: fine
                    self.store.delete(resource, name, obj["metadata"]["name"])
        with contextlib.suppress(StoreError):
            self.store.delete("namespaces", "", name)
        return terminating

    def _orphan_dependents(self, uid: str) -> None:
        def strip(o: Obj) -> None:
            refs = o["metadata"].get("ownerReferences") or []
            kept = [r for r in refs if r.get("uid") != uid]
            if kept:
                o["metadata"]["ownerReferences"] = kept
            else:
                o["metadata"].pop("ownerReferences", None)

        for resource in list(self.store.resources):
            for dependent in self.store.list(resource):
                meta = dependent["metadata"]
                if not any(r.get("uid") == uid for r in meta.get("ownerReferences") or []):
                    continue
                with contextlib.suppress(StoreError):  # deleted meanwhile: nothing to orphan
                    self.store.update(resource, meta.get("namespace", ""), meta["name"], strip)


def _check_preconditions(resource: str, obj: Obj, preconditions: Obj) -> None:
    meta = obj["metadata"]
    uid, rv = preconditions.get("uid"), preconditions.get("resourceVersion")
    if uid and uid != meta.get("uid"):
        raise ApiError(
            409,
            "Conflict",
            f"Precondition failed: UID in precondition: {uid}, UID in object meta: "
            f"{meta.get('uid')}",
            details=details(resource, meta["name"]),
        )
    if rv and rv != meta.get("resourceVersion"):
        raise ApiError(
            409,
            "Conflict",
            f"Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in "
            f"object meta: {meta.get('resourceVersion')}",
            details=details(resource, meta["name"]),
        )
